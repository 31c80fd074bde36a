"""Trade agreements as data: members, entry into force, rules of origin; MFN tariffs and preference margins.

The agreements relevant to the built-in benchmarks' regions live in two small CSV files that users
can edit (``cge/data/agreements/``, documented in its ``README.md``):

- ``agreements.csv``, one row per agreement: its WTO RTA number, type, and rule of origin (regional
  value content threshold ``rvc_pct``, whether a change of tariff subheading is required on top of
  it, whether a change of tariff heading is an alternative to it, the cumulation zone) with the
  legal source of the rule;
- ``members.csv``, one row per agreement and member: entry into force (and exit) for that member,
  with its source (the WTO RTA database; RCEP's depositary notices).

:func:`load` returns them joined and validated (errors name the file, the row and the column).

MFN tariffs and preference margins are derived from the applied tariffs the benchmarks were built
from (Teti 2011, 2019, 2021 in the ICIO cubes, with the benchmark's fixes,
:func:`cge.sources.build.treated_tariffs`). An importer's MFN tariff in a cube sector is the **modal
rate it applies to exporters without any agreement in force** in the tariff year (WTO RTA database,
all agreements, plus RCEP from ``members.csv``): the cube gives every exporter without a preference
the same rate of an importer and sector, so the mode recovers it, and unlike a trade-weighted mean
it is not pulled down by exporters with unilateral preferences (GSP) that the RTA data do not list.
The preference margin of a pair is ``max(MFN - applied, 0)``. Both are averaged to model routes
with ICIO trade as weights, exactly as the benchmark's applied tariffs are
(:func:`preference_margins`), so ``applied`` there equals the benchmark's tariffs before the
revenue treatment of :mod:`cge.sources.customs`.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent / "data" / "agreements"
RULE_COLUMNS = ("agreement", "name", "wto_rta_id", "type", "rvc_pct", "ctsh_required", "cth_alternative", "cumulation", "roo_source", "note")
MEMBER_COLUMNS = ("agreement", "member", "entry_into_force", "exit", "source")
CUMULATION = {"agreement": "materials of any member of the agreement count as originating", "bilateral": "only the two parties' materials"}
TYPES = ("FTA", "CU", "PSA", "EIA")
ASEAN = ("BRN", "IDN", "KHM", "LAO", "MMR", "MYS", "PHL", "SGP", "THA", "VNM")
EU_PARTY = "EUN"
"""The European Union as a party (members.csv); :func:`pairs_in_force` expands it to the EU's members."""
RTA_FOLDER = "fta_rta_membership"
TARIFF_YEARS = {2022: 2021}
"""Benchmark years whose cube carries the tariffs of another year (ICIO 2022 holds Teti 2021)."""


class AgreementDataError(ValueError):
    """A row of the agreements tables is invalid; the message names the file, row and column."""


# ------------------------------------------------------------------------------------------ the tables
def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _fail(file: str, i: int, row, column: str, why: str):
    label = row.get("agreement", "")
    raise AgreementDataError(f"{file}, row {i + 2} ({label}), column {column!r}: {why}")


def _parsed(file: str, i: int, row, column: str, parse, what: str):
    """``parse(row[column])``, or an error naming the row and column."""
    try:
        return parse(row[column])
    except ValueError:
        _fail(file, i, row, column, f"{row[column]!r} is not {what}")


