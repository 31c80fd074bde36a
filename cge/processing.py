r"""Processing trade: an export-processing activity split from the normal activity of chosen sectors.

China (and other economies with export-processing regimes) assembles imported parts duty-free for
export: processing firms import their inputs without tariffs, sell their output abroad and buy far
more of their inputs abroad than normal firms do. Koopman, Wang and Wei (2012) show that an
input-output table that mixes the two overstates the domestic content of exports, and split China's
table into a processing-export block and a block for domestic sales and normal exports. With the
data available here (one table per region, no customs split), :func:`split_processing` does the same
split with stated assumptions:

**Sales.** In each processing region ``c`` (default China, ``CHN``), sector ``j`` becomes ``j``
(normal: domestic sales and normal exports) and ``j_processing`` (processing exports), which sells
the share :math:`\pi_j` of ``c``'s sales of ``j`` to every buyer outside the processing regions and
nothing to domestic buyers: processing output is exported, all of it. So that buyers abroad keep
their sourcing, every other exporter's sales of ``j`` to buyers outside the processing regions are
split the same way: the commodity ``j_processing`` is the variety of ``j`` that competes with the
processing exports, bought from every source (China's processing activity, and a twin of every
other region's ``j`` activity with that region's costs); buyers in processing regions buy only
``j``. With identical prices each buyer's two composites are copies of its original one, scaled by
:math:`\pi_j` and :math:`1 - \pi_j`, so the split changes no equilibrium unless the two activities
of a processing region differ (a test checks it).

**Costs** (``rule="import_intensive"``, the default). Processing buys the sector's imported inputs
(every origin and commodity alike) with an intensity ``import_ratio`` times that of the normal
activity: with imported inputs :math:`M` (at buyer prices) and outputs :math:`X_P, X_N`,
:math:`M_P = M \rho X_P / (\rho X_P + X_N)`; domestic inputs and value added follow from the
activity's output, :math:`X_P - M_P` in the sector's proportions. ``rule="proportional"`` gives both
activities the sector's structure. The twins of the other regions are proportional splits.

**Duty exemption** (``exempt=True``, the default). The processing activity's imported inputs pay
no duty (``duty_exemption = 1``, :mod:`cge.instruments`). Customs collected what the benchmark's
tariffs collect: :mod:`cge.sources.customs` scales each region's applied tariffs by its collection
rate (collected duties over applied duties times imports; 0.41 for China in 2011) because
exemptions, processing first among them, keep collections below the applied rates. Once the
processing exemption is explicit, the flows that still pay duty must pay more for customs to collect
the same amount: every tariff into the region (both uses) is multiplied by
:math:`k_c = T_c / (T_c - T^P_c)`, the collection rate re-derived on the dutiable flows (customs'
``drawback`` treatment: exemptions first, then collection rates), with :math:`T_c` the region's
revenue and :math:`T^P_c` the duty the processing inputs paid. The region's revenue, output, flows
and net transfer are unchanged; the duty the processing activity no longer pays is part of its
capital income, and every other buyer's extra duty comes out of its capital income
(``metadata["processing"]["revenue"]`` records :math:`T_c`, :math:`T^P_c` and :math:`k_c`).

**Assumptions** (``shares``, ``import_ratio``; the processing shares of exports are not in
``../shared/data``). :data:`PROCESSING_SHARES` are assumed shares of processing in China's exports
by sector, rounded: China's customs statistics put processing exports at about half of China's
exports in 1997-2007 (Koopman, Wang and Wei 2012, who use them) and 44% in 2011, concentrated in
electronics and machinery, where foreign-invested assembly dominates; with the 2011 export mix of
``eastasia-2011`` the shares below imply 44.6% of China's goods exports (a test checks it).
``import_ratio = 5``: processing buys its inputs abroad five times as intensively as normal
production, an assumption in line with Koopman, Wang and Wei (2012), who find a domestic content of
processing exports far below that of normal exports (about 30% or less in electronic devices).
Sensitivity to both is a matter of passing other values.

:func:`merge_processing` sums the two activities back. Without the exemption it returns the original
table (to rounding); with it, the original flows with the region's re-derived rates, the extra duty
having left value added (the merged sectors pay duty on all their imports again).

References
----------
- Koopman, R., Wang, Z. and Wei, S.-J. (2012). Estimating domestic content in exports when processing
  trade is pervasive. *Journal of Development Economics* 99(1), 178-189.
- Ianchovichina, E., McDougall, R. and Hertel, T. (2000). Duty drawbacks, competitiveness and growth:
  are duty drawbacks worth the hassle? *Canadian Journal of Economics* 33(5), 1264-1279.
"""

