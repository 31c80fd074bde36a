r"""Updating a base-year multi-regional table to a later year's output and bilateral trade.

No full input-output table newer than the 2011 hybrid table (:mod:`cge.sources.hybrid`) is staged,
but the trade cubes (:mod:`cge.sources.icio_cubes`) give, for every year, bilateral trade by sector
with domestic absorption of own output on the diagonal, hence output by economy and sector.
:func:`update_table` takes a balanced base table of year :math:`t_0` to year :math:`T` with the
cube's *growth* between the two years, the standard way GTAP-style databases are updated to recent
or projected years, and keeps the base structure wherever the cube is silent.

Targets (1 and 2 exact; 3 and 4 to the RAS tolerance, see below):

1. **Sales by route** (the cube's bilateral trade and domestic absorption). For exporter :math:`r`,
   table sector :math:`i` of cube group :math:`g(i)` and buyer region :math:`s` (:math:`s = r` for
   domestic sales), all buyers together:

   .. math::
       \sum_j Z^T_{risj} + \sum_a F^T_{risa} = \Big(\sum_j Z^0_{risj} + \sum_a F^0_{risa}\Big)\,
       \frac{C^T_{r g(i) s}}{C^0_{r g(i) s}},

   with :math:`C^t` the cube of year :math:`t` summed over the members of each table region and the
   cube sectors of each group (:func:`cube_on_table`). Levels come from the base table and growth
   from the cube, because the table and the cube are different vintages (WIOD 2013 against ICIO
   2023, or against WIOD 2016 in the back-test) whose levels differ even in the base year. Where the
   cube has no flow in the base year, or one smaller than a tenth of the table's (:data:`MIN_RATIO`:
   the two then do not describe the same flow, and a ratio of small numbers would blow the route
   up), the route grows with the exporter's output of the group in the cube (and, failing that, with
   world output of the group); such fallbacks are counted in :class:`UpdateReport`.
2. **Output** :math:`x^T_{ri} = \sum_s` (target 1): the cube's output growth by region and group.
3. **Intermediate inputs** of each using sector: :math:`\sum_{r,i} Z^T_{risj} = (1 - v^0_{sj})\,x^T_{sj}`,
   the base value-added share :math:`v^0 = va^0 / x^0` kept (factor shares are then split by the
   build as in the base year).
4. **Final demand** of each agent: :math:`\sum_{r,i} F^T_{risa} = \phi^0_{sa}\,\big(\sum_{r,i}
   (\text{target 1})_{ris} - \sum_j (\text{target 3})_{sj}\big)`: absorption not used as
   intermediates, split over household, government and investment with base shares
   :math:`\phi^0_{sa}`.

Carried over from the base year (the cube is silent): input coefficients within each buyer
region up to the RAS scaling (who buys an import, a sector or a final agent, and what each sector
buys), the split between intermediate and final use, value-added shares of output, final-demand
shares by agent, and the composition of every cube group by table sector (the cube collapses all
services into one aggregate, so the 19 WIOD service sectors of a route grow at one rate; China's and
Mexico's processing rows are inside their totals in the cube and in the table alike).

The four targets of buyer region :math:`s` involve only the column block of :math:`s`, so the
update is one RAS per buyer region (:func:`cge.sources.ras.ras`): rows are the (origin region,
commodity) sales to :math:`s` (target 1), columns its sectors (target 3) and final agents
(target 4); both sum to the absorption of :math:`s`. A last row scaling makes the sales exact;
where a few tiny cells keep a buyer region's RAS from meeting both margins to its tolerance, the
remaining gap of targets 3 and 4 goes to value added, :math:`va^T = x^T - \sum_{r,i} Z^T`, so that
costs equal output exactly (the report gives the largest and the mean change of value-added shares
this causes), and sales equal output because target 1 adds up to target 2.

Trade balances are not imposed: they follow the cube.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import SourceDataMissing, concordance, customs, source_file
from .build import Inputs, _sha
from .hybrid import Table
from .icio_cubes import FOLDER, TradeCube, read_cube
from .ras import _ratio, ras

MIN_RATIO = 0.1
"""A route grows at its own cube growth only if its base-year cube flow is at least this share of the
table's flow; otherwise with the exporter's output of the group (see :func:`growth_factors`)."""
BRIDGES = {"ICIO": concordance.BRIDGE, "WIOD": concordance.WIOD16_BRIDGE}
"""Bridge groups between the table's WIOD 2013 sectors and each cube's sectors."""


@dataclass
class UpdateReport:
    """What :func:`update_table` did: years, RAS sweeps and errors, fallbacks, timings."""

    base_year: int
    year: int
    iterations: int
    max_error: float
    sales_error: float
    cost_error: float
    fallback_routes: int
    fallback_value: float
    va_share_deviation: float
    """Largest |va/x - base va/x| (non-zero only where the RAS of a buyer region stopped short of its tolerance)."""
    va_share_deviation_weighted: float
    """The same, output-weighted mean."""
    seconds: float
    notes: list[str] = field(default_factory=list)


def group_matrix(cube: TradeCube, table_sectors: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """0/1 matrices cube sector -> group and table sector -> group, and the group names.

    The bridge groups are :data:`BRIDGES` of the cube's dataset.
    """
    bridge = BRIDGES[cube.dataset]
    groups = [g for g, _, _ in bridge]
    of_cube = {c: g for g, _, cs in bridge for c in cs}
    of_table = {w: g for g, ws, _ in bridge for w in ws}
    return (concordance.indicator(cube.sectors, of_cube, groups), concordance.indicator(table_sectors, of_table, groups), groups)


def cube_on_table(cube: TradeCube, regions: list[str], members: dict[str, list[str]], table_sectors: list[str]) -> np.ndarray:
    """The cube's trade summed to (table region, group, table region), in ``[exporter, group, importer]`` order.

    ``members`` maps each table region to its cube countries; every cube country must belong to
    exactly one table region.
    """
    M = np.zeros((len(cube.countries), len(regions)))
    for k, r in enumerate(regions):
        for c in members[r]:
            M[cube.index(c), k] = 1.0
    missing = [c for c, row in zip(cube.countries, M) if row.sum() != 1]
    if missing:
        raise ValueError(f"cube countries in no table region or in several: {missing}")
    G, _, _ = group_matrix(cube, table_sectors)
    return np.einsum("ekm,eE,kg,mM->EgM", cube.trade, M, G, M, optimize=True)


def growth_factors(base: np.ndarray, target: np.ndarray, table_flows: np.ndarray | None = None, min_ratio: float = MIN_RATIO) -> tuple[np.ndarray, np.ndarray]:
    """Growth of each (exporter, group, importer) route, and a mask of the routes that fell back.

    ``target / base`` where the cube's base-year flow is at least ``min_ratio`` times the table's
    (``table_flows``, same shape; the two then describe the same flow); else the exporter's output
    growth in the group (the cube's cell is missing or too small to carry information on the
    table's flow); else world output growth of the group.
    """
    out_b, out_t = base.sum(axis=2), target.sum(axis=2)
    world = np.divide(out_t.sum(axis=0), out_b.sum(axis=0), out=np.ones(base.shape[1]), where=out_b.sum(axis=0) > 0)
    by_exporter = np.divide(out_t, out_b, out=np.broadcast_to(world, out_b.shape).copy(), where=out_b > 0)
    fallback = base <= 0
    if table_flows is not None:
        fallback |= base < min_ratio * table_flows
    g = np.divide(target, base, out=np.broadcast_to(by_exporter[:, :, None], base.shape).copy(), where=~fallback)
    return g, fallback


def update_table(
    table: Table,
    base: np.ndarray,
    target: np.ndarray,
    sector_groups: np.ndarray,
    base_year: int = 0,
    year: int = 0,
    min_ratio: float = MIN_RATIO,
    tol: float = 1e-12,
    max_iter: int = 2_000,
) -> tuple[Table, UpdateReport]:
    """Update ``table`` by the growth from cube ``base`` to cube ``target`` (both (R, G, R) on the table's regions).

    ``sector_groups`` is the 0/1 matrix (table sector, group) of :func:`group_matrix`. Returns the
    updated, balanced :class:`Table` and an :class:`UpdateReport`; the targets are in the module
    docstring.
    """
    start = time.perf_counter()
    Z0, F0, va0 = table.Z, table.F, table.va
    R, S, _, A = F0.shape
    sales0 = Z0.sum(axis=3) + F0.sum(axis=3)
    growth, fallback = growth_factors(base, target, np.einsum("ris,ig->rgs", sales0, sector_groups), min_ratio)
    g_sector = np.einsum("rgs,ig->ris", growth, sector_groups)  # (R, S, R)
    route = sales0 * g_sector  # target 1
    fb_sector = np.einsum("rgs,ig->ris", fallback.astype(float), sector_groups) > 0
    fb_used = fb_sector & (sales0 > 0)
    x0 = sales0.sum(axis=2)
    x = route.sum(axis=2)  # target 2
    v0 = np.divide(va0, x0, out=np.zeros_like(x0), where=x0 > 0)
    inputs = (1.0 - v0) * x  # target 3
    fd0 = F0.sum(axis=(0, 1))  # (R, A)
    phi = np.divide(fd0, fd0.sum(axis=1, keepdims=True), out=np.full_like(fd0, 1.0 / A), where=fd0.sum(axis=1, keepdims=True) > 0)
    final_total = route.sum(axis=(0, 1)) - inputs.sum(axis=1)
    if (final_total < 0).any():
        bad = [table.regions[s] for s in np.flatnonzero(final_total < 0)]
        raise ValueError(f"update to {year}: intermediate inputs exceed absorption in {bad}")
    final = phi * final_total[:, None]  # target 4
    Z, F = np.zeros_like(Z0), np.zeros_like(F0)
    iterations, worst = 0, 0.0
    for s in range(R):
        prior = np.concatenate([Z0[:, :, s, :], F0[:, :, s, :]], axis=2).reshape(R * S, S + A)
        cols = np.concatenate([inputs[s], final[s]])
        rows = route[:, :, s].reshape(-1)
        X, info = ras(prior, rows, cols, tol=tol, max_iter=max_iter)
        iterations, worst = max(iterations, info.iterations), max(worst, info.max_error)
        X *= _ratio(rows, X.sum(axis=1))[:, None]  # sales exact; what the RAS left goes to value added
        X = X.reshape(R, S, S + A)
        Z[:, :, s, :], F[:, :, s, :] = X[..., :S], X[..., S:]
    va = x - Z.sum(axis=(0, 1))
    if (va < -1e-9 * np.maximum(1.0, x)).any():
        bad = [(table.regions[r], table.sectors[i]) for r, i in np.argwhere(va < -1e-9 * np.maximum(1.0, x))]
        raise ValueError(f"update to {year}: intermediate inputs exceed output in {bad[:10]}")
    va = np.maximum(va, 0.0)
    new = Table(list(table.regions), list(table.sectors), list(table.agents), Z, F, va, notes=[])
    sales_err = float(np.max(np.abs(Z.sum(axis=3) + F.sum(axis=3) - route) / np.maximum(1.0, route)))
    cost_err = new.balance_residual()
    v_dev = np.abs(np.divide(va, x, out=np.zeros_like(x), where=x > 0) - v0)
    report = UpdateReport(
        base_year=base_year,
        year=year,
        iterations=iterations,
        max_error=worst,
        sales_error=sales_err,
        cost_error=cost_err,
        fallback_routes=int(fb_used.sum()),
        fallback_value=float(route[fb_used].sum()),
        va_share_deviation=float(v_dev.max()),
        va_share_deviation_weighted=float((v_dev * x).sum() / x.sum()),
        seconds=time.perf_counter() - start,
    )
    report.notes.append(
        f"updated {base_year} -> {year}: one RAS per buyer region, at most {iterations} sweeps, largest margin error "
        f"{worst:.1e} before the final row scaling (value-added share of output moved by at most {report.va_share_deviation:.1e}, "
        f"{report.va_share_deviation_weighted:.1e} on average); {report.fallback_routes} routes without a comparable base-year cube flow grew with the exporter's output "
        f"(US$ {report.fallback_value:,.0f} million in {year})"
    )
    new.notes = list(table.notes) + report.notes
    return new, report


def update_with_cubes(
    table: Table, base_cube: TradeCube, target_cube: TradeCube, members: dict[str, list[str]], **kw
) -> tuple[Table, UpdateReport]:
    """:func:`update_table` with the growth between two cubes of the same dataset, on ``table``'s regions.

    ``members`` maps each table region to its cube countries (:func:`cge.sources.hybrid.icio_members`
    for the hybrid table).
    """
    if base_cube.dataset != target_cube.dataset or base_cube.countries != target_cube.countries or base_cube.sectors != target_cube.sectors:
        raise ValueError("the two cubes must be years of the same dataset")
    base = cube_on_table(base_cube, table.regions, members, table.sectors)
    target = cube_on_table(target_cube, table.regions, members, table.sectors)
    _, groups, _ = group_matrix(base_cube, table.sectors)
    return update_table(table, base, target, groups, base_year=base_cube.year, year=target_cube.year, **kw)


def wiod16_members(regions: list[str], cube: TradeCube, rest: str = "ROW") -> dict[str, list[str]]:
    """WIOD 2013 regions -> countries of a WIOD 2016 cube: each country as itself, the rest in ``rest``.

    WIOD 2016 adds Switzerland, Croatia and Norway, which the 2013 release has in its RoW.
    """
    members = {r: [r] for r in regions if r != rest}
    members[rest] = [c for c in cube.countries if c not in members]
    return members


def updated_inputs(inputs: Inputs, year: int, root: Path | str | None = None) -> tuple[Inputs, UpdateReport]:
    """The build inputs of ``year``: the hybrid table of ``inputs`` updated with the ICIO cube of ``year``.

    The hybrid regions' ICIO members are those of the RoW split (``inputs.split.members``). The
    cube of ``year`` also gives the tariffs and the trade weights of the build, and the customs
    duties collected in ``year`` (where staged) the tariff-collection treatment; the SEA satellites
    and country groups stay those of the base year (``Inputs.structure_year``).
    """
    start = time.perf_counter()
    cube = read_cube(year, "ICIO", root=root)
    table, report = update_with_cubes(inputs.hybrid, inputs.cube, cube, inputs.split.members)
    name = f"{FOLDER[0]}/{FOLDER[1]}/ICIO{year}.mat"
    files = dict(inputs.files) | {name: _sha(source_file(*FOLDER, f"ICIO{year}.mat", root=root))}
    try:
        collected = customs.collected_duties(year, root=root)
    except SourceDataMissing:
        collected = None
    new = dataclasses.replace(
        inputs, year=year, cube=cube, hybrid=table, files=files, collected=collected,
        structure_year=inputs.structure_year or inputs.year, seconds=time.perf_counter() - start,
    )
    return new, report


def mark_updated(bench, report: UpdateReport, base):
    """The benchmark built from updated inputs, with the employment of ``base`` and the update in its metadata.

    ``base`` is the benchmark of the base year with the same regions and sectors. No persons engaged
    after 2011 are staged (the SEA 2013 release ends in 2011), so the persons of ``base`` (SEA for
    the WIOD countries, proxies elsewhere) are carried over unchanged, every region is listed in
    ``employment_proxy`` and results flag the employment figures.
    """
    if base.regions != bench.regions or base.sectors != bench.sectors:
        raise ValueError("mark_updated: the base benchmark must have the same regions and sectors")
    meta = dict(bench.metadata)
    meta["employment"] = (
        f"persons engaged of {report.base_year} (SEA 2013 release, proxies where it has no data), carried over to "
        f"{report.year}: no later employment data staged; every region flagged in employment_proxy"
    )
    meta["update"] = {
        "base": base.metadata.get("name", ""),
        "base_year": report.base_year,
        "year": report.year,
        "method": "cge.sources.update: base-year flows x the ICIO cube's growth of bilateral trade and domestic "
        "absorption by bridge group; base input structure, value-added and final-demand shares kept; one RAS per buyer region",
        "ras_sweeps": report.iterations,
        "max_margin_error": float(f"{report.max_error:.3g}"),
        "fallback_routes": report.fallback_routes,
        "fallback_value": round(report.fallback_value, 1),
    }
    return dataclasses.replace(bench, metadata=meta, employment=base.employment.copy(), employment_proxy=list(bench.regions))


__all__ = [
    "mark_updated",
    "updated_inputs",
    "BRIDGES",
    "UpdateReport",
    "cube_on_table",
    "group_matrix",
    "growth_factors",
    "update_table",
    "update_with_cubes",
    "wiod16_members",
]