def validate_rules(df: pd.DataFrame, file: str = "agreements.csv") -> pd.DataFrame:
    """Check the agreements table and type its columns (``rvc_pct`` float or NaN, flags bool or NaN)."""
    missing = [c for c in RULE_COLUMNS if c not in df.columns]
    if missing:
        raise AgreementDataError(f"{file}: missing columns {missing}")
    seen = set()
    for i, row in df.iterrows():
        if not re.fullmatch(r"[A-Za-z0-9_-]+", row["agreement"]):
            _fail(file, i, row, "agreement", "an identifier of letters, digits, '-' or '_' is required")
        if row["agreement"] in seen:
            _fail(file, i, row, "agreement", "duplicate")
        seen.add(row["agreement"])
        if not row["name"].strip():
            _fail(file, i, row, "name", "empty")
        if row["wto_rta_id"] and not row["wto_rta_id"].isdigit():
            _fail(file, i, row, "wto_rta_id", f"{row['wto_rta_id']!r} is not a WTO RTA number")
        if row["type"] not in TYPES:
            _fail(file, i, row, "type", f"{row['type']!r} is not one of {TYPES}")
        if row["rvc_pct"]:
            v = _parsed(file, i, row, "rvc_pct", float, "a number")
            if not 0 <= v <= 100:
                _fail(file, i, row, "rvc_pct", f"{v} is not a percentage in [0, 100]")
            if not row["roo_source"].strip():
                _fail(file, i, row, "roo_source", "a rule of origin needs its legal source")
            for flag in ("ctsh_required", "cth_alternative"):
                if row[flag] not in ("yes", "no"):
                    _fail(file, i, row, flag, f"{row[flag]!r}: 'yes' or 'no' where a rule of origin is given")
        elif row["ctsh_required"] or row["cth_alternative"]:
            _fail(file, i, row, "rvc_pct", "empty while change-of-tariff flags are set")
        if row["cumulation"] not in CUMULATION:
            _fail(file, i, row, "cumulation", f"{row['cumulation']!r} is not one of {sorted(CUMULATION)}")
    out = df.copy()
    out["rvc_pct"] = pd.to_numeric(out["rvc_pct"].replace("", np.nan))
    out["wto_rta_id"] = pd.to_numeric(out["wto_rta_id"].replace("", np.nan)).astype("Int64")
    for flag in ("ctsh_required", "cth_alternative"):
        out[flag] = out[flag].map({"yes": True, "no": False, "": pd.NA}).astype("boolean")
    return out


def validate_members(df: pd.DataFrame, agreements, file: str = "members.csv") -> pd.DataFrame:
    """Check the members table against the agreement identifiers; dates become ``datetime64``."""
    missing = [c for c in MEMBER_COLUMNS if c not in df.columns]
    if missing:
        raise AgreementDataError(f"{file}: missing columns {missing}")
    known = set(agreements)
    seen = set()
    for i, row in df.iterrows():
        if row["agreement"] not in known:
            _fail(file, i, row, "agreement", "not in agreements.csv")
        if not re.fullmatch(r"[A-Z]{3}", row["member"]):
            _fail(file, i, row, "member", f"{row['member']!r} is not an ISO3 code (or EUN for the European Union)")
        key = (row["agreement"], row["member"])
        if key in seen:
            _fail(file, i, row, "member", "listed twice for this agreement")
        seen.add(key)
        start = _parsed(file, i, row, "entry_into_force", date.fromisoformat, "a date YYYY-MM-DD")
        if row["exit"]:
            if _parsed(file, i, row, "exit", date.fromisoformat, "a date YYYY-MM-DD") <= start:
                _fail(file, i, row, "exit", "not after entry_into_force")
        if not row["source"].strip():
            _fail(file, i, row, "source", "empty: every date needs its source")
    out = df.copy()
    out["entry_into_force"] = pd.to_datetime(out["entry_into_force"])
    out["exit"] = pd.to_datetime(out["exit"].replace("", None))
    return out


def rules(folder: Path | str | None = None) -> pd.DataFrame:
    """The agreements table, validated: one row per agreement with its rule of origin."""
    folder = Path(folder) if folder is not None else DATA
    return validate_rules(_read(folder / "agreements.csv"))


def load(folder: Path | str | None = None) -> pd.DataFrame:
    """Members and dates joined with the rules: one validated row per (agreement, member)."""
    folder = Path(folder) if folder is not None else DATA
    r = rules(folder)
    m = validate_members(_read(folder / "members.csv"), r["agreement"])
    return m.merge(r, on="agreement", how="left")


def in_force(year: int, folder: Path | str | None = None) -> pd.DataFrame:
    """Rows of :func:`load` in force at some time in ``year`` (entry by 31 December, no exit before 1 January)."""
    df = load(folder)
    start, end = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    keep = (df["entry_into_force"] <= end) & (df["exit"].isna() | (df["exit"] > start))
    return df[keep].reset_index(drop=True)


# ------------------------------------------------------------------------------------------ from the raw WTO data
_SPECIFIC = re.compile(r"(\d{2}-[A-Za-z]{3}-\d{4})\s*-\s*(\d{2}-[A-Za-z]{3}-\d{4})?")


def _specific_dates(text: str) -> tuple[str, str]:
    """``'01-Jun-2009 - '`` -> ``('2009-06-01', '')``; the WTO's ``01-Jan-9999`` (not yet) -> ``('', '')``."""
    m = _SPECIFIC.search(text or "")
    if not m:
        return "", ""
    conv = [pd.to_datetime(x, format="%d-%b-%Y").date().isoformat() if x else "" for x in m.groups()]
    return ("", "") if conv[0].startswith("9999") else (conv[0], conv[1])


