r"""The hybrid world table: WIOD input-output structure, ICIO trade, ASEAN economies split out of RoW.

WIOD 2013 (Timmer et al. 2015) has 40 countries and a rest of the world (RoW) that holds eight of the
ten ASEAN members, Hong Kong and New Zealand. The ICIO-based trade cube of the same year (OECD ICIO
2023 via tariffwar) has bilateral trade by sector for all of them but no input-output structure.
:func:`split_rest_of_world` splits chosen economies out of WIOD's RoW so that

1. the split economies and the remaining RoW add up to WIOD's RoW row and column blocks and RoW value
   added, cell by cell (the *RoW identity*);
2. their trade with each of the 40 WIOD countries, by bridge sector group
   (:mod:`cge.sources.concordance`), is split in ICIO's proportions, exactly;
3. every cell is non-negative;
4. every region-sector's output equals its sales and its costs.

Steps (all values in WIOD US$ million):

- **Output.** The output of split economy :math:`l` in bridge group :math:`g` is its ICIO share of
  RoW's exports to each WIOD country (point 2) plus its ICIO share of RoW's sales inside RoW:
  :math:`x_{lg} = \sum_p \sigma^X_{lgp} E^{RoW}_{gp} + \iota_{lg} D^{RoW}_g`. A RAS on
  (economy, sector) splits it over the WIOD sectors of the group, with the sector composition of
  each economy's proxy (a WIOD country) as prior and RoW's sector outputs as column totals.
- **Prior.** Purchases of commodity :math:`i` by buyer :math:`c` (sector or final agent) of
  economy :math:`l` from origin :math:`o`: the proxy's use coefficient times the economy's output
  (final demand: the proxy's expenditure pattern times the economy's ICIO absorption net of
  intermediate use), times ICIO's share of origin :math:`o` in :math:`l`'s purchases of the
  group. Value added: the proxy's value-added share times output. Exports to WIOD countries: RoW's
  cells times the ICIO export share.
- **Balancing.** Iterative proportional fitting (:func:`cge.sources.ras.ipf`, a multi-dimensional
  RAS) on eight margins: RoW identity for imports from WIOD countries (cell by cell), ICIO shares
  of those imports (by origin, group and economy), RoW identity for exports to WIOD countries and
  their ICIO shares, RoW identity of the internal RoW block (by commodity and buyer) and of value
  added (by sector), sales = output and costs = output of each split region-sector. The 40 WIOD
  countries' rows and columns are unchanged, so their balance is untouched.

:func:`prepare_wiod` first maps WIOD's five final-demand categories to the model's three agents
and removes negative final demand (inventory drawdowns) by a documented rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import mrio
from . import concordance
from .icio_cubes import TradeCube
from .ras import FitInfo, Margin, _ratio, ipf, ras
from .wiod import WIOT

SPLIT_ECONOMIES = ("BRN", "KHM", "LAO", "MMR", "MYS", "PHL", "SGP", "THA", "VNM", "HKG", "NZL")
"""Economies split out of WIOD's RoW by default: eight ASEAN members, Hong Kong and New Zealand."""

AGENTS = ("household", "government", "investment")
FINAL_DEMAND_MAP = {
    "CONS_h": "household",
    "CONS_np": "household",
    "CONS_g": "government",
    "GFCF": "investment",
    "INVEN": "investment",
}
"""WIOD final-demand category -> model agent. Consumption of non-profit institutions serving
households goes to the household; changes in inventories go to investment."""

DEFAULT_PROXIES = {
    "BRN": "IDN",
    "KHM": "IDN",
    "LAO": "IDN",
    "MMR": "IDN",
    "PHL": "IDN",
    "VNM": "CHN",
    "THA": "KOR",
    "MYS": "TWN",
    "SGP": "KOR",
    "HKG": "TWN",
    "NZL": "AUS",
    "ROW": "ROW",
}
"""Proxy (a WIOD region) whose input coefficients, value-added shares and final-demand pattern are
the prior for each split economy (the same as ``calibration/proxies.csv``, which gives the reasons)."""


