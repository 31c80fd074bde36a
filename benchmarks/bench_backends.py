"""Build and solve times, iterations and peak memory of the Pyomo and fast backends by model size.

For each size the same scenario runs through both backends in this process: importer ``R1`` (the
first region; ``USA`` for WIOD) raises its tariff on every import, from every partner, of every
commodity and for both uses, by 10 percentage points. Models are built with ``sourcing="agent"``
(each buyer its own two-level Armington nest: regions^2 x sectors x buyers bilateral terms) and the
default elasticities and closure. Sizes: seeded random benchmarks (:func:`cge.synthetic.random_benchmark`)
at 5x5 .. 20x20 for both backends, larger ones for the fast backend only, and the full WIOD 2011
table (41 regions x 35 sectors) when ``../shared/data/wiod2013/npz/wiot_2011.npz`` is present.

Columns: ``build`` is calibration plus model construction, ``solve`` the call to ``model.solve``
(including the check of every equation of the full model), ``total`` their sum; ``iters`` the
solver's iterations (Newton steps for the fast backend, Ipopt iterations for Pyomo); ``peak MB``
the largest resident set size of the process while the backend ran (sampled every 2 ms) and
``+MB`` its rise over the size at the start of the run (all fast runs come first, smallest to
largest, so that memory freed by the Pyomo runs cannot hide theirs); ``ratio`` Pyomo total / fast
total. For the largest case the fast backend's time is split into residual evaluations,
Jacobians and factorisations, and the cost of one LU factorisation of its Jacobian (dense LAPACK
and sparse SuperLU) is measured and multiplied by the number of Newton steps.

WIOD 2011 becomes a benchmark by this simple, documented treatment (:func:`wiod_benchmark`):

1. intermediate deliveries ``Z`` as published, reshaped to ``[exporter, commodity, importer, sector]``;
2. final demand agents: household = CONS_h + CONS_np, government = CONS_g, investment = GFCF + INVEN;
3. investment cells that are negative (inventory drawdowns larger than fixed capital formation)
   are set to zero;
4. gross output is the row sum of intermediate and final sales after step 3, and value added the
   column residual, output minus intermediate inputs (the published tables have no value-added
   rows); where that residual is negative (rounding of cells published in whole US$ million) the
   sector's own-region household demand is raised by the shortfall, so value added is zero there.
   The table then balances exactly: output = sales = intermediate inputs + value added;
5. value added is split into labour (60%) and capital (40%) in every region and sector;
6. no tariffs (the benchmark is at basic prices), default elasticities, no employment data.

Usage::

    python benchmarks/bench_backends.py                    # all sizes, Pyomo up to 20 x 20, WIOD
    python benchmarks/bench_backends.py --sizes 5x5 10x10 --no-wiod
    python benchmarks/bench_backends.py --sizes            # the WIOD case alone
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np

import cge
from cge.fast import FastModel
from cge.mrio import sales
from cge.synthetic import random_benchmark

WIOD = Path(__file__).resolve().parents[2] / "shared" / "data" / "wiod2013" / "npz" / "wiot_2011.npz"
PYOMO_SIZES = ("5x5", "10x10", "15x15", "20x20")
FAST_SIZES = ("30x30", "41x35")
LABOUR_SHARE = 0.6
TARIFF_RISE = 0.10


# ---------------------------------------------------------------------------- measurement


class PeakRSS:
    """Largest resident set size of the process while the block runs (a sampling thread)."""

    def __init__(self, interval=0.002):
        self.interval = interval
        self.page = os.sysconf("SC_PAGE_SIZE")

    def _rss(self):
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * self.page / 2**20

    def __enter__(self):
        self.start = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())
        self.rise = self.peak - self.start


def run(backend, bench, scenario):
    """Build and solve one model; a dict of timings, iterations, memory and the solution."""
    gc.collect()
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        if backend == "pyomo":
            model = cge.Model(bench, backend="pyomo")
        else:
            model = FastModel(bench)
        t1 = time.perf_counter()
        res = model.solve(scenario)
        t2 = time.perf_counter()
    sol = res.solution
    out = {
        "backend": backend,
        "build": t1 - t0,
        "solve": t2 - t1,
        "total": t2 - t0,
        "iterations": sol.stats.get("iterations", -1),
        "peak": mem.peak,
        "rise": mem.rise,
        "size": model.size(),
        "solution": sol,
        "model": model,
    }
    return out


# ---------------------------------------------------------------------------- benchmarks


def wiod_benchmark(path=WIOD) -> cge.Benchmark:
    """The WIOD 2011 table as a balanced benchmark, by the treatment in the module docstring."""
    data = np.load(path)
    regions = [str(c) for c in data["countries"]]
    sectors = [str(c) for c in data["industries"]]
    R, S = len(regions), len(sectors)
    Z = data["Z"].reshape(R, S, R, S)
    F5 = data["F"].reshape(R, S, R, 5)  # CONS_h, CONS_np, CONS_g, GFCF, INVEN
    investment = F5[..., 3] + F5[..., 4]
    negative = investment < 0
    F = np.stack([F5[..., 0] + F5[..., 1], F5[..., 2], np.where(negative, 0.0, investment)], axis=-1)
    va = sales(Z, F) - Z.sum(axis=(0, 1))
    short = np.maximum(-va, 0.0)
    own = np.arange(R)
    F[own[:, None], np.arange(S)[None, :], own[:, None], 0] += short
    va = sales(Z, F) - Z.sum(axis=(0, 1))
    va = np.maximum(va, 0.0)  # exact zeros where step 4 filled a shortfall
    print(
        f"WIOD 2011: {int(negative.sum())} negative investment cells set to zero ({investment[negative].sum():,.0f} US$ m); "
        f"{int((short > 0).sum())} sectors with negative residual value added raised to zero ({short.sum():,.0f} US$ m)"
    )
    return cge.Benchmark.from_arrays(
        regions,
        sectors,
        Z,
        F,
        {"labour": LABOUR_SHARE * va, "capital": (1.0 - LABOUR_SHARE) * va},
        metadata={"name": "wiod-2011", "currency": "US$ million", "source": str(path), "treatment": "benchmarks/bench_backends.py"},
    )


def tariff_rise(bench, importer: int) -> cge.Scenario:
    """Importer ``importer`` raises every import tariff by :data:`TARIFF_RISE`."""
    t = bench.tariff_0.copy()
    partners = np.arange(bench.n_regions) != importer
    t[partners, :, importer, :] += TARIFF_RISE
    return cge.Scenario(tariff=t, name=f"{bench.regions[importer]} +10pp on all imports")


# ---------------------------------------------------------------------------- reporting


def print_row(name, r, ratio=None):
    size = r["size"]
    unknowns = size.get("reduced", size["variables"])
    its = "n/a" if r["iterations"] < 0 else str(r["iterations"])
    rat = "" if ratio is None else f"{ratio:8.1f}"
    print(
        f"{name:>10} {r['backend']:>6} {unknowns:>9,} {r['build']:8.2f} {r['solve']:8.2f} {r['total']:8.2f} {its:>6} "
        f"{r['peak']:9.0f} {r['rise']:8.0f} {rat}",
        flush=True,
    )


def header():
    print(f"{'case':>10} {'backend':>6} {'unknowns':>9} {'build s':>8} {'solve s':>8} {'total s':>8} {'iters':>6} {'peak MB':>9} {'+MB':>8} {'ratio':>8}")


def breakdown(name, r):
    """Where the fast backend's time went, and what factorising at every Newton step would cost."""
    import scipy.linalg
    import scipy.sparse
    import scipy.sparse.linalg

    st = r["solution"].stats
    model = r["model"]
    print(f"\nlargest case {name}: reduced system of {model.engine.layout.n:,} unknowns; the full model has {model.size()['variables']:,}")
    print(
        f"  solve {st['solve_seconds']:.2f} s = {st['evaluations']} evaluations {st['evaluation_seconds']:.2f} s"
        f" + {st['jacobians']} Jacobians {st['jacobian_seconds']:.2f} s + {st['factorisations']} factorisations {st['factorisation_seconds']:.2f} s"
        f" + check of the full model {st['check_seconds']:.2f} s + other {st['solve_seconds'] - st['solver_seconds'] - st['check_seconds']:.2f} s"
    )
    t0 = time.perf_counter()
    J = model.engine.jacobian()
    t1 = time.perf_counter()
    scipy.linalg.lu_factor(J, check_finite=False)
    t2 = time.perf_counter()
    Js = scipy.sparse.csc_matrix(J)
    t3 = time.perf_counter()
    lu = scipy.sparse.linalg.splu(Js)
    t4 = time.perf_counter()
    steps = st["iterations"]
    n = J.shape[0]
    print(f"  one Jacobian at the solution: {t1 - t0:.2f} s, {Js.nnz:,} non-zeros ({Js.nnz / n**2:.1%} dense)")
    print(f"  one dense LU (LAPACK): {t2 - t1:.2f} s; x {steps} Newton steps = {(t2 - t1) * steps:.2f} s")
    print(
        f"  one sparse LU (SuperLU, COLAMD): {t4 - t3:.2f} s (+ {t3 - t2:.2f} s to compress), fill {lu.L.nnz + lu.U.nnz:,} non-zeros; "
        f"x {steps} Newton steps = {(t4 - t2) * steps:.2f} s"
    )
    print(
        f"  the solve factorised {st['factorisations']} time(s) and reused the factors for the other "
        f"{max(0, steps - st['factorisations'])} step(s) (chord steps, one evaluation each)"
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="*", default=list(PYOMO_SIZES + FAST_SIZES), help="random benchmark sizes RxS")
    ap.add_argument("--max-pyomo", type=int, default=20, help="largest number of regions solved with Pyomo too")
    ap.add_argument("--no-pyomo", action="store_true")
    ap.add_argument("--no-wiod", action="store_true")
    ap.add_argument("--wiod", default=str(WIOD), help="path of wiot_2011.npz")
    args = ap.parse_args(argv)

    print(f"cge {cge.__version__}, numpy {np.__version__}, {os.cpu_count()} cpus; scenario: the first region (WIOD: USA) raises every import tariff by 10 pp")
    cases = []
    for size in args.sizes:
        R, S = (int(v) for v in size.lower().split("x"))
        bench = random_benchmark(R, S, seed=1)
        cases.append((size, bench, tariff_rise(bench, 0), not args.no_pyomo and R <= args.max_pyomo))
    wiod = Path(args.wiod)
    if not args.no_wiod and wiod.is_file():
        bench = wiod_benchmark(wiod)
        cases.append(("WIOD 2011", bench, tariff_rise(bench, bench.regions.index("USA")), False))
    elif not args.no_wiod:
        print(f"(WIOD table not found at {wiod}; skipped)")

    # the fast backend first, smallest to largest, so that its memory is not hidden by memory
    # the Pyomo runs leave to the Python allocator
    fast, ref, largest = {}, {}, None
    for name, bench, scenario, _ in cases:
        r = run("fast", bench, scenario)
        print(f"  fast  {name}: {r['total']:.2f} s", flush=True)
        largest = (name, r)
        fast[name] = {k: v for k, v in r.items() if k != "model"}
    for name, bench, scenario, with_pyomo in cases:
        if with_pyomo:
            gc.collect()
            r = run("pyomo", bench, scenario)
            print(f"  pyomo {name}: {r['total']:.2f} s", flush=True)
            ref[name] = {k: v for k, v in r.items() if k != "model"}
            del r

    print()
    header()
    for name, bench, scenario, _ in cases:
        print_row(name, fast[name])
        if name in ref:
            print_row(name, ref[name], ratio=ref[name]["total"] / fast[name]["total"])
            gap = np.max(np.abs(ref[name]["solution"].utility - fast[name]["solution"].utility))
            print(f"{'':>10} max |utility pyomo - fast| = {gap:.1e}")
        if name == "WIOD 2011":
            res = cge.Results(largest[1]["model"], scenario, fast[name]["solution"])
            w = res.welfare(decompose=False)
            print(
                f"{'':>10} EV % of income: USA {w.loc['USA', 'ev_pct']:+.3f}, CAN {w.loc['CAN', 'ev_pct']:+.3f}, "
                f"MEX {w.loc['MEX', 'ev_pct']:+.3f}, CHN {w.loc['CHN', 'ev_pct']:+.3f}, World {w.loc['World', 'ev_pct']:+.4f}; "
                f"max residual {fast[name]['solution'].max_residual:.1e}"
            )
    if largest is not None:
        breakdown(*largest)
    print(f"\nprocess peak resident set size: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
