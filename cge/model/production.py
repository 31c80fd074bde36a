"""Producers: nested CES technology of each region-sector ``(s, j)``.

Output is a CES (``sigma_top``) of value added and an intermediate composite; value added is a CES
(``sigma_va``) of factors; the intermediate composite is a CES (``sigma_int``) of the Armington
composites of commodities. Constant returns, zero profit.
"""

from __future__ import annotations

import pyomo.environ as pyo

from .ces import ces_demand, ces_price


def add_production(m, params) -> None:
    r"""Zero profit, nest price indices, factor demands and intermediate composite demands.

    Zero profit (determines activity ``Y[s, j]``):

    .. math:: p_{sj} = (1 + t^o_{sj})\, c_{sj}, \qquad c_{sj} = \mathrm{CES}_{\sigma^{top}_j}\big(\theta^{va}_{sj}: P^{va}_{sj},\;
              \theta^{int}_{sj}: P^{int}_{sj}\big)

    Value-added price (determines ``PVA``):
    :math:`P^{va}_{sj} = \mathrm{CES}_{\sigma^{va}_j}(\theta_{sjf}: w_{sjf})`.
    Intermediate price (determines ``PINT``):
    :math:`P^{int}_{sj} = \mathrm{CES}_{\sigma^{int}_j}(\theta_{sji}: P^A_{sji})`.
    Intermediate composite demand (determines ``QA[s, j, i]``):
    :math:`Q^A_{sji} = Y_{sj} (c_{sj}/P^{int}_{sj})^{\sigma^{top}_j} (P^{int}_{sj}/P^A_{sji})^{\sigma^{int}_j}`.
    """
    sig_top, sig_va, sig_int = (params.sigma[k] for k in ("sigma_top", "sigma_va", "sigma_int"))
    va_0, int_0, fp_0, qa_0 = params.va_0, params.int_0, params.fp_0, params.qa_0
    cost_0 = va_0 + int_0

    def unit_cost(m, s, j):
        shares, prices = [], []
        if (s, j) in m.VA_PRODUCERS:
            shares.append(va_0[s, j] / cost_0[s, j])
            prices.append(m.PVA[s, j])
        if (s, j) in m.INT_PRODUCERS:
            shares.append(int_0[s, j] / cost_0[s, j])
            prices.append(m.PINT[s, j])
        return ces_price(sig_top[j], shares, prices)

    m.unit_cost = pyo.Expression(m.PRODUCERS, rule=unit_cost)
    m.zero_profit = pyo.Constraint(
        m.PRODUCERS, rule=lambda m, s, j: m.p[s, j] - (1.0 + m.output_tax[s, j]) * m.unit_cost[s, j] == 0, doc="zero profit ⟂ Y"
    )
    m.VAQ = pyo.Expression(
        m.VA_PRODUCERS, rule=lambda m, s, j: m.Y[s, j] * ces_demand(sig_top[j], m.unit_cost[s, j], m.PVA[s, j])
    )
    m.INTQ = pyo.Expression(
        m.INT_PRODUCERS, rule=lambda m, s, j: m.Y[s, j] * ces_demand(sig_top[j], m.unit_cost[s, j], m.PINT[s, j])
    )

    factors_of = {}
    for s, j, f in m.FACTOR_USES:
        factors_of.setdefault((s, j), []).append(f)

    def pva_def(m, s, j):
        fs = factors_of[(s, j)]
        shares = [fp_0[s, j, f] / va_0[s, j] for f in fs]
        return m.PVA[s, j] - ces_price(sig_va[j], shares, [m.w[m.factor_market[s, j, f]] for f in fs]) == 0

    m.pva_def = pyo.Constraint(m.VA_PRODUCERS, rule=pva_def, doc="value-added price index ⟂ PVA")
    m.factor_demand = pyo.Expression(
        m.FACTOR_USES,
        rule=lambda m, s, j, f: fp_0[s, j, f] * m.VAQ[s, j] * ces_demand(sig_va[j], m.PVA[s, j], m.w[m.factor_market[s, j, f]]),
        doc="factor demand in benchmark-value units",
    )

    inputs_of = {}
    for s, b, i in m.COMPOSITES:
        if b < params.n_sectors:
            inputs_of.setdefault((s, b), []).append(i)

    def pint_def(m, s, j):
        comm = inputs_of[(s, j)]
        shares = [qa_0[s, j, i] / int_0[s, j] for i in comm]
        return m.PINT[s, j] - ces_price(sig_int[j], shares, [m.PA[s, j, i] for i in comm]) == 0

    m.pint_def = pyo.Constraint(m.INT_PRODUCERS, rule=pint_def, doc="intermediate price index ⟂ PINT")

    def input_demand(m, s, j, i):
        return m.QA[s, j, i] - m.INTQ[s, j] * ces_demand(sig_int[j], m.PINT[s, j], m.PA[s, j, i]) == 0

    m.input_demand = pyo.Constraint(m.INPUT_COMPOSITES, rule=input_demand, doc="intermediate composite demand ⟂ QA")
