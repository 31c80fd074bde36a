"""Heterogeneous firms on the input-output eastasia-2011: RCEP tariff elimination with and without lower
fixed costs of exporting among its members.

    .venv/bin/python experiments/melitz_rcep.py [--cut 0.2] [--sigma 5.0] [--sme-data PATH] [--out experiments/melitz_rcep.md]

The Melitz-Pareto economy of :mod:`cge.melitz` calibrated on ``eastasia-2011`` itself (bilateral
intermediate and final flows by sector, tariffs by use pooled per route; input bundles Cobb-Douglas in
value added and the sectoral composites), the eight manufacturing sectors with heterogeneous firms
(Pareto shape 4.58, 18% of active firms export in the benchmark), the other six Armington sectors.

The elasticity across varieties is ``--sigma`` (default 5, not the package default 3.8): fixed and
entry costs are paid in the input bundle, which contains the composites whose price falls as firms
enter, and with sigma 3.8 the branch of equilibria through the benchmark turns back before RCEP's
tariff cut is complete (a fold: the script reports how far it gets). That is the input-output loop
of Krugman and Venables (1995), whose one-sector form needs ``sigma * (value-added share) > 1``
(``docs/melitz.md``). Sigma 5 keeps theta > sigma - 1 (4.58 > 4).

Scenarios: ``rcep`` (tariffs among the 11 members set to zero, all goods and uses, as
``experiments/rcep.toml``) and ``rcep_fixed`` (the same, and members' fixed costs of serving other
members' markets in manufacturing cut by ``--cut``, default 20%). By economy: welfare (EV, % of
income), new exporters and exits per 100 benchmark active manufacturing firms (sectors weighted by
gross output), SMEs that start exporting per 100 benchmark SMEs (economies with an SME employment
share in ``--sme-data``), and the variety/selection term of the welfare decomposition. Before them,
the SME shares of the input-output calibration against the data, with the SME employment share
that would reproduce the data's SME export share.

Solve times of this economy and of the package's Armington model (``cge.Model(bench,
backend="fast")``, default elasticities) on the same benchmark and scenario are printed, not
written: the file depends on the inputs only.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANUFACTURING = ["food", "textiles_apparel", "chemicals", "metals", "machinery", "electrical_optical", "transport_equipment", "other_manufacturing"]
RCEP = ["IDN", "MYS", "PHL", "SGP", "THA", "VNM", "XSE", "CHN", "JPN", "KOR", "ANZ"]


def read_manufacturing(path: Path) -> dict:
    """The data's SME share of manufacturing employment by economy (first figure, as written, with its flag)."""
    import csv

    out = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["indicator"] != "manufacturing_employment_share" or row["value"].strip() in ("", "missing") or row["economy_iso3"] in out:
                continue
            flag = " (MEASURE: see data)" if "MEASURE" in row["note"] else ""
            out[row["economy_iso3"]] = row["value"].strip() + flag
    return out


