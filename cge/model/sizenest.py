r"""The firm-size nest in the reference model: Armington sourcing of commodity groups, sizes within each route.

On a benchmark split by firm size with the nest on (:func:`cge.calibrate.size_groups`) the SME
and large-firm goods of a sector form one commodity group ``g``. The upper nests (production and
final demand) and the Armington nests work on groups (:func:`group_view` gives them group-level
benchmark composites); each route ``(r, g, s, b)`` has a price ``PR`` (a variable, block
``size_price``), the CES (``sigma_size[g]``) of the delivered prices of the group's sizes from
``r``; the Armington nests choose among origins at these route prices; the flow of each size is
the route demand times :math:`(P^R / p^d_{risb})^{\sigma^{size}_g}`, and goods markets clear per
sector (size), as in :mod:`cge.model.markets`. With common sourcing the import routes
``(r, g, s)`` have one size mix for all buyers (``PR[r, g, s, -1]``). The same equations in the
fast backend: :mod:`cge.fast.sizenest`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyomo.environ as pyo

from .armington import _add_duty_exemption, add_armington_composites, has_import_composite, tariff_paid
from .ces import ces_demand, ces_price


def group_view(params):
    """Parameters whose composites are commodity groups: ``qa_0``, ``m_0`` ``[s, b, g]``, ``m_common_0`` ``[s, g]``, group Armington elasticities."""
    gidx = params.size_group
    G = int(gidx.max()) + 1
    E = np.zeros((params.n_sectors, G))
    E[np.arange(params.n_sectors), gidx] = 1.0
    first = np.array([np.flatnonzero(gidx == g)[0] for g in range(G)])
    sigma = dict(params.sigma)
    sigma["sigma_dm"], sigma["sigma_mm"] = params.sigma["sigma_dm"][first], params.sigma["sigma_mm"][first]
    sigma["sigma_size"] = params.sigma["sigma_size"][first]
    return dataclasses.replace(params, qa_0=params.qa_0 @ E, m_0=params.m_0 @ E, m_common_0=params.m_common_0 @ E, sigma=sigma)


def add_size_sets(m, params, gp) -> None:
    """Routes of the size nest, in the order of the fast backend's ``size_price`` block, and their benchmark shares."""
    R = params.n_regions
    gidx = params.size_group
    G = gp.qa_0.shape[2]
    v_0 = params.v_0
    vg = np.zeros((R, G) + v_0.shape[2:])
    np.add.at(vg, (slice(None), gidx), v_0)
    m.vg_0 = vg
    m.members = {g: [int(i) for i in np.flatnonzero(gidx == g)] for g in range(G)}
    off = ~np.eye(R, dtype=bool)[:, None, :, None]
    common = params.sourcing.shared_import_mix
    cells = (vg > 0) & ~off if common else vg > 0
    routes = [tuple(int(v) for v in k) for k in np.argwhere(cells)]
    if common:
        v_imp = (v_0 * off).sum(axis=3)  # [r, i, s]
        vg_imp = np.zeros((R, G, R))
        np.add.at(vg_imp, (slice(None), gidx), v_imp)
        m.v_imp, m.vg_imp = v_imp, vg_imp
        routes += [(int(r), int(g), int(s), -1) for r, g, s in np.argwhere(vg_imp > 0)]
    m.SIZE_ROUTES = pyo.Set(initialize=routes, dimen=4, doc="(exporter, group, importer, buyer) routes; buyer -1: a common import route")
    m.PR = pyo.Var(m.SIZE_ROUTES, initialize=1.0, bounds=(1e-10, None), doc="route price of a commodity group (size composite)")


