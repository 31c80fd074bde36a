r"""Firm size made explicit: region x sector activities split into SMEs and large firms.

:func:`split_firm_size` turns each chosen sector ``j`` (default: every goods sector) into two sectors
(and commodities) in every region, ``<j>_sme`` and ``<j>_large``, a pure transformation of the table
that :func:`merge_firm_size` sums back exactly. A model of the split table (``cge.Model``) has
a firm-size nest by default: buyers choose between the SME and large-firm supplies of one commodity
from one origin through a CES of elasticity ``sigma_size`` (default twice ``sigma_mm``), inside the
Armington nests, and the upper nests see one commodity per original sector
(:func:`cge.calibrate.size_groups`, :mod:`cge.fast.sizenest`, :mod:`cge.model.sizenest`).
``Model(..., size_nest=False)`` treats the two as distinct commodities instead (with the default
Leontief intermediate and Cobb-Douglas final nests a buyer then keeps its size mix). Tariffs,
trade costs and output taxes by firm type are the typed instruments on the split sectors.

Calibration, by region :math:`s` and split sector :math:`j` (all shares of the sector's flows):

- **Targets** (:func:`targets`): the SME share of value added :math:`v_s`, of employment
  :math:`\varepsilon_s` (persons) and of exports :math:`e_s`, from
  ``../shared/data/sme_shares/sme_shares.csv`` (economy-wide figures, applied to every split sector
  of the economy). Gaps are filled by the rule in :data:`FILL_RULE` and flagged.
- **Output.** SMEs produce the share :math:`\phi = v_s` of output, so SMEs and large firms have the
  sector's ratio of value added to output.
- **Costs.** SMEs get :math:`v_s` of value added and of intermediate costs. Within each, one
  odds ratio tilts their mix (:func:`_odds_split`: SMEs' shares :math:`p, q` of two flows
  :math:`P, Q` satisfy :math:`pP + qQ = v_s(P+Q)` and :math:`\frac{p}{1-p} = \kappa \frac{q}{1-q}`,
  which keeps both shares strictly between 0 and 1). Labour against the other factors,
  ``labour_odds`` :math:`\kappa = 1.5`: SMEs are more labour-intensive (Harvie, Narjoko and Oum
  2010; WTO 2016 ch. B). Imported inputs (every origin abroad, at buyer prices, tariffs included)
  against domestic ones, ``import_odds`` :math:`\kappa = 0.5`: SMEs import inputs directly far less
  than large firms (OECD 2019; WTO 2016).
- **Sales.** SMEs sell the share :math:`e_s` of the economy's exports of the split sectors: every
  sector's share is the target shifted by one amount per economy, kept within the bounds the
  sector's sales allow (below), so the sectors inside their bounds make up for those at a bound
  (every destination, intermediate and final alike, takes the sector's share). The rest of their
  output goes to the home market, tilted to domestic firms against final buyers by
  ``intermediate_odds`` :math:`\kappa = 2` (SMEs as suppliers of domestic firms: Lim and Kimura 2010;
  OECD 2019). The three odds ratios are assumptions that encode the direction of the stylised facts,
  not estimates: no table in the data splits costs or sales by firm size.
- **Employment** (persons) splits :math:`\varepsilon_s` / :math:`1-\varepsilon_s`; wages per person
  then follow (SMEs' are lower where their employment share exceeds their labour-payment share).
- **Bounds.** SMEs keep between ``bound`` and ``1 - bound`` (default 0.02) of every market, so
  both firm types are present in it: a sector that exports nearly all its output cannot give SMEs a
  small export share and also leave them a share of the home market within bounds. Sectors at a
  bound are listed in ``metadata["firm_size"]["adjusted"]``; an economy whose sectors all sit at a
  bound misses its export target (Singapore in ``eastasia-2011``). :func:`calibrated_shares`
  reports the shares reached.

``rule="proportional"`` gives SMEs the share :math:`v_s` of every flow (employment
:math:`\varepsilon_s`): both firm types then have the sector's cost and sales structure.
Regions not in ``regions`` are split proportionally.

Every cell is a product of a seller weight (by destination: exports, domestic intermediate, domestic
final) and a buyer weight (by origin: domestic or imported input), so every flow, tariff paid and
factor payment sums back to the original. Tariffs and elasticities of both firm types are the
sector's; ``metadata["firm_size"]`` records every parameter, target, source and flag, and
``["sector_of"]`` / ``["size_of"]`` map every sector to its original and its size.

:func:`by_firm_size` accounts for SMEs' value added in exports on a split table (a benchmark or
``Results.mrio()``): direct and indirect exports of value added (Leontief value-added origin, as in
:func:`cge.gvc.tiva`), by destination; :func:`firm_size_changes` sets a counterfactual against the
benchmark.

References
----------
- Harvie, C., Narjoko, D. and Oum, S. (2010). Firm characteristic determinants of SME participation
  in production networks. ERIA Discussion Paper 2010-11.
- Lim, H. and Kimura, F. (2010). The internationalization of small and medium enterprises in
  regional and global value chains. ADBI Working Paper 231.
- OECD (2019). *OECD SME and Entrepreneurship Outlook 2019*, ch. 2 (SMEs in GVCs: lower direct
  import and export intensity, indirect exports via larger firms).
- OECD (2021, cited in OECD 2023). TiVA by firm size: SMEs 40% of gross exports, 50% of the value
  added in exports (OECD average).
- WTO (2016). *World Trade Report 2016: Levelling the trading field for SMEs*, section B.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .benchmark import Benchmark, BenchmarkError
from .sources import shared_data_dir
from .stages import merge_split, split_benchmark, split_metadata

SIZES = ("sme", "large")
SIZE_LABELS = {"sme": "SMEs", "large": "large firms"}
RULES = ("stylised", "proportional")
INDICATORS = {"va": "gdp_share", "employment": "employment_share", "exports": "export_share"}
"""Targets: SME share of value added, employment and exports, and their column in sme_shares.csv."""
SERVICES = ("utilities_construction", "trade_transport", "business_finance", "public_other_services", "services")
"""Sectors of the built-in benchmarks that are not goods (left unsplit by default)."""
ASIA = ("CHN", "HKG", "JPN", "KOR", "TWN", "IDN", "MYS", "PHL", "SGP", "THA", "VNM", "XSE", "IND", "XEA", "ASEAN", "BRN", "KHM", "LAO", "MMR")
"""Regions filled with the Asian averages when a figure is missing."""
PROXY = {"EU": "DEU"}
"""Regions read from another economy's figures (flagged as a proxy)."""
FILL = {
    "asia": {"va": ("ASIA", "gdp_share"), "employment": ("ASIA", "employment_share"), "exports": ("ASIA", "export_share")},
    "other": {"va": (("USA", "DEU"), "gdp_share"), "employment": ("OECD", "employment_share"), "exports": ("OECD", "export_share")},
}
FILL_RULE = (
    "A region without a usable figure (none, or only rows marked LOW RELIABILITY) takes, in Asia, the Asian "
    "average (UNESCAP MSME policy portal: SMEs 69% of employment, 41% of GDP; ADB 2013 Asia SME Finance "
    "Monitor: 30% of exports) and elsewhere the OECD average (OECD 2017 Statistical Insights: two-thirds of "
    "employment; OECD 2021: 40% of gross exports) with value added the mean of the developed economies "
    "in the file (USA 46%, DEU 54%). The EU reads Germany's figures (IfM Bonn / Eurostat SBS)."
)
DATA = ("sme_shares", "sme_shares.csv")
"""Location of the SME statistics under the shared raw-data folder (:func:`cge.sources.shared_data_dir`:
``$CGE_SHARED_DATA`` or ``../shared/data`` beside the repository)."""