@dataclass
class Table:
    """A balanced multi-regional table at basic prices: ``Z`` (R,S,R,S), ``F`` (R,S,R,A), ``va`` (R,S)."""

    regions: list[str]
    sectors: list[str]
    agents: list[str]
    Z: np.ndarray
    F: np.ndarray
    va: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def sales(self) -> np.ndarray:
        return mrio.sales(self.Z, self.F)

    @property
    def costs(self) -> np.ndarray:
        return self.Z.sum(axis=(0, 1)) + self.va

    def balance_residual(self) -> float:
        """Largest ``|sales - costs| / max(1, sales)``."""
        return float(np.max(np.abs(self.sales - self.costs) / np.maximum(1.0, self.sales)))

    def index(self, region: str) -> int:
        return self.regions.index(region)


# ---------------------------------------------------------------------------------------------- WIOD
def prepare_wiod(wiot: WIOT, final_demand_map: dict[str, str] | None = None) -> Table:
    """WIOD table with the model's final agents, non-negative final demand and value added.

    :func:`prepare_table` with WIOD's final-demand categories and :data:`FINAL_DEMAND_MAP`; inventory
    changes are netted against gross fixed capital formation cell by cell (both go to investment).
    """
    table = prepare_table(
        wiot.regions, wiot.sectors, wiot.Z, wiot.F, wiot.final_demand, final_demand_map or FINAL_DEMAND_MAP
    )
    gap = float(np.abs(wiot.x - table.sales).sum())
    table.notes.append(f"output = row sums; |published x - row sums| summed over cells: {gap:,.0f} (rounding in the published table)")
    return table


def prepare_table(regions, sectors, Z, F_by_category, categories, final_demand_map: dict) -> Table:
    """A balanced :class:`Table` from intermediate flows and final demand by category.

    Rules, each recorded in ``notes`` with the amounts involved:

    1. Final-demand categories are summed into agents by ``final_demand_map`` (category -> agent;
       a category mapped to ``None`` is dropped, and its sales leave output).
    2. A final-demand cell still negative (a net inventory drawdown) is set to zero and the other
       final-demand cells of the same row (supplier) are scaled down by the same amount, so that
       the supplier's output is unchanged; if its other final sales are too small, its intermediate
       sales are scaled down too; a row whose total sales are negative gets zero output.
    3. Output is the row sum (sales); value added is output minus intermediate inputs. Where it is
       negative (tiny cells), the using sector's intermediate inputs are scaled down to its output
       and the removed inputs are sold to the household of the same region instead, so that no
       supplier's output changes.
    """
    fmap = dict(final_demand_map)
    agents = list(dict.fromkeys(a for a in fmap.values() if a is not None))
    regions, sectors = list(regions), list(sectors)
    R, S = len(regions), len(sectors)
    F = np.zeros((R, S, R, len(agents)))
    for k, cat in enumerate(categories):
        if cat not in fmap:
            raise KeyError(f"final demand category {cat!r} has no agent in final_demand_map (use None to drop it)")
        if fmap[cat] is not None:
            F[..., agents.index(fmap[cat])] += F_by_category[..., k]
    Z = np.array(Z, dtype=float)
    notes = [f"final demand: {fmap}"]
    if (Z < 0).any():
        raise ValueError("intermediate block has negative cells; no rule for them")

    neg = np.minimum(F, 0.0)
    total_neg = -neg.sum()
    F = np.maximum(F, 0.0)
    need = -neg.sum(axis=(2, 3))  # (R, S) amount each supplier row must give up
    fd_row = F.sum(axis=(2, 3))
    from_fd = np.minimum(need, fd_row)
    scale = np.divide(fd_row - from_fd, fd_row, out=np.ones_like(fd_row), where=fd_row > 0)
    F *= scale[:, :, None, None]
    rest = need - from_fd
    z_row = Z.sum(axis=(2, 3))
    short = rest > z_row
    dropped = float((rest - z_row)[short].sum())
    rest = np.minimum(rest, z_row)
    zscale = np.divide(z_row - rest, z_row, out=np.ones_like(z_row), where=z_row > 0)
    Z *= zscale[:, :, None, None]
    if total_neg > 0:
        notes.append(
            f"negative final demand after summing categories into agents: {total_neg:,.0f} in "
            f"{int((neg < 0).sum())} cells set to zero; taken from the same suppliers' other final sales "
            f"({from_fd.sum():,.0f}) and intermediate sales ({rest.sum():,.0f})"
        )
    if short.any():
        cells = ", ".join(f"{regions[r]} {sectors[i]}" for r, i in np.argwhere(short))
        notes.append(f"rows with negative total sales set to zero output: {cells} ({dropped:,.3g} dropped)")

    sales = mrio.sales(Z, F)
    inputs = Z.sum(axis=(0, 1))
    va = sales - inputs
    bad = va < 0
    if bad.any():
        hh = agents.index("household") if "household" in agents else 0
        cells = []
        for s, j in np.argwhere(bad):
            factor = sales[s, j] / inputs[s, j]
            removed = Z[:, :, s, j] * (1.0 - factor)
            Z[:, :, s, j] *= factor
            F[:, :, s, hh] += removed
            cells.append(f"{regions[s]} {sectors[j]} ({va[s, j]:.3g})")
        notes.append("negative residual value added set to zero by moving inputs to household final demand in " + ", ".join(cells))
        sales = mrio.sales(Z, F)
        va = np.maximum(sales - Z.sum(axis=(0, 1)), 0.0)
    return Table(regions, sectors, agents, Z, F, va, notes)


