"""The closure's equations in the Pyomo model: numeraire and labour supply (see :mod:`cge.closure`)."""

from __future__ import annotations

import pyomo.environ as pyo

from ..closure import Closure, ClosureError, position
from .ces import ces_price


def add_closure(m, params, closure: Closure) -> None:
    r"""Numeraire and labour-supply equations.

    Numeraire (replaces the goods market dropped by Walras' law), by default
    :math:`\sum_k w_k E^0_k / \sum_k E^0_k = \bar n`.
    Fixed real wage (determines ``LS[s]``): :math:`w_{s,L} = P^{fd}_{s,hh}`.
    Elastic labour (determines ``LS[s]``): :math:`L_s = (w_{s,L}/P^{fd}_{s,hh})^{\eta}`.
    Labour CET (determines ``WL[s]``): :math:`W_s = (\sum_j \theta_{sj} w_{sj}^{1+\eta})^{1/(1+\eta)}`,
    the revenue index of the region's labour over its sector markets.
    """
    num = closure.numeraire
    if num == "world_factor_prices":
        keys = list(m.FACTOR_MARKETS)
    elif num[0] == "factor":
        s, f = position(params.regions, num[1], "region"), position(params.factors, num[2], "factor")
        keys = [k for k in m.FACTOR_MARKETS if k[0] == s and k[1] == f]
        if not keys:
            raise ClosureError(f"numeraire {num}: no payments to {num[2]} in {num[1]}")
    else:
        keys = None
    if keys is not None:
        total = sum(m.endowment_0[k] for k in keys)
        m.numeraire = pyo.Constraint(
            expr=sum(m.endowment_0[k] * m.w[k] for k in keys) / total - m.numeraire_value == 0,
            doc="numeraire (replaces one goods market)",
        )
    else:
        r, i = position(params.regions, num[1], "region"), position(params.sectors, num[2], "sector")
        if (r, i) not in m.PRODUCERS:
            raise ClosureError(f"numeraire {num}: {num[1]} has no output of {num[2]}")
        m.numeraire = pyo.Constraint(expr=m.p[r, i] - m.numeraire_value == 0, doc="numeraire (replaces one goods market)")

    if m.cet:
        lab = params.factors.index("labour")
        eta = closure.labour_cet_elasticity

        def cet_wage(m, s):
            sectors = m.cet[s]
            index = ces_price(-eta, [th for _, th in sectors], [m.w[(s, lab, j)] for j, _ in sectors])
            return m.WL[s] - index == 0

        m.cet_wage = pyo.Constraint(m.CET_REGIONS, rule=cet_wage, doc="CET wage index ⟂ WL")

    hh = params.household
    if closure.labour == "fixed_real_wage":
        m.labour_supply = pyo.Constraint(
            m.LABOUR_REGIONS, rule=lambda m, s: m.w[m.labour_market[s]] - m.PFD[s, hh] == 0, doc="fixed real wage ⟂ LS"
        )
    elif closure.labour == "elastic":
        eta = closure.labour_supply_elasticity
        m.labour_supply = pyo.Constraint(
            m.LABOUR_REGIONS,
            rule=lambda m, s: m.LS[s] - (m.w[m.labour_market[s]] / m.PFD[s, hh]) ** eta == 0,
            doc="labour supply ⟂ LS",
        )