# ---------------------------------------------------------------------------------------- targets
def _number(text: str) -> float | None:
    """A share in percent from the file's value column: '65', '~80', '>40', '40-60' (midpoint), 'two-thirds'."""
    text = text.strip().lower()
    if text == "two-thirds":
        return 200.0 / 3.0
    nums = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)]
    return None if not nums else sum(nums) / len(nums)


def read_shares(path=None) -> list[dict]:
    """The rows of ``sme_shares.csv`` with a number (``value`` in percent parsed into ``share``, a fraction)."""
    path = Path(path) if path is not None else shared_data_dir().joinpath(*DATA)
    if not path.exists():
        raise BenchmarkError(f"split_firm_size: SME statistics not found at {path}; pass data=<path to sme_shares.csv>")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        value = _number(row["value"]) if row["value"] != "missing" else None
        if value is not None and row["indicator"] != "definition":
            out.append({**row, "share": value / 100.0})
    return out


def _pick(rows: list[dict], economies, indicator: str) -> dict | None:
    """The figure for ``indicator``: rows not LOW RELIABILITY, exact concept (no MEASURE note) first, file order.

    Several economies (a tuple) give their mean.
    """
    if isinstance(economies, tuple):
        picks = [_pick(rows, e, indicator) for e in economies]
        if any(p is None for p in picks):
            return None
        return {"share": float(np.mean([p["share"] for p in picks])), "source": "; ".join(p["source"] for p in picks), "measure": ""}
    cands = [r for r in rows if r["economy_iso3"] == economies and r["indicator"] == indicator and "LOW RELIABILITY" not in r["note"]]
    cands.sort(key=lambda r: r["note"].startswith("MEASURE:"))
    if not cands:
        return None
    r = cands[0]
    return {"share": r["share"], "source": f"{r['economy_iso3']}: {r['source_title']} ({r['year']})", "measure": r["note"] if r["note"].startswith("MEASURE:") else ""}


