"""How the fast backend scales: solve time, peak memory, evaluation cost and the linear-algebra floor.

Cases: seeded random benchmarks (:func:`cge.synthetic.random_benchmark`) of 20 x 20, 40 x 35, 60 x 40
and 80 x 50 regions x sectors, and the full WIOD 2011 table (41 x 35, the treatment of
``bench_backends.py``) when ``../shared/data/wiod2013/npz/wiot_2011.npz`` is present. Every model is
built with ``sourcing="agent"`` and solved for the scenario of ``bench_backends.py``: the first region
(WIOD: USA) raises every import tariff by 10 percentage points.

Each case runs in a fresh process, so that its peak resident set size (``peak MB``) is its own.
Columns:

* ``build``, ``solve``: seconds of model construction and of ``model.solve`` (which includes the check
  of every equation of the full model);
* ``evals``, ``jacs``: residual evaluations and Jacobians the solve needed;
* ``eval ms``: one residual evaluation at the solution (best of several); ``minimal ms``: a minimal
  pass over the same flow array, one multiply-add over the benchmark flows ``d_0`` into a small
  result (``einsum("risb,isb->ris")``); ``x min`` their ratio;
* a second line per case splits the solve into evaluations, Jacobians, factorisations and the
  check of the full model;
* ``LU s``: one dense LU factorisation of the Jacobian at the solution (LAPACK); ``floor s``: that LU
  plus the evaluations the solve made, at the measured cost of one; ``x floor``: solve / floor.

``--baseline PATH`` runs the same cases with the package of another checkout (for example a
``git worktree`` or ``git archive`` of an older commit) in the same way, alternating with this
checkout case by case, and prints old / new ratios, so that both come from one run on the same
machine state. ``--repeat N`` runs each case N times per checkout in the order new, old, old, new, ...
and keeps each checkout's fastest solve: the process that runs second reuses memory the first one
has just released, which on this virtual machine is several times cheaper to touch than memory
unused for a while (about 2 ms per MB), so a single run in a fixed order favours the second.

Usage::

    python benchmarks/bench_scale.py
    python benchmarks/bench_scale.py --baseline /tmp/cge-a85c950 --sizes 20x20 40x35
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WIOD = ROOT.parent / "shared" / "data" / "wiod2013" / "npz" / "wiot_2011.npz"
SIZES = ("20x20", "40x35", "60x40", "80x50")


def best(f, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def measure(case: str, wiod: str) -> dict:
    """Build, solve and time one case with the ``cge`` first on ``sys.path`` (run in a child process)."""
    import numpy as np
    import scipy.linalg

    from bench_backends import tariff_rise, wiod_benchmark
    from cge.fast import FastModel
    from cge.synthetic import random_benchmark

    if case == "WIOD 2011":
        bench = wiod_benchmark(Path(wiod))
        importer = bench.regions.index("USA")
    else:
        R, S = (int(v) for v in case.lower().split("x"))
        bench = random_benchmark(R, S, seed=1)
        importer = 0
    scenario = tariff_rise(bench, importer)
    t0 = time.perf_counter()
    model = FastModel(bench)
    t1 = time.perf_counter()
    res = model.solve(scenario)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    st = res.solution.stats
    eng = model.engine
    x = eng.values()
    repeat = 5 if eng.layout.d_0.size < 5e6 else 3
    t_eval = best(lambda: eng.evaluate(x), repeat)
    d0 = eng.layout.d_0
    v = np.full(d0.shape[1:], 1.5)
    t_min = best(lambda: np.einsum("risb,isb->ris", d0, v), repeat + 2)
    J = eng.jacobian()
    t_lu = best(lambda: scipy.linalg.lu_factor(J, check_finite=False), 2)
    return {
        "case": case,
        "unknowns": int(eng.layout.n),
        "build": t1 - t0,
        "solve": t2 - t1,
        "iterations": int(st.get("iterations", -1)),
        "evaluations": int(st.get("evaluations", 0)),
        "jacobians": int(st.get("jacobians", 0)),
        "peak": peak,
        "eval": t_eval,
        "minimal": t_min,
        "lu": t_lu,
        "floor": t_lu + st.get("evaluations", 0) * t_eval,
        "parts": {k: float(st.get(f"{k}_seconds", 0.0)) for k in ("evaluation", "jacobian", "factorisation", "check")},
        "utility": [float(u) for u in res.solution.utility],
    }


def child(checkout: Path, case: str, wiod: str) -> dict:
    """:func:`measure` in a fresh process importing ``cge`` from ``checkout``."""
    env = dict(os.environ, PYTHONPATH=str(checkout))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", case, "--checkout", str(checkout), "--wiod", wiod]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=checkout)
    if out.returncode != 0:
        raise RuntimeError(f"{case} with {checkout} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def row(tag, r):
    return (
        f"{r['case']:>10} {tag:>5} {r['unknowns']:>8,} {r['build']:7.2f} {r['solve']:8.2f} {r['evaluations']:>6} {r['jacobians']:>5} "
        f"{r['peak']:8.0f} {r['eval'] * 1e3:8.1f} {r['minimal'] * 1e3:10.2f} {r['eval'] / r['minimal']:6.1f} "
        f"{r['lu']:6.2f} {r['floor']:7.2f} {r['solve'] / r['floor']:8.1f}"
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="*", default=list(SIZES), help="random benchmark sizes RxS")
    ap.add_argument("--no-wiod", action="store_true")
    ap.add_argument("--wiod", default=str(WIOD), help="path of wiot_2011.npz")
    ap.add_argument("--baseline", help="another checkout of cge to run the same cases with, for old / new ratios")
    ap.add_argument("--repeat", type=int, default=1, help="runs per case and checkout (alternating order); the fastest solve is kept")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--checkout", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:  # one case in this process, cge imported from --checkout
        sys.path.insert(0, str(HERE))
        sys.path.insert(0, args.checkout)
        print(json.dumps(measure(args.child, args.wiod)))
        return 0

    cases = list(args.sizes)
    if not args.no_wiod and Path(args.wiod).is_file():
        cases.append("WIOD 2011")
    elif not args.no_wiod:
        print(f"(WIOD table not found at {args.wiod}; skipped)")
    checkouts = [("new", ROOT)] + ([("old", Path(args.baseline).resolve())] if args.baseline else [])
    print(f"{os.cpu_count()} cpus; sourcing by agent; scenario: the first region (WIOD: USA) raises every import tariff by 10 pp")
    print(" ".join(f"{tag} = {path}" for tag, path in checkouts), flush=True)
    results = {}
    for case in cases:
        for k in range(args.repeat):
            for tag, path in checkouts if k % 2 == 0 else checkouts[::-1]:
                r = child(path, case, args.wiod)
                print(f"  {case} {tag}: solve {r['solve']:.2f} s", flush=True)
                if (case, tag) not in results or r["solve"] < results[case, tag]["solve"]:
                    results[case, tag] = r

    print()
    print(
        f"{'case':>10} {'code':>5} {'unknowns':>8} {'build s':>7} {'solve s':>8} {'evals':>6} {'jacs':>5} {'peak MB':>8} "
        f"{'eval ms':>8} {'minimal ms':>10} {'x min':>6} {'LU s':>6} {'floor s':>7} {'x floor':>8}"
    )
    for case in cases:
        for tag, _ in checkouts:
            print(row(tag, results[case, tag]))
        for tag, _ in checkouts:
            parts = results[case, tag]["parts"]
            print(f"{'':>10} {tag:>5} solve = " + " + ".join(f"{k}s {v:.2f}" for k, v in parts.items()) + " + other")
        if args.baseline:
            new, old = results[case, "new"], results[case, "old"]
            gap = max(abs(a - b) / abs(b) for a, b in zip(new["utility"], old["utility"]))
            print(
                f"{'':>10} old / new: solve x{old['solve'] / new['solve']:.1f}, peak memory x{old['peak'] / new['peak']:.1f}, "
                f"evaluation x{old['eval'] / new['eval']:.1f}; max relative utility gap {gap:.1e}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
