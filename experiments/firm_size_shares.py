"""SME shares of gross exports and of domestic value added in exports by economy, before and after the scenarios of sme.toml.

    .venv/bin/python experiments/firm_size_shares.py [--sigma-size X] [--out experiments/firm_size_shares.md] [--figures results/sme]

Reads experiments/sme.toml (benchmark split by firm size, the firm-size nest on), solves each
scenario with the fast backend and writes a markdown table (``--out``; printed too) with, by
economy, SMEs' share of gross exports and of domestic value added in exports
(:meth:`cge.Results.sme_shares`) in the benchmark and after each scenario, the percent changes of
SMEs' direct and indirect exports of value added and of their domestic sales; the fast
backend's solve times are printed (not written: the file depends on the inputs only). ``--sigma-size`` overrides the nest's elasticity (default: the model's).
``--figures`` also draws, by economy, SMEs' share of the domestic value added in exports in the
benchmark and after each scenario (``sme_va_shares.png/svg/pdf`` in that folder, not committed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    import pandas as pd

    import cge
    from cge.files import write_text
    from cge.scenario import load_spec

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sigma-size", type=float, default=None)
    ap.add_argument("--out", default=str(HERE / "firm_size_shares.md"))
    ap.add_argument("--figures", default=None, help="folder for the figure (none by default)")
    args = ap.parse_args()
    spec = load_spec(HERE / "sme.toml")
    bench = spec.load_benchmark()
    el = {} if args.sigma_size is None else {"sigma_size": args.sigma_size}
    model = cge.Model(bench, sourcing=spec.model.get("sourcing", "agent"), backend="fast", elasticities=el or None)
    cols, detail, times = {}, {}, {}
    for sc in spec.scenarios:
        model.reset()
        res = model.solve(sc.build(bench, spec.region_groups, spec.sector_groups))
        times[sc.name] = res.solution.stats.get("solve_seconds", float("nan"))
        sh = res.sme_shares()
        if not cols:
            cols[("benchmark", "exports")] = sh[("exports", "benchmark")]
            cols[("benchmark", "va_in_exports")] = sh[("va_in_exports", "benchmark")]
        cols[(sc.name, "exports")] = sh[("exports", "counterfactual")]
        cols[(sc.name, "va_in_exports")] = sh[("va_in_exports", "counterfactual")]
        df = res.by_firm_size()
        sme = df[df["size"] == "sme"].groupby(["region", "variable"], sort=False)[["benchmark", "counterfactual"]].sum()
        pct = 100.0 * (sme["counterfactual"] / sme["benchmark"] - 1.0)
        out = sme.unstack("variable")
        domestic = out[("benchmark", "output")] - out[("benchmark", "exports")], out[("counterfactual", "output")] - out[("counterfactual", "exports")]
        detail[sc.name] = pd.DataFrame({
            "direct VA exports %": pct.xs("va_exports_direct", level="variable"),
            "indirect VA exports %": pct.xs("va_exports_indirect", level="variable"),
            "domestic sales %": 100.0 * (domestic[1] / domestic[0] - 1.0),
        })
    table = pd.DataFrame(cols).reindex(bench.regions)
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    sigma = model.params.sigma["sigma_size"]
    lines = [
        "# SME shares of exports, before and after RCEP, faster ASEAN borders and the SME reform",
        "",
        "<!-- written by experiments/firm_size_shares.py from experiments/sme.toml; do not edit -->",
        "",
        f"Benchmark `eastasia-2011` split by firm size (stylised), firm-size nest with sigma_size = "
        f"{'twice sigma_mm (default)' if args.sigma_size is None else args.sigma_size} "
        f"(range {sigma.min():g} to {sigma.max():g}), sourcing by agent, fast backend. Shares in percent: "
        "SMEs' share of the gross exports and of the domestic value added in exports of the economy's goods sectors.",
        "",
        "| economy | " + " | ".join(f"{a}: {'gross exports' if b == 'exports' else 'VA in exports'}" for a, b in table.columns) + " |",
        "|---|" + "---:|" * len(table.columns),
    ]
    for region, row in table.iterrows():
        lines.append(f"| {region} | " + " | ".join(f"{100 * v:.1f}" for v in row.values) + " |")
    for name, d in detail.items():
        lines += ["", f"## {name}: SMEs' value added in exports and domestic sales (percent change)", "",
                  "| economy | direct VA exports | indirect VA exports | domestic sales |", "|---|---:|---:|---:|"]
        for region, row in d.reindex(bench.regions).iterrows():
            lines.append(f"| {region} | " + " | ".join(f"{v:+.2f}" for v in row.values) + " |")
    lines.append("")
    text = "\n".join(lines)
    if args.figures:
        figure(table, Path(args.figures))
    write_text(args.out, text)  # written beside, then renamed into place (atomic)
    print(text)
    print("solve times (fast backend, seconds, this machine; not written to the file): " + ", ".join(f"{k} {v:.2f}" for k, v in times.items()))


def figure(table, folder: Path) -> list:
    """Dots by economy: SMEs' share of the domestic value added in exports, benchmark and each scenario."""
    import numpy as np

    from cge.figstyle import DOUBLE, figure as new_figure, ordered_colours, save, style

    cases = [c for c in dict.fromkeys(a for a, _ in table.columns)]
    with style():
        fig = new_figure(DOUBLE, 3.2)
        ax = fig.add_subplot()
        x = np.arange(len(table.index))
        colours = ordered_colours(len(cases))
        for n, (case, colour) in enumerate(zip(cases, colours)):
            ax.scatter(x + (n - (len(cases) - 1) / 2) * 0.15, 100 * table[(case, "va_in_exports")], s=14, color=colour, label=case, zorder=3)
        ax.set_xticks(x, list(table.index), rotation=90)
        ax.set_ylabel("SME share of domestic value\nadded in exports (%)")
        ax.legend(ncols=len(cases), loc="upper center", bbox_to_anchor=(0.5, 1.12))
    return save(fig, folder, "sme_va_shares", title="SME share of the domestic value added in exports, by economy")


if __name__ == "__main__":
    main()