# ------------------------------------------------------------------------------------------- the split
@dataclass
class SplitReport:
    """Diagnostics of :func:`split_rest_of_world`.

    ``balance_before`` is the largest ``|costs - sales| / max(1, sales)`` of a split region-sector in
    the initial estimate (prior scaled to the data margins, before balancing), ``imbalance_before_share``
    the sum of ``|costs - sales|`` over the split region-sectors relative to their output, and
    ``balance_after`` the largest relative gap of the whole hybrid table after balancing.
    """

    fit: FitInfo
    balance_before: float
    balance_after: float
    imbalance_before_share: float
    balance_before_cells: pd.DataFrame
    identity_error: dict[str, float]
    largest_adjustments: pd.DataFrame
    icio_share_error: dict[str, float]
    internal_share_gap: float
    output: pd.DataFrame
    proxies: dict[str, str]
    members: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)


def icio_members(cube: TradeCube, wiod_regions: list[str], split: tuple[str, ...], rest: str = "ROW") -> dict[str, list[str]]:
    """Hybrid region -> ICIO economies: WIOD countries and split economies map to themselves, the
    remaining RoW to every other ICIO economy (including ICIO's own rest of the world)."""
    named = [r for r in wiod_regions if r != rest] + list(split)
    missing = [r for r in named if r not in cube.countries]
    if missing:
        raise KeyError(f"economies not in the {cube.dataset} {cube.year} cube: {missing}")
    members = {r: [r] for r in named}
    members[rest] = [c for c in cube.countries if c not in named]
    return members


def _aggregate_cube(cube: TradeCube, regions: list[str], members: dict[str, list[str]]) -> np.ndarray:
    """ICIO trade by (hybrid origin, bridge group, hybrid destination)."""
    M = np.zeros((len(cube.countries), len(regions)))
    for n, r in enumerate(regions):
        for c in members[r]:
            M[cube.index(c), n] = 1.0
    G = concordance.indicator(cube.sectors, concordance.bridge_of_icio())
    return np.einsum("ekm,eE,kg,mM->EgM", cube.trade, M, G, M, optimize=True)


def _shares(x: np.ndarray, axis: int, fallback_index: int) -> np.ndarray:
    """Shares along ``axis``; where the total is zero, everything goes to ``fallback_index``."""
    tot = x.sum(axis=axis, keepdims=True)
    out = np.divide(x, tot, out=np.zeros_like(x), where=tot > 0)
    empty = np.broadcast_to(tot == 0, x.shape).copy()
    idx = [slice(None)] * x.ndim
    idx[axis] = fallback_index
    fb = np.zeros_like(x)
    fb[tuple(idx)] = 1.0
    return np.where(empty, fb, out)


