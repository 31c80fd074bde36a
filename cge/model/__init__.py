"""The equilibrium model in Pyomo: one file per economic block, assembled by :func:`build_model`.

Blocks are added in a fixed order: variables, production, Armington sourcing, markets, final demand,
closure. Every equation is written in relative form, so its residual is a relative error.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from .armington import add_armington
from ..closure import Closure, ClosureError, cet_markets, factor_market_of, factor_weights, labour_regions
from ..equations import check_blocks
from .closure import add_closure
from .demand import add_demand
from .markets import add_markets
from .production import add_production
from .variables import add_instrument, add_variables

__all__ = ["Closure", "ClosureError", "build_model"]


def build_model(params, closure: Closure) -> pyo.ConcreteModel:
    """Build the Pyomo model of a calibrated benchmark under a closure; the benchmark solves it.

    With the firm-size nest (``params.size_nest``) the composites are commodity groups: the sets,
    production and final demand read group-level composites (:func:`cge.model.sizenest.group_view`)
    and :func:`cge.model.sizenest.add_size_armington` replaces the Armington block.
    """
    gp = params
    if params.size_nest:
        from .sizenest import add_size_armington, add_size_sets, group_view

        gp = group_view(params)
    m = pyo.ConcreteModel(name="cge")
    _add_sets(m, gp, closure)
    _add_parameters(m, params, closure)
    add_variables(m, params, closure)
    if params.size_nest:
        add_size_sets(m, params, gp)
    _add_factor_supply(m, params, closure)
    add_production(m, gp)
    if params.size_nest:
        add_size_armington(m, params, gp)
    else:
        add_armington(m, params)
    add_markets(m, params)
    add_demand(m, gp, closure)
    add_closure(m, params, closure)
    m.objective = pyo.Objective(expr=0.0)
    check_blocks([c.local_name for c in m.component_objects(pyo.Constraint, active=True)], "pyomo")
    return m


def _add_sets(m, params, closure) -> None:
    R, S = params.n_regions, params.n_sectors
    x_0, va_0, int_0 = params.x_0, params.va_0, params.int_0
    producers = [(s, j) for s in range(R) for j in range(S) if x_0[s, j] > 0]
    m.REGIONS = pyo.Set(initialize=range(R))
    m.PRODUCERS = pyo.Set(initialize=producers, dimen=2)
    m.VA_PRODUCERS = pyo.Set(initialize=[k for k in producers if va_0[k] > 0], dimen=2)
    m.INT_PRODUCERS = pyo.Set(initialize=[k for k in producers if int_0[k] > 0], dimen=2)
    largest = max(producers, key=lambda k: x_0[k])
    m.walras_market = largest
    m.GOODS_MARKETS = pyo.Set(initialize=[k for k in producers if k != largest], dimen=2)

    qa_0 = params.qa_0
    composites = [tuple(int(v) for v in k) for k in np.argwhere(qa_0 > 0)]
    m.COMPOSITES = pyo.Set(initialize=composites, dimen=3)
    m.INPUT_COMPOSITES = pyo.Set(initialize=[k for k in composites if k[1] < S], dimen=3)
    m.FINAL_COMPOSITES = pyo.Set(initialize=[k for k in composites if k[1] >= S], dimen=3)
    if params.sourcing.shared_import_mix:
        imports = [(s, i) for s in range(R) for i in range(params.m_common_0.shape[1]) if params.m_common_0[s, i] > 0]
        m.IMPORT_COMPOSITES = pyo.Set(initialize=imports, dimen=2)
    else:
        imports = [k for k in composites if params.m_0[k] > 0 and not params.one_level(k[2])]
        m.IMPORT_COMPOSITES = pyo.Set(initialize=imports, dimen=3)
    m.AGENTS = pyo.Set(initialize=[(s, a) for s in range(R) for a in range(len(params.agents)) if params.fd_0[s, a] > 0], dimen=2)
    d_0 = params.d_0
    if params.sourcing.shared_import_mix:
        domestic = np.zeros_like(d_0, dtype=bool)
        domestic[np.arange(R), :, np.arange(R), :] = True
        flows = [tuple(int(v) for v in k) for k in np.argwhere((d_0 > 0) & domestic)]
        route_0 = (d_0 * ~domestic).sum(axis=3)
        m.route_0 = route_0
        m.IMPORT_ROUTES = pyo.Set(initialize=[tuple(int(v) for v in k) for k in np.argwhere(route_0 > 0)], dimen=3)
    else:
        flows = [tuple(int(v) for v in k) for k in np.argwhere(d_0 > 0)]
    m.FLOWS = pyo.Set(initialize=flows, dimen=4)
    traded = d_0.sum(axis=3) > 0
    routes = [tuple(int(v) for v in k) for k in np.argwhere(np.stack([traded, traded], axis=-1))]
    m.ROUTES = pyo.Set(initialize=routes, dimen=4, doc="(exporter, commodity, importer, use) with trade")

    market_of = factor_market_of(params, closure)
    m.factor_market = market_of
    m.FACTOR_USES = pyo.Set(initialize=sorted(market_of), dimen=3)
    m.FACTOR_MARKETS = pyo.Set(initialize=sorted(set(market_of.values())), dimen=3)
    lab = labour_regions(params, closure)
    m.LABOUR_REGIONS = pyo.Set(initialize=lab)
    m.cet = cet_markets(params, closure)
    m.CET_REGIONS = pyo.Set(initialize=sorted(m.cet))
    if lab:
        f = params.factors.index("labour")
        m.labour_market = {s: (s, f, -1) for s in lab}


def _add_parameters(m, params, closure) -> None:
    """Policy instruments (set by scenarios) and benchmark endowments.

    Each instrument is a variable held at its level by its bounds (:func:`~cge.model.variables.add_instrument`),
    not a mutable parameter, so that the Pyomo backend writes its NL problem once per model.
    """
    t_0 = params.tariff_use_0  # by use, before duty exemptions
    add_instrument(m, "tariff", m.ROUTES, {k: float(t_0[k]) for k in m.ROUTES}, "ad-valorem tariff")
    add_instrument(m, "tau", m.ROUTES, dict.fromkeys(m.ROUTES, 1.0), "iceberg trade cost (benchmark 1)")
    add_instrument(m, "output_tax", m.PRODUCERS, dict.fromkeys(m.PRODUCERS, 0.0), "ad-valorem output tax at cost (benchmark 0)")
    add_instrument(m, "numeraire_value", None, {None: 1.0}, "value of the numeraire")
    add_instrument(
        m, "transfer", m.REGIONS, {s: float(params.transfer_0[s]) for s in range(params.n_regions)},
        "net transfer from abroad (instrument), in units of the closure's transfer index",
    )

    endowment = {}
    for (s, j, f), k in m.factor_market.items():
        endowment[k] = endowment.get(k, 0.0) + float(params.fp_0[s, j, f])
    m.endowment_0 = endowment
    units = factor_weights(params, closure)
    weight = {u: float(units[u]) for u in m.factor_market}
    m.factor_weight = weight
    total = {}
    for u, k in m.factor_market.items():
        total[k] = total.get(k, 0.0) + weight[u]
    m.market_weight_0 = total


def _add_factor_supply(m, params, closure) -> None:
    r"""Supply index of each factor market: 1, the region's labour supply ``LS`` where the closure
    frees it, or under a labour CET the sector's supply :math:`(w_{sj} / W_s)^{\eta}` (relative)."""
    labour = params.factors.index("labour") if "labour" in params.factors else None
    endogenous = set(m.LABOUR_REGIONS)
    eta = closure.labour_cet_elasticity
    supply = {}
    for k in m.endowment_0:
        if k[1] == labour and k[0] in m.cet:
            supply[k] = (m.w[k] / m.WL[k[0]]) ** eta
        else:
            supply[k] = m.LS[k[0]] if k[1] == labour and k[0] in endogenous else 1.0
    m.factor_supply = supply
