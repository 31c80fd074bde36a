"""Aggregation of regions and sectors by user-defined mappings, and country groups.

A *mapping* sends each source label (an ISO3 country code, a WIOD sector code...) to a target label.
It is read from a CSV file with columns ``source,target`` (one row per source; other columns are
ignored) or from a TOML table of ``target = [sources]`` lists, e.g.::

    [regions]
    CHN = ["CHN"]
    XSE = ["BRN", "KHM", "LAO", "MMR"]   # rest of ASEAN
    EU  = ["@EU"]                        # a country group (see country_groups)
    ROW = ["*"]                          # every source not mapped elsewhere

Targets keep the order in which the file first names them. ``@NAME`` expands a group of
:func:`country_groups`; ``*`` catches every source not named elsewhere.

:func:`aggregate` sums a :class:`cge.Benchmark` to the target regions and sectors. Tariffs are
averaged with the flows at basic prices as weights, so tariff revenue is unchanged, except on flows
that become domestic (trade inside an aggregated region): those carry no tariff, and the tariff paid on
them by using sectors is added to the buyers' factor payments (in proportion to the payments) so
that costs still equal output.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from .benchmark import Benchmark

ASEAN = ("BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM")
"""The ten ASEAN members (ISO3)."""

EU27_2007 = (
    "AUT", "BEL", "BGR", "CYP", "CZE", "DEU", "DNK", "ESP", "EST", "FIN", "FRA", "GBR", "GRC", "HUN",
    "IRL", "ITA", "LTU", "LUX", "LVA", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "SWE",
)
"""EU members 2007-2013 (the EU of the 2011 base year); used when country_converter is unavailable."""


@functools.lru_cache(maxsize=1)
def _converter():
    """A country_converter.CountryConverter; works around its data loading under pandas >= 3."""
    import country_converter as coco

    try:
        return coco.CountryConverter()
    except TypeError:
        from country_converter import country_converter as module

        df = pd.read_csv(module.COUNTRY_DATA_FILE, sep="\t", encoding="utf-8", dtype=str, keep_default_na=False)
        df = df.replace("", pd.NA)
        df["ISO2"] = df["ISO2"].fillna("(?!x)x")  # a pattern that never matches (entries without ISO2)
        ints = ["ISOnumeric", "UNcode", "FAOcode", "GBDcode", "EURO", "UN", "UNmember", "obsolete", "GEOnumeric"]
        df = df.astype({c: "Int64" for c in ints if c in df.columns})
        df = df.astype({c: object for c in df.columns if c not in ints})
        return coco.CountryConverter(country_data=df)


def eu_members(year: int = 2011) -> list[str]:
    """EU member states (ISO3) in ``year``, from country_converter's EU classifications."""
    col = "EU27_2007" if 2007 <= year <= 2012 else "EU28" if 2013 <= year <= 2019 else "EU27" if year >= 2020 else None
    if col is None:
        raise ValueError(f"eu_members: years before 2007 are not covered (got {year})")
    try:
        data = _converter().data
        return sorted(data.loc[data[col].notna(), "ISO3"].astype(str))
    except Exception:  # pragma: no cover - fallback when country_converter cannot be used
        if col != "EU27_2007":
            raise
        return sorted(EU27_2007)


def country_groups(year: int = 2011) -> dict[str, list[str]]:
    """Country groups on ISO3 codes: ASEAN, ASEAN+3, EastAsia, RCEP, NAFTA, EU (members in ``year``).

    EastAsia = ASEAN + China, Hong Kong, Japan, Korea, Taiwan. RCEP = ASEAN + China, Japan, Korea,
    Australia, New Zealand (signed 2020). NAFTA = USA, Canada, Mexico (USMCA since 2020).
    """
    asean = list(ASEAN)
    return {
        "ASEAN": asean,
        "ASEAN+3": asean + ["CHN", "JPN", "KOR"],
        "EastAsia": asean + ["CHN", "HKG", "JPN", "KOR", "TWN"],
        "RCEP": asean + ["CHN", "JPN", "KOR", "AUS", "NZL"],
        "NAFTA": ["USA", "CAN", "MEX"],
        "EU": eu_members(year),
    }


