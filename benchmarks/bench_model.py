"""Build and solve times and peak memory of the Pyomo model, by benchmark size.

    .venv/bin/python benchmarks/bench_model.py [--sizes 3x3 10x10 ...]

Each case runs in a fresh process (so peak resident memory is its own): the toy benchmark of
tests/data/toy and seeded random balanced benchmarks (cge.synthetic.random_benchmark), sourcing by
agent, a 10% cut of every tariff. Prints build time, solve time, Ipopt iterations, peak memory,
the largest residual at the benchmark and the EV decomposition residual.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _case(name: str, queue) -> None:
    import numpy as np

    import cge
    from cge.synthetic import random_benchmark

    if name == "toy":
        bench = cge.Benchmark.read(ROOT / "tests" / "data" / "toy")
    else:
        r, s = (int(v) for v in name.split("x"))
        bench = random_benchmark(r, s, seed=1)
    t0 = time.perf_counter()
    model = cge.Model(bench)
    build = time.perf_counter() - t0
    bench_residual = float(model.residuals().abs().max())
    t0 = time.perf_counter()
    sc = cge.Scenario(tariff=bench.tariff_0 * 0.9, name="cut10")
    res = model.solve(sc)
    solve = time.perf_counter() - t0
    t0 = time.perf_counter()
    w = model.solve(sc, decompose=8).welfare()
    decompose = time.perf_counter() - t0 - solve
    rel = float(np.max(np.abs(w["residual"]) / np.maximum(np.abs(w["ev"]), 1e-300)))
    queue.put(
        dict(
            case=name,
            size=f"{bench.n_regions}x{bench.n_sectors}",
            equations=model.size()["equations"],
            build_s=build,
            solve_s=solve,
            iterations=res.solution.stats.get("iterations"),
            decomposition_s=decompose,
            peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            benchmark_residual=bench_residual,
            solve_residual=res.solution.max_residual,
            ev_world=float(w.loc["World", "ev"]),
            decomposition_residual_rel=rel,
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="*", default=["toy", "5x5", "10x10"])
    args = ap.parse_args()
    ctx = mp.get_context("spawn")
    rows = []
    for name in args.sizes:
        q = ctx.Queue()
        p = ctx.Process(target=_case, args=(name, q))
        p.start()
        rows.append(q.get())
        p.join()
    import pandas as pd

    df = pd.DataFrame(rows).set_index("case")
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3g}".format):
        print(df)


if __name__ == "__main__":
    main()
