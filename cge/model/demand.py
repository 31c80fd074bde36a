"""Final demand: the regional household, its income, and its three final-demand agents.

The regional household receives factor income, tariff and output-tax revenue and a net transfer from abroad
(the benchmark trade balance, held in units of the numeraire) and spends it in fixed shares
(Cobb-Douglas) on household consumption, government and investment; each agent buys commodities
through a CES (``sigma_fd``) of Armington composites.
"""

from __future__ import annotations

import pyomo.environ as pyo

from .ces import ces_demand, ces_price


def add_demand(m, params, closure) -> None:
    r"""Final-demand price indices, composite demands, income balance and utility.

    Price index of agent ``a`` (determines ``PFD``):
    :math:`P^{fd}_{sa} = \mathrm{CES}_{\sigma^{fd}}(\theta_{sai}: P^A_{sai})`.
    Final composite demand (determines ``QA[s, a, i]``):
    :math:`Q^A_{sai} = U_{sa} (P^{fd}_{sa}/P^A_{sai})^{\sigma^{fd}_i}`, with agent quantity
    :math:`U_{sa} = \alpha_{sa} I_s / P^{fd}_{sa}` (relative to benchmark).
    Income balance (determines ``INC``):

    .. math:: I_s = \sum_{j, f} w_{sjf} FD_{sjf} + \sum_{r \ne s, i, b} t_{risb}\, p_{ri} \tau_{risb}\, z_{risb}
              + \sum_j t^o_{sj} c_{sj} Y_{sj} X^0_{sj} + \bar B_s \cdot \text{numeraire}

    Utility of the regional household: :math:`U_s = I_s / \prod_a (P^{fd}_{sa})^{\alpha_{sa}}` (relative).
    """
    sig_fd = params.sigma_fd
    S = params.n_sectors
    qa_0, fd_0, alpha = params.qa_0, params.fd_0, params.alpha
    income_0 = params.income_0
    uses_in = {s: [] for s in range(params.n_regions)}
    for u in m.FACTOR_USES:
        uses_in[u[0]].append(u)

    goods_of = {}
    for s, b, i in m.FINAL_COMPOSITES:
        goods_of.setdefault((s, b - S), []).append(i)

    def pfd_def(m, s, a):
        comm = goods_of[(s, a)]
        shares = [qa_0[s, S + a, i] / fd_0[s, a] for i in comm]
        return m.PFD[s, a] - ces_price(sig_fd, shares, [m.PA[s, S + a, i] for i in comm]) == 0

    m.pfd_def = pyo.Constraint(m.AGENTS, rule=pfd_def, doc="final-demand price index ⟂ PFD")
    m.agent_quantity = pyo.Expression(m.AGENTS, rule=lambda m, s, a: m.INC[s] / m.PFD[s, a])

    def final_demand(m, s, b, i):
        a = b - S
        return m.QA[s, b, i] - m.agent_quantity[s, a] * ces_demand(sig_fd, m.PFD[s, a], m.PA[s, b, i]) == 0

    m.final_demand = pyo.Constraint(m.FINAL_COMPOSITES, rule=final_demand, doc="final composite demand ⟂ QA")

    x_0 = params.x_0
    m.transfer_index = pyo.Expression(expr=closure.transfer_index(m.numeraire_value, [m.INC[s] * income_0[s] for s in m.REGIONS], income_0))
    producers_in = {s: [j for s2, j in m.PRODUCERS if s2 == s] for s in m.REGIONS}

    def income_balance(m, s):
        factor_income = sum(m.w[m.factor_market[u]] * m.factor_demand[u] for u in uses_in[s])
        revenue = sum(m.tariff_revenue_terms[s])
        revenue += sum(m.output_tax[s, j] * m.unit_cost[s, j] * m.Y[s, j] * x_0[s, j] for j in producers_in[s])
        return m.INC[s] - (factor_income + revenue + m.transfer[s] * m.transfer_index) / income_0[s] == 0

    m.income_balance = pyo.Constraint(m.REGIONS, rule=income_balance, doc="income balance ⟂ INC")

    def utility(m, s):
        out = m.INC[s]
        for (s2, a) in m.AGENTS:
            if s2 == s:
                out = out / m.PFD[s, a] ** alpha[s, a]
        return out

    m.utility = pyo.Expression(m.REGIONS, rule=utility, doc="utility of the regional household / benchmark")