def split_rest_of_world(
    table: Table,
    cube: TradeCube,
    split: tuple[str, ...] = SPLIT_ECONOMIES,
    proxies: dict[str, str] | None = None,
    rest: str = "ROW",
    tol: float = 1e-11,
    max_iter: int = 20_000,
) -> tuple[Table, SplitReport]:
    """Split ``split`` economies out of ``rest`` in ``table`` using ``cube`` trade (see module doc).

    Returns the hybrid table (WIOD countries, then the split economies, then the remaining ``rest``)
    and a :class:`SplitReport`.
    """
    proxies = dict(DEFAULT_PROXIES, **(proxies or {}))
    regions_w = [r for r in table.regions if r != rest]
    iw = [table.index(r) for r in regions_w]
    ir = table.index(rest)
    new = list(split) + [rest]
    hybrid = regions_w + new
    P, L = len(regions_w), len(new)
    S, nA = len(table.sectors), len(table.agents)
    C = S + nA
    q = L - 1  # position of the remaining rest of the world among the new regions
    for r in new:
        if proxies.get(r) not in table.regions:
            raise KeyError(f"proxy of {r} is {proxies.get(r)!r}, not a region of the table")

    members = icio_members(cube, table.regions, tuple(split), rest)
    X = _aggregate_cube(cube, hybrid, members)  # (H, G, H)
    Gw = concordance.indicator(table.sectors, concordance.bridge_of_wiod())  # (S, G)
    grp = Gw.argmax(axis=1)
    nG = Gw.shape[1]
    Xnew = X[P:]  # origins among new regions

    # WIOD RoW blocks, buyer axis c = sectors then agents
    def buyers(Zb, Fb):
        return np.concatenate([Zb, Fb], axis=-1)

    row_to_w = buyers(table.Z[ir][:, iw, :], table.F[ir][:, iw, :])  # (S, P, C)
    w_to_row = buyers(table.Z[iw][:, :, ir, :], table.F[iw][:, :, ir, :])  # (P, S, C)
    row_to_row = buyers(table.Z[ir, :, ir, :], table.F[ir, :, ir, :])  # (S, C)
    va_row = table.va[ir]
    x_row = table.sales[ir]

    sigma_x = _shares(Xnew[:, :, :P], axis=0, fallback_index=q)  # (L, G, P)
    sigma_m = _shares(X[:P][:, :, P:], axis=2, fallback_index=q)  # (P, G, L)
    exp_g = np.einsum("spc,sg->gp", row_to_w, Gw)  # (G, P)
    imp_g = np.einsum("psc,sg->pg", w_to_row, Gw)  # (P, G)
    t6 = sigma_x * exp_g[None]  # (L, G, P)
    t5 = sigma_m * imp_g[:, :, None]  # (P, G, L)
    internal_g = np.einsum("sc,sg->g", row_to_row, Gw)
    iota = _shares(Xnew[:, :, P:].sum(axis=2), axis=0, fallback_index=q)  # (L, G)
    x_lg = t6.sum(axis=2) + iota * internal_g[None]

    # proxies' structures
    sales = table.sales
    inputs_all = table.Z.sum(axis=0)  # (S commodity, R, S) total use of i by (s, j)
    fd_all = table.F.sum(axis=0)  # (S, R, A)

    def coefficients(k: int):
        xx = sales[k]
        a = np.divide(inputs_all[:, k, :], xx[None, :], out=np.zeros((S, S)), where=xx[None, :] > 0)
        v = np.divide(table.va[k], xx, out=np.zeros(S), where=xx > 0)
        return a, v, xx

    a_rest, v_rest, _ = coefficients(ir)

    def structure(region: str):
        """Input coefficients, value-added shares, sector composition and final demand of a proxy;
        RoW's where the proxy has no output in a sector (composition: in a whole bridge group)."""
        k = table.index(region)
        a, v, xk = coefficients(k)
        has = xk > 0
        a = np.where(has[None, :], a, a_rest)
        v = np.where(has, v, v_rest)
        comp = np.where(xk @ Gw @ Gw.T > 0, xk, x_row)
        fd = fd_all[:, k, :] if fd_all[:, k, :].sum() > 0 else fd_all[:, ir, :]
        return a, v, comp, fd

    structs = {r: structure(proxies[r]) for r in new}

    # output of new regions by WIOD sector: RAS per bridge group over (economy, sector in group)
    x_new = np.zeros((L, S))
    for g in range(nG):
        cols = np.flatnonzero(grp == g)
        if x_row[cols].sum() <= 0:
            continue
        comp = np.stack([structs[r][2][cols] for r in new])
        comp = np.divide(comp, comp.sum(axis=1, keepdims=True), out=np.zeros_like(comp), where=comp.sum(axis=1, keepdims=True) > 0)
        prior = comp * x_lg[:, g : g + 1] + 1e-300
        prior[:, x_row[cols] <= 0] = 0.0
        fitted, info = ras(prior, x_lg[:, g], x_row[cols], tol=1e-13)
        x_new[:, cols] = fitted
    x_new[x_new < 1e-12 * max(1.0, x_new.max())] = 0.0

    # priors
    mu = _shares(X[:, :, P:], axis=0, fallback_index=P + q)  # (H, G, L) origin shares in l's purchases
    absorption = X[:, :, P:].sum(axis=(0, 1))  # (L,)
    wiod_abs = w_to_row.sum() + row_to_row.sum()
    absorption = absorption * wiod_abs / absorption.sum()
    U = np.zeros((L, S, C))
    V0 = np.zeros((L, S))
    for n, r in enumerate(new):
        a, v, comp, fd = structs[r]
        U[n, :, :S] = a * x_new[n][None, :]
        V0[n] = v * x_new[n]
        inter = U[n, :, :S].sum()
        fd_total = max(absorption[n] - inter, 0.05 * absorption[n])
        U[n, :, S:] = fd / fd.sum() * fd_total
    A0 = U[None, :, :, :].transpose(0, 2, 1, 3) * mu[:, grp, :][:, :, :, None]  # (H, S, L, C)
    # exports of new regions to WIOD countries
    comp_new = np.divide(x_new, (x_new @ Gw)[:, grp], out=np.zeros_like(x_new), where=(x_new @ Gw)[:, grp] > 0)
    comp_row = np.divide(x_row, (x_row @ Gw)[grp], out=np.zeros_like(x_row), where=(x_row @ Gw)[grp] > 0)
    tilt = np.divide(comp_new, comp_row[None, :], out=np.zeros_like(comp_new), where=comp_row[None, :] > 0)
    E0 = row_to_w[None, :, :, :] * sigma_x[:, grp, :][:, :, :, None] * tilt[:, :, None, None]  # (L, S, P, C)

    arrays = {"A": A0.copy(), "E": E0.copy(), "V": V0.copy()}
    margins = _margins(arrays, w_to_row, t5, row_to_w, t6, row_to_row, x_new, va_row, Gw, P, S)
    data_margins = [m for m in margins if m.name not in ("sales = output", "costs = output")]
    # initial estimate: the prior scaled once to the data margins (RoW identity, ICIO shares)
    for _ in range(3):
        for mg in data_margins:
            mg.scale(arrays, _ratio(mg.target, mg.total(arrays)))
    initial = {k: v.copy() for k, v in arrays.items()}
    before_cells = _balance_cells(initial, x_new, new, table.sectors, P, S)
    balance_before = float(before_cells["relative"].abs().max())

    fit = ipf(arrays, margins, tol=tol, max_iter=max_iter, check_every=10)
    A, E, V = arrays["A"], arrays["E"], arrays["V"]

    # assemble the hybrid table
    H = len(hybrid)
    Zh = np.zeros((H, S, H, S))
    Fh = np.zeros((H, S, H, nA))
    w = np.array(iw)
    Zh[:P, :, :P, :] = table.Z[np.ix_(w, range(S), w, range(S))]
    Fh[:P, :, :P, :] = table.F[np.ix_(w, range(S), w, range(nA))]
    Zh[:, :, P:, :] = A[..., :S]
    Fh[:, :, P:, :] = A[..., S:]
    Zh[P:, :, :P, :] = E[..., :S]
    Fh[P:, :, :P, :] = E[..., S:]
    va = np.zeros((H, S))
    va[:P] = table.va[w]
    sales_new = mrio.sales(Zh[P:], Fh[P:])
    va[P:] = sales_new - Zh[:, :, P:, :].sum(axis=(0, 1))
    closing = float(np.max(np.abs(va[P:] - V)))
    if (va[P:] < 0).any():
        va[P:] = np.maximum(va[P:], 0.0)
    out = Table(hybrid, list(table.sectors), list(table.agents), Zh, Fh, va, list(table.notes))
    out.notes.append(
        f"split {list(split)} out of {rest} (ICIO {cube.year} trade shares, proxies {proxies}); "
        f"IPF: {fit.iterations} sweeps, max margin error {fit.max_error:.2e}; value added closed as residual "
        f"(largest change {closing:.2e})"
    )

    identity = {
        "exports to WIOD countries": _rel(Zh[P:, :, :P, :].sum(axis=0), table.Z[ir][:, iw, :])
        + _rel(Fh[P:, :, :P, :].sum(axis=0), table.F[ir][:, iw, :]),
        "imports from WIOD countries": _rel(Zh[:P, :, P:, :].sum(axis=2), table.Z[iw][:, :, ir, :])
        + _rel(Fh[:P, :, P:, :].sum(axis=2), table.F[iw][:, :, ir, :]),
        "internal block": _rel(Zh[P:, :, P:, :].sum(axis=(0, 2)), table.Z[ir, :, ir, :])
        + _rel(Fh[P:, :, P:, :].sum(axis=(0, 2)), table.F[ir, :, ir, :]),
        "value added": _rel(va[P:].sum(axis=0), va_row),
        "output": _rel(sales_new.sum(axis=0), x_row),
    }
    share_err = {
        "exports to WIOD countries": _rel(np.einsum("lspc,sg->lgp", E, Gw), t6),
        "imports from WIOD countries": _rel(np.einsum("pslc,sg->pgl", A[:P], Gw), t5),
    }
    # internal trade among new regions vs ICIO shares (not imposed; prior only)
    internal = np.einsum("ksld,sg->kgl", A[P:], Gw)
    sh_model = _shares(internal, axis=0, fallback_index=q)
    sh_icio = _shares(Xnew[:, :, P:], axis=0, fallback_index=q)
    weight = internal.sum(axis=0, keepdims=True)
    internal_gap = float(0.5 * (np.abs(sh_model - sh_icio) * weight).sum() / weight.sum())

    adjust = _largest_adjustments(initial, arrays, hybrid, new, regions_w, table.sectors, table.agents, P, S)
    report = SplitReport(
        fit=fit,
        balance_before=balance_before,
        balance_after=out.balance_residual(),
        imbalance_before_share=float((before_cells["costs"] - before_cells["sales"]).abs().sum() / before_cells["output"].sum()),
        balance_before_cells=before_cells,
        identity_error=identity,
        largest_adjustments=adjust,
        icio_share_error=share_err,
        internal_share_gap=internal_gap,
        output=pd.DataFrame(x_new, index=pd.Index(new, name="region"), columns=pd.Index(table.sectors, name="sector")),
        proxies={r: proxies[r] for r in new},
        members=members,
        notes=[f"value added closed as residual: largest change {closing:.3g}"],
    )
    return out, report


