r"""Production stages made explicit: a sector split into parts and components and assembly.

:func:`split_stages` turns each chosen sector ``j`` of a benchmark into two sectors (and commodities)
in every region, a pure transformation of the table:

- ``<j>_parts`` (parts and components) sells everything that ``j`` sold to intermediate use, to every
  buyer in every region;
- ``<j>_assembly`` (assembled, finished goods) sells everything that ``j`` sold to final use.

The outputs of the two stages are therefore fixed by the sales side of the table. Their costs split
the sector's costs: own-use purchases (commodity ``j`` bought by sector ``j``, from any origin, at
buyer prices) :math:`O`, other intermediate inputs :math:`N` and value added :math:`V`, with
:math:`O + N + V = X`. The stage split decides the assembly stage's own-use purchases :math:`O_A`, and
the rest of the assembly stage's costs, :math:`X_A - O_A`, is made of the sector's other inputs and
factors in their own proportions; the parts stage gets what is left. Every origin of an input is
scaled alike, so tariffs paid move with the flows and each stage's costs equal its sales exactly.

Two rules choose :math:`O_A`:

- ``rule="assembly_first"`` (the default): the assembly stage buys the sector's own-use parts first,
  up to ``parts_cap`` (default one half) of its costs, :math:`O_A = \min(O, c X_A)`; when the parts
  stage would then need more than the same share of its own costs, assembly takes the excess,
  :math:`O_A = \max(\min(O, c X_A), O - c X_P)`. This follows the stylised facts of production
  sharing: the last stage assembles the earlier stages' output (Yi 2003, whose two-stage model has
  the final stage using the first stage's good as an input), and assembly is parts- and import-
  intensive while parts and components carry more domestic value added (Koopman, Wang and Wei 2012:
  China's processing exports, largely assembly, have a far lower domestic value-added share than its
  normal exports). Since the own-use parts of East Asian machinery and electronics are heavily
  imported, the rule also makes assembly the more import-intensive stage. The cap is an assumption,
  not an estimate: the data hold no stage accounts.
- ``rule="proportional"``: each stage takes the sector's costs in proportion to its output,
  :math:`O_A = O X_A / X`; both stages then have the sector's cost structure. The split model then
  reproduces the unsplit model's equilibrium (identical unit costs give both stages one price, and
  with sourcing by agent every buyer keeps its own import mix), which the tests check.

``regions`` limits the rule to some regions: elsewhere both stages take the sector's costs in
proportion to their output (the ``proportional`` rule), so the table keeps one set of sectors and
those regions' stages have one unit cost, hence one price, after any shock (a test checks it).

Tariffs and elasticities of a stage are the sector's (tariffs by use: the parts stage meets the
intermediate-use rates, the assembly stage the final-use rates); employment is split in proportion to
labour payments, so wages per person are kept. ``metadata["stages"]`` records the split (rule, cap,
sectors) and ``metadata["stages"]["sector_of"]`` maps every new sector back to its original;
:func:`merge_stages` sums the stages back (:func:`cge.aggregate.aggregate`), giving back the original
table.

References
----------
- Koopman, R., Wang, Z. and Wei, S.-J. (2012). Estimating domestic content in exports when processing
  trade is pervasive. *Journal of Development Economics* 99(1), 178-189.
- Yi, K.-M. (2003). Can vertical specialization explain the growth of world trade? *Journal of
  Political Economy* 111(1), 52-102.
"""

from __future__ import annotations

import numpy as np

from .benchmark import Benchmark, BenchmarkError

GVC_SECTORS = ("machinery", "electrical_optical", "transport_equipment")
"""Sectors split by default: the GVC-heavy manufacturing sectors of the built-in benchmarks."""
RULES = ("assembly_first", "proportional")
STAGES = ("parts", "assembly")


