"""Armington sourcing: every buyer buys each commodity from every source region through CES nests.

Delivered price of commodity ``i`` from ``r`` to buyer ``b`` in ``s`` (relative to the benchmark):

.. math:: p^d_{risb} = p_{ri}\\, \\tau_{ris,u(b)}\\, (1 + t_{ris,u(b)} (1 - e_{sb})) / (1 + t^0_{ris,u(b)} (1 - e^0_{sb}))

where ``e[s, b]`` is the duty exemption of a buying sector (zero for final buyers; see
:mod:`cge.instruments`): a mutable parameter ``duty_exemption[s, j]`` of the sectors that import,
set with the other instruments through ``m.instrument_setters``.

With ``sourcing="agent"`` each buyer has its own two-level nest: domestic vs imported
(``sigma_dm[i]``) and imports across partners (``sigma_mm[i]``); a single level when the two are
equal. With ``sourcing="common"`` the domestic-import split is the buyer's, and the mix of import
sources is common to all buyers of a region: one import composite ``QM[s, i]`` per commodity and
importer, bought from each partner ``r`` as the route flow ``z_import[r, i, s]`` (the standard GTAP
structure; Caliendo and Parro 2015 when sigma_dm == sigma_mm).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from .ces import ces_demand, ces_price
from .variables import add_instrument, hold


def add_armington(m, params) -> None:
    r"""Armington price indices and bilateral demands.

    Armington price (determines ``PA[s, b, i]``):
    :math:`P^A_{sbi} = \mathrm{CES}_{\sigma^{dm}_i}(\theta^d: p^d_{sisb},\; \theta^m: P^M)`.
    Import price (determines ``PM``): :math:`P^M = \mathrm{CES}_{\sigma^{mm}_i}(\theta_r: p^d_{ris})`.
    Bilateral demand in benchmark-quantity units (relative):
    :math:`z_{risb} = Q^A_{sbi} (P^A_{sbi}/p^d_{risb})^{\sigma^{dm}_i}` for domestic supply and
    :math:`z_{risb} = Q^M (P^M/p^d_{risb})^{\sigma^{mm}_i}` for imports, with the import composite
    :math:`Q^M_{sbi} = Q^A_{sbi} (P^A_{sbi}/P^M)^{\sigma^{dm}_i}` (agent sourcing) or, with common
    sourcing, :math:`Q^M_{si} = \sum_b \theta^m_{sbi} Q^A_{sbi} (P^A_{sbi}/P^M_{si})^{\sigma^{dm}_i}`
    (determines ``QM[s, i]``).
    """
    sig_dm, sig_mm = params.sigma["sigma_dm"], params.sigma["sigma_mm"]
    v_0, m_0, tariff_0 = params.v_0, params.m_0, params.tariff_0
    use = params.use_of_buyer
    common = params.sourcing.shared_import_mix
    S = params.n_sectors
    _add_duty_exemption(m, params)

    def paid(m, r, i, s, b):
        return tariff_paid(m, use, S, r, i, s, b)

    def pd(m, r, i, s, b):
        u = use[b]
        return m.p[r, i] * m.tau[r, i, s, u] * (1.0 + paid(m, r, i, s, b)) / (1.0 + tariff_0[r, i, s, b])

    m.pd = pyo.Expression(m.FLOWS, rule=pd, doc="delivered price / benchmark")

    sources = {}
    for r, i, s, b in m.FLOWS:
        sources.setdefault((s, b, i), []).append(r)

    if common:
        _add_common_imports(m, params)
    else:
        _add_agent_imports(m, params, sources)

    add_armington_composites(m, params, sources, v_0, m.pd)

    def z(m, r, i, s, b):
        if r == s or not has_import_composite(m, m_0, common, s, b, i):
            return m.QA[s, b, i] * ces_demand(sig_dm[i], m.PA[s, b, i], m.pd[r, i, s, b])
        return m.QMB[s, b, i] * ces_demand(sig_mm[i], m.PM[s, b, i], m.pd[r, i, s, b])

    m.z = pyo.Expression(m.FLOWS, rule=z, doc="bilateral delivered quantity / benchmark")

    revenue = {s: [] for s in m.REGIONS}
    for r, i, s, b in m.FLOWS:
        if r != s:
            u = use[b]
            revenue[s].append(
                paid(m, r, i, s, b) * m.p[r, i] * m.tau[r, i, s, u] * params.d_0[r, i, s, b] * m.z[r, i, s, b]
            )
    if common:
        for r, i, s in m.IMPORT_ROUTES:
            revenue[s].append(
                m.tariff[r, i, s, 0] * m.p[r, i] * m.tau[r, i, s, 0] * m.route_0[r, i, s] * m.z_import[r, i, s]
            )
    m.tariff_revenue_terms = revenue


def tariff_paid(m, use, n_sectors: int, r, i, s, b):
    """The tariff buyer ``b`` pays on route ``(r, i, s)``: its use's rate, less its duty exemption."""
    u = use[b]
    if b < n_sectors and (s, b) in m.duty_exemption:
        return m.tariff[r, i, s, u] * (1.0 - m.duty_exemption[s, b])
    return m.tariff[r, i, s, u]


