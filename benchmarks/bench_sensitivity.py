"""Draws per second of a sensitivity analysis with 1 and 2 workers, and the headline EV with its band.

On ``eastasia-2011`` the headline scenario (``experiments/headline.toml``, ``rcep``; EV without
path decomposition) is solved at ``--draws`` Monte Carlo draws of the Armington elasticities
(``sigma_dm`` and ``sigma_mm`` together, each sector its own uniform deviation of up to 50% around
the benchmark's values) twice in the same run: in this process (1 worker) and on a Dask
``LocalCluster`` of 2 single-threaded worker processes. The cluster is started before the clock
(its start-up is printed apart); the time includes building each worker's model, the solves and the
return of the tidy frames. Parallel efficiency is the 2-worker rate over twice the 1-worker rate;
on a machine shared with other work it is bounded by the cores left free (the load average is
printed), so the CPU time the workers spend a draw is printed as well: its ratio between the runs is
the efficiency of the work itself (the overhead of the 2-worker run in CPU terms).
The two runs must give identical tables (checked). With ``--wiod`` the same is done for a few
draws of a 10-point rise of US tariffs on the full WIOD 2011 table (41 regions x 35 sectors, built
as in ``bench_backends.py``) when ``../shared/data/wiod2013`` is present.

It then prints the world EV of the headline at the chosen elasticities, and its mean and 5-95%
band under the eight published elasticity sets stored with the benchmark, under the Monte Carlo
draws, and under Stroud's order-3 quadrature of the same distribution (mean -/+ 1.645 sd).

Usage::

    python benchmarks/bench_sensitivity.py                 # 1,000 draws on eastasia-2011
    python benchmarks/bench_sensitivity.py --draws 200 --wiod
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from cge import sensitivity as sens  # noqa: E402
from cge.experiment import check_spec  # noqa: E402
from cge.scenario import load_spec  # noqa: E402

MC_RULE = sens.Vary(elasticities=("sigma_dm", "sigma_mm"), distribution="uniform", spread=0.5, by_sector=True)


def timed_runs(label: str, bench, scenarios, spec: sens.Specification, **options) -> None:
    """Sequential and 2-worker runs of the same draws: rates, efficiency, identical tables."""
    load = os.getloadavg()
    one = sens.analyse(spec, bench, scenarios, **options)
    t0 = time.perf_counter()
    with sens.dask_client(2) as client:
        startup = time.perf_counter() - t0
        two = sens.analyse(spec, bench, scenarios, executor=client, **options)
    pd.testing.assert_frame_equal(one.values, two.values, check_exact=True)
    n = spec.draws
    r1, r2 = n / one.sweep.seconds, n / two.sweep.seconds
    print(f"{label}: {n} draws x {len(scenarios)} scenario(s); load average {load[0]:.2f} before, {os.getloadavg()[0]:.2f} after")
    for name, run, rate in (("1 worker ", one, r1), ("2 workers", two, r2)):
        print(f"  {name}: {run.sweep.seconds:7.2f} s  {rate:7.2f} draws/s  CPU {1000 * run.sweep.cpu_seconds / n:5.1f} ms a draw  ({len(run.failures)} failed)")
    print(f"  cluster start-up {startup:.1f} s (not counted); tables identical: yes")
    print(f"  parallel efficiency: {r2 / (2 * r1):.0%} of wall-clock rate; {one.sweep.cpu_seconds / two.sweep.cpu_seconds:.0%} of CPU time a draw")
    return one


def band(summary: pd.DataFrame, name: str) -> str:
    row = summary[(summary["variable"] == "welfare_ev") & (summary["region"] == "World")].iloc[0]
    pct = summary[(summary["variable"] == "welfare_ev_pct") & (summary["region"] == "World")].iloc[0]
    return (f"  {name:28} mean {row['mean']:8.0f}  5-95% [{row['p05']:8.0f}, {row['p95']:8.0f}]  "
            f"({pct['mean']:.5f}% of income, [{pct['p05']:.5f}, {pct['p95']:.5f}]); sd {row['sd']:.0f}; n {int(row['draws'])}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--wiod", action="store_true", help="also time the full WIOD 2011 table (if ../shared/data/wiod2013 is present)")
    ap.add_argument("--wiod-draws", type=int, default=8)
    args = ap.parse_args(argv)

    spec_file = load_spec(ROOT / "experiments" / "headline.toml")
    bench, built = check_spec(spec_file)
    rcep = [s for s in built if s.name == "rcep"]
    mc = sens.Specification(draws=args.draws, seed=args.seed, vary=(MC_RULE,))
    one = timed_runs("eastasia-2011, headline rcep", bench, rcep, mc)

    if args.wiod:
        from bench_backends import WIOD, tariff_rise, wiod_benchmark

        if WIOD.is_file():
            wiod = wiod_benchmark()
            small = sens.Specification(draws=args.wiod_draws, seed=args.seed, vary=(MC_RULE,))
            timed_runs("WIOD 2011 (41 x 35), USA +10pp", wiod, [tariff_rise(wiod, wiod.regions.index("USA"))], small, backend="fast")
        else:
            print(f"WIOD: {WIOD} not found; skipped")

    sets = sens.analyse(sens.Specification(design="sets"), bench, rcep)
    quad = sens.analyse(sens.Specification(design="quadrature", vary=(MC_RULE,)), bench, rcep)
    s = one.summary()
    central = s[(s["variable"] == "welfare_ev") & (s["region"] == "World")].iloc[0]["central"]
    print(f"headline rcep, world EV ({bench.metadata.get('currency', 'US$ million')}); chosen elasticities (FGO): {central:.0f}")
    print(band(sets.summary(), f"published sets ({len(sets.design['label'].unique())})"))
    print(band(s, f"Monte Carlo ({args.draws} draws)"))
    print(band(quad.summary(), f"quadrature ({quad.design['draw'].nunique()} points)"))


if __name__ == "__main__":
    main()