def derive_members(agreements: pd.DataFrame | None = None, root: Path | str | None = None) -> pd.DataFrame:
    """Members rows of the agreements with a WTO RTA number, from the staged WTO export.

    Reads ``rta_members_target.csv`` of ``fta_rta_membership`` (one row per RTA and member among
    the benchmark economies and the EU). Entry into force: the member's specific date where the WTO
    gives one, else the agreement's goods date; exit: the agreement's inactive date. Members whose
    specific date is the WTO's placeholder for "not yet" are left out.
    """
    from .sources import source_file

    agreements = rules() if agreements is None else agreements
    raw = pd.read_csv(source_file(RTA_FOLDER, "rta_members_target.csv", root=root), dtype=str, keep_default_na=False)
    ids = {int(v): a for a, v in zip(agreements["agreement"], agreements["wto_rta_id"]) if not pd.isna(v)}
    rows = []
    for _, r in raw.iterrows():
        a = ids.get(int(r["rta_id"]))
        if a is None:
            continue
        start, end = _specific_dates(r["member_specific_entry_exit"])
        if r["member_specific_entry_exit"] and not start:
            continue
        rows.append(
            {
                "agreement": a,
                "member": r["member_iso3"],
                "entry_into_force": start or r["eif_goods"],
                "exit": end or r["inactive_date"],
                "source": f"WTO RTA database, AllRTAs export, RTA {r['rta_id']}" + (" (member-specific date)" if start else ""),
            }
        )
    order = {a: k for k, a in enumerate(agreements["agreement"])}
    out = pd.DataFrame(rows, columns=list(MEMBER_COLUMNS))
    out["_k"] = out["agreement"].map(order)
    return out.sort_values(["_k", "member"]).drop(columns="_k").reset_index(drop=True)


def _parties(text: str, year: int, iso: dict) -> set[str]:
    """ISO3 codes of the WTO names in ``text`` (";"-separated); the EU and ASEAN (AFTA) expanded.

    ``iso`` maps the other names to ISO3 (None for names not found or ambiguous, which are dropped).
    """
    from .aggregate import eu_members

    out: set[str] = set()
    for n in (n.strip() for n in (text or "").split(";")):
        if n.startswith("European Union") or n.startswith("European Communities"):
            out |= set(eu_members(max(year, 2007)))
        elif n.startswith("ASEAN Free Trade Area"):
            out |= set(ASEAN)
        elif isinstance(iso.get(n), str):
            out.add(iso[n])
    return out


def _iso_of_names(texts) -> dict:
    """WTO party names -> ISO3, converted in one call (ambiguous names, e.g. Aruba's, become None)."""
    from .aggregate import to_iso3

    names = sorted({n.strip() for t in texts for n in (t or "").split(";") if n.strip()})
    return {n: (c if isinstance(c, str) else None) for n, c in zip(names, to_iso3(names, not_found=None))}


def pairs_in_force(year: int, root: Path | str | None = None, folder: Path | str | None = None) -> set[frozenset]:
    """Unordered country pairs (ISO3) with a goods agreement in force at some time in ``year``.

    All agreements of the WTO RTA database (any economy, not only the benchmarks'), with members =
    current signatories (original ones for inactive agreements) and the agreement's goods dates,
    plus the rows of ``members.csv`` (RCEP, member-specific dates). Services-only agreements are
    left out. A pair counts if both members were in during part of the year.
    """
    from .sources import source_file

    allrtas = pd.read_csv(source_file(RTA_FOLDER, "wto_rta_allrtas.csv", root=root), dtype=str, keep_default_na=False)
    start, end = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    iso = _iso_of_names(list(allrtas["Current signatories"]) + list(allrtas["Original signatories"]))
    pairs: set[frozenset] = set()
    for _, r in allrtas.iterrows():
        eif = pd.to_datetime(r["Date of Entry into Force (G)"] or None)
        out = pd.to_datetime(r["Inactive Date"] or None)
        if pd.isna(eif) or eif > end or (not pd.isna(out) and out <= start):
            continue
        members = sorted(_parties(r["Current signatories"] or r["Original signatories"], year, iso))
        pairs |= {frozenset((a, b)) for k, a in enumerate(members) for b in members[k + 1 :]}
    table = in_force(year, folder)
    eu = _parties("European Union", year, iso)
    for _, g in table.groupby("agreement"):
        members = set()
        for m in g["member"]:
            members |= eu if m == EU_PARTY else {m}
        members = sorted(members)
        pairs |= {frozenset((a, b)) for k, a in enumerate(members) for b in members[k + 1 :]}
    return pairs