def has_import_composite(m, m_0, common: bool, s, b, i) -> bool:
    """Whether buyer ``b`` in ``s`` buys ``i`` through an import composite (a two-level nest)."""
    if common:
        return m_0[s, b, i] > 0
    return (s, b, i) in m.IMPORT_COMPOSITES


def add_armington_composites(m, params, sources, route_0, route_price) -> None:
    r"""Armington price ⟂ ``PA`` of every composite and, with common sourcing, import composite demand ⟂ ``QM``.

    Shared by the Armington block (composites by commodity, routes priced at the delivered price
    ``pd``) and the firm-size nest (:func:`cge.model.sizenest.add_size_armington`: composites by
    commodity group, routes priced at the route price ``PR``). ``route_0[r, k, s, b]`` is the
    benchmark value of route ``(r, k, s)`` to buyer ``b`` and ``route_price[r, k, s, b]`` its price
    (relative to the benchmark), ``k`` a commodity or a group; ``sources[(s, b, k)]`` lists the
    origins of the composite; ``params`` gives ``sigma_dm``, ``qa_0``, ``m_0`` and ``m_common_0``
    indexed by ``k`` (the size nest passes :func:`cge.model.sizenest.group_view`).

    :math:`P^A_{sbk} = \mathrm{CES}_{\sigma^{dm}_k}(\theta^d: p_{sksb},\; \theta^m: P^M)` where the
    composite has an import nest, else the CES across all origins' route prices;
    :math:`Q^M_{sk} = \sum_b \theta^m_{sbk} Q^A_{sbk} (P^A_{sbk}/P^M_{sk})^{\sigma^{dm}_k}` (common sourcing).
    """
    sig_dm, qa_0, m_0, m_common_0 = params.sigma["sigma_dm"], params.qa_0, params.m_0, params.m_common_0
    common = params.sourcing.shared_import_mix

    def pa_def(m, s, b, k):
        rs = sources.get((s, b, k), [])
        if has_import_composite(m, m_0, common, s, b, k):
            shares = [route_0[s, k, s, b] / qa_0[s, b, k], m_0[s, b, k] / qa_0[s, b, k]]
            prices = [route_price[s, k, s, b] if s in rs else 1.0, m.PM[s, k] if common else m.PM[s, b, k]]
        else:
            shares = [route_0[r, k, s, b] / qa_0[s, b, k] for r in rs]
            prices = [route_price[r, k, s, b] for r in rs]
        return m.PA[s, b, k] - ces_price(sig_dm[k], shares, prices) == 0

    m.armington_price = pyo.Constraint(m.COMPOSITES, rule=pa_def, doc="Armington price index ⟂ PA")

    if common:
        def import_quantity(m, s, k):
            mc = m_common_0[s, k]
            demand = sum(
                m_0[s, b, k] / mc * m.QA[s, b, k] * ces_demand(sig_dm[k], m.PA[s, b, k], m.PM[s, k])
                for b in range(len(params.buyers)) if m_0[s, b, k] > 0
            )
            return m.QM[s, k] - demand == 0

        m.import_quantity = pyo.Constraint(m.IMPORT_COMPOSITES, rule=import_quantity, doc="import composite demand ⟂ QM")