from __future__ import annotations

import numpy as np

from .benchmark import Benchmark, BenchmarkError
from .stages import merge_split, split_metadata

PROCESSING_SHARES = {
    "textiles_apparel": 0.20,
    "chemicals": 0.10,
    "metals": 0.10,
    "machinery": 0.45,
    "electrical_optical": 0.80,
    "transport_equipment": 0.30,
    "other_manufacturing": 0.30,
}
"""Assumed shares of processing in China's exports by sector (see the module docstring)."""
PROCESSING_REGIONS = ("CHN",)
"""Regions split by default: China, whose processing regime the literature documents."""
RULES = ("import_intensive", "proportional")
SUFFIX = "_processing"


def split_processing(bench: Benchmark, sectors=None, regions=PROCESSING_REGIONS, shares: dict | None = None,
                     rule: str = "import_intensive", import_ratio: float = 5.0, exempt: bool = True,
                     factor: str = "capital") -> Benchmark:
    """``bench`` with each of ``sectors`` split into a normal and an export-processing activity.

    ``sectors`` default to those of ``shares`` (default :data:`PROCESSING_SHARES`, processing shares
    of exports by sector); ``regions`` hold the processing regimes. ``exempt`` gives the processing
    activities a full duty exemption and re-derives the regions' tariffs so that their revenue is
    unchanged, moving duties in and out of ``factor`` payments (see the module docstring). Errors
    name the sector and region.
    """
    shares = dict(PROCESSING_SHARES if shares is None else shares)
    sectors = list(shares if sectors is None else ([sectors] if isinstance(sectors, str) else sectors))
    regions = [regions] if isinstance(regions, str) else list(regions)
    if rule not in RULES:
        raise BenchmarkError(f"split_processing: rule = {rule!r}; allowed: {list(RULES)}")
    unknown = [j for j in sectors if j not in bench.sectors]
    if unknown or not sectors or len(set(sectors)) < len(sectors):
        raise BenchmarkError(f"split_processing: sectors {sectors} must be distinct sectors of the benchmark; unknown: {unknown}")
    bad = [c for c in regions if c not in bench.regions]
    if bad or not regions:
        raise BenchmarkError(f"split_processing: regions {regions} must be regions of the benchmark; unknown: {bad}; known: {bench.regions}")
    missing = [j for j in sectors if j not in shares]
    if missing:
        raise BenchmarkError(f"split_processing: no processing share for sectors {missing}; pass shares={{sector: share}}")
    for j in sectors:
        if isinstance(shares[j], bool) or not isinstance(shares[j], (int, float)) or not 0.0 < shares[j] < 1.0:
            raise BenchmarkError(f"split_processing: shares[{j!r}] = {shares[j]!r}; must be a number strictly between 0 and 1")
    if isinstance(import_ratio, bool) or not isinstance(import_ratio, (int, float)) or not import_ratio >= 1.0:
        raise BenchmarkError(f"split_processing: import_ratio = {import_ratio!r}; must be a number >= 1 (processing at least as import-intensive)")
    if exempt and factor not in bench.factors:
        raise BenchmarkError(f"split_processing: factor {factor!r} (which takes the duty moved by the exemption) is not a factor: {bench.factors}")
    if "processing" in bench.metadata:
        raise BenchmarkError("split_processing: the benchmark is split already; split the original once")
    clash = [j + SUFFIX for j in sectors if j + SUFFIX in bench.sectors]
    if clash:
        raise BenchmarkError(f"split_processing: the benchmark already has sectors named {clash}")

    R = bench.n_regions
    P = np.isin(bench.regions, regions)  # processing regions
    split = [bench.sectors.index(j) for j in sectors]
    names, origin, proc = [], [], []
    for k, j in enumerate(bench.sectors):
        names.append(j)
        origin.append(k)
        proc.append(False)
        if k in split:
            names.append(j + SUFFIX)
            origin.append(k)
            proc.append(True)
    origin, proc = np.asarray(origin), np.asarray(proc)
    S2 = len(names)
    pi = np.zeros(S2)
    for n in np.flatnonzero(proc):
        pi[n] = shares[bench.sectors[origin[n]]]
    pi_normal = np.zeros(S2)
    pi_normal[[n - 1 for n in np.flatnonzero(proc)]] = pi[proc]
    # sales: row n sells to buyers in s the share w_sale[n, s] of its sector's sales
    outside = (~P).astype(float)
    w_sale = np.ones((S2, R))
    w_sale[proc] = pi[proc, None] * outside[None, :]
    normal = np.zeros(S2, dtype=bool)
    normal[np.flatnonzero(proc) - 1] = True
    w_sale[normal] = 1.0 - pi_normal[normal, None] * outside[None, :]

    # costs: column m in s takes the share w_col[m, r, s] of its sector's purchases from r, and w_va[s, m] of its factors
    sales = bench.z_0.sum(axis=3) + bench.f_0.sum(axis=3)  # [r, i, s]
    x = bench.output
    w_col = np.ones((S2, R, R))
    w_va = np.ones((R, S2))
    paid = 1.0 + bench.intermediate_tariff  # buyer-price factor [r, i, s, j]
    for n in np.flatnonzero(proc):
        k, j = origin[n], bench.sectors[origin[n]]
        xp = pi[n] * (sales[:, k, :] * outside[None, :]).sum(axis=1)  # output of each region's processing (twin) activity
        for s in range(R):
            share = xp[s] / x[s, k] if x[s, k] > 0 else 0.0
            lam_m = lam_d = share
            if P[s] and rule == "import_intensive" and x[s, k] > 0:
                imports = np.arange(R) != s
                M = (bench.z_0[imports, :, s, k] * paid[imports, :, s, k]).sum()
                XP, XN = xp[s], x[s, k] - xp[s]
                MP = M * import_ratio * XP / (import_ratio * XP + XN) if M > 0 else 0.0
                lam_m = MP / M if M > 0 else share
                lam_d = (XP - MP) / (x[s, k] - M)
                if not 0.0 < lam_d < 1.0 or XP <= 0:
                    raise BenchmarkError(f"split_processing: the processing activity of {j!r} in {bench.regions[s]} would have "
                                         f"no domestic costs left (output {XP:.6g}, imported inputs {MP:.6g}); lower import_ratio or its share")
            if P[s] and xp[s] <= 0:
                raise BenchmarkError(f"split_processing: {j!r} in {bench.regions[s]} has no sales abroad to split off")
            for r in range(R):
                w_col[n, r, s] = lam_m if r != s else lam_d
                w_col[n - 1, r, s] = 1.0 - w_col[n, r, s]
            w_va[s, n], w_va[s, n - 1] = lam_d, 1.0 - lam_d
    z = bench.z_0[:, origin][:, :, :, origin] * w_sale[None, :, :, None] * w_col.transpose(1, 2, 0)[:, None]
    f = bench.f_0[:, origin] * w_sale[None, :, :, None]
    fp = bench.fp_0[:, origin] * w_va[..., None]
    emp = None if bench.employment is None else bench.employment[:, origin] * w_va
    tariffs = bench.tariff_0[:, origin].copy()
    exemption = bench.duty_exemption_0[:, origin].copy()

    revenue = {}
    if exempt:
        table = Benchmark.from_arrays(bench.regions, names, z, f, {n: fp[..., q] for q, n in enumerate(bench.factors)},
                                      tariffs=tariffs, agents=bench.agents, duty_exemption=exemption)
        before_paid = (z * table.intermediate_tariff).sum(axis=(0, 1))  # duty paid by each column [s, m]
        total = table.tariff_revenue
        fk = bench.factors.index(factor)
        for s in np.flatnonzero(P):
            exempted = float(before_paid[s, proc].sum())
            scale = total[s] / (total[s] - exempted)
            tariffs[:, :, s, :] *= scale
            exemption[s, proc] = 1.0
            fp[s, proc, fk] += before_paid[s, proc]
            fp[s, ~proc, fk] -= (scale - 1.0) * before_paid[s, ~proc]
            if (fp[s, :, fk] < 0).any():
                raise BenchmarkError(f"split_processing: {factor} payments in {bench.regions[s]} would turn negative paying the re-derived duties")
            revenue[bench.regions[s]] = {"revenue": float(total[s]), "exempted_duty": exempted, "rate_scale": float(scale)}

    sector_of = {names[n]: bench.sectors[origin[n]] for n in range(S2)}
    meta = split_metadata(bench, "processing", sector_of, origin, labels={"processing": "processing"})
    meta["processing"] = {
        "regions": regions, "sectors": sectors, "shares": {j: float(shares[j]) for j in sectors}, "rule": rule,
        "import_ratio": float(import_ratio), "exempt": bool(exempt), "factor": factor, "sector_of": sector_of,
        "revenue": revenue,
    }
    return Benchmark.from_arrays(
        bench.regions, names, z, f, {name: fp[..., q] for q, name in enumerate(bench.factors)},
        tariffs=tariffs, employment=emp, elasticities={k: v[origin] for k, v in bench.elasticities.items()},
        groups=bench.groups, agents=bench.agents, metadata=meta, employment_proxy=bench.employment_proxy,
        duty_exemption=exemption,
    )


