"""Fast-backend solve time of an RCEP tariff scenario on ``eastasia-2011``, unsplit and split by firm size.

    .venv/bin/python benchmarks/bench_firm_size.py [--repeat 3] [--sourcing agent]

The scenario sets tariffs among the RCEP members (ASEAN, China, Japan, Korea, Australia and New
Zealand) to zero, every good and use. The split benchmark is ``split_firm_size`` with its defaults
(every goods sector split into SMEs and large firms, stylised structures) and the firm-size nest on
(``sigma_size`` default). Each model is built once; the solve from the benchmark is timed
``--repeat`` times and the fastest kept (the machine may be shared), with BLAS and OpenMP in one
thread (the environment variables are set before numpy loads unless given: on a shared machine
threads only contend, and the dense LU of the Newton step then dominates noisily). Prints build and solve times,
Newton iterations, the reduced system's size and the split : unsplit solve-time ratio (issue 14's
target: at most 3), then where the fastest solve of each spent its time: residual evaluations,
Jacobians, factorisations (with their counts), the check of the full model's residuals, and the
rest (Newton's linear solves and line search, instruments, the solution's arrays).
"""

from __future__ import annotations

import argparse
import os
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported (by cge, in main)

RCEP = ["IDN", "MYS", "PHL", "SGP", "THA", "VNM", "XSE", "CHN", "JPN", "KOR", "ANZ"]


def rcep_scenario(bench):
    """Tariffs among the RCEP members set to zero."""
    import cge

    idx = [bench.regions.index(r) for r in RCEP]
    t = bench.tariff_0.copy()
    t[tuple(__import__("numpy").ix_(idx, range(bench.n_sectors), idx, range(t.shape[3])))] = 0.0
    return cge.Scenario(tariff=t, name="rcep")


def time_solve(bench, sourcing: str, repeat: int) -> dict:
    import cge

    t0 = time.perf_counter()
    model = cge.Model(bench, sourcing=sourcing, backend="fast")
    build = time.perf_counter() - t0
    sc = rcep_scenario(bench)
    best, res, stats = float("inf"), None, None
    for _ in range(repeat):
        model.reset()
        t0 = time.perf_counter()
        res = model.solve(sc)
        elapsed = time.perf_counter() - t0
        if elapsed < best:
            best, stats = elapsed, res.solution.stats
    parts = {k: stats.get(f"{k}_seconds", 0.0) for k in PARTS[:-1]}
    parts["rest"] = best - sum(parts.values())
    counts = {k: stats.get(f"{k}s") for k in ("evaluation", "jacobian", "factorisation")}
    return dict(sectors=bench.n_sectors, reduced=model.size()["reduced"], build_s=build, solve_s=best,
                iterations=res.solution.stats.get("iterations"), residual=res.solution.max_residual,
                world_ev=float(res.welfare().loc["World", "ev"]), parts=parts, counts=counts)


PARTS = ("evaluation", "jacobian", "factorisation", "check", "rest")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sourcing", default="agent", choices=["agent", "common"])
    args = ap.parse_args()
    import cge

    bench = cge.Benchmark.load("eastasia-2011")
    split = bench.split_firm_size()
    rows = {"unsplit": time_solve(bench, args.sourcing, args.repeat), "split": time_solve(split, args.sourcing, args.repeat)}
    print(f"RCEP tariff elimination on eastasia-2011, fast backend, sourcing={args.sourcing}, best of {args.repeat}")
    print(f"{'table':8} {'sectors':>7} {'unknowns':>8} {'build s':>8} {'solve s':>8} {'iter':>5} {'residual':>9} {'world EV':>10}")
    for name, r in rows.items():
        print(f"{name:8} {r['sectors']:7d} {r['reduced']:8d} {r['build_s']:8.3f} {r['solve_s']:8.3f} {r['iterations']!s:>5} {r['residual']:9.1e} {r['world_ev']:10.1f}")
    print(f"solve-time ratio split / unsplit: {rows['split']['solve_s'] / rows['unsplit']['solve_s']:.2f} (target <= 3)")
    print("where the fastest solve spent its time, ms (count):")
    print(f"{'table':8}" + "".join(f" {k:>15}" for k in PARTS))
    for name, r in rows.items():
        cells = [f"{1e3 * r['parts'][k]:.1f}" + (f" ({r['counts'][k]})" if r["counts"].get(k) is not None else "") for k in PARTS]
        print(f"{name:8}" + "".join(f" {c:>15}" for c in cells))
    ratio = [rows["split"]["parts"][k] / rows["unsplit"]["parts"][k] if rows["unsplit"]["parts"][k] > 0 else float("nan") for k in PARTS]
    print(f"{'ratio':8}" + "".join(f" {x:15.2f}" for x in ratio))


if __name__ == "__main__":
    main()