def _add_duty_exemption(m, params) -> None:
    """The duty exemption of each sector that imports inputs (sourcing by agent), and its setter.

    Under common sourcing the instrument must stay zero (:meth:`cge.sourcing.Sourcing.check`), so no
    parameter is made.
    """
    m.instrument_setters = getattr(m, "instrument_setters", [])
    if params.sourcing.shared_import_mix:
        m.duty_exemption = {}
        return
    R, S = params.n_regions, params.n_sectors
    importing = [(s, j) for s in range(R) for j in range(S)
                 if (params.d_0[:, :, s, j].sum(axis=1) * (np.arange(R) != s)).sum() > 0]
    e_0 = params.duty_exemption_0 if params.duty_exemption_0 is not None else np.zeros((R, S))
    m.IMPORTING_SECTORS = pyo.Set(initialize=importing, dimen=2, doc="(region, sector) buying imported inputs")
    add_instrument(m, "duty_exemption", m.IMPORTING_SECTORS, {k: float(e_0[k]) for k in importing},
                   "share of the intermediate-use tariff waived on the sector's imported inputs")

    def set_exemption(inst):
        for k in importing:
            hold(m.duty_exemption[k], inst.duty_exemption[k])

    m.instrument_setters.append(set_exemption)


def _add_agent_imports(m, params, sources) -> None:
    """Each buyer's own import composite: price ``PM[s, b, i]`` and quantity ``QMB[s, b, i]``."""
    sig_dm, sig_mm = params.sigma["sigma_dm"], params.sigma["sigma_mm"]
    v_0, m_0 = params.v_0, params.m_0

    def pm_def(m, s, b, i):
        rs = [r for r in sources[(s, b, i)] if r != s]
        shares = [v_0[r, i, s, b] / m_0[s, b, i] for r in rs]
        return m.PM[s, b, i] - ces_price(sig_mm[i], shares, [m.pd[r, i, s, b] for r in rs]) == 0

    m.import_price = pyo.Constraint(m.IMPORT_COMPOSITES, rule=pm_def, doc="import price index ⟂ PM")
    m.QMB = pyo.Expression(
        m.IMPORT_COMPOSITES,
        rule=lambda m, s, b, i: m.QA[s, b, i] * ces_demand(sig_dm[i], m.PA[s, b, i], m.PM[s, b, i]),
        doc="import composite of buyer b / benchmark",
    )


def _add_common_imports(m, params) -> None:
    """The common import composite of each (importer, commodity) and its route flows."""
    sig_mm = params.sigma["sigma_mm"]
    t_0 = params.tariff_0
    route_0 = m.route_0
    partners = {}
    for r, i, s in m.IMPORT_ROUTES:
        partners.setdefault((s, i), []).append(r)
    b0 = 0  # tariffs and trade costs of imports are the same for every buyer under common sourcing

    def pd_route(m, r, i, s):
        return m.p[r, i] * m.tau[r, i, s, 0] * (1.0 + m.tariff[r, i, s, 0]) / (1.0 + t_0[r, i, s, b0])

    m.pd_import = pyo.Expression(m.IMPORT_ROUTES, rule=pd_route, doc="delivered import price / benchmark")

    def pm_def(m, s, i):
        rs = partners[(s, i)]
        v = [route_0[r, i, s] * (1.0 + t_0[r, i, s, b0]) for r in rs]
        shares = [x / params.m_common_0[s, i] for x in v]
        return m.PM[s, i] - ces_price(sig_mm[i], shares, [m.pd_import[r, i, s] for r in rs]) == 0

    m.import_price = pyo.Constraint(m.IMPORT_COMPOSITES, rule=pm_def, doc="import price index ⟂ PM")
    m.z_import = pyo.Expression(
        m.IMPORT_ROUTES,
        rule=lambda m, r, i, s: m.QM[s, i] * ces_demand(sig_mm[i], m.PM[s, i], m.pd_import[r, i, s]),
        doc="imports delivered on route (r, i, s) / benchmark",
    )