# ------------------------------------------------------------------------------------------ MFN and margins
def _cube_and_benchmark(bench, root=None):
    """The benchmark, its cube (tariff year), treated tariffs and the cube -> model matrices."""
    from . import datasets
    from .sources.build import icio_to_model, treated_tariffs
    from .sources.icio_cubes import read_cube

    b = datasets.load(bench) if isinstance(bench, str) else bench
    meta = b.metadata
    year = int(meta["base_year"])
    cube = read_cube(year, root=root)
    members = meta["members"]
    rest = next(m for m, hs in members.items() if "ROW" in hs)
    of_country = {h: m for m, hs in members.items() for h in hs}
    MC = np.zeros((len(cube.countries), len(b.regions)))
    for k, c in enumerate(cube.countries):
        MC[k, b.regions.index(of_country.get(c, rest))] = 1.0
    smap = {w: m for m, ws in meta["sector_members"].items() for w in ws}
    wiod_sectors = [w for m in b.sectors for w in meta["sector_members"][m]]
    MK = icio_to_model(cube, wiod_sectors, smap, b.sectors)
    unions = {"EU": [c for c in members.get("EU", []) if c in cube.countries]}
    T, _ = treated_tariffs(cube, unions)
    return b, cube, T, MC, MK, unions, TARIFF_YEARS.get(year, year)


def country_mfn(cube, T: np.ndarray, pairs: set[frozenset], unions: dict[str, list[str]]) -> pd.DataFrame:
    """MFN tariff by (importer country, cube sector): the modal rate on exporters without an agreement.

    Candidates: exporters other than the importer, the cube's rest of the world (a mix of partners and
    non-partners), the importer's customs-union partners and its agreement partners (``pairs``). The
    mode is taken on rates rounded to 1e-9; ties go to the higher rate. Where no exporter is a
    candidate the highest applied rate is used (``method = 'max'``). Also returned, as checks: the
    trade-weighted mean over the candidates, the share of the candidates' imports at the mode and the
    number of candidates.
    """
    countries = cube.countries
    union_of = {c: set(m) for m in unions.values() for c in m}
    rows = []
    X = cube.trade
    for m, imp in enumerate(countries):
        cand = [e for e, exp in enumerate(countries) if e != m and exp != "ROW" and exp not in union_of.get(imp, ()) and frozenset((exp, imp)) not in pairs]
        for k, sec in enumerate(cube.sectors):
            t = T[cand, k, m]
            w = X[cand, k, m]
            if len(cand):
                vals, counts = np.unique(np.round(t, 9), return_counts=True)
                at = np.round(t, 9) == vals[counts == counts.max()].max()
                mfn = float(t[at].max())
                method = "mode"
                share = float(w[at].sum() / w.sum()) if w.sum() > 0 else float(at.mean())
                mean = float((w * t).sum() / w.sum()) if w.sum() > 0 else float(t.mean())
            else:
                others = [e for e in range(len(countries)) if e != m]
                mfn, method, share, mean = float(T[others, k, m].max()), "max", np.nan, np.nan
            rows.append((imp, sec, mfn, method, len(cand), share, mean))
    return pd.DataFrame(rows, columns=["importer", "sector", "mfn", "method", "candidates", "share_at_mode", "weighted_mean"])


def _pair_arrays(bench, root=None, folder=None):
    b, cube, T, MC, MK, unions, tyear = _cube_and_benchmark(bench, root)
    pairs = pairs_in_force(tyear, root=root, folder=folder)
    mfn_tab = country_mfn(cube, T, pairs, unions)
    N, K = len(cube.countries), len(cube.sectors)
    mfn = mfn_tab["mfn"].to_numpy().reshape(N, K).T  # (K, N): [sector, importer]
    margin = mfn[None, :, :] - T
    margin[margin < 1e-9] = 0.0  # floored at zero; rounding noise of the cube's concorded rates dropped
    idx = np.arange(N)
    margin[idx, :, idx] = 0.0
    return b, cube, T, MC, MK, mfn, margin, mfn_tab, tyear


