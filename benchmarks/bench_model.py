"""Build and solve times and peak memory of the Pyomo model, by benchmark size.

    .venv/bin/python benchmarks/bench_model.py [--sizes 3x3 10x10 ...]
    .venv/bin/python benchmarks/bench_model.py --nlp [--nlp-size 10x10] [--steps 8] [--baseline PATH]

Each case runs in a fresh process (so peak resident memory is its own): the toy benchmark of
tests/data/toy and seeded random balanced benchmarks (cge.synthetic.random_benchmark), sourcing by
agent, a 10% cut of every tariff. Prints build time, solve time, Ipopt iterations, peak memory,
the largest residual at the benchmark and the EV decomposition residual.

``--nlp`` compares instead, at one size (default 10 x 10), the Pyomo backend writing its NL problem
once per model (``pyomo_nlp="reuse"``, the default) with writing it at every solve
(``pyomo_nlp="rebuild"``) and, with ``--baseline``, with another checkout of ``cge`` (for example
``git archive`` of a commit before the reuse, whose instruments were mutable parameters), each in
a fresh process. Scenario: the first region raises every import tariff by 10 percentage points.
Columns: ``build`` (calibration, model and, when reused, the NL problem), ``solve`` (the first solve
of the scenario), ``decompose`` (``model.solve(scenario, decompose=steps)`` on the built model: the
scenario and the points of the path the welfare decomposition integrates along), ``total`` build +
decompose (a fresh model's decomposition), peak memory, and ``cpu`` the processor time of
decompose (less sensitive to other work on the machine); with ``--repeat N`` the codes alternate
N times and each figure is the smallest; then the ratios of the old codes' times to
the reused problem's, and the largest differences of prices and welfare terms between them.
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
    model = cge.Model(bench, backend="pyomo")
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


def _nlp_case(code: str, checkout: str, size: str, steps: int, queue) -> None:
    """One mode of the ``--nlp`` comparison, ``cge`` imported from ``checkout``."""
    import sys

    sys.path.insert(0, checkout)
    import cge
    from cge.synthetic import random_benchmark

    r, s = (int(v) for v in size.split("x"))
    bench = random_benchmark(r, s, seed=1)
    t = bench.tariff_0.copy()
    t[1:, :, 0, :] += 0.10
    scenario = cge.Scenario(tariff=t, name="R1 +10pp on all imports")
    options = {} if code == "baseline" else {"pyomo_nlp": code}
    t0 = time.perf_counter()
    model = cge.Model(bench, backend="pyomo", solver_options=options)
    t1 = time.perf_counter()
    res = model.solve(scenario)
    t2 = time.perf_counter()
    c2 = time.process_time()
    dec = model.solve(scenario, decompose=steps)
    t3 = time.perf_counter()
    c3 = time.process_time()
    w = dec.welfare()
    queue.put(
        dict(
            code=code,
            source=str(Path(cge.__file__).parents[1]),
            unknowns=model.size()["variables"],
            build=t1 - t0,
            solve=t2 - t1,
            iterations=res.solution.stats.get("iterations"),
            decompose=t3 - t2,
            decompose_cpu=c3 - c2,
            total=t1 - t0 + t3 - t2,
            peak=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            p=res.solution.p.tolist(),
            welfare=w.to_numpy().tolist(),
            columns=list(w.columns),
            ev_world=float(w.loc["World", "ev"]),
        )
    )


def _nlp(args, ctx) -> None:
    import numpy as np

    codes = [("reuse", str(ROOT)), ("rebuild", str(ROOT))]
    if args.baseline:
        codes.append(("baseline", str(Path(args.baseline).resolve())))
    print(f"Pyomo backend, {args.nlp_size}, sourcing by agent, R1 +10pp on all imports, decomposition with {args.steps} steps")
    rows = {}
    for rep in range(args.repeat):  # codes alternate, so that a busy spell of the machine hits all of them
        for code, checkout in codes:
            q = ctx.Queue()
            p = ctx.Process(target=_nlp_case, args=(code, checkout, args.nlp_size, args.steps, q))
            p.start()
            r = q.get()
            p.join()
            print(f"  {code} ({r['source']}) run {rep + 1}: decompose {r['decompose']:.2f} s", flush=True)
            best = rows.setdefault(code, r)
            for k in ("build", "solve", "decompose", "decompose_cpu", "total", "peak"):
                best[k] = min(best[k], r[k])
    if args.repeat > 1:
        print(f"(each figure the smallest of {args.repeat} runs)")
    print(
        f"\n{'code':>9} {'unknowns':>8} {'build s':>8} {'solve s':>8} {'iters':>5} {'decompose s':>11} "
        f"{'cpu s':>6} {'total s':>8} {'peak MB':>8}"
    )
    for code, r in rows.items():
        print(
            f"{code:>9} {r['unknowns']:>8,} {r['build']:8.2f} {r['solve']:8.2f} {r['iterations']:>5} {r['decompose']:11.2f} "
            f"{r['decompose_cpu']:6.2f} {r['total']:8.2f} {r['peak']:8.0f}"
        )
    new = rows["reuse"]
    for code in [c for c, _ in codes if c != "reuse"]:
        old = rows[code]
        dp = np.abs(np.array(old["p"]) - np.array(new["p"])).max()
        wo, wn = np.array(old["welfare"], dtype=float), np.array(new["welfare"], dtype=float)
        same = old["columns"] == new["columns"]
        dw = np.nanmax(np.abs(wo - wn)) if same else float("nan")
        print(
            f"{code} / reuse: solve x{old['solve'] / new['solve']:.1f}, decompose x{old['decompose'] / new['decompose']:.1f} "
            f"(cpu x{old['decompose_cpu'] / new['decompose_cpu']:.1f}), "
            f"build + decompose x{old['total'] / new['total']:.1f}; max |p difference| {dp:.1e}, "
            f"max |welfare term difference| {dw:.1e} (world EV {new['ev_world']:.1f})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="*", default=["toy", "5x5", "10x10"])
    ap.add_argument("--nlp", action="store_true", help="compare the reused NL problem with writing it per solve")
    ap.add_argument("--nlp-size", default="10x10", help="benchmark size RxS of --nlp")
    ap.add_argument("--steps", type=int, default=8, help="decomposition steps of --nlp")
    ap.add_argument("--baseline", help="another checkout of cge for --nlp (its own default options)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each --nlp code (the smallest times are shown)")
    args = ap.parse_args()
    ctx = mp.get_context("spawn")
    if args.nlp:
        _nlp(args, ctx)
        return
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