def _rel(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.maximum(1.0, np.abs(np.asarray(b))), initial=0.0))


def _margins(arrays, w_to_row, t5, row_to_w, t6, row_to_row, x_new, va_row, Gw, P, S) -> list[Margin]:
    """The eight margins of the split (see the module docstring)."""

    def scale_A_w_cells(ar, f):  # f (P, S, C) over l
        ar["A"][:P] *= f[:, :, None, :]

    def scale_A_w_groups(ar, f):  # f (P, G, L)
        ar["A"][:P] *= np.einsum("pgl,sg->psl", f, Gw)[:, :, :, None]

    def scale_internal(ar, f):  # f (S, C)
        ar["A"][P:] *= f[None, :, None, :]

    def scale_E_cells(ar, f):  # (S, P, C)
        ar["E"] *= f[None]

    def scale_E_groups(ar, f):  # (L, G, P)
        ar["E"] *= np.einsum("lgp,sg->lsp", f, Gw)[:, :, :, None]

    def total_rows(ar):
        return mrio.sales(ar["A"][P:], ar["E"])

    def scale_rows(ar, f):  # (L, S)
        ar["A"][P:] *= f[:, :, None, None]
        ar["E"] *= f[:, :, None, None]

    def total_cols(ar):
        return ar["A"][..., :S].sum(axis=(0, 1)) + ar["V"]

    def scale_cols(ar, f):  # (L, S)
        ar["A"][..., :S] *= f[None, None, :, :]
        ar["V"] *= f

    def scale_va(ar, f):  # (S,)
        ar["V"] *= f[None, :]

    return [
        Margin("RoW identity: imports from WIOD countries", w_to_row, lambda ar: ar["A"][:P].sum(axis=2), scale_A_w_cells),
        Margin("ICIO shares: imports from WIOD countries", t5, lambda ar: np.einsum("pslc,sg->pgl", ar["A"][:P], Gw), scale_A_w_groups),
        Margin("RoW identity: exports to WIOD countries", row_to_w, lambda ar: ar["E"].sum(axis=0), scale_E_cells),
        Margin("ICIO shares: exports to WIOD countries", t6, lambda ar: np.einsum("lspc,sg->lgp", ar["E"], Gw), scale_E_groups),
        Margin("RoW identity: internal block", row_to_row, lambda ar: ar["A"][P:].sum(axis=(0, 2)), scale_internal),
        Margin("RoW identity: value added", va_row, lambda ar: ar["V"].sum(axis=0), scale_va),
        Margin("sales = output", x_new, total_rows, scale_rows),
        Margin("costs = output", x_new, total_cols, scale_cols),
    ]