def _route_mean(X, V, MC, MK):
    num = np.einsum("ekm,eE,kI,mM->EIM", X * V, MC, MK, MC, optimize=True)
    den = np.einsum("ekm,eE,kI,mM->EIM", X, MC, MK, MC, optimize=True)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0), den


def preference_margins(bench="eastasia-2011", root: Path | str | None = None, folder: Path | str | None = None) -> pd.DataFrame:
    """Applied and MFN tariffs and the preference margin per model route and commodity (fractions).

    One row per ``(exporter, commodity, importer)`` of the benchmark (a name or a
    :class:`cge.Benchmark` built by the package) with ``applied`` (the benchmark's tariff before the
    revenue treatment), ``mfn`` (the importer's MFN rates, :func:`country_mfn`, averaged over the
    route's country pairs and cube sectors with the route's ICIO trade as weights), ``margin`` (the
    same average of the pairs' ``max(MFN - applied, 0)``), ``trade`` (the route's ICIO trade, US$
    million, the weights) and ``agreements`` (those of ``members.csv`` in force in the tariff year
    between some country of the exporting and some country of the importing region). Needs the raw
    data (ICIO cube, WTO RTA export).
    """
    b, cube, T, MC, MK, mfn, margin, _, tyear = _pair_arrays(bench, root, folder)
    X = cube.trade.copy()
    applied, den = _route_mean(X, T, MC, MK)
    mfn_r, _ = _route_mean(X, np.broadcast_to(mfn[None], X.shape), MC, MK)
    marg, _ = _route_mean(X, margin, MC, MK)
    R = len(b.regions)
    for arr in (applied, mfn_r, marg, den):
        arr[np.arange(R), :, np.arange(R)] = 0.0
    covers = _route_agreements(b, cube, MC, tyear, folder)
    idx = pd.MultiIndex.from_product([b.regions, b.sectors, b.regions], names=["exporter", "commodity", "importer"])
    out = pd.DataFrame(
        {"applied": applied.ravel(), "mfn": mfn_r.ravel(), "margin": marg.ravel(), "trade": den.ravel()}, index=idx
    ).reset_index()
    out["agreements"] = [covers.get((r, s), "") for r, s in zip(out["exporter"], out["importer"])]
    out = out[out["exporter"] != out["importer"]].reset_index(drop=True)
    out.attrs["tariff_year"] = tyear
    return out


STORED = DATA / "margins"
"""Derived preference margins of the built-in benchmarks (:func:`write_margins`), usable without the raw data."""
BUILT_IN = ("eastasia-2011", "eastasia-2019", "eastasia-2022")


def write_margins(names=BUILT_IN, folder: Path | str | None = None, root: Path | str | None = None) -> list[Path]:
    """Write :func:`preference_margins` of each benchmark to ``<folder>/<name>.csv.gz`` (goods routes with trade).

    Rebuild after changing the agreements tables: ``python -c "import cge.agreements as a; a.write_margins()"``.
    """
    import gzip

    folder = Path(folder) if folder is not None else STORED
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        m = preference_margins(name, root=root)
        m = m[(m["mfn"] > 0) | (m["applied"] > 0)]
        m.insert(0, "tariff_year", m.attrs["tariff_year"])
        path = folder / f"{name}.csv.gz"
        with gzip.GzipFile(path, "wb", mtime=0) as fh:  # no time stamp: a rebuild gives the same bytes
            fh.write(m.to_csv(index=False, float_format="%.10g", lineterminator="\n").encode())
        paths.append(path)
    return paths


def stored_margins(name: str = "eastasia-2011", folder: Path | str | None = None) -> pd.DataFrame:
    """The stored :func:`preference_margins` of a built-in benchmark (no raw data needed).

    Rows are the routes with a non-zero MFN or applied tariff (goods); routes left out have neither.
    """
    folder = Path(folder) if folder is not None else STORED
    path = folder / f"{name}.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"no stored margins for {name!r} in {folder}; stored: {sorted(p.name for p in folder.glob('*.csv.gz'))}")
    out = pd.read_csv(path, keep_default_na=False)
    out.attrs["tariff_year"] = int(out["tariff_year"].iloc[0])
    return out.drop(columns="tariff_year")