def processing_mapping(bench: Benchmark) -> dict[str, str]:
    """Every sector of a processing split -> its original sector (identity for a table never split)."""
    return dict(bench.metadata.get("processing", {}).get("sector_of", {s: s for s in bench.sectors}))


def merge_processing(bench: Benchmark) -> Benchmark:
    """The two activities of a processing split summed back into their sectors (see the module docstring).

    The exemption's value (the duty the exempted activities do not pay at the table's rates) leaves
    the ``factor`` payments of the split first, so that the merged sectors pay duty on all their inputs.
    """
    info = bench.metadata.get("processing", {})
    e = bench.duty_exemption_0
    if info.get("exempt") and e.any():
        waived = (bench.z_0 * bench.tariff_0[..., 0][..., None]).sum(axis=(0, 1)) * e  # [s, m]
        fp = bench.fp_0.copy()
        fp[..., bench.factors.index(info.get("factor", "capital"))] -= waived
        meta = dict(bench.metadata)
        bench = Benchmark.from_arrays(bench.regions, bench.sectors, bench.z_0, bench.f_0, {n: fp[..., q] for q, n in enumerate(bench.factors)},
                                      tariffs=bench.tariff_0, employment=bench.employment, elasticities=bench.elasticities,
                                      groups=bench.groups, agents=bench.agents, metadata=meta, employment_proxy=bench.employment_proxy)
    return merge_split(bench, "processing", processing_mapping(bench))


