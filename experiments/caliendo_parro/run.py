"""Caliendo and Parro (2015), Table 2: the welfare effects of NAFTA's tariff reductions, with ``cge``.

Builds the Caliendo-Parro 1993 benchmark (``calibration/caliendo_parro.py``), solves the NAFTA
counterfactual (tariffs among Canada, Mexico and the United States at their 2005 levels, all other
tariffs at 1993 levels) with the Pyomo model, and writes Table 2 (welfare, terms of trade, volume
of trade, real wages) plus the growth of imports from NAFTA partners, as CSV and Markdown::

    .venv/bin/python experiments/caliendo_parro/run.py                  # -> results/caliendo_parro
    .venv/bin/python experiments/caliendo_parro/run.py --variants       # + alternative treatments
    .venv/bin/python experiments/caliendo_parro/run.py --write-expected tests/data/caliendo_parro_expected.csv

``--write-expected`` regenerates the numbers the test checks the model against; they come from the
Python port of CP's own solver (no ``cge`` solve), so the test compares two implementations.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import cge  # noqa: E402
from calibration import caliendo_parro as cp  # noqa: E402
from cge.experiment import git_commit, json_default  # noqa: E402

OUT = ROOT / "results" / "caliendo_parro"
MEMBERS = ("MEX", "CAN", "USA")  # the order of their Table 2
NAMES = {"MEX": "Mexico", "CAN": "Canada", "USA": "United States"}
MEASURES = ("welfare", "terms_of_trade", "volume_of_trade", "real_wage")
PUBLISHED = pd.DataFrame(
    {
        "welfare": [1.31, -0.06, 0.08],
        "terms_of_trade": [-0.41, -0.11, 0.04],
        "volume_of_trade": [1.72, 0.04, 0.04],
        "real_wage": [1.72, 0.32, 0.11],
        "imports_from_nafta": [118.0, 11.0, 41.0],
    },
    index=pd.Index(list(MEMBERS), name="region"),
)
"""Caliendo and Parro (2015), Table 2 (welfare, % ) and section 5 (growth of imports from NAFTA
partners, %, rounded as quoted in the text)."""
LABELS = {
    "welfare": "Welfare (CP: ToT + VoT)",
    "terms_of_trade": "Terms of trade",
    "volume_of_trade": "Volume of trade",
    "real_wage": "Real wages",
    "ev_pct": "Real income (EV, exact)",
    "imports_from_nafta": "Imports from NAFTA partners",
}


# --------------------------------------------------------------------------------------- solving
def solve(bench: cge.Benchmark, tariff: np.ndarray, steps: int = 2, name: str = "nafta-1993-2005") -> cge.Results:
    """Solve the tariff scenario with the Pyomo model, reaching it in ``steps`` equal slices.

    The slices are warm starts only (each solve is a full equilibrium; the last is the scenario).
    A direct solve from the benchmark also converges, but Ipopt's first Newton step overshoots
    (elasticities up to 65.85) and it takes about 60 iterations instead of 2 x 5.
    """
    model = cge.Model(bench, closure=cge.Closure(), sourcing="common", backend="pyomo")
    scenario = cge.Scenario(tariff=tariff, name=name, description="NAFTA tariffs of 2005 among CAN, MEX, USA; others 1993")
    origin, target = cge.Instruments.benchmark(bench), scenario.instruments(bench)
    res = None
    for k in range(1, steps + 1):
        point = scenario if k == steps else cge.Scenario.from_instruments(origin.toward(target, k / steps), name=f"{name}@{k / steps:.4g}")
        res = model.solve(point, start=res)
    return res


def cp_measures(res: cge.Results) -> pd.DataFrame:
    """CP's Table 2 measures computed from a ``cge`` solution, and the exact EV.

    Their decomposition (:func:`calibration.caliendo_parro.cp_decomposition`) needs bilateral sales at
    producer prices before (``d_0`` summed over buyers) and after (``p * z``), and the change in unit
    costs, which in the Armington form is the producer price ``p``. Real wages are the wage over the
    household price index; ``ev_pct`` is the equivalent variation in % of benchmark income.
    """
    par, sol = res.params, res.solution
    use = par.use_of_buyer
    flows_0 = par.d_0.sum(axis=3)
    flows_1 = (sol.p[:, :, None, None] * sol.tau[..., use] * sol.z).sum(axis=3)
    out = cp.cp_decomposition(flows_0, flows_1, sol.p, res.bench.tariff_0[..., 0], par.income_0)
    wage = res.factor_prices()["labour"].to_numpy()
    out["real_wage"] = 100 * (wage / sol.pfd[:, par.household] - 1.0)
    out["ev_pct"] = res.welfare(decompose=False)["ev_pct"].to_numpy()[: par.n_regions]
    return pd.DataFrame(out, index=pd.Index(par.regions, name="region"))


def import_growth(res: cge.Results, members=MEMBERS) -> tuple[pd.Series, pd.DataFrame]:
    """Growth (%) of each member's imports from the other members, in total and by partner.

    Values at producer prices (f.o.b., before tariffs), summed over sectors: CP's ``xbilattau``.
    """
    tr = res.trade().reset_index()
    tr = tr[tr["exporter"].isin(members) & tr["importer"].isin(members)]
    total = tr.groupby("importer")[["value_0", "value"]].sum()
    agg = 100 * (total["value"] / total["value_0"] - 1.0)
    pair = tr.groupby(["importer", "exporter"])[["value_0", "value"]].sum()
    bilateral = (100 * (pair["value"] / pair["value_0"] - 1.0)).unstack("exporter").reindex(index=list(members), columns=list(members))
    return agg.reindex(list(members)).rename("imports_from_nafta"), bilateral


def table2(measures: pd.DataFrame, growth: pd.Series, decomposition: pd.DataFrame | None = None) -> pd.DataFrame:
    """Their Table 2 layout (rows Mexico, Canada, United States), our numbers and theirs side by side."""
    df = measures.loc[list(MEMBERS), list(MEASURES) + ["ev_pct"]].copy()
    df["imports_from_nafta"] = growth.loc[list(MEMBERS)]
    for col in PUBLISHED:
        df[f"published_{col}"] = PUBLISHED[col]
    if decomposition is not None:
        dec = decomposition.loc[list(MEMBERS)]
        scale = 100.0 / dec["income_0"]
        for col in ("terms_of_trade", "tariff_efficiency", "employment", "residual"):
            df[f"hh_{col}"] = dec[col] * scale
    df.insert(0, "country", [NAMES[r] for r in df.index])
    return df


# --------------------------------------------------------------------------------------- writing
def markdown(t2: pd.DataFrame, bilateral: pd.DataFrame, meta: dict, variants: pd.DataFrame | None = None) -> str:
    """The tables as Markdown (values in %)."""

    def fmt(x, d=2):
        return "" if pd.isna(x) else f"{x:.{d}f}"

    cols = list(MEASURES) + ["ev_pct", "imports_from_nafta"]
    lines = [
        "# Caliendo and Parro (2015), Table 2: welfare effects from NAFTA's tariff reductions",
        "",
        "Changes in %, 1993 tariffs among Canada, Mexico and the United States moved to their 2005 levels.",
        "Each cell: this replication (cge) / published. \"Welfare\" is CP's measure, terms of trade + volume",
        "of trade from their decomposition; \"Real income (EV)\" is the exact change in the household's real",
        "income (cge's equivalent variation), which they do not report.",
        "",
        "| Country | " + " | ".join(LABELS[c] for c in cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for r, row in t2.iterrows():
        cells = []
        for c in cols:
            pub = row.get(f"published_{c}", np.nan)
            d = 1 if c == "imports_from_nafta" else 2
            cells.append(fmt(row[c], d) + ("" if pd.isna(pub) else f" / {fmt(pub, d)}"))
        lines.append(f"| {row['country']} | " + " | ".join(cells) + " |")
    if "hh_terms_of_trade" in t2:
        lines += [
            "",
            f"Exact decomposition of the EV in cge (Huff and Hertel 2000, {meta.get('decomposition_steps')} steps along the shock), % of income:",
            "",
            "| Country | Terms of trade | Tariff efficiency (volume of trade) | Employment | Residual | EV |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r, row in t2.iterrows():
            lines.append(
                f"| {row['country']} | {fmt(row['hh_terms_of_trade'], 3)} | {fmt(row['hh_tariff_efficiency'], 3)} | "
                f"{fmt(row['hh_employment'], 3)} | {fmt(row['hh_residual'], 4)} | {fmt(row['ev_pct'], 3)} |"
            )
    lines += ["", "Growth of bilateral imports (%), importer (row) from exporter (column):", ""]
    lines.append("| Importer | " + " | ".join(NAMES[c] for c in bilateral.columns) + " |")
    lines.append("|---|" + "---:|" * len(bilateral.columns))
    for r, row in bilateral.iterrows():
        lines.append(f"| {NAMES[r]} | " + " | ".join(fmt(v) for v in row) + " |")
    if variants is not None:
        lines += ["", "Alternative treatments (% changes; see the README):", ""]
        lines.append("| Variant | Solver | Country | " + " | ".join(LABELS[c] for c in ("welfare", "terms_of_trade", "volume_of_trade", "real_wage", "ev_pct")) + " |")
        lines.append("|---|---|---|" + "---:|" * 5)
        for _, row in variants.iterrows():
            vals = " | ".join(fmt(row.get(c), 3) for c in ("welfare", "terms_of_trade", "volume_of_trade", "real_wage", "ev_pct"))
            lines.append(f"| {row['variant']} | {row['solver']} | {NAMES[row['region']]} | {vals} |")
    lines += [
        "",
        f"Benchmark {meta['benchmark']['name']} (hash {meta['benchmark']['hash']}), cge {meta['version']}, "
        f"commit {meta['git_commit'][:10]}; wall time {meta['wall_seconds']:.0f} s, peak memory {meta['peak_memory_mb']:.0f} MB.",
        "",
    ]
    return "\n".join(lines)


# -------------------------------------------------------------------------------------- variants
def variants(raw: cp.RawData, base_measures: pd.DataFrame) -> pd.DataFrame:
    """Alternative treatments, solved with cge where the benchmark changes and with the CP port otherwise.

    * ``cge, zero deficits``: the replication itself (CP's Table 2 baseline).
    * ``cge, 1993 deficits held fixed``: benchmark = the 1993 equilibrium with its deficits (their
      ``script.m``), net transfers fixed (CP's "with deficits" counterfactuals).
    * ``CP port``: their solver in Python on the same baseline, with (a) the negative IO share kept
      as in their data, (b) non-tradables given theta = 1 instead of 8.22, (c) their
      decomposition chained over 4 and 16 slices of the tariff change.
    """
    rows = []

    def add(variant, solver, d):
        for r in MEMBERS:
            k = raw.regions.index(r)
            rows.append({"variant": variant, "solver": solver, "region": r, **{c: float(np.asarray(d[c])[k]) for c in d}})

    add("zero deficits (Table 2 baseline)", "cge", {c: base_measures[c].to_numpy() for c in base_measures})
    bench_d, _ = cp.build("data", raw)
    res_d = solve(bench_d, cp.nafta_tariffs(raw), name="nafta-with-deficits")
    md = cp_measures(res_d)
    add("1993 deficits held fixed", "cge", {c: md[c].to_numpy() for c in md})

    tariff = cp.nafta_tariffs(raw)
    base, _ = cp.balanced_baseline(raw)
    new, ch = cp.solve_changes(base, tariff=tariff)
    d = cp.cp_welfare(base, new, ch)
    add("zero deficits (Table 2 baseline)", "CP port", {**d, "ev_pct": d["real_income"]})

    raw_io = cp.load_raw(clip_negative_io=False)
    base_io, _ = cp.balanced_baseline(raw_io)
    new_io, ch_io = cp.solve_changes(base_io, tariff=tariff)
    d = cp.cp_welfare(base_io, new_io, ch_io)
    add("negative IO share kept (their data as is)", "CP port", {**d, "ev_pct": d["real_income"]})

    raw_nt = cp.load_raw()
    raw_nt.theta[~raw_nt.tradable] = 1.0
    base_nt, _ = cp.balanced_baseline(raw_nt)
    new_nt, ch_nt = cp.solve_changes(base_nt, tariff=tariff)
    d = cp.cp_welfare(base_nt, new_nt, ch_nt)
    add("non-tradables theta = 1 (not 8.22)", "CP port", {**d, "ev_pct": d["real_income"]})

    for steps in (4, 16):
        d = cp.cp_welfare_along_path(base, tariff, steps)
        add(f"CP decomposition chained over {steps} slices", "CP port", d)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------- expected numbers
def expected_numbers(raw: cp.RawData | None = None) -> pd.DataFrame:
    """The numbers the test checks ``cge`` against, from the Python port of CP's solver (no cge solve)."""
    raw = raw if raw is not None else cp.load_raw()
    base, _ = cp.balanced_baseline(raw)
    new, ch = cp.solve_changes(base, tariff=cp.nafta_tariffs(raw))
    d = cp.cp_welfare(base, new, ch)
    x0, x1 = base.flows.sum(axis=1), new.flows.sum(axis=1)  # [r, s]
    idx = {r: raw.regions.index(r) for r in MEMBERS}
    rows = []
    for r in MEMBERS:
        k = idx[r]
        for q in ("welfare", "terms_of_trade", "volume_of_trade", "real_wage", "real_income"):
            rows.append({"quantity": q, "importer": r, "exporter": "", "value": float(d[q][k])})
        partners = [idx[p] for p in MEMBERS if p != r]
        g = 100 * (x1[partners, k].sum() / x0[partners, k].sum() - 1.0)
        rows.append({"quantity": "imports_from_nafta", "importer": r, "exporter": "", "value": float(g)})
        for p in MEMBERS:
            if p != r:
                rows.append({"quantity": "import_growth", "importer": r, "exporter": p, "value": float(100 * (x1[idx[p], k] / x0[idx[p], k] - 1.0))})
    df = pd.DataFrame(rows)
    df["unit"] = "%"
    df["source"] = "CP solver port, calibration/caliendo_parro.py"
    return df


# ------------------------------------------------------------------------------------------ main
def run(out: Path | str | None = OUT, decompose_steps: int = 8, with_variants: bool = False, verbose: bool = True) -> dict:
    """Build, solve, tabulate and write; returns the tables and the results object."""
    start = time.perf_counter()
    raw = cp.load_raw()
    bench, eq = cp.build("zero", raw)
    built = time.perf_counter() - start
    res = solve(bench, cp.nafta_tariffs(raw))
    measures = cp_measures(res)
    growth, bilateral = import_growth(res)
    decomposition = res.model.solve(res.scenario, decompose=decompose_steps, start=res).welfare_decomposition().join(res.welfare(decompose=False)[["income_0"]]) if decompose_steps else None
    t2 = table2(measures, growth, decomposition)
    var = variants(raw, measures) if with_variants else None
    meta = {
        **res.metadata(),
        "git_commit": git_commit(),
        "benchmark": {"name": bench.metadata["name"], "hash": bench.hash(), "metadata": bench.metadata},
        "raw_data": str(cp.data_dir()),
        "raw_data_notes": raw.notes,
        "decomposition_steps": decompose_steps,
        "benchmark_seconds": built,
        "wall_seconds": time.perf_counter() - start,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    md = markdown(t2, bilateral, meta, var)
    files = []
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        t2.to_csv(out / "table2.csv", float_format="%.6g")
        bilateral.to_csv(out / "import_growth_bilateral.csv", float_format="%.6g")
        measures.to_csv(out / "all_regions.csv", float_format="%.6g")
        (out / "table2.md").write_text(md)
        files = [out / "table2.csv", out / "import_growth_bilateral.csv", out / "all_regions.csv", out / "table2.md"]
        if var is not None:
            var.to_csv(out / "variants.csv", index=False, float_format="%.6g")
            files.append(out / "variants.csv")
        (out / "metadata.json").write_text(json.dumps(meta, indent=2, default=json_default))
        files.append(out / "metadata.json")
    if verbose:
        print(md)
    return {"table2": t2, "bilateral": bilateral, "measures": measures, "variants": var, "results": res, "metadata": meta, "files": files, "markdown": md}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT, help="results folder (default results/caliendo_parro)")
    ap.add_argument("--decompose-steps", type=int, default=8, help="steps of cge's EV decomposition (0: skip)")
    ap.add_argument("--variants", action="store_true", help="also solve the alternative treatments of the README")
    ap.add_argument("--write-expected", type=Path, help="write the test's expected numbers (CP port) to this CSV and stop")
    args = ap.parse_args(argv)
    if args.write_expected:
        df = expected_numbers()
        df.to_csv(args.write_expected, index=False, float_format="%.10g")
        print(f"wrote {args.write_expected}")
        return
    run(args.out, args.decompose_steps, args.variants)


if __name__ == "__main__":
    main()