def _balance_cells(arrays, x_new, new, sectors, P, S) -> pd.DataFrame:
    A, E, V = arrays["A"], arrays["E"], arrays["V"]
    sales = mrio.sales(A[P:], E)
    costs = A[..., :S].sum(axis=(0, 1)) + V
    rows = []
    for n, r in enumerate(new):
        for j, s in enumerate(sectors):
            rows.append((r, s, x_new[n, j], sales[n, j], costs[n, j]))
    df = pd.DataFrame(rows, columns=["region", "sector", "output", "sales", "costs"])
    df["relative"] = (df["costs"] - df["sales"]) / np.maximum(1.0, df["sales"])
    return df.reindex(df["relative"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def _largest_adjustments(initial, final, hybrid, new, regions_w, sectors, agents, P, S, most: int = 15) -> pd.DataFrame:
    """Cells the balancing changed most (absolute), relative to the initial estimate."""
    buyers = list(sectors) + list(agents)
    rows = []
    dA = final["A"] - initial["A"]
    for idx in np.argsort(np.abs(dA).ravel())[::-1][:most]:
        o, i, l, c = np.unravel_index(idx, dA.shape)
        rows.append(("purchase", hybrid[o], sectors[i], new[l], buyers[c], initial["A"][o, i, l, c], final["A"][o, i, l, c]))
    dE = final["E"] - initial["E"]
    for idx in np.argsort(np.abs(dE).ravel())[::-1][:most]:
        l, i, p, c = np.unravel_index(idx, dE.shape)
        rows.append(("export", new[l], sectors[i], regions_w[p], buyers[c], initial["E"][l, i, p, c], final["E"][l, i, p, c]))
    dV = final["V"] - initial["V"]
    for idx in np.argsort(np.abs(dV).ravel())[::-1][:most]:
        l, j = np.unravel_index(idx, dV.shape)
        rows.append(("value added", "", "", new[l], sectors[j], initial["V"][l, j], final["V"][l, j]))
    df = pd.DataFrame(rows, columns=["block", "exporter", "commodity", "importer", "buyer", "initial", "balanced"])
    df["change"] = df["balanced"] - df["initial"]
    df["change_pct"] = 100.0 * df["change"] / df["initial"].where(df["initial"] != 0)
    return df.reindex(df["change"].abs().sort_values(ascending=False).index).head(most).reset_index(drop=True)


__all__ = [
    "AGENTS",
    "DEFAULT_PROXIES",
    "FINAL_DEMAND_MAP",
    "SPLIT_ECONOMIES",
    "SplitReport",
    "Table",
    "icio_members",
    "prepare_table",
    "prepare_wiod",
    "split_rest_of_world",
]