def targets(regions, data=None) -> pd.DataFrame:
    """SME shares of value added, employment and exports by region, with source and flag.

    ``flag`` is ``data`` (the economy's figure), ``proxy measure`` (its figure, of a related concept:
    the file's ``MEASURE:`` note), ``proxy economy`` (another economy's figure, :data:`PROXY`) or
    ``rule`` (:data:`FILL_RULE`).
    """
    rows = read_shares(data)
    out = []
    for s in regions:
        for what, indicator in INDICATORS.items():
            own = PROXY.get(s, s)
            pick, flag = _pick(rows, own, indicator), ("data" if own == s else "proxy economy")
            if pick is None:
                econ, ind = FILL["asia" if s in ASIA else "other"][what]
                pick, flag = _pick(rows, econ, ind), "rule"
            elif pick["measure"]:
                flag = "proxy measure"
            out.append({"region": s, "target": what, "share": pick["share"], "flag": flag, "source": pick["source"]})
    return pd.DataFrame(out).set_index(["region", "target"])


# ---------------------------------------------------------------------------------------- split
def split_firm_size(
    bench: Benchmark,
    sectors=None,
    regions=None,
    rule: str = "stylised",
    labour_odds: float = 1.5,
    import_odds: float = 0.5,
    intermediate_odds: float = 2.0,
    bound: float = 0.02,
    data=None,
) -> Benchmark:
    """``bench`` with each of ``sectors`` (default: every sector not in :data:`SERVICES`) split into SMEs and large firms.

    ``regions`` (default all) are calibrated by ``rule`` (see the module docstring); the others are
    split proportionally. ``data``: path of ``sme_shares.csv`` (default: :data:`DATA` under the shared data folder). Raises
    :class:`cge.BenchmarkError` for unknown sectors or regions, bad parameters or a benchmark split
    already.
    """
    sectors = [j for j in bench.sectors if j not in SERVICES] if sectors is None else ([sectors] if isinstance(sectors, str) else list(sectors))
    regions = list(bench.regions) if regions is None else ([regions] if isinstance(regions, str) else list(regions))
    if rule not in RULES:
        raise BenchmarkError(f"split_firm_size: rule = {rule!r}; allowed: {list(RULES)}")
    unknown = [j for j in sectors if j not in bench.sectors] + [s for s in regions if s not in bench.regions]
    if unknown or not sectors or len(set(sectors)) < len(sectors):
        raise BenchmarkError(f"split_firm_size: sectors {sectors} must be distinct sectors and regions {regions} regions of the benchmark; unknown: {unknown}")
    for name, val, hi in (("labour_odds", labour_odds, 100), ("import_odds", import_odds, 100), ("intermediate_odds", intermediate_odds, 100), ("bound", bound, 0.5)):
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not 0 < val < hi:
            raise BenchmarkError(f"split_firm_size: {name} = {val!r}; must be a number strictly between 0 and {hi}")
    for key in ("firm_size", "stages"):
        if key in bench.metadata:
            raise BenchmarkError(f"split_firm_size: the benchmark is split already ({key}); split the original once, by firm size")
    clash = [f"{j}_{z}" for j in sectors for z in SIZES if f"{j}_{z}" in bench.sectors]
    if clash:
        raise BenchmarkError(f"split_firm_size: the benchmark already has sectors named {clash}")

    tgt = targets(bench.regions, data)
    share = {w: np.array([tgt.loc[(s, w), "share"] for s in bench.regions]) for w in INDICATORS}
    split = [bench.sectors.index(j) for j in sectors]
    chosen = np.array([s in regions for s in bench.regions])
    par = {"labour_odds": float(labour_odds), "import_odds": float(import_odds), "intermediate_odds": float(intermediate_odds), "bound": float(bound)}
    w, adjusted = _sme_weights(bench, split, share, chosen if rule == "stylised" else np.zeros_like(chosen), par)

    names, origin, size = [], [], []
    for k, j in enumerate(bench.sectors):
        for z in SIZES if k in split else (None,):
            names.append(j if z is None else f"{j}_{z}")
            origin.append(k)
            size.append(z)
    origin = np.asarray(origin)
    R, N = bench.n_regions, len(names)

    def take(key):  # [region, new sector]: the SME weight, 1 - it for large firms, 1 unsplit
        out = np.ones((R, N))
        for n, (k, z) in enumerate(zip(origin, size)):
            if z is not None:
                a = w[key][:, split.index(k)]
                out[:, n] = a if z == "sme" else 1.0 - a
        return out

    dom = np.eye(R, dtype=bool)
    # seller weights [r, n, s] by destination; buyer weights [r, s, m] by origin of the input
    sell_z = np.where(dom[:, None, :], take("dom_int")[:, :, None], take("exports")[:, :, None])
    sell_f = np.where(dom[:, None, :], take("dom_final")[:, :, None], take("exports")[:, :, None])
    buy = np.where(dom[:, :, None], take("dom_inputs")[None, :, :], take("imp_inputs")[None, :, :])
    z = bench.z_0[:, origin][:, :, :, origin] * sell_z[..., None] * buy[:, None]
    f = bench.f_0[:, origin] * sell_f[..., None]
    fw = np.stack([take("labour") if fac == "labour" else take("capital") for fac in bench.factors], axis=2)
    fp = bench.fp_0[:, origin] * fw
    emp = None if bench.employment is None else bench.employment[:, origin] * take("persons")

    sector_of = {names[n]: bench.sectors[origin[n]] for n in range(N)}
    meta = split_metadata(bench, "firms", sector_of, origin, SIZE_LABELS)
    meta["firm_size"] = {
        "rule": rule,
        "sectors": sectors,
        "regions": regions if rule == "stylised" else [],
        "parameters": par,
        "targets": {s: {t: {"share": float(tgt.loc[(s, t), "share"]), "flag": tgt.loc[(s, t), "flag"], "source": tgt.loc[(s, t), "source"]} for t in INDICATORS} for s in bench.regions},
        "fill_rule": FILL_RULE,
        "buyers": "SME and large-firm goods are distinct commodities in the buyers' nests until the model has a firm-size nest",
        "adjusted": adjusted,
        "sector_of": sector_of,
        "size_of": {n: (z or "all") for n, z in zip(names, size)},
    }
    return split_benchmark(bench, names, origin, z, f, fp, emp, meta)