def main() -> None:
    import numpy as np
    import pandas as pd

    import cge
    from cge.datasets import load
    from cge.files import write_text
    from cge.melitz import SIGMA, MelitzModel
    from cge.solve import SolveError

    from melitz_facilitation import SME_DATA, firm_table, read_sme

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cut", type=float, default=0.2, help="cut in members' fixed costs of serving other members (share)")
    ap.add_argument("--sigma", type=float, default=5.0, help="elasticity across varieties (all sectors)")
    ap.add_argument("--sme-data", default=str(SME_DATA))
    ap.add_argument("--out", default=str(HERE / "melitz_rcep.md"))
    args = ap.parse_args()

    bench = load("eastasia-2011")
    tariffs = [{"instrument": "tariff", "exporters": RCEP, "importers": RCEP, "value": 0.0}]
    fixed = [{"instrument": "fixed_cost", "exporters": RCEP, "importers": RCEP, "sectors": MANUFACTURING, "op": "scale", "value": 1.0 - args.cut}]
    scenarios = {"rcep": cge.Scenario.from_shocks(bench, tariffs, name="rcep"),
                 "rcep_fixed": cge.Scenario.from_shocks(bench, tariffs + fixed, name="rcep_fixed")}

    # the package default sigma: how far along RCEP's tariff cut the equilibrium branch goes
    fold = "solves"
    try:
        MelitzModel(bench, heterogeneous=MANUFACTURING, sigma=SIGMA).solve(scenarios["rcep"])
    except SolveError as err:
        fold = str(err).split(" of the shock")[0].split(" at ")[-1]

    t0 = time.perf_counter()
    model = MelitzModel(bench, heterogeneous=MANUFACTURING, sigma=args.sigma)
    build = time.perf_counter() - t0
    P = model.params
    data = read_sme(Path(args.sme_data))
    targets = {r: data[(r, "employment_share")][0] / 100.0 for r in P.regions if (r, "employment_share") in data}
    results, times = {}, {}
    for name, sc in scenarios.items():
        start = time.perf_counter()
        results[name] = model.solve(sc)
        times[name] = time.perf_counter() - start
    # as shown, and no negative zeros
    tables = {name: firm_table(res, targets, res.welfare()["ev_pct"]).round(3) + 0.0 for name, res in results.items()}

    # SME shares on the input-output calibration: the economy-wide employment target, and the target that reproduces exports
    from scipy.optimize import brentq

    from cge.melitz import sme_shares

    sme = sme_shares(P, targets)
    manuf = read_manufacturing(Path(args.sme_data))
    rows = []
    for r, row in sme.iterrows():
        exp = data.get((r, "export_share"))
        model_pct = 100.0 * row["export_share"]
        implied = np.nan
        if exp:
            goal = exp[0] / 100.0
            f = lambda e: sme_shares(P, {r: e}).loc[r, "export_share"] - goal  # noqa: E731
            implied = 100.0 * brentq(f, 1e-3, 0.999, xtol=1e-10) if f(1e-3) < 0 < f(0.999) else np.nan
        rows.append({"economy": r, "SME employment % (data, economy-wide: target)": 100.0 * row["employment_share"],
                     "SME direct exports % (model)": model_pct, "SME exports % (data)": exp[0] if exp else np.nan,
                     "gap (pp)": model_pct - exp[0] if exp else np.nan,
                     "employment target reproducing the data's exports %": implied,
                     "manufacturing SME employment % (data)": manuf.get(r, "")})
    sme_table = pd.DataFrame(rows).set_index("economy")

    # the package's Armington model on the same benchmark and scenarios (printed only)
    arm = cge.Model(bench, backend="fast")
    t_arm = {}
    for name, sc in scenarios.items():
        if name == "rcep_fixed":
            continue  # the Armington model has no fixed costs (it refuses the instrument)
        start = time.perf_counter()
        arm_res = arm.solve(sc)
        t_arm[name] = time.perf_counter() - start
    arm_ev = pd.Series(100.0 * (np.asarray(arm_res.solution.utility) - 1.0), index=bench.regions).round(3) + 0.0

    i0 = P.sectors.index(MANUFACTURING[0])
    lines = [
        "# Heterogeneous firms on the input-output eastasia-2011: RCEP with and without lower fixed costs",
        "",
        "Written by `experiments/melitz_rcep.py`; see `docs/melitz.md`. Melitz-Pareto manufacturing sectors (theta",
        f"{P.theta[i0]:g}, sigma {P.sigma[i0]:g}, 18% of active firms export in the benchmark), Armington elsewhere; input bundles",
        "Cobb-Douglas in value added and the sectoral composites with the benchmark's input-output shares; fixed and entry costs",
        f"paid in the bundle. With the package's default sigma {SIGMA:g} the equilibrium branch of RCEP's tariff cut ends at {fold}",
        "of the cut (a fold; see the script's docstring).",
        "",
        "Firm counts per 100 benchmark active manufacturing firms of the economy (sectors weighted by gross output); SMEs per 100",
        "benchmark SMEs (economies with an SME employment share in the data); variety/selection: the term of the welfare",
        "decomposition, in log points x 100. `Armington welfare %`: the package's Armington model (fast backend, default",
        "elasticities) under the same tariff cut.",
        "",
        "## SME shares on the input-output calibration",
        "",
        "The threshold is placed where SMEs hold the data's economy-wide SME share of employment in every manufacturing sector",
        "(the target); the model's SME share of direct manufacturing exports is the check. The model's heterogeneous sectors",
        "are manufacturing, whose SMEs hold a smaller share of employment than the economy's: the next column is the",
        "employment share that reproduces the data's export share, and the last the data's manufacturing figure where there",
        "is one (with its flag: several measure something else).",
        "",
        sme_table.round(1).to_markdown(floatfmt=".1f"),
        "",
        "## RCEP: tariffs among members set to zero",
        "",
        tables["rcep"].assign(**{"Armington welfare %": arm_ev}).to_markdown(floatfmt=".3f"),
        "",
        f"## RCEP and members' fixed costs of serving each other's markets cut by {100 * args.cut:g}% (manufacturing)",
        "",
        tables["rcep_fixed"].to_markdown(floatfmt=".3f"),
        "",
    ]
    text = "\n".join(lines)
    write_text(args.out, text)  # atomic: the old file or the new one, never a part
    print(text)
    print(f"\nbuild {build:.3f}s; Melitz solves: " + ", ".join(f"{k} {v:.3f}s ({results[k].stats['steps']} Newton steps)" for k, v in times.items())
          + "; package Armington model (fast backend): " + ", ".join(f"{k} {v:.3f}s" for k, v in t_arm.items()))


if __name__ == "__main__":
    main()