def processing_exports(bench_or_results, region: str = "CHN") -> "pd.DataFrame":
    """Exports of the processing and normal activities of ``region`` by sector (basic prices).

    Takes a split benchmark, or the :class:`cge.Results` of a model of one (then the columns
    ``value_0``, ``value`` and ``pct_change`` compare the scenario with the benchmark).
    """
    import pandas as pd

    results = None if isinstance(bench_or_results, Benchmark) else bench_or_results
    bench = bench_or_results if results is None else results.bench
    if "processing" not in bench.metadata:
        raise BenchmarkError("processing_exports: the benchmark has no processing split (cge.split_processing)")
    c = bench.regions.index(region)
    off = np.arange(bench.n_regions) != c
    base = (bench.z_0.sum(axis=3) + bench.f_0.sum(axis=3))[c][:, off].sum(axis=1)
    if results is None:
        value = base
    else:
        sol, par = results.solution, results.params
        value = (sol.p[c][:, None, None] * sol.tau[c][:, :, par.use_of_buyer] * sol.z[c])[:, off].sum(axis=(1, 2))
    sector_of = processing_mapping(bench)
    rows = []
    for n, name in enumerate(bench.sectors):
        if sector_of[name] != name or name + SUFFIX in bench.sectors:
            rows.append({"sector": sector_of[name], "activity": "processing" if name.endswith(SUFFIX) else "normal",
                         "value_0": float(base[n]), "value": float(value[n])})
    df = pd.DataFrame(rows).set_index(["sector", "activity"])
    df["pct_change"] = 100.0 * (df["value"] / df["value_0"] - 1.0)
    return df


__all__ = ["PROCESSING_REGIONS", "PROCESSING_SHARES", "merge_processing", "processing_exports", "processing_mapping", "split_processing"]