def _clip(x, lo, hi):
    return np.minimum(np.maximum(x, lo), np.maximum(lo, hi))


def _odds_split(P, Q, total, kappa: float, empty):
    r"""SME shares :math:`p, q` of two flows with :math:`pP + qQ = T` and odds :math:`p/(1-p) = \kappa\, q/(1-q)`.

    With :math:`p = \kappa q / (1 + (\kappa - 1) q)`, :math:`q` solves
    :math:`Q(\kappa - 1) q^2 + (\kappa P + Q - (\kappa - 1) T) q - T = 0` (the root in (0, 1), in its
    stable form); both shares lie strictly between 0 and 1 whenever :math:`0 < T < P + Q`. ``empty``
    is used where both flows are zero.
    """
    a = Q * (kappa - 1.0)
    b = kappa * P + Q - (kappa - 1.0) * total
    root = b + np.sqrt(np.maximum(b * b + 4.0 * a * total, 0.0))
    q = np.divide(2.0 * total, root, out=np.array(empty, dtype=float), where=root > 0)
    p = kappa * q / (1.0 + (kappa - 1.0) * q)
    return p, q


def _sme_weights(bench: Benchmark, split: list[int], share: dict, stylised: np.ndarray, par: dict) -> tuple[dict, list[str]]:
    """SME shares of each flow of the split sectors, (R, len(split)) each, and the cells moved to a bound."""
    R, lo, hi = bench.n_regions, par["bound"], 1.0 - par["bound"]
    v = share["va"][:, None] * np.ones((1, len(split)))
    dom = np.eye(R, dtype=bool)
    j = np.asarray(split)
    sales_z, sales_f = bench.z_0[:, j].sum(axis=3), bench.f_0[:, j].sum(axis=3)  # [r, j, s]
    E = np.einsum("rjs,rs->rj", sales_z + sales_f, ~dom)
    Zd, Fd = np.einsum("rjs,rs->rj", sales_z, dom), np.einsum("rjs,rs->rj", sales_f, dom)
    H, X = Zd + Fd, bench.output[:, j]
    paid = bench.z_0[:, :, :, j] * (1.0 + bench.tariff_0[:, :, :, 0])[..., None]  # [r, i, s, j]
    D, M = np.einsum("risj,rs->sj", paid, dom), np.einsum("risj,rs->sj", paid, ~dom)
    lab = [n for n, fac in enumerate(bench.factors) if fac == "labour"]
    L = bench.fp_0[:, j][..., lab].sum(axis=2)
    K = bench.fp_0[:, j].sum(axis=2) - L
    adjusted: list[str] = []

    def note(mask, what):
        for s, a in np.argwhere(mask & stylised[:, None]):
            adjusted.append(f"{bench.regions[s]} {bench.sectors[split[a]]}: {what}")

    # sales: export share, then the home market's intermediate and final sales
    e_t = share["exports"][:, None] * np.ones_like(X)
    e_lo = np.divide(v * X - hi * H, E, out=np.zeros_like(X), where=E > 0)
    e_hi = np.divide(v * X - lo * H, E, out=np.ones_like(X), where=E > 0)
    e_lo, e_hi = np.maximum(e_lo, lo), np.minimum(e_hi, hi)
    e_lo, e_hi = np.where(H > 0, e_lo, v), np.where(H > 0, e_hi, v)  # a sector that only exports: SMEs' output share
    # one shift of the target in every sector of an economy, so that the sectors kept inside their
    # bounds make up for those at a bound and the economy meets its export target (bisection)
    want = share["exports"] * E.sum(axis=1)
    below, above = np.full(R, -1.0), np.full(R, 1.0)
    for _ in range(100):
        mid = 0.5 * (below + above)
        low = (_clip(e_t + mid[:, None], e_lo, e_hi) * E).sum(axis=1) < want
        below, above = np.where(low, mid, below), np.where(low, above, mid)
    e = _clip(e_t + 0.5 * (below + above)[:, None], e_lo, e_hi)
    at = ((np.abs(e - e_lo) < 1e-12) | (np.abs(e - e_hi) < 1e-12)) & (np.abs(e - e_t) > 1e-9)
    note(at, "SME export share at the bound its sales allow (other sectors of the economy make up for it)")
    h = np.divide(v * X - e * E, H, out=v.copy(), where=H > 0)
    hz, hf = _odds_split(Zd, Fd, h * H, par["intermediate_odds"], h)
    # costs: imported against domestic inputs, labour against the other factors
    m, d = _odds_split(M, D, v * (D + M), par["import_odds"], v)
    wl, wk = _odds_split(L, K, v * (L + K), par["labour_odds"], v)
    w = {"exports": e, "dom_int": hz, "dom_final": hf, "dom_inputs": d, "imp_inputs": m, "labour": wl, "capital": wk}
    w = {k: np.where(stylised[:, None], val, v) for k, val in w.items()}
    w["persons"] = share["employment"][:, None] * np.ones_like(X)
    bad = [k for k, val in w.items() if np.any(val <= 0) or np.any(val >= 1)]
    if bad:
        raise BenchmarkError(f"split_firm_size: SME shares of {bad} outside (0, 1); the targets cannot be met in this table (lower bound or change the targets)")
    return w, adjusted


