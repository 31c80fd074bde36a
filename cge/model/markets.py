"""Market clearing for goods (determines producer prices) and factors (determines factor prices)."""

from __future__ import annotations

import pyomo.environ as pyo


def add_markets(m, params) -> None:
    r"""Goods and factor market clearing.

    Goods (determines ``p[r, i]``); shipping ``tau`` units delivers one (iceberg trade costs):

    .. math:: Y_{ri}\, X^0_{ri} = \sum_{s, b} \tau_{ris,u(b)}\, d^0_{risb}\, z_{risb}

    One goods market, the largest, is left out of the system (Walras' law) and checked after the
    solve. Factors (determines ``w`` of each factor market ``k``), in the market's units
    :math:`\omega` (persons for labour where the benchmark has employment, benchmark value
    otherwise): :math:`\sum_{u \in k} \omega_u FD_u / FD^0_u = L_k \sum_{u \in k} \omega_u`, with
    :math:`L_k` the supply index (1 unless the labour closure makes supply endogenous).
    """
    x_0, d_0, use = params.x_0, params.d_0, params.use_of_buyer
    buyers_of = {}
    for r, i, s, b in m.FLOWS:
        buyers_of.setdefault((r, i), []).append((s, b))

    importers_of = {}
    if params.sourcing.shared_import_mix:
        for r, i, s in m.IMPORT_ROUTES:
            importers_of.setdefault((r, i), []).append(s)

    def excess_supply(m, r, i):
        shipped = sum(m.tau[r, i, s, use[b]] * d_0[r, i, s, b] * m.z[r, i, s, b] for s, b in buyers_of.get((r, i), []))
        shipped += sum(m.tau[r, i, s, 0] * m.route_0[r, i, s] * m.z_import[r, i, s] for s in importers_of.get((r, i), []))
        return m.Y[r, i] - shipped / x_0[r, i]

    m.goods_excess = pyo.Expression(m.PRODUCERS, rule=excess_supply)
    m.goods_market = pyo.Constraint(
        m.GOODS_MARKETS, rule=lambda m, r, i: m.goods_excess[r, i] == 0, doc="goods market clearing ⟂ p"
    )

    uses_of = {}
    for s, j, f in m.FACTOR_USES:
        uses_of.setdefault(m.factor_market[s, j, f], []).append((s, j, f))

    fp_0 = params.fp_0

    def factor_market(m, *k):
        demand = sum(m.factor_weight[u] / fp_0[u] * m.factor_demand[u] for u in uses_of[k])
        return demand / m.market_weight_0[k] - m.factor_supply[k] == 0

    m.factor_market_clearing = pyo.Constraint(m.FACTOR_MARKETS, rule=factor_market, doc="factor market clearing ⟂ w")