def add_size_armington(m, params, gp) -> None:
    r"""Route prices, Armington price indices on them and size flows (both sourcing modes).

    Route price (determines ``PR[r, g, s, b]``):
    :math:`P^R_{rgsb} = \mathrm{CES}_{\sigma^{size}_g}(\theta^{size}_{risb}: p^d_{risb},\; i \in g)`.
    Armington and import prices as in :func:`cge.model.armington.add_armington` with route prices
    in place of delivered prices and group-level shares (the Armington price and the common import
    composite are built by the same :func:`cge.model.armington.add_armington_composites`); size flows
    :math:`z_{risb} = z^R_{rgsb}\, (P^R_{rgsb}/p^d_{risb})^{\sigma^{size}_g}`.
    """
    sig_dm, sig_mm, sig_sz = gp.sigma["sigma_dm"], gp.sigma["sigma_mm"], gp.sigma["sigma_size"]
    v_0, vg, tariff_0 = params.v_0, m.vg_0, params.tariff_0
    m_0 = gp.m_0
    use = params.use_of_buyer
    gidx = params.size_group
    common = params.sourcing.shared_import_mix

    S = params.n_sectors
    _add_duty_exemption(m, params)
    m.pd = pyo.Expression(
        m.FLOWS,
        rule=lambda m, r, i, s, b: m.p[r, i] * m.tau[r, i, s, use[b]] * (1.0 + tariff_paid(m, use, S, r, i, s, b)) / (1.0 + tariff_0[r, i, s, b]),
        doc="delivered price / benchmark",
    )
    if common:
        m.pd_import = pyo.Expression(
            m.IMPORT_ROUTES,
            rule=lambda m, r, i, s: m.p[r, i] * m.tau[r, i, s, 0] * (1.0 + m.tariff[r, i, s, 0]) / (1.0 + tariff_0[r, i, s, 0]),
            doc="delivered import price / benchmark",
        )

    def size_price(m, r, g, s, b):
        if b < 0:
            sizes = [i for i in m.members[g] if m.v_imp[r, i, s] > 0]
            shares = [m.v_imp[r, i, s] / m.vg_imp[r, g, s] for i in sizes]
            prices = [m.pd_import[r, i, s] for i in sizes]
        else:
            sizes = [i for i in m.members[g] if v_0[r, i, s, b] > 0]
            shares = [v_0[r, i, s, b] / vg[r, g, s, b] for i in sizes]
            prices = [m.pd[r, i, s, b] for i in sizes]
        return m.PR[r, g, s, b] - ces_price(sig_sz[g], shares, prices) == 0

    m.size_price = pyo.Constraint(m.SIZE_ROUTES, rule=size_price, doc="route price of a size composite ⟂ PR")

    sources = {}
    for r, g, s, b in m.SIZE_ROUTES:
        if b >= 0:
            sources.setdefault((s, b, g), []).append(r)

    if common:
        partners = {}
        for r, g, s, b in m.SIZE_ROUTES:
            if b < 0:
                partners.setdefault((s, g), []).append(r)

        def pm_def(m, s, g):
            rs = partners[(s, g)]
            shares = [m.vg_imp[r, g, s] / gp.m_common_0[s, g] for r in rs]
            return m.PM[s, g] - ces_price(sig_mm[g], shares, [m.PR[r, g, s, -1] for r in rs]) == 0
    else:
        def pm_def(m, s, b, g):
            rs = [r for r in sources[(s, b, g)] if r != s]
            shares = [vg[r, g, s, b] / m_0[s, b, g] for r in rs]
            return m.PM[s, b, g] - ces_price(sig_mm[g], shares, [m.PR[r, g, s, b] for r in rs]) == 0

    m.import_price = pyo.Constraint(m.IMPORT_COMPOSITES, rule=pm_def, doc="import price index ⟂ PM")

    add_armington_composites(m, gp, sources, vg, m.PR)

    def z(m, r, i, s, b):
        g = int(gidx[i])
        size = ces_demand(sig_sz[g], m.PR[r, g, s, b], m.pd[r, i, s, b])
        if r == s or not has_import_composite(m, m_0, common, s, b, g):
            return m.QA[s, b, g] * ces_demand(sig_dm[g], m.PA[s, b, g], m.PR[r, g, s, b]) * size
        qm = m.QA[s, b, g] * ces_demand(sig_dm[g], m.PA[s, b, g], m.PM[s, b, g])
        return qm * ces_demand(sig_mm[g], m.PM[s, b, g], m.PR[r, g, s, b]) * size

    m.z = pyo.Expression(m.FLOWS, rule=z, doc="bilateral delivered quantity / benchmark")
    if common:
        def z_import(m, r, i, s):
            g = int(gidx[i])
            route = m.QM[s, g] * ces_demand(sig_mm[g], m.PM[s, g], m.PR[r, g, s, -1])
            return route * ces_demand(sig_sz[g], m.PR[r, g, s, -1], m.pd_import[r, i, s])

        m.z_import = pyo.Expression(m.IMPORT_ROUTES, rule=z_import, doc="imports delivered on route (r, i, s) / benchmark")

    revenue = {s: [] for s in m.REGIONS}
    for r, i, s, b in m.FLOWS:
        if r != s:
            u = use[b]
            revenue[s].append(tariff_paid(m, use, S, r, i, s, b) * m.p[r, i] * m.tau[r, i, s, u] * params.d_0[r, i, s, b] * m.z[r, i, s, b])
    if common:
        for r, i, s in m.IMPORT_ROUTES:
            revenue[s].append(m.tariff[r, i, s, 0] * m.p[r, i] * m.tau[r, i, s, 0] * m.route_0[r, i, s] * m.z_import[r, i, s])
    m.tariff_revenue_terms = revenue


def import_demand(m, params) -> np.ndarray:
    """Each buyer's import-composite demand index ``[s, b, i]`` (common sourcing), the group's for each of its sizes."""
    gp = group_view(params)
    R, B, S = params.qa_0.shape
    out = np.zeros((R, B, S))
    for s, b, g in m.COMPOSITES:
        if gp.m_0[s, b, g] > 0:
            value = m.QA[s, b, g].value * (m.PA[s, b, g].value / m.PM[s, g].value) ** gp.sigma["sigma_dm"][g]
            out[s, b, params.size_group == g] = value
    return out