def to_iso3(names, not_found=None) -> list:
    """Convert country names or codes to ISO3 with country_converter (WIOD's ``ROM`` is Romania)."""
    fixes = {"ROM": "ROU", "RoW": "ROW", "ROW": "ROW"}
    names = list(names)
    rest = [n for n in names if n not in fixes]
    converted = _converter().convert(rest, to="ISO3", not_found=not_found) if rest else []
    if isinstance(converted, str):
        converted = [converted]
    conv = dict(zip(rest, converted))
    return [fixes.get(n, conv.get(n)) for n in names]


# ---------------------------------------------------------------------------------------------- mappings
def read_mapping(path, table: str | None = None, sources=None, groups: dict | None = None) -> dict[str, str]:
    """Read a mapping file (CSV ``source,target`` or TOML ``target = [sources]``); source -> target.

    ``table`` names the TOML table to read (default: the only table, or the top level). ``sources``,
    when given, lets ``*`` catch the unmapped ones and is checked for completeness. ``groups``
    (default :func:`country_groups`) expands ``@NAME`` entries.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        df = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
        missing = {"source", "target"} - set(df.columns)
        if missing:
            raise ValueError(f"{path}: mapping CSV needs columns 'source' and 'target' (missing {sorted(missing)})")
        spec: dict[str, list[str]] = {}
        for src, tgt in zip(df["source"].str.strip(), df["target"].str.strip()):
            spec.setdefault(tgt, []).append(src)
    elif path.suffix.lower() == ".toml":
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        if table is not None:
            if table not in data:
                raise KeyError(f"{path}: no table [{table}] (tables: {sorted(k for k, v in data.items() if isinstance(v, dict))})")
            data = data[table]
        else:
            tables = [k for k, v in data.items() if isinstance(v, dict)]
            if len(tables) == 1 and all(isinstance(v, dict) for v in data.values()):
                data = data[tables[0]]
        spec = {str(k): [v] if isinstance(v, str) else list(v) for k, v in data.items() if not isinstance(v, dict)}
    else:
        raise ValueError(f"{path}: mapping files are .csv or .toml")
    return mapping_from_spec(spec, sources=sources, groups=groups, origin=str(path))


def mapping_from_spec(spec: dict, sources=None, groups: dict | None = None, origin: str = "mapping") -> dict[str, str]:
    """A mapping from a ``{target: [sources]}`` dict (with ``@GROUP`` and ``*`` entries)."""
    groups = country_groups() if groups is None else groups
    mapping: dict[str, str] = {}
    catch_all = None
    for target, members in spec.items():
        for m in members:
            m = str(m).strip()
            if m == "*":
                if catch_all is not None:
                    raise ValueError(f"{origin}: '*' appears for both {catch_all!r} and {target!r}")
                catch_all = target
                continue
            expanded = groups[m[1:]] if m.startswith("@") else [m]
            if m.startswith("@") and m[1:] not in groups:
                raise KeyError(f"{origin}: unknown group {m!r}; known: {sorted(groups)}")
            for e in expanded:
                if e in mapping and mapping[e] != target:
                    raise ValueError(f"{origin}: {e!r} is mapped to both {mapping[e]!r} and {target!r}")
                mapping[e] = target
    order = list(spec)
    if sources is not None:
        sources = list(sources)
        if catch_all is not None:
            for s in sources:
                mapping.setdefault(s, catch_all)
        missing = [s for s in sources if s not in mapping]
        if missing:
            raise ValueError(f"{origin}: sources without a target: {missing}")
        mapping = {s: mapping[s] for s in sources}
    elif catch_all is not None:
        raise ValueError(f"{origin}: '*' needs the list of sources")
    # keep the order of the file, drop targets that received nothing
    used = set(mapping.values())
    ordered = [t for t in order if t in used]
    return _ordered(mapping, ordered)


class _OrderedMapping(dict):
    """A dict source -> target that remembers the order of the targets (``.targets``)."""

    targets: list[str]


def _ordered(mapping: dict, targets: list[str]) -> dict:
    out = _OrderedMapping(mapping)
    out.targets = list(targets)
    return out


def targets_of(mapping: dict) -> list[str]:
    """Target labels in the mapping's order (first appearance when the mapping carries no order)."""
    if hasattr(mapping, "targets"):
        return list(mapping.targets)
    return list(dict.fromkeys(mapping.values()))