def split_stages(bench: Benchmark, sectors=None, rule: str = "assembly_first", parts_cap: float = 0.5, regions=None) -> Benchmark:
    """``bench`` with each of ``sectors`` (default :data:`GVC_SECTORS`) split into parts and assembly.

    See the module docstring for the rule. ``regions`` (default every region) are those whose stages
    follow ``rule``; in the others the two stages share the sector's costs in proportion to their
    output (``rule="proportional"``), so the table keeps the same sectors everywhere while those
    regions' stages have one cost structure, one price and the unsplit sector's behaviour. Raises
    :class:`cge.BenchmarkError` naming the sector and region when a stage would have no sales, or no
    value added left.
    """
    sectors = list(GVC_SECTORS if sectors is None else ([sectors] if isinstance(sectors, str) else sectors))
    if rule not in RULES:
        raise BenchmarkError(f"split_stages: rule = {rule!r}; allowed: {list(RULES)}")
    if isinstance(parts_cap, bool) or not isinstance(parts_cap, (int, float)) or not 0.0 < parts_cap < 1.0:
        raise BenchmarkError(f"split_stages: parts_cap = {parts_cap!r}; must be a number strictly between 0 and 1")
    chosen = list(bench.regions) if regions is None else ([regions] if isinstance(regions, str) else list(regions))
    bad = [r for r in chosen if r not in bench.regions]
    if bad or not chosen or len(set(chosen)) < len(chosen):
        raise BenchmarkError(f"split_stages: regions {chosen} must be distinct regions of the benchmark; unknown: {bad}; known: {bench.regions}")
    unknown = [j for j in sectors if j not in bench.sectors]
    if unknown or not sectors or len(set(sectors)) < len(sectors):
        raise BenchmarkError(f"split_stages: sectors {sectors} must be distinct sectors of the benchmark; unknown: {unknown}; known: {bench.sectors}")
    if "stages" in bench.metadata:
        raise BenchmarkError(f"split_stages: the benchmark is split already (sectors {bench.metadata['stages'].get('sectors')}); split the original once")
    clash = [f"{j}_{st}" for j in sectors for st in STAGES if f"{j}_{st}" in bench.sectors]
    if clash:
        raise BenchmarkError(f"split_stages: the benchmark already has sectors named {clash}")

    split = [bench.sectors.index(j) for j in sectors]
    names, origin, stage = [], [], []  # new sector label, original index, stage (None: not split)
    for k, j in enumerate(bench.sectors):
        for st in (STAGES if k in split else (None,)):
            names.append(j if st is None else f"{j}_{st}")
            origin.append(k)
            stage.append(st)
    origin = np.asarray(origin)
    theta_own, theta_rest = _assembly_shares(bench, split, rule, parts_cap, np.isin(bench.regions, chosen))

    R, S2 = bench.n_regions, len(names)
    # cost side: weight of each new buyer column on the original column, by region and input row
    w_col = np.ones((R, S2))  # [s, n]: factors and inputs other than own use
    w_own = np.ones((R, S2))  # [s, n]: own-use purchases of the split sector
    for n, (k, st) in enumerate(zip(origin, stage)):
        if st is None:
            continue
        a = split.index(k)
        w_col[:, n] = theta_rest[:, a] if st == "assembly" else 1.0 - theta_rest[:, a]
        w_own[:, n] = theta_own[:, a] if st == "assembly" else 1.0 - theta_own[:, a]
    # sales side: intermediate sales go to the parts row, final sales to the assembly row
    sells_z = np.array([st != "assembly" for st in stage], dtype=float)
    sells_f = np.array([st != "parts" for st in stage], dtype=float)
    own = origin[:, None] == origin[None, :]  # [row n, col m]: same original sector
    W = np.where(own[:, None, :], w_own[None, :, :], w_col[None, :, :])  # [n, s, m]
    z = bench.z_0[:, origin][:, :, :, origin] * sells_z[None, :, None, None] * W[None]
    f = bench.f_0[:, origin] * sells_f[None, :, None, None]
    fp = bench.fp_0[:, origin] * w_col[..., None]
    emp = None if bench.employment is None else bench.employment[:, origin] * w_col

    sector_of = {names[n]: bench.sectors[origin[n]] for n in range(S2)}
    meta = split_metadata(bench, "stages", sector_of, origin)
    meta["stages"] = {"rule": rule, "parts_cap": float(parts_cap), "sectors": sectors, "sector_of": sector_of}
    if regions is not None:  # the others split proportionally
        meta["stages"]["regions"] = chosen
    return split_benchmark(bench, names, origin, z, f, fp, emp, meta)


def split_benchmark(bench: Benchmark, names: list[str], origin: np.ndarray, z, f, fp, emp, meta: dict) -> Benchmark:
    """The split table as a benchmark: new sectors ``names``, each taking the tariffs and elasticities
    of its original sector ``origin[n]``. Shared by :func:`split_stages` and :func:`cge.firms.split_firm_size`.
    """
    return Benchmark.from_arrays(
        bench.regions,
        names,
        z,
        f,
        {name: fp[..., n] for n, name in enumerate(bench.factors)},
        tariffs=bench.tariff_0[:, origin],
        duty_exemption=bench.duty_exemption_0[:, origin],
        employment=emp,
        elasticities={k: v[origin] for k, v in bench.elasticities.items()},
        groups=bench.groups,
        agents=bench.agents,
        metadata=meta,
        employment_proxy=bench.employment_proxy,
    )


def split_metadata(bench: Benchmark, key: str, sector_of: dict[str, str], origin: np.ndarray, labels: dict[str, str] | None = None) -> dict:
    """Metadata of a benchmark whose sectors are split into parts (``sector_of``: new -> original).

    The name gains ``-<key>``; display names become "Machinery (parts)" (the part of the new label
    after ``<sector>_``, or ``labels[part]``); stored elasticity sets and source sectors of each
    part are its sector's. Shared by :func:`split_stages` and :func:`cge.firms.split_firm_size`.
    """
    meta = dict(bench.metadata)
    meta["name"] = f"{meta.get('name', 'benchmark')}-{key}"
    if isinstance(meta.get("sector_labels"), dict):
        old, labels = meta["sector_labels"], labels or {}
        part = {n: n.removeprefix(j + "_") for n, j in sector_of.items()}
        meta["sector_labels"] = {n: old[j] + ("" if n == j else f" ({labels.get(part[n], part[n])})") for n, j in sector_of.items() if j in old}
    if isinstance(meta.get("elasticity_sets"), dict):
        meta["elasticity_sets"] = {name: _by_sector(entry, origin, bench.n_sectors) for name, entry in meta["elasticity_sets"].items()}
    if isinstance(meta.get("sector_members"), dict):
        meta["sector_members"] = {n: meta["sector_members"][j] for n, j in sector_of.items() if j in meta["sector_members"]}
    return meta


