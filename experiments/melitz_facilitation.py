"""Heterogeneous firms on eastasia-2011: SME shares from the productivity distribution, and ASEAN facilitation
that lowers fixed rather than variable costs of exporting.

    .venv/bin/python experiments/melitz_facilitation.py [--cut 0.2] [--sme-data PATH] [--out experiments/melitz_facilitation.md]

The Melitz-Pareto economy (:mod:`cge.melitz`) is put on ``eastasia-2011`` in its
trade-in-value-added form (:func:`cge.melitz.value_added_benchmark`: no intermediate inputs, so no
input-output loop of firm entry and the package's default elasticity; ``melitz_rcep.py`` solves the
input-output benchmark itself): the
eight manufacturing sectors have heterogeneous firms (defaults: Pareto shape 4.58, elasticity 3.8,
18% of active firms export), the other six are Armington sectors (elasticity 3.8). Writes a markdown
file (``--out``; printed too) with

1. SME shares by economy: the SME share of employment from the data (``--sme-data``, the shared
   ``sme_shares.csv``) is the target that places the size threshold; the model's SME share of
   direct manufacturing exports is compared with the data's SME export share;
2. two facilitation variants for ASEAN's manufacturing exporters (to every destination): fixed costs
   of serving foreign markets cut by ``--cut`` (default 20%), and the variable (iceberg) cost cut
   that saves the same resources at benchmark flows (fixed costs of serving routes are
   ``(theta - sigma + 1) / (theta sigma)`` of route revenue, so the iceberg cut is ``cut`` times that
   share); by economy: welfare, new exporters and exits per 100 benchmark active manufacturing
   firms (sectors weighted by value added, i.e. the same average firm size in every sector), and
   SMEs that start exporting.

Solve times of the Melitz economy and of the Armington economy on the same benchmark (no sector
heterogeneous; and the package's Armington model, fast backend) are printed, not written: the file
depends on the inputs only.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SME_DATA = HERE.parents[1] / "shared" / "data" / "sme_shares" / "sme_shares.csv"
MANUFACTURING = ["food", "textiles_apparel", "chemicals", "metals", "machinery", "electrical_optical", "transport_equipment", "other_manufacturing"]
ASEAN = ["IDN", "MYS", "PHL", "SGP", "THA", "VNM", "XSE"]


def read_sme(path: Path) -> dict:
    """First numeric value per economy of the employment and export shares (percent), with its flags."""
    out = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["indicator"] not in ("employment_share", "export_share"):
                continue
            text = row["value"].strip().lstrip("~")
            try:
                value = float(text)
            except ValueError:
                continue
            key = (row["economy_iso3"], row["indicator"])
            if key in out:
                continue
            flags = [f for f in ("LOW RELIABILITY", "MEASURE") if f in row["note"]]
            out[key] = (value, ", ".join(flags))
    return out


def firm_table(res, targets: dict, welfare):
    """By economy, for one solved scenario (:class:`cge.melitz.MelitzResults`): ``welfare`` (a
    series by region, % of income), new exporters and exits per 100 benchmark active firms of the
    heterogeneous sectors (sectors weighted by their benchmark sales: value added on the
    trade-in-value-added benchmark, gross output on the input-output one, i.e. the same average firm
    size in every sector), SMEs that start exporting per 100 benchmark SMEs (economies in
    ``targets``, the SME employment shares of :func:`cge.melitz.sme_transitions`) and the
    variety/selection term of the welfare decomposition (log points x 100). Shared by this script
    and ``melitz_rcep.py``."""
    import pandas as pd

    from cge.melitz import sme_transitions

    P = res.params
    sales = P.x_0.sum(axis=2)  # benchmark sales of each sector (the weight of its firms)
    f = res.firms()
    w = pd.Series([sales[P.regions.index(r), P.sectors.index(j)] for r, j in f.index], index=f.index)
    tot = w.groupby(level="region").sum()
    per100 = lambda col: 100.0 * (f[col] * w).groupby(level="region").sum() / tot  # noqa: E731
    tr = sme_transitions(res, targets)
    wt = w.reindex(tr.index)
    return pd.DataFrame({
        "welfare %": welfare,
        "new exporters /100 firms": per100("new_exporters"),
        "exits /100 firms": per100("exit"),
        "SMEs starting to export /100 SMEs": 100.0 * (tr["start_exporting"] * wt).groupby(level="region").sum() / wt.groupby(level="region").sum(),
        "variety/selection (log pts x100)": 100.0 * res.welfare_decomposition()["variety_selection"],
    }).reindex(P.regions).rename_axis("economy")


def main() -> None:
    import numpy as np
    import pandas as pd

    import cge
    from cge.datasets import load
    from cge.files import write_text
    from cge.melitz import MelitzModel, sme_shares, value_added_benchmark

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cut", type=float, default=0.2, help="cut in fixed costs of exporting (share)")
    ap.add_argument("--sme-data", default=str(SME_DATA))
    ap.add_argument("--out", default=str(HERE / "melitz_facilitation.md"))
    args = ap.parse_args()

    bench = load("eastasia-2011")
    vb = value_added_benchmark(bench)
    t0 = time.perf_counter()
    model = MelitzModel(vb, heterogeneous=MANUFACTURING)
    build = time.perf_counter() - t0
    P = model.params
    R = P.n_regions
    data = read_sme(Path(args.sme_data))
    targets = {r: data[(r, "employment_share")][0] / 100.0 for r in P.regions if (r, "employment_share") in data}
    sme = sme_shares(P, targets)
    rows = []
    for r, row in sme.iterrows():
        exp = data.get((r, "export_share"))
        model_pct = 100.0 * row["export_share"]
        rows.append({
            "economy": r, "SME employment % (data, target)": 100.0 * row["employment_share"],
            "SME direct exports % (model)": model_pct,
            "SME exports % (data)": exp[0] if exp else np.nan,
            "gap (pp)": model_pct - exp[0] if exp else np.nan,
            "data flags": (exp[1] if exp else "no export figure") + ("" if not data[(r, "employment_share")][1] else f"; employment: {data[(r, 'employment_share')][1]}"),
            "exporters among SMEs %": 100.0 * row["exporter_share"],
        })
    sme_table = pd.DataFrame(rows).set_index("economy")

    # ---- facilitation: fixed costs vs the same saving in variable costs
    asean = np.array([r in ASEAN for r in P.regions])
    man = np.array([j in MANUFACTURING for j in P.sectors])
    routes = asean[:, None, None] & man[None, :, None] & ~np.eye(R, dtype=bool)[:, None, :]
    i0 = P.sectors.index(MANUFACTURING[0])
    share = (P.theta[i0] - P.sigma[i0] + 1.0) / (P.theta[i0] * P.sigma[i0])
    variants = {
        "fixed": model.instruments(fixed_cost=np.where(routes, 1.0 - args.cut, 1.0)),
        "variable": model.instruments(iceberg=np.where(routes, 1.0 - args.cut * share, 1.0)),
    }
    results, times = {}, {}
    for name, inst in variants.items():
        start = time.perf_counter()
        results[name] = model.solve(inst)
        times[name] = time.perf_counter() - start
    fac = {name: firm_table(res, targets, pd.Series(100.0 * (res.utility - 1.0), index=P.regions)) for name, res in results.items()}

    # ---- solve times (printed only)
    arm = MelitzModel(vb, heterogeneous=[])
    arm_inst = arm.instruments(iceberg=np.where(routes, 1.0 - args.cut * share, 1.0))
    start = time.perf_counter()
    arm.solve(arm_inst)
    t_arm = time.perf_counter() - start
    pkg = cge.Model(vb, elasticities={"sigma_dm": 3.8, "sigma_mm": 3.8}, backend="fast")
    ice = np.ones((R, P.n_sectors, R, 2))
    ice[..., 0] = ice[..., 1] = np.where(routes, 1.0 - args.cut * share, 1.0)
    start = time.perf_counter()
    pkg.solve(cge.Scenario(iceberg=ice, name="variable"))
    t_pkg = time.perf_counter() - start

    lines = [
        "# Heterogeneous firms on eastasia-2011 (trade in value added)",
        "",
        "Written by `experiments/melitz_facilitation.py`; see `docs/melitz.md`. Melitz-Pareto manufacturing sectors",
        f"(theta {P.theta[i0]:g}, sigma {P.sigma[i0]:g}, 18% of active firms export in the benchmark), Armington elsewhere.",
        "",
        "## SME shares: employment is the target, direct exports the check",
        "",
        sme_table.to_markdown(floatfmt=".1f"),
        "",
        f"## ASEAN facilitation: fixed costs of exporting cut by {100 * args.cut:g}% vs the same saving in variable costs",
        "",
        f"ASEAN members' manufacturing exporters, every destination. Fixed costs of serving routes are {100 * share:.2f}% of route revenue,",
        f"so the variable-cost variant cuts iceberg costs by {100 * args.cut * share:.2f}%. Firm counts per 100 benchmark active",
        "manufacturing firms of the economy (sectors weighted by value added); SMEs per 100 benchmark SMEs (economies with an SME",
        "employment share in the data); variety/selection: the term of the welfare decomposition, in log points x 100.",
        "",
        f"### Fixed costs of exporting cut by {100 * args.cut:g}%",
        "",
        fac["fixed"].to_markdown(floatfmt=".3f"),
        "",
        f"### Variable (iceberg) costs cut by {100 * args.cut * share:.2f}%",
        "",
        fac["variable"].to_markdown(floatfmt=".3f"),
        "",
    ]
    text = "\n".join(lines)
    write_text(args.out, text)  # atomic: the old file or the new one, never a part
    print(text)
    print(f"\nbuild {build:.3f}s; Melitz solves: " + ", ".join(f"{k} {v:.3f}s ({results[k].stats['steps']} Newton steps)" for k, v in times.items())
          + f"; Armington (same economy, no heterogeneous sector) {t_arm:.3f}s; package Armington model (fast backend) {t_pkg:.3f}s")


if __name__ == "__main__":
    main()
