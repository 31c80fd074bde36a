"""Wall time and peak memory of every GVC indicator family on the full WIOD 2011 table.

The table (41 regions x 35 sectors, N = 1435; WIOD 2013 release) is read from
``../shared/data/wiod2013/npz/wiot_2011.npz`` beside the repository root (see PROVENANCE.txt
there): ``Z`` (1435 x 1435), ``F`` (1435 x 205, 41 destination countries x 5 final-demand
categories, country-major), ``x``. Final demand is summed over categories by destination.

Each family runs on one :class:`cge.gvc.MRIO` whose Leontief algebra is computed first (the
``table`` row), as the results layer does; decomposition terms memoised on the table by earlier
families are cleared first. ``summary`` is timed end to end from the raw arrays.
Peak memory is the tracemalloc peak of the family's own allocations (numpy arrays included);
the process maximum resident set size is printed at the end. Goal: everything within 30 s and 4 GB.

Usage: ``python benchmarks/bench_gvc.py [path/to/wiot_2011.npz]``
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from cge import gvc

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "wiod2013" / "npz" / "wiot_2011.npz"
NAFTA = {"NAFTA": ["CAN", "MEX", "USA"]}


def load_wiod(path: Path) -> dict:
    data = np.load(path, allow_pickle=False)
    regions = [str(c) for c in data["countries"]]
    sectors = [str(s) for s in data["industries"]]
    n_cat = data["F"].shape[1] // len(regions)
    Y = data["F"].reshape(len(data["x"]), len(regions), n_cat).sum(axis=2)
    return {"Z": data["Z"], "Y": Y, "x": data["x"], "regions": regions, "sectors": sectors}


def families(t: gvc.MRIO) -> dict:
    """Indicator families, each a callable of the prepared table."""
    return {
        "leontief V B diag(E), VS, VAX, NRCA": lambda: (
            gvc.leontief(t), gvc.vertical_specialisation(t, "sector"), gvc.vax(t, "bilateral"), gvc.nrca(t)
        ),
        "KWW (9 terms, country)": lambda: gvc.kww(t),
        "WWZ (16 terms, sector x importer)": lambda: gvc.wwz(t),
        "BM exporter/source (all levels)": lambda: [gvc.borin_mancini(t, aggregation=a) for a in gvc.AGGREGATIONS],
        "BM exporter/sink (sector x importer)": lambda: gvc.borin_mancini(
            t, approach="sink", aggregation="sector_bilateral"
        ),
        "BM world (source, sink)": lambda: [gvc.borin_mancini(t, "world", ap) for ap in ("source", "sink")],
        "BM self (sector, pair, sector x importer)": lambda: [
            gvc.borin_mancini(t, "self", aggregation=a) for a in ("sector", "bilateral", "sector_bilateral")
        ],
        "BM imports (country, bilateral)": lambda: [gvc.bm_imports(t, a) for a in ("country", "bilateral")],
        "Miroudot-Ye (world perimeter)": lambda: gvc.miroudot_ye(t, "sector"),
        "OECD TiVA": lambda: (gvc.tiva(t), gvc.tiva(t, "sector")),
        "WWYZ 2017 participation": lambda: gvc.wwyz_participation(t, "sector"),
        "positions (U, D, PL, crossings)": lambda: (
            gvc.upstreamness(t), gvc.downstreamness(t), gvc.production_length(t), gvc.border_crossings(t)
        ),
        "trade structure (intra-group, intermediates)": lambda: (
            gvc.intra_regional_trade_share(t, {"EU6": ["DEU", "FRA", "ITA", "ESP", "NLD", "BEL"], **NAFTA}),
            gvc.intermediate_share(t, "sector"),
        ),
        "BM-Taglioni tripartite (trade, output)": lambda: (
            gvc.bm2025_trade(t, "bilateral"), gvc.bm2025_output(t, "sector")
        ),
    }


def measure(fn) -> tuple[float, float]:
    tracemalloc.start()
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / 2**20


def main(path: Path = DEFAULT) -> None:
    if not path.exists():
        sys.exit(f"WIOD table not found at {path}")
    raw = load_wiod(path)
    rows = []
    holder = {}

    def prepare():
        t = gvc.MRIO(raw["Z"], raw["Y"], raw["x"], regions=raw["regions"], sectors=raw["sectors"])
        for name in ("B", "L", "Bd", "vbc", "vl_dom", "bfd", "Am", "Bm", "esr"):
            getattr(t, name)
        holder["t"] = t

    rows.append(("table (A, B, L, multipliers)", *measure(prepare)))
    for name, fn in families(holder["t"]).items():
        holder["t"]._memo.clear()  # each family computes its own terms
        rows.append((name, *measure(fn)))
    def run_summary():
        gvc.summary(raw["Z"], raw["Y"], raw["x"], regions=raw["regions"], sectors=raw["sectors"], groups=NAFTA)

    rows.append(("summary (end to end, NAFTA group)", *measure(run_summary)))

    width = max(len(r[0]) for r in rows)
    print(f"WIOD 2011: N = {len(raw['x'])} ({len(raw['regions'])} regions x {len(raw['sectors'])} sectors)")
    print(f"{'family':<{width}}  {'time (s)':>9}  {'peak (MiB)':>10}")
    print("-" * (width + 23))
    for name, sec, mib in rows:
        print(f"{name:<{width}}  {sec:>9.2f}  {mib:>10.1f}")
    print("-" * (width + 23))
    total = sum(r[1] for r in rows)
    print(f"{'total':<{width}}  {total:>9.2f}  {max(r[2] for r in rows):>10.1f} (max)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    print(f"process max resident set size: {rss:.0f} MiB")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