def _assembly_shares(bench: Benchmark, split: list[int], rule: str, cap: float, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shares of the assembly stage in own-use purchases and in the other costs, (R, len(split)) each;
    regions not ``chosen`` (a mask) split proportionally."""
    R = bench.n_regions
    costs = bench.costs
    theta_own, theta_rest = np.zeros((R, len(split))), np.zeros((R, len(split)))
    for a, j in enumerate(split):
        X = costs[:, j]
        XA = bench.f_0[:, j].sum(axis=(1, 2))
        XP = X - XA
        O = np.einsum("rs,rs->s", bench.z_0[:, j, :, j], 1.0 + bench.intermediate_tariff[:, j, :, j])
        OA = np.divide(O * XA, X, out=np.zeros(R), where=X > 0)
        if rule != "proportional":
            OA = np.where(chosen, np.maximum(np.minimum(O, cap * XA), O - cap * XP), OA)
        rest_A, rest_P = XA - OA, X - O - (XA - OA)
        name = bench.sectors[j]
        for what, bad in (("no final sales (assembly stage)", XA <= 0), ("no intermediate sales (parts stage)", bench.z_0[:, j].sum(axis=(1, 2)) <= 0)):
            if bad.any():
                raise BenchmarkError(f"split_stages: sector {name!r} has {what} in regions {[bench.regions[s] for s in np.flatnonzero(bad)]}; leave it unsplit")
        for st, bad in (("assembly", rest_A <= 0), ("parts", rest_P <= 0)):
            if bad.any():
                raise BenchmarkError(
                    f"split_stages: the {st} stage of {name!r} would have no value added in regions "
                    f"{[bench.regions[s] for s in np.flatnonzero(bad)]} (own-use purchases too large for rule {rule!r}); "
                    "use rule='proportional' or leave the sector unsplit"
                )
        theta_own[:, a] = np.divide(OA, O, out=XA / X, where=O > 0)
        theta_rest[:, a] = rest_A / (X - O)
    return theta_own, theta_rest


def _by_sector(entry, index, n: int):
    """An elasticity set's lists of one value a sector (length ``n``) taken at ``index``; other entries kept."""
    if not isinstance(entry, dict):
        return entry
    return {k: [v[m] for m in index] if isinstance(v, list) and len(v) == n else v for k, v in entry.items()}


def stage_mapping(bench: Benchmark) -> dict[str, str]:
    """Every sector of a split benchmark -> its original sector (identity for a benchmark never split)."""
    return dict(bench.metadata.get("stages", {}).get("sector_of", {s: s for s in bench.sectors}))


def merge_stages(bench: Benchmark) -> Benchmark:
    """The stages of a split benchmark summed back into their sectors: the original table."""
    return merge_split(bench, "stages", stage_mapping(bench))


def merge_split(bench: Benchmark, key: str, mapping: dict[str, str]) -> Benchmark:
    """A benchmark split by :func:`split_metadata` (``mapping``: new sector -> original) summed back.

    Shared by :func:`merge_stages` and :func:`cge.firms.merge_firm_size`.
    """
    from .aggregate import _ordered, aggregate

    originals = list(dict.fromkeys(mapping.values()))
    merged = aggregate(bench, sectors=_ordered(mapping, originals))
    # every part carries the sector's tariffs (also on routes without flows, which averaging would
    # zero), elasticities and metadata entries: take the first part's
    first = [list(mapping.values()).index(j) for j in originals]
    merged.tariff_0 = bench.tariff_0[:, first].copy()
    merged.elasticities = {k: v[first].copy() for k, v in bench.elasticities.items()}
    merged.validate()
    meta = {k: v for k, v in bench.metadata.items() if k not in (key, "aggregated_from")}
    if isinstance(meta.get("sector_labels"), dict):
        meta["sector_labels"] = {j: meta["sector_labels"][bench.sectors[n]].rsplit(" (", 1)[0] if bench.sectors[n] != j else meta["sector_labels"][j] for j, n in zip(originals, first) if bench.sectors[n] in meta["sector_labels"]}
    if isinstance(meta.get("sector_members"), dict):
        meta["sector_members"] = {j: meta["sector_members"][bench.sectors[n]] for j, n in zip(originals, first) if bench.sectors[n] in meta["sector_members"]}
    if isinstance(meta.get("elasticity_sets"), dict):
        meta["elasticity_sets"] = {name: _by_sector(entry, first, bench.n_sectors) for name, entry in meta["elasticity_sets"].items()}
    meta["name"] = bench.metadata.get("name", "benchmark").removesuffix(f"-{key}")
    merged.metadata = meta
    return merged


__all__ = ["GVC_SECTORS", "RULES", "merge_stages", "split_stages", "stage_mapping"]