def mapping_matrix(sources, mapping: dict, targets=None) -> np.ndarray:
    """0/1 matrix (len(sources), len(targets)); every source must map to one of ``targets``."""
    targets = targets_of(mapping) if targets is None else list(targets)
    pos = {t: n for n, t in enumerate(targets)}
    M = np.zeros((len(sources), len(targets)))
    for k, s in enumerate(sources):
        if s not in mapping:
            raise KeyError(f"mapping: source {s!r} has no target")
        if mapping[s] not in pos:
            raise KeyError(f"mapping: target {mapping[s]!r} of {s!r} is not among {targets}")
        M[k, pos[mapping[s]]] = 1.0
    return M


def groups_on(mapping: dict, groups: dict[str, list[str]] | None = None, sources=None) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Groups on aggregated regions, kept only where the aggregated regions represent them exactly.

    A target belongs to a group when all its sources do. A group some of whose members sit in a
    target together with non-members cannot be represented and is dropped. Returns ``(groups,
    partial)``: the exact groups with their aggregated members (groups with no member dropped too),
    and for each dropped group the targets that mix members and non-members.
    """
    groups = country_groups() if groups is None else groups
    sources = list(mapping) if sources is None else list(sources)
    targets = targets_of(mapping)
    members_of = {t: [s for s in sources if mapping[s] == t] for t in targets}
    out, partial = {}, {}
    for g, countries in groups.items():
        cs = set(countries)
        full = [t for t in targets if members_of[t] and set(members_of[t]) <= cs]
        part = [t for t in targets if members_of[t] and (set(members_of[t]) & cs) and not set(members_of[t]) <= cs]
        if part:
            partial[g] = part
        elif full:
            out[g] = full
    return out, partial


# ---------------------------------------------------------------------------------------------- arrays
def aggregate_array(arr: np.ndarray, matrices: list[np.ndarray | None]) -> np.ndarray:
    """Sum ``arr`` along each axis with a 0/1 matrix (sources x targets); ``None`` keeps an axis."""
    out = np.asarray(arr, dtype=float)
    for axis, M in enumerate(matrices):
        if M is None:
            continue
        out = np.moveaxis(np.tensordot(np.moveaxis(out, axis, -1), M, axes=([-1], [0])), -1, axis)
    return out


def aggregate(bench: Benchmark, regions: dict | str | Path | None = None, sectors: dict | str | Path | None = None, name: str | None = None) -> Benchmark:
    """Aggregate ``bench`` by region and sector mappings (dicts or mapping files); see the module doc.

    Elasticities of an aggregated sector are averages weighted by the members' gross output;
    employment is summed; a target region is an employment proxy when any of its members is; groups
    are carried over when the target regions represent them exactly (:func:`groups_on`).
    """
    if isinstance(regions, (str, Path)):
        regions = read_mapping(regions, table="regions", sources=bench.regions)
    if isinstance(sectors, (str, Path)):
        sectors = read_mapping(sectors, table="sectors", sources=bench.sectors)
    regions = regions or _ordered({r: r for r in bench.regions}, list(bench.regions))
    sectors = sectors or _ordered({s: s for s in bench.sectors}, list(bench.sectors))
    rt, st = targets_of(regions), targets_of(sectors)
    MR = mapping_matrix(bench.regions, regions, rt)
    MS = mapping_matrix(bench.sectors, sectors, st)
    R2 = len(rt)

    z = aggregate_array(bench.z_0, [MR, MS, MR, MS])
    f = aggregate_array(bench.f_0, [MR, MS, MR, None])
    # tariff each buyer paid: a duty exemption (cge.instruments) lowers its sector's rate; the aggregate
    # table has none, the exemption's value moving into factor payments with the other rate differences
    paid_rate = bench.intermediate_tariff if bench.duty_exemption_0.any() else bench.tariff_0[..., 0][..., None]
    paid_z = aggregate_array(bench.z_0 * paid_rate, [MR, MS, MR, MS])
    paid_f = aggregate_array(bench.f_0 * bench.tariff_0[..., 1][..., None], [MR, MS, MR, None])
    t = np.zeros((R2, len(st), R2, 2))
    t[..., 0] = np.divide(paid_z.sum(axis=3), z.sum(axis=3), out=np.zeros_like(t[..., 0]), where=z.sum(axis=3) > 0)
    t[..., 1] = np.divide(paid_f.sum(axis=3), f.sum(axis=3), out=np.zeros_like(t[..., 1]), where=f.sum(axis=3) > 0)
    for s in range(R2):
        t[s, :, s, :] = 0.0  # flows inside an aggregated region are domestic: no tariff
    # Costs of each using sector must not change: the tariff it paid (at detailed rates) less what it
    # pays at the aggregated rates goes to its factor payments, in proportion to them. This moves the
    # tariff paid on flows that became domestic into factor payments, and corrects for buyers whose
    # mix of detailed routes differs from the route's average.
    fp = aggregate_array(bench.fp_0, [MR, MS, None])
    paid_new = np.einsum("risj,ris->sj", z, t[..., 0])
    delta = paid_z.sum(axis=(0, 1)) - paid_new
    tot = fp.sum(axis=2)
    share = np.divide(fp, tot[..., None], out=np.full_like(fp, 1.0 / fp.shape[2]), where=tot[..., None] > 0)
    fp += share * delta[..., None]
    if (fp < 0).any():
        raise ValueError("aggregate: factor payments would turn negative after moving tariffs; check the tariffs")
    emp = None if bench.employment is None else aggregate_array(bench.employment, [MR, MS])
    weights = bench.output
    wsum = weights.sum(axis=0) @ MS
    elasticities = {
        k: np.divide(v * weights.sum(axis=0) @ MS, wsum, out=(np.full(len(st), v.mean())), where=wsum > 0)
        for k, v in bench.elasticities.items()
    }
    groups, _ = groups_on(regions, {g: list(m) for g, m in bench.groups.items()} if bench.groups else {}, sources=bench.regions)
    proxy = [r for r in rt if any(regions[m] == r for m in bench.employment_proxy)]
    meta = dict(bench.metadata)
    meta["name"] = name or f"{meta.get('name', 'benchmark')}-aggregated"
    meta["aggregated_from"] = bench.metadata.get("name", "")
    return Benchmark.from_arrays(
        rt,
        st,
        z,
        f,
        {fname: fp[..., k] for k, fname in enumerate(bench.factors)},
        tariffs=t,
        employment=emp,
        elasticities=elasticities,
        groups=groups,
        agents=list(bench.agents),
        metadata=meta,
        employment_proxy=proxy,
    )


__all__ = [
    "ASEAN",
    "EU27_2007",
    "aggregate",
    "aggregate_array",
    "country_groups",
    "eu_members",
    "groups_on",
    "mapping_from_spec",
    "mapping_matrix",
    "read_mapping",
    "targets_of",
    "to_iso3",
]