def _route_agreements(b, cube, MC, year, folder=None) -> dict:
    table = in_force(year, folder)
    region_of = {c: b.regions[int(np.argmax(MC[k]))] for k, c in enumerate(cube.countries)}
    covers: dict = {}
    for a, g in table.groupby("agreement", sort=False):
        regs = sorted({region_of.get(m) for m in g["member"] if m in region_of})
        for r in regs:
            for s in regs:
                if r != s:
                    covers.setdefault((r, s), []).append(a)
    return {k: " ".join(v) for k, v in covers.items()}


def mfn_tariffs(bench="eastasia-2011", root: Path | str | None = None, folder: Path | str | None = None) -> pd.DataFrame:
    """MFN tariff by model importer and commodity (fraction), with the tariff year.

    The importer countries' MFN rates (:func:`country_mfn`) averaged over the cube sectors of the
    commodity and the countries of the importing region, with the region's imports from outside it
    as weights.
    """
    b, cube, T, MC, MK, mfn, _, _, tyear = _pair_arrays(bench, root, folder)
    X = cube.trade.copy()
    same = MC @ MC.T > 0  # exporter and importer in the same model region
    X[np.broadcast_to(same[:, None, :], X.shape)] = 0.0
    num = np.einsum("ekm,km,kI,mM->MI", X, mfn, MK, MC, optimize=True)
    den = np.einsum("ekm,kI,mM->MI", X, MK, MC, optimize=True)
    val = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    idx = pd.MultiIndex.from_product([b.regions, b.sectors], names=["importer", "commodity"])
    out = pd.DataFrame({"mfn": val.ravel(), "imports": den.ravel()}, index=idx).reset_index()
    out.attrs["tariff_year"] = tyear
    return out


def margins_by_agreement(bench="eastasia-2011", agreements=None, root=None, folder=None, within: str = "ATIGA") -> pd.DataFrame:
    """Trade-weighted applied, MFN and margin over the country pairs of each agreement (goods only).

    Pairs are ordered (exporter, importer), both members in force in the tariff year, and weighted
    by their ICIO trade in the cube's goods sectors. For an agreement other than ``within`` (ATIGA)
    that has members of ``within``, only pairs with exactly one member of ``within`` are kept:
    ASEAN's internal trade is under ATIGA, and Australia-New Zealand trade under their own
    agreement, so an ASEAN+1 agreement's pairs are those between ASEAN and its partners. ``direction`` splits
    them into exports from ASEAN members and exports to them (``all`` = both). A pair covered by
    several agreements (e.g. Japan-Thailand: JTEPA and AJCEP) counts in each, with the one applied
    rate the data give (the best preference, at full use).
    """
    b, cube, T, MC, MK, mfn, margin, _, tyear = _pair_arrays(bench, root, folder)
    table = in_force(tyear, folder)
    goods = [k for k, s in enumerate(cube.sectors) if s != cube.services_sector]
    X = cube.trade[:, goods, :]
    inner = set(table.loc[table["agreement"] == within, "member"])
    rows = []
    for a in agreements or list(dict.fromkeys(table["agreement"])):
        mem = [m for m in table.loc[table["agreement"] == a, "member"] if m in cube.countries]
        pairs = [(i, j) for i in mem for j in mem if i != j]
        directions = [("all", lambda i, j: True)]
        if a != within and inner & set(mem):
            pairs = [(i, j) for i, j in pairs if (i in inner) != (j in inner)]
            directions += [("from ASEAN", lambda i, j: i in ASEAN), ("to ASEAN", lambda i, j: j in ASEAN)]
        for direction, keep in directions:
            sel = [(cube.index(i), cube.index(j)) for i, j in pairs if keep(i, j)]
            if not sel:
                continue
            e, m = np.array(sel).T
            x = X[e, :, m]
            w = x.sum()
            t = T[:, goods, :][e, :, m]
            f = mfn[goods][:, m].T
            g = margin[:, goods, :][e, :, m]
            rows.append((a, direction, len(sel), float(w), float((x * t).sum() / w), float((x * f).sum() / w), float((x * g).sum() / w)))
    out = pd.DataFrame(rows, columns=["agreement", "direction", "pairs", "trade", "applied", "mfn", "margin"])
    out.attrs["tariff_year"] = tyear
    return out


__all__ = [
    "AgreementDataError",
    "country_mfn",
    "derive_members",
    "in_force",
    "load",
    "margins_by_agreement",
    "mfn_tariffs",
    "pairs_in_force",
    "preference_margins",
    "rules",
    "stored_margins",
    "validate_members",
    "validate_rules",
    "write_margins",
]