def size_mapping(bench: Benchmark) -> dict[str, str]:
    """Every sector of a benchmark split by firm size -> its original sector (identity otherwise)."""
    return dict(bench.metadata.get("firm_size", {}).get("sector_of", {s: s for s in bench.sectors}))


def merge_firm_size(bench: Benchmark) -> Benchmark:
    """SMEs and large firms of a split benchmark summed back into their sectors: the original table."""
    return merge_split(bench, "firms", size_mapping(bench)) if "firm_size" in bench.metadata else bench


# ---------------------------------------------------------------------------------------- accounting
def _sizes(bench: Benchmark) -> tuple[list[str], list[str]]:
    meta = bench.metadata.get("firm_size")
    if not meta:
        raise BenchmarkError("by_firm_size: the table is not split by firm size; use cge.split_firm_size first")
    return [meta["sector_of"][j] for j in bench.sectors], [meta["size_of"][j] for j in bench.sectors]


def by_firm_size(bench: Benchmark, by_destination: bool = False) -> pd.DataFrame:
    r"""Output, value added, employment and exports of value added by region x sector x size.

    ``bench``: a table split by :func:`split_firm_size` (a benchmark, or ``Results.mrio()`` of a
    model of one). With :math:`B` the global Leontief inverse of the table (:meth:`Benchmark.to_mrio`),
    :math:`v_k` the value-added coefficient of row :math:`k` (output less intermediate inputs at
    basic prices, as in :func:`cge.gvc.tiva`) and :math:`E_{l,t}` the gross exports of row :math:`l`
    of economy :math:`s` to :math:`t`, the domestic value added of :math:`k` in exports to :math:`t` is

    .. math::
        \text{DVA}_{k,t} = v_k \sum_{l \in s} B_{kl} E_{l,t}
        = \underbrace{v_k B_{kk} E_{k,t}}_{\text{direct}} + \underbrace{v_k \textstyle\sum_{l \in s, l \ne k} B_{kl} E_{l,t}}_{\text{indirect}},

    the direct part in the producer's own exports and the indirect part embodied in other domestic
    producers' exports; summed over origin rows of an economy it is TiVA's ``EXGR_DVA``. Columns:
    ``output``, ``value_added`` (factor payments), ``employment`` (persons; NaN without employment
    data), ``exports`` (direct gross exports), ``va_exports_direct``, ``va_exports_indirect``,
    ``va_exports`` (their sum). ``by_destination=True`` adds a ``destination`` level to the index
    and reports the value-added columns by importing economy (gross exports by destination too).
    """
    sector, size = _sizes(bench)
    t = bench.to_mrio()
    n = t.n
    Bdom = np.where(t.domestic, t.B, 0.0)
    Boff = Bdom - np.diag(np.diag(Bdom))
    vk = t.v[:, None]
    direct = vk * np.diag(t.B)[:, None] * t.esr  # (n, G)
    indirect = vk * (Boff @ t.esr)
    emp = np.full(n, np.nan) if bench.employment is None else bench.employment.reshape(n)
    R, S = bench.n_regions, bench.n_sectors  # rows are region-major, as in Benchmark.to_mrio
    idx = pd.MultiIndex.from_arrays([np.repeat(bench.regions, S), sector * R, size * R], names=["region", "sector", "size"])
    if not by_destination:
        return pd.DataFrame(
            {
                "output": bench.output.reshape(n),
                "value_added": bench.value_added.reshape(n),
                "employment": emp,
                "exports": t.e,
                "va_exports_direct": direct.sum(axis=1),
                "va_exports_indirect": indirect.sum(axis=1),
                "va_exports": direct.sum(axis=1) + indirect.sum(axis=1),
            },
            index=idx,
        )
    econ = list(t.economies)
    frames = []
    for g, dest in enumerate(econ):
        frames.append(pd.DataFrame({"exports": t.esr[:, g], "va_exports_direct": direct[:, g], "va_exports_indirect": indirect[:, g], "va_exports": direct[:, g] + indirect[:, g]}, index=idx).assign(destination=dest))
    out = pd.concat(frames).set_index("destination", append=True)
    return out[out.index.get_level_values("region") != out.index.get_level_values("destination")]


