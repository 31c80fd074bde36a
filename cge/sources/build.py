"""From raw sources to a :class:`cge.Benchmark`: hybrid table, satellites, aggregation, tariffs.

:func:`load_inputs` reads the raw tables once and builds the hybrid world table
(:mod:`cge.sources.hybrid`); :func:`build_benchmark` turns it into a model benchmark for a
:class:`Recipe` (region and sector mappings, proxies, elasticity source):

1. **Factor payments.** Value added of each detailed region-sector is split into labour and capital
   with the SEA labour-compensation share (:func:`cge.sources.sea.labour_shares`: latest year up to
   the base year, clipped to [0, 1], country average where a sector is missing). Economies without
   SEA data take the value-added-weighted share of their ``labour_share_proxies``.
2. **Employment.** Persons engaged from the SEA in the base year for the 40 WIOD countries; for the
   others, labour compensation times the persons per US$ of labour compensation of their
   ``wage_proxies`` (sector by sector). Model regions holding any such economy are listed in the
   benchmark's ``employment_proxy``. **Proxy premia audit** (:mod:`cge.sources.premia`): with
   ``Recipe.proxy_premia = "cap"`` (the default) a proxied region-sector whose wage per person exceeds
   its region's average by more than the largest ratio of the same sector among the SEA economies is
   given the persons that bring it to that bound, the region's other sectors rescaled to keep its
   persons; ``"keep"`` leaves the proxied persons as built.
3. **Aggregation** to the recipe's regions and sectors (sums).
4. **Tariffs.** Teti applied tariffs from the ICIO cube of the base year, averaged over the ICIO
   country pairs and sectors of each model route with ICIO trade flows as weights; zero on services
   (spurious in the cube) and inside customs unions (EU); food, beverages and tobacco (C10T12, with
   implausible rates in the cube such as a 91.6% US MFN tariff) capped pair by pair at the pair's
   highest tariff on any other goods sector; the same rate for intermediate and final use. They are added on top of the basic-price flows. WIOD's residual value added contains the
   net taxes on products paid by each using sector, import duties included, so the tariff a sector
   pays on its intermediate inputs is taken out of its value added: factor payments = residual
   value added - tariffs on intermediates, which keeps costs equal to output.
   **Collected duties.** Applied rates times imports overstate the duties customs collect; with
   ``Recipe.tariff_collection`` (default ``"collection"``) each importing region's tariffs are brought
   down to the customs duties it collected in the base year, where data exist, by effective
   collection rates (``"drawback"``: duty drawback on the inputs of exporters first; see
   :mod:`cge.sources.customs`); ``"applied"`` keeps the applied rates.
5. **Elasticities.** ``sigma_mm`` from one of the eight published sets in the cube
   (:data:`cge.sources.icio_cubes.ELASTICITY_SOURCES`), averaged over the ICIO sectors of a model
   sector with world trade as weights; ``sigma_dm = sigma_dm_ratio * sigma_mm`` (default 1/2, the
   "rule of two" of GTAP, Hertel et al. 2007); the other elasticities keep the package defaults.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from ..aggregate import aggregate_array, country_groups, groups_on, mapping_from_spec, mapping_matrix, targets_of
from ..benchmark import Benchmark
from . import SourceDataMissing, concordance, customs, premia, shared_data_dir, source_file
from .hybrid import SPLIT_ECONOMIES, SplitReport, Table, prepare_wiod, split_rest_of_world
from .icio_cubes import ELASTICITY_SOURCES, TradeCube, cap_to_other_goods, read_cube
from .sea import SEA, employment, labour_shares, read_sea
from .wiod import WIOT, read_wiot

CITATIONS = {
    "WIOD": "Timmer, M. P., Dietzenbacher, E., Los, B., Stehrer, R. and de Vries, G. J. (2015). An illustrated user guide to the World Input-Output Database: the case of global automotive production. Review of International Economics 23(3), 575-605.",
    "SEA": "Erumban, A. A., Gouma, R., de Vries, G., de Vries, K. and Timmer, M. (2012). WIOD Socio-Economic Accounts (SEA): Sources and Methods. WIOD.",
    "ICIO": "OECD (2023). Inter-Country Input-Output tables, 2023 edition. OECD, Paris.",
    "Teti": "Teti, F. (2024). 30+ years of trade policy: evidence from 160 countries. ECARES Working Paper 2024-04.",
    "tariffwar": "Lashkaripour, A. (2021). The cost of a global tariff war: a sufficient statistics approach. Journal of International Economics 131, 103489.",
}


@dataclass
class Inputs:
    """Raw tables of a base year and the hybrid world table built from them."""

    year: int
    wiot: WIOT
    cube: TradeCube
    sea: SEA
    table: Table
    hybrid: Table
    split: SplitReport
    seconds: float
    files: dict[str, str] = field(default_factory=dict)
    collected: object = None
    """Customs duties collected in ``year`` (:func:`cge.sources.customs.collected_duties`), or None."""
    collected_files: dict[str, str] = field(default_factory=dict)
    structure_year: int | None = None
    """Year of the table's structure when it was updated to ``year`` (:mod:`cge.sources.update`): the
    SEA satellites and the country groups are taken for it; None = ``year``."""


@dataclass
class Recipe:
    """How to build one benchmark from :class:`Inputs`.

    ``regions`` maps every hybrid region (40 WIOD countries, the split economies, ``ROW``) to a model
    region and ``sectors`` every WIOD sector to a model sector, both as ``{target: [sources]}``
    specs (``@GROUP`` and ``*`` allowed, see :func:`cge.aggregate.mapping_from_spec`), in model order.
    ``labour_share_proxies`` and ``wage_proxies`` name, for each economy without SEA data, the WIOD
    countries whose labour shares and persons per US$ of labour compensation it takes.
    """

    name: str
    title: str
    regions: dict[str, list[str]]
    sectors: dict[str, list[str]]
    labour_share_proxies: dict[str, list[str]]
    wage_proxies: dict[str, list[str]]
    elasticity_source: str = "FGO"
    sigma_dm_ratio: float = 0.5
    customs_unions: tuple[str, ...] = ("EU",)
    cap_tariff_sectors: tuple[str, ...] = ("C10T12",)
    tariff_collection: str = "collection"
    proxy_premia: str = "cap"
    description: str = ""
    sector_labels: dict[str, str] = field(default_factory=dict)
    region_labels: dict[str, str] = field(default_factory=dict)


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def load_inputs(
    year: int = 2011,
    root: Path | str | None = None,
    split: tuple[str, ...] = SPLIT_ECONOMIES,
    io_proxies: dict[str, str] | None = None,
) -> Inputs:
    """Read WIOD, SEA and the ICIO cube of ``year`` and build the hybrid table (a few seconds)."""
    start = time.perf_counter()
    root = Path(root) if root is not None else shared_data_dir()
    wiot = read_wiot(year, root=root)
    cube = read_cube(year, "ICIO", root=root)
    sea = read_sea(root=root)
    table = prepare_wiod(wiot)
    hybrid, report = split_rest_of_world(table, cube, split=split, proxies=io_proxies)
    files = {
        f"wiod2013/npz/wiot_{year}.npz": _sha(source_file("wiod2013", "npz", f"wiot_{year}.npz", root=root)),
        "wiod2013_sea/wiod_sea_2013release_wide.csv.gz": _sha(source_file("wiod2013_sea", "wiod_sea_2013release_wide.csv.gz", root=root)),
        f"icio2023_trade_tariffs/original_mat/ICIO{year}.mat": _sha(source_file("icio2023_trade_tariffs", "original_mat", f"ICIO{year}.mat", root=root)),
    }
    try:
        collected = customs.collected_duties(year, root=root)
        collected_files = {"/".join(f): _sha(source_file(*f, root=root)) for f in customs.FILES}
    except SourceDataMissing:
        collected, collected_files = None, {}
    return Inputs(year, wiot, cube, sea, table, hybrid, report, time.perf_counter() - start, files, collected, collected_files)


# ------------------------------------------------------------------------------------------ satellites
def detailed_satellites(inputs: Inputs, recipe: Recipe) -> dict:
    """Labour payments and persons by hybrid region and WIOD sector, with their sources."""
    h = inputs.hybrid
    H, S = len(h.regions), len(h.sectors)
    sea, year = inputs.sea, inputs.structure_year or inputs.year
    shares = labour_shares(sea, year).pivot(index="country", columns="sector", values="share")
    shares = shares.reindex(index=sea.countries, columns=sea.sectors)
    persons = employment(sea, year).pivot(index="country", columns="sector", values="persons")
    persons = persons.reindex(index=sea.countries, columns=sea.sectors)
    share = np.zeros((H, S))
    emp = np.zeros((H, S))
    source = {}
    va = h.va
    in_sea = [r for r in h.regions if r in sea.countries]
    for r in in_sea:
        k = h.index(r)
        share[k] = shares.loc[r].to_numpy()
    labour = share * va
    for r in in_sea:
        k = h.index(r)
        p = persons.loc[r].to_numpy()
        missing = np.isnan(p)
        if (missing & (h.sales[k] > 0)).any():
            rate = np.nansum(p) / labour[k][~missing].sum()
            p = np.where(missing, labour[k] * rate, p)
            source[r] = "SEA (missing sectors imputed with the country's persons per US$ of labour compensation)"
        else:
            source[r] = "SEA"
        emp[k] = np.nan_to_num(p)
    for r in h.regions:
        if r in sea.countries:
            continue
        if r not in recipe.labour_share_proxies or r not in recipe.wage_proxies:
            raise KeyError(f"{r}: no SEA data and no labour-share / wage proxy in recipe {recipe.name!r}")
        k = h.index(r)
        lp = [h.index(p) for p in recipe.labour_share_proxies[r]]
        w = va[lp]
        share[k] = np.divide((share[lp] * w).sum(axis=0), w.sum(axis=0), out=share[lp].mean(axis=0), where=w.sum(axis=0) > 0)
        labour[k] = share[k] * va[k]
        wp = [h.index(p) for p in recipe.wage_proxies[r]]
        lab_p, emp_p = labour[wp].sum(axis=0), emp[wp].sum(axis=0)
        overall = emp_p.sum() / lab_p.sum()
        rate = np.divide(emp_p, lab_p, out=np.full(S, overall), where=lab_p > 0)
        emp[k] = labour[k] * rate
        source[r] = f"proxy: labour share of {recipe.labour_share_proxies[r]}, persons per US$ labour compensation of {recipe.wage_proxies[r]}"
    return {"labour": labour, "persons": emp, "share": share, "source": source}


# ------------------------------------------------------------------------------------------ tariffs
def icio_to_model(cube: TradeCube, wiod_sectors: list[str], sector_map: dict, model_sectors: list[str]) -> np.ndarray:
    """0/1 matrix ICIO sector -> model sector through the bridge groups.

    A goods bridge group must fall inside one model sector; the services aggregate maps to every
    model sector holding services.
    """
    bw = concordance.bridge_of_wiod()
    bi = concordance.bridge_of_icio()
    out = np.zeros((len(cube.sectors), len(model_sectors)))
    for k, sec in enumerate(cube.sectors):
        g = bi[sec]
        targets = sorted({sector_map[w] for w in wiod_sectors if bw[w] == g}, key=model_sectors.index)
        if len(targets) > 1 and g != "services":
            raise ValueError(f"bridge group {g!r} (ICIO {sec}) is split over model sectors {targets}; tariffs cannot be concorded")
        for t in targets:
            out[k, model_sectors.index(t)] = 1.0
    return out


def treated_tariffs(cube: TradeCube, unions: dict[str, list[str]], cap_sectors: tuple[str, ...] = ("C10T12",)) -> tuple[np.ndarray, list[str]]:
    """The cube's tariffs ``[exporter, sector, importer]`` with the benchmark's fixes, and notes on them.

    A copy with services set to zero, tariffs inside each customs union of ``unions`` set to zero
    and ``cap_sectors`` capped at the pair's highest other goods tariff
    (:func:`cge.sources.icio_cubes.cap_to_other_goods`).
    """
    notes = []
    T = cube.tariff.copy()
    services = cube.sectors.index(cube.services_sector)
    n_serv = int((T[:, services, :] != 0).sum())
    T[:, services, :] = 0.0
    notes.append(f"services tariffs set to zero ({n_serv} non-zero cells left)")
    for name, members in unions.items():
        idx = [cube.index(c) for c in members if c in cube.countries]
        block = np.ix_(idx, range(len(cube.sectors)), idx)
        notes.append(f"tariffs inside {name} set to zero ({int((T[block] != 0).sum())} non-zero cells)")
        T[block] = 0.0
    for sec in cap_sectors:
        T, changed = cap_to_other_goods(cube, sec, T)
        notes.append(f"{sec} tariffs capped at the pair's highest other goods tariff ({changed} cells)")
    return T, notes


def model_tariffs(
    inputs: Inputs,
    region_map: dict,
    model_regions: list[str],
    MK: np.ndarray,
    unions: dict[str, list[str]],
    cap_sectors: tuple[str, ...] = ("C10T12",),
) -> tuple[np.ndarray, list[str]]:
    """Trade-weighted applied tariffs (R, S, R) on model routes, and notes on the fixes applied.

    Works on a copy of the cube's tariffs with the fixes of :func:`treated_tariffs`; then averaged over the ICIO country pairs and
    sectors of each model route with ICIO trade as weights.
    """
    cube = inputs.cube
    T, notes = treated_tariffs(cube, unions, cap_sectors)
    members = inputs.split.members
    MC = np.zeros((len(cube.countries), len(model_regions)))
    for hreg, countries in members.items():
        for c in countries:
            MC[cube.index(c), model_regions.index(region_map[hreg])] = 1.0
    X = cube.trade
    num = np.einsum("ekm,eE,kI,mM->EIM", X * T, MC, MK, MC, optimize=True)
    den = np.einsum("ekm,eE,kI,mM->EIM", X, MC, MK, MC, optimize=True)
    t = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    R = len(model_regions)
    t[np.arange(R), :, np.arange(R)] = 0.0
    return t, notes


def model_elasticities(inputs: Inputs, MK: np.ndarray, source: str, dm_ratio: float) -> dict[str, np.ndarray]:
    """``sigma_mm`` (trade-weighted over ICIO sectors) and ``sigma_dm = dm_ratio * sigma_mm``."""
    cube = inputs.cube
    if source not in cube.sigma:
        raise KeyError(f"elasticity source {source!r}; available: {sorted(cube.sigma)} ({ELASTICITY_SOURCES})")
    X = cube.trade.copy()
    n = len(cube.countries)
    X[np.arange(n), :, np.arange(n)] = 0.0
    w = X.sum(axis=(0, 2))  # world trade by ICIO sector
    sig = cube.sigma[source]
    num, den = (w * sig) @ MK, w @ MK
    mm = np.divide(num, den, out=(sig[:, None] * MK).sum(axis=0) / np.maximum(MK.sum(axis=0), 1), where=den > 0)
    return {"sigma_mm": mm, "sigma_dm": dm_ratio * mm}


# ------------------------------------------------------------------------------------------ the build
@dataclass
class BuildReport:
    """What :func:`build_benchmark` did, for SOURCE.md, the notebook and the tests."""

    name: str
    seconds: float
    dims: tuple[int, int]
    detailed_balance: float
    tariff_revenue: float
    tariff_paid_on_intermediates: float
    labour_share: float
    employment_source: dict[str, str]
    partial_groups: dict[str, list[str]]
    notes: list[str]
    collection: customs.Collection | None = None
    premia: premia.Audit | None = None


def build_benchmark(recipe: Recipe, inputs: Inputs) -> tuple[Benchmark, BuildReport]:
    """Build the benchmark of ``recipe`` from ``inputs`` (see the module docstring for the steps)."""
    start = time.perf_counter()
    h = inputs.hybrid
    groups_iso = country_groups(inputs.structure_year or inputs.year)
    rmap = mapping_from_spec(recipe.regions, sources=h.regions, groups=groups_iso, origin=f"{recipe.name} regions")
    smap = mapping_from_spec(recipe.sectors, sources=h.sectors, groups={}, origin=f"{recipe.name} sectors")
    regions, sectors = targets_of(rmap), targets_of(smap)
    MR = mapping_matrix(h.regions, rmap, regions)
    MS = mapping_matrix(h.sectors, smap, sectors)
    R, S = len(regions), len(sectors)

    sat = detailed_satellites(inputs, recipe)
    agg = aggregate_array
    Z = agg(h.Z, [MR, MS, MR, MS])
    F = agg(h.F, [MR, MS, MR, None])
    va = agg(h.va, [MR, MS])
    labour_va = agg(sat["labour"], [MR, MS])
    persons = agg(sat["persons"], [MR, MS])

    MK = icio_to_model(inputs.cube, h.sectors, smap, sectors)
    unions = {u: groups_iso[u] for u in recipe.customs_unions}
    t, tariff_notes = model_tariffs(inputs, rmap, regions, MK, unions, recipe.cap_tariff_sectors)
    members = {m: [r for r in h.regions if rmap[r] == m] for m in regions}
    if inputs.collected is None and recipe.tariff_collection != "applied":
        raise SourceDataMissing(
            f"{recipe.name}: tariff_collection = {recipe.tariff_collection!r} needs the customs duties and exchange rates "
            f"({', '.join('/'.join(f) for f in customs.FILES)}) under {shared_data_dir()}; or set tariff_collection = 'applied'"
        )
    t, collection = customs.treat_tariffs(t, Z, F, regions, members, inputs.collected, recipe.tariff_collection)
    tariff_notes += collection.notes
    paid = np.einsum("risj,ris->sj", Z, t[..., 0])
    fp = va - paid
    if (fp < 0).any():
        bad = [(regions[s], sectors[j]) for s, j in np.argwhere(fp < 0)]
        raise ValueError(f"{recipe.name}: tariffs on intermediates exceed value added in {bad}")
    ls = np.divide(labour_va, va, out=np.zeros_like(va), where=va > 0)
    labour = ls * fp
    capital = fp - labour
    elasticities = model_elasticities(inputs, MK, recipe.elasticity_source, recipe.sigma_dm_ratio)

    groups, partial = groups_on(rmap, groups_iso, sources=h.regions)
    proxied = [r for r, src in sat["source"].items() if src.startswith("proxy")]
    employment_proxy = [m for m in regions if any(rmap[r] == m for r in proxied)]
    measured = [r for r in h.regions if r not in proxied]
    bounds = premia.observed_bounds(sat["labour"] @ MS, sat["persons"] @ MS, list(h.regions), measured, sectors)
    persons, audit = premia.apply_rule(labour, persons, regions, sectors, employment_proxy, bounds, recipe.proxy_premia)
    meta = {
        "name": recipe.name,
        "title": recipe.title,
        "description": recipe.description,
        "base_year": inputs.year,
        "currency": "US$ million, current prices",
        "prices": "basic prices; tariffs on top",
        "sources": CITATIONS,
        "elasticity_source": f"{recipe.elasticity_source}: {ELASTICITY_SOURCES[recipe.elasticity_source]}",
        "sigma_dm_rule": f"sigma_dm = {recipe.sigma_dm_ratio:g} x sigma_mm",
        "elasticity_sets": {
            name: {k: v.tolist() for k, v in model_elasticities(inputs, MK, name, recipe.sigma_dm_ratio).items()}
            | {"source": ELASTICITY_SOURCES.get(name, name)}
            for name in sorted(inputs.cube.sigma)
        },
        "tariffs": (
            f"Teti applied tariffs {inputs.year} (ICIO cube), trade-weighted; zero on services and inside "
            f"{list(recipe.customs_unions)}; {list(recipe.cap_tariff_sectors)} capped at the pair's highest other goods tariff; "
            f"tariff collection '{recipe.tariff_collection}': {customs.TREATMENTS[recipe.tariff_collection]}"
        ),
        "tariff_collection": collection.as_metadata(),
        "employment": "persons engaged; SEA for the WIOD countries, proxies for the rest (see employment_proxy)",
        "employment_proxy_premia": audit.as_metadata(),
        "members": members,
        "sector_members": {m: [s for s in h.sectors if smap[s] == m] for m in sectors},
        "region_labels": dict(recipe.region_labels),
        "sector_labels": dict(recipe.sector_labels),
        "partial_groups": partial,
        "built_with": f"cge {__version__} (cge.sources.build)",
        "raw_files_sha256": dict(inputs.files) | (dict(inputs.collected_files) if recipe.tariff_collection != "applied" else {}),
    }
    bench = Benchmark.from_arrays(
        regions,
        sectors,
        Z,
        F,
        {"labour": labour, "capital": capital},
        tariffs=t,
        employment=persons,
        elasticities=elasticities,
        groups=groups,
        agents=list(h.agents),
        metadata=meta,
        employment_proxy=employment_proxy,
    )
    report = BuildReport(
        name=recipe.name,
        seconds=time.perf_counter() - start,
        dims=(R, S),
        detailed_balance=h.balance_residual(),
        tariff_revenue=float(bench.tariff_revenue.sum()),
        tariff_paid_on_intermediates=float(paid.sum()),
        labour_share=float(labour.sum() / fp.sum()),
        employment_source=sat["source"],
        partial_groups=partial,
        notes=list(h.notes) + tariff_notes + audit.notes,
        collection=collection,
        premia=audit,
    )
    return bench, report


__all__ = [
    "BuildReport",
    "CITATIONS",
    "Inputs",
    "Recipe",
    "build_benchmark",
    "detailed_satellites",
    "icio_to_model",
    "load_inputs",
    "model_elasticities",
    "model_tariffs",
    "treated_tariffs",
]