def firm_size_changes(before: Benchmark, after: Benchmark) -> pd.DataFrame:
    """:func:`by_firm_size` of two tables of one split benchmark (the benchmark and ``Results.mrio()``),
    side by side: columns ``(variable, table)`` with ``table`` in ``before``, ``after``, ``change``
    (after - before) and ``pct`` (percent change; NaN where ``before`` is 0)."""
    a, b = by_firm_size(before), by_firm_size(after)
    if not a.index.equals(b.index):
        raise BenchmarkError("firm_size_changes: the two tables have different regions, sectors or sizes")
    pct = (100.0 * (b - a) / a.where(a != 0)).astype(float)
    out = pd.concat({"before": a, "after": b, "change": b - a, "pct": pct}, axis=1, names=["table", "variable"])
    return out.swaplevel(axis=1).sort_index(axis=1, level=0, sort_remaining=False)


def sme_shares(bench: Benchmark) -> pd.DataFrame:
    """By region: SME shares of output, value added, employment, gross exports and domestic value added in exports."""
    df = by_firm_size(bench)
    df = df[df.index.get_level_values("size") != "all"]
    cols = ["output", "value_added", "employment", "exports", "va_exports", "va_exports_direct", "va_exports_indirect"]
    tot = df[cols].groupby(level="region", sort=False).sum()
    sme = df.xs("sme", level="size")[cols].groupby(level="region", sort=False).sum()
    out = pd.DataFrame({c: sme[c] / tot[c] for c in cols[:5]})
    out["indirect_share"] = sme["va_exports_indirect"] / sme["va_exports"]
    return out.rename(columns={"va_exports": "va_in_exports"})


def calibrated_shares(bench: Benchmark) -> pd.DataFrame:
    """Targets against the SME shares of the split sectors reached by :func:`split_firm_size`, by region."""
    meta = bench.metadata["firm_size"]
    got = sme_shares(bench)
    rows = []
    for s, tg in meta["targets"].items():
        for what, col in (("va", "value_added"), ("employment", "employment"), ("exports", "exports")):
            rows.append({"region": s, "target": what, "target_share": tg[what]["share"], "calibrated": got.loc[s, col], "flag": tg[what]["flag"]})
    return pd.DataFrame(rows).set_index(["region", "target"])


__all__ = ["RULES", "SIZES", "by_firm_size", "calibrated_shares", "firm_size_changes", "merge_firm_size", "size_mapping", "sme_shares", "split_firm_size", "targets"]
