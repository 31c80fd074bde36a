"""Run the experiment library and write experiments/RESULTS.md and the result lines of experiments/README.md.

    python experiments/summarise.py [--results DIR] [--force] [--only NAME ...]   # default DIR: results/experiments

Each scenario file ``experiments/<name>.toml`` is solved with ``cge run`` into ``DIR/<name>/`` unless that
folder already holds the results of the same file: a run is reused only when its stamp
(``summarise_stamp.json``, written after the run) records the SHA-256 of the scenario file as it is now,
and its ``metadata.json`` records the current benchmark hash and package version. Otherwise (file edited,
benchmark rebuilt, package upgraded, folder written by hand) the file is run again; ``--force`` reruns all.

Every number in the generated text is read from the run outputs (``results.csv``, each scenario's
``gvc.csv`` and ``employment_regions.csv``); sentences are templates filled from those numbers, and each names the
table it comes from.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import cge
from cge.experiment import run_spec
from cge.scenario import load_spec

HERE = Path(__file__).resolve().parent
ORDER = ["headline", "afta", "rcep", "facilitation", "service_links", "us_tariffs_2025", "us_tariffs_2025_base2011", "closures", "labour_markets", "elasticities"]
ASEAN = ["IDN", "MYS", "PHL", "SGP", "THA", "VNM", "XSE"]
STAMP = "summarise_stamp.json"
TERMS = {
    "terms_of_trade": "terms of trade",
    "tariff_efficiency": "tariff efficiency",
    "trade_costs": "trade costs",
    "employment": "employment",
    "labour_reallocation": "labour reallocation",
    "output_tax_efficiency": "output-tax efficiency",
    "transfer": "transfer",
}
ABOUT_EQUAL = 0.1
"""Two numbers are called "about equal" in the text when their ratio is within 1 +- this."""
ZERO = 5e-4
"""Values that round to zero at the tables' precision (3 decimals) are treated as zero."""


# ------------------------------------------------------------------------------------------ reruns
def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def stale(spec_path: Path, folder: Path) -> str:
    """Why the results in ``folder`` are not those of ``spec_path`` as it is now ('' when they are)."""
    meta_file, stamp_file = folder / "metadata.json", folder / STAMP
    if not meta_file.is_file():
        return "no results"
    if not stamp_file.is_file():
        return f"no {STAMP} (not run by this script)"
    stamp, meta = json.loads(stamp_file.read_text()), json.loads(meta_file.read_text())
    if stamp.get("spec_sha256") != sha256(spec_path):
        return f"{spec_path.name} changed since the run"
    bench_hash = load_spec(spec_path).load_benchmark().hash()
    if meta.get("benchmark", {}).get("hash") != bench_hash:
        return f"benchmark changed (run on {meta.get('benchmark', {}).get('hash')}, now {bench_hash})"
    versions = {sc.get("version") for sc in meta.get("scenarios", {}).values()}
    if versions != {cge.__version__}:
        return f"package version changed (run with {sorted(map(str, versions))}, now {cge.__version__})"
    return ""


def ensure_run(spec_path: Path, folder: Path, force: bool = False) -> bool:
    """Run ``spec_path`` into ``folder`` unless it holds current results; True when it ran."""
    why = "--force" if force else stale(spec_path, folder)
    if not why:
        return False
    print(f"running {spec_path.name}: {why}")
    run_spec(spec_path, folder, progress=False, overwrite=True)
    (folder / STAMP).write_text(json.dumps({"spec": spec_path.name, "spec_sha256": sha256(spec_path)}, indent=2) + "\n")
    return True


# ------------------------------------------------------------------------------------------ reading a run
@dataclass
class Run:
    """The outputs of one ``cge run`` folder."""

    name: str
    meta: dict
    tidy: pd.DataFrame
    gvc: dict
    jobs: dict

    @classmethod
    def read(cls, name: str, folder: Path) -> "Run":
        meta = json.loads((folder / "metadata.json").read_text())
        scenarios = list(meta["scenarios"])
        own = {sc: folder / meta["scenarios"][sc]["folder"] for sc in scenarios}  # each scenario's tables in its own folder
        gvc = {sc: pd.read_csv(own[sc] / "gvc.csv") for sc in scenarios}
        jobs = {sc: pd.read_csv(own[sc] / "employment_regions.csv", index_col=0) for sc in scenarios}
        return cls(name, meta, pd.read_csv(folder / "results.csv"), gvc, jobs)

    @property
    def scenarios(self) -> list[str]:
        return list(self.meta["scenarios"])

    @property
    def regions(self) -> list[str]:
        order = self.tidy.loc[self.tidy.variable == "welfare_ev", "region"]
        return [r for r in dict.fromkeys(order) if r != "World"]

    def label(self, region: str) -> str:
        return self.meta["benchmark"]["metadata"].get("region_labels", {}).get(region, region)

    def welfare(self, variable: str = "welfare_ev_pct") -> pd.DataFrame:
        """``variable`` by scenario (rows) and region (columns, World last)."""
        w = self.tidy[self.tidy.variable == variable].pivot(index="scenario", columns="region", values="value")
        return w.loc[self.scenarios, self.regions + ["World"]]

    def terms(self, region: str = "World") -> pd.DataFrame:
        """EV and its decomposition (currency units) of ``region`` by scenario."""
        cols = ["ev", *TERMS, "residual"]
        t = self.tidy[(self.tidy.region == region) & self.tidy.variable.isin([f"welfare_{c}" for c in cols])]
        t = t.pivot(index="scenario", columns="variable", values="value").rename(columns=lambda c: c.removeprefix("welfare_"))
        return t.reindex(index=self.scenarios, columns=cols)

    def gvc_change(self, sc: str, indicator: str, region: str) -> float:
        g = self.gvc[sc]
        row = g[(g.indicator == indicator) & (g.region == region)]
        return float(row["change"].iloc[0]) if len(row) else float("nan")


# ------------------------------------------------------------------------------------------ tables
def nonzero_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Drop numeric columns that round to zero in every row."""
    keep = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c]) or (df[c].abs() >= ZERO).any()]
    return df[keep]


def welfare_table(run: Run) -> pd.DataFrame:
    return run.welfare().round(3)


def decomposition_table(run: Run) -> pd.DataFrame:
    """World EV and its terms (US$ m) by scenario; terms zero in every scenario are dropped."""
    t = run.terms("World")
    return nonzero_columns(t[["ev", *TERMS]]).assign(residual=t["residual"]).round(1)


def drivers_table(run: Run) -> pd.DataFrame:
    """The largest gainer and loser of each scenario with their EV decomposition (US$ m)."""
    ev = run.welfare()[run.regions]
    rows = []
    for sc in run.scenarios:
        for role, region in extremes(ev.loc[sc]):
            t = run.terms(region).loc[sc]
            rows.append({"scenario": sc, "region": region, "role": role, "EV (%)": ev.loc[sc, region], **t[["ev", *TERMS]].to_dict()})
    return nonzero_columns(pd.DataFrame(rows).set_index("scenario")).round({"EV (%)": 3} | {c: 1 for c in ["ev", *TERMS]})


def chains_table(run: Run) -> pd.DataFrame:
    rows = []
    for sc in run.scenarios:
        rows.append(
            {
                "scenario": sc,
                "world EV (US$ m)": run.terms("World").loc[sc, "ev"],
                "intra-ASEAN trade share (pp)": run.gvc_change(sc, "intra_group_trade_share", "ASEAN"),
                "intra-RCEP trade share (pp)": run.gvc_change(sc, "intra_group_trade_share", "RCEP"),
                "ASEAN backward GVC participation (pp)": run.gvc_change(sc, "gvc_participation_backward_wwyz", "ASEAN"),
            }
        )
    return pd.DataFrame(rows).set_index("scenario").round(3)


def jobs_row(run: Run, sc: str) -> dict:
    """Persons moved between sectors, employment and real wages of one scenario (its employment_regions.csv)."""
    e = run.jobs[sc]
    real = 100 * (e["real_wage"] - 1)
    asean = e.loc[ASEAN]
    share = 100 * e["jobs_moved"] / e["persons_0"]
    return {
        "scenario": sc,
        "persons moved between sectors, world (thousand)": e["jobs_moved"].sum() / 1e3,
        "persons moved, ASEAN (thousand)": asean["jobs_moved"].sum() / 1e3,
        "most moved (% of persons)": f"{share.idxmax()} {share.max():.2f}",
        "employment, world (%)": 100 * (e["persons"].sum() / e["persons_0"].sum() - 1),
        "employment, ASEAN (%)": 100 * (asean["persons"].sum() / asean["persons_0"].sum() - 1),
        "real wage, largest rise (%)": f"{real.idxmax()} {real.max():+.2f}",
        "real wage, largest fall (%)": f"{real.idxmin()} {real.min():+.2f}",
    }


def jobs_table(run: Run) -> pd.DataFrame:
    """Employment columns that mean something in this experiment (all-zero columns dropped)."""
    return nonzero_columns(pd.DataFrame([jobs_row(run, sc) for sc in run.scenarios]).set_index("scenario")).round(3)


# ------------------------------------------------------------------------------------------ sentences
def bn(x: float) -> str:
    """US$ million in text: billions from 1bn, millions below."""
    sign = "-" if x < 0 else ""
    return f"{sign}US${abs(x) / 1e3:,.1f}bn" if abs(x) >= 1e3 else f"{sign}US${abs(x):,.0f}m"


def pct(x: float) -> str:
    """A percentage with a sign and two significant digits for small values (at most four decimals)."""
    digits = next((d for d in (2, 3, 4) if abs(x) >= 10 ** (1 - d)), 4)
    return f"{x:+.{digits}f}%"


def compare(a: float, b: float) -> str:
    """'about equal to' or 'N times' for a / b."""
    r = a / b
    return f"about equal to (ratio {r:.3f})" if abs(r - 1) <= ABOUT_EQUAL else f"{r:.2f} times"


def extremes(ev: pd.Series) -> list[tuple[str, str]]:
    """(role, region) of the largest and smallest welfare change, named by sign ("largest gain", "smallest gain"...)."""
    top, low = ev.idxmax(), ev.idxmin()
    return [
        ("largest gain" if ev[top] >= 0 else "smallest loss", top),
        ("largest loss" if ev[low] < 0 else "smallest gain", low),
    ]


def largest_term(t: pd.Series) -> tuple[str, float]:
    terms = t[list(TERMS)]
    k = terms.abs().idxmax()
    return k, float(terms[k])


def world_lines(run: Run) -> list[str]:
    ev, pc = run.terms("World")["ev"], run.welfare()["World"]
    w = run.welfare()[run.regions]
    out = []
    for sc in run.scenarios:
        (r1, up), (r2, down) = extremes(w.loc[sc])
        out.append(
            f"`{sc}`: world welfare {bn(ev[sc])} ({pct(pc[sc])} of world income); {int((w.loc[sc] >= ZERO).sum())} of "
            f"{len(run.regions)} regions gain; {r1} {run.label(up)} ({pct(w.loc[sc, up])}), {r2} "
            f"{run.label(down)} ({pct(w.loc[sc, down])}) (*Welfare*, World column and rows)."
        )
    return out


def driver_lines(run: Run) -> list[str]:
    """One sentence per scenario from the decomposition: the world's largest term and the extremes' largest terms."""
    out = []
    ev = run.welfare()[run.regions]
    for sc in run.scenarios:
        world = run.terms("World").loc[sc]
        k, v = largest_term(world)
        parts = [f"`{sc}`: world EV {bn(world['ev'])}, largest term {TERMS[k]} ({bn(v)})"]
        for role, region in extremes(ev.loc[sc]):
            t = run.terms(region).loc[sc]
            rk, rv = largest_term(t)
            parts.append(f"{role}, {run.label(region)} ({bn(t['ev'])}): mostly {TERMS[rk]} ({bn(rv)})")
        out.append("; ".join(parts) + " (*World welfare decomposition*, *Largest gain and loss*).")
    return out


def jobs_lines(run: Run) -> list[str]:
    out = []
    for sc in run.scenarios:
        r = jobs_row(run, sc)
        e = run.jobs[sc]
        world_pct = 100 * e["jobs_moved"].sum() / e["persons_0"].sum()
        real = 100 * (e["real_wage"] - 1)
        wages = (
            f"real wages rise most in {run.label(real.idxmax())} ({pct(real.max())}) and fall most in {run.label(real.idxmin())} ({pct(real.min())})"
            if real.abs().max() >= ZERO else "real wages do not change"
        )
        text = (
            f"`{sc}`: {r['persons moved between sectors, world (thousand)']:,.0f} thousand persons change sector worldwide "
            f"({world_pct:.3f}% of persons; {r['persons moved, ASEAN (thousand)']:,.0f} thousand in ASEAN); {wages}"
        )
        if abs(r["employment, world (%)"]) >= ZERO:
            text += f"; total employment changes by {pct(r['employment, world (%)'])} worldwide and {pct(r['employment, ASEAN (%)'])} in ASEAN"
        out.append(text + " (*Jobs and wages*).")
    return out


def specific_lines(run: Run) -> list[str]:
    """Comparisons particular to an experiment, all computed from its tables."""
    t, w, ch = run.terms("World"), run.welfare(), chains_table(run)
    name = run.name
    if name == "headline":
        a, b = "rcep", "rcep_facilitation"
        gain = [int((w.loc[s, ASEAN] >= ZERO).sum()) for s in (a, b)]
        return [
            f"Adding faster ASEAN borders raises the world gain from {bn(t.loc[a, 'ev'])} to {bn(t.loc[b, 'ev'])}; the "
            f"difference ({bn(t.loc[b, 'ev'] - t.loc[a, 'ev'])}) is {compare(t.loc[b, 'ev'] - t.loc[a, 'ev'], t.loc[b, 'trade_costs'])} "
            f"the trade-cost term ({bn(t.loc[b, 'trade_costs'])}) (*World welfare decomposition*).",
            f"ASEAN members that gain: {gain[0]} of {len(ASEAN)} with tariff elimination alone, {gain[1]} of {len(ASEAN)} with faster "
            "borders as well (*Welfare*).",
        ]
    if name == "rcep":
        a, b = "asean_plus3", "rcep"
        return [
            f"Adding Australia and New Zealand changes the world gain from {bn(t.loc[a, 'ev'])} to {bn(t.loc[b, 'ev'])} and "
            f"Australia-New Zealand's own welfare from {pct(w.loc[a, 'ANZ'])} to {pct(w.loc[b, 'ANZ'])} (*Welfare*).",
            f"The intra-RCEP share of members' trade rises by {ch.loc[a, 'intra-RCEP trade share (pp)']:.2f} and "
            f"{ch.loc[b, 'intra-RCEP trade share (pp)']:.2f} percentage points; ASEAN's own intra-regional share changes by "
            f"{ch.loc[a, 'intra-ASEAN trade share (pp)']:+.2f} and {ch.loc[b, 'intra-ASEAN trade share (pp)']:+.2f} percentage points (*Value chains*).",
        ]
    if name == "afta":
        sc = run.scenarios[0]
        return [f"The intra-ASEAN share of ASEAN's trade changes by {ch.loc[sc, 'intra-ASEAN trade share (pp)']:+.2f} percentage "
                f"points (*Value chains*); no region's welfare moves by more than {w.loc[sc].abs().max():.2f}% (*Welfare*)."]
    if name in ("facilitation", "service_links"):
        ratio = t["ev"] / t["trade_costs"]
        listed = ", ".join(f"`{sc}` {ratio[sc]:.3f}" for sc in run.scenarios)
        verdict = (
            "in every scenario the world welfare gain is about equal to the trade-cost saving, the real resources that lower "
            "trade costs free; the other terms are small"
            if (ratio - 1).abs().max() <= ABOUT_EQUAL
            else "the world welfare gain differs from the trade-cost saving by more than " f"{100 * ABOUT_EQUAL:.0f}% in some scenarios"
        )
        lines = [f"World welfare gain / trade-cost saving: {listed} (*World welfare decomposition*, columns ev and trade_costs): {verdict}."]
        if name == "service_links":
            a, b = "intermediate_only", "final_only"
            lines.append(
                f"The intermediate-goods cut gives {t.loc[a, 'ev'] / t.loc[b, 'ev']:.2f} times the world gain of the final-goods cut, "
                f"and its trade-cost saving is {t.loc[a, 'trade_costs'] / t.loc[b, 'trade_costs']:.2f} times as large (*World welfare "
                "decomposition*): the difference in welfare is the difference in the size of the flows each cut applies to. It is not "
                "evidence that fragmentation responds to service-link costs: the model has no choice of fragmentation (input "
                "coefficients change only through prices)."
            )
            lines.append(
                f"ASEAN's backward GVC participation changes by {ch.loc[a, 'ASEAN backward GVC participation (pp)']:+.3f} pp with the "
                f"intermediate cut and {ch.loc[b, 'ASEAN backward GVC participation (pp)']:+.3f} pp with the final cut (*Value chains*)."
            )
        return lines
    if name.startswith("us_tariffs_2025"):
        lines = []
        for sc in run.scenarios:
            gainers = [r for r in run.regions if w.loc[sc, r] >= ZERO]
            lines.append(f"`{sc}`: the United States {pct(w.loc[sc, 'USA'])}; regions that gain: "
                         f"{', '.join(f'{run.label(r)} ({pct(w.loc[sc, r])})' for r in gainers) or 'none'} (*Welfare*).")
        return lines
    if name == "closures":
        a, b = "rcep_full_employment", "rcep_fixed_real_wage"
        diff = t.loc[b, "ev"] - t.loc[a, "ev"]
        return [f"With a fixed real wage the world gain is {bn(t.loc[b, 'ev'])} against {bn(t.loc[a, 'ev'])}; of the difference "
                f"({bn(diff)}), the employment term carries {bn(t.loc[b, 'employment'] - t.loc[a, 'employment'])}, "
                f"{compare(t.loc[b, 'employment'] - t.loc[a, 'employment'], diff)} the difference (*World welfare decomposition*)."]
    if name == "labour_markets":
        p, s = "rcep_premia", "rcep_single"
        cet = [sc for sc in run.scenarios if sc.startswith("rcep_cet")]
        moved = {sc: run.jobs[sc]["jobs_moved"].sum() / 1e3 for sc in run.scenarios}
        return [
            f"Under fixed wage premia the world gain is {bn(t.loc[p, 'ev'])} against {bn(t.loc[s, 'ev'])} with one labour market; "
            f"the labour-reallocation term ({bn(t.loc[p, 'labour_reallocation'])}, {100 * t.loc[p, 'labour_reallocation'] / t.loc[p, 'ev']:.0f}% "
            "of the gain) values the persons who change sector at their benchmark wage premia (*World welfare "
            "decomposition*); it rests on those premia, some of them from proxies (calibration/README.md, section 3c).",
            "With imperfect mobility (CET) the world gain is " + ", ".join(f"{bn(t.loc[c, 'ev'])} (`{c}`)" for c in cet)
            + f" against the single market's {bn(t.loc[s, 'ev'])}"
            + (", below it and closer to it as the elasticity grows" if (t.loc[cet, "ev"].diff().dropna() > 0).all() and (t.loc[cet, "ev"] < t.loc[s, "ev"]).all() else "")
            + " (*World welfare decomposition*); persons changing sector: "
            + ", ".join(f"{moved[c]:,.0f} thousand (`{c}`)" for c in [s, *cet]) + " (*Jobs and wages*).",
        ]
    if name == "elasticities":
        ev = t["ev"]
        rcep = ch["intra-RCEP trade share (pp)"]
        regional = w[run.regions]
        same = [r for r in run.regions if (regional[r] > ZERO).all() or (regional[r] < -ZERO).all()]
        flips = [run.label(r) for r in run.regions if r not in same and (regional[r].abs() >= ZERO).any()]
        return [
            f"The world gain ranges from {bn(ev.min())} (`{ev.idxmin()}`) to {bn(ev.max())} (`{ev.idxmax()}`), the rise in the "
            f"intra-RCEP trade share from {rcep.min():.2f} to {rcep.max():.2f} percentage points (*Value chains*).",
            f"{len(same)} of {len(run.regions)} regions have the same sign of welfare change under every set (*Welfare*); "
            f"the sign changes with the elasticities for {', '.join(flips) or 'none'}.",
        ]
    return []


def section(run: Run) -> str:
    """The RESULTS.md section of one experiment."""
    spec = run.meta["spec"]
    title = run.meta["title"]
    out = [
        f"### {title}\n",
        f"`cge run experiments/{Path(spec).name}`. Scenarios: " + "; ".join(f"`{sc}`: {d['description'].rstrip('.')}" for sc, d in run.meta["scenarios"].items()) + "\n",
        "**What the numbers show**\n",
        *[f"- {line}" for line in world_lines(run) + specific_lines(run)],
        "",
        "**What drives this result** (Huff-Hertel decomposition of the EV; terms zero in every scenario are left out of the tables)\n",
        *[f"- {line}" for line in driver_lines(run)],
        "",
        "**Jobs and wages** (persons = benchmark persons x the change in each sector's labour demand; with one labour market "
        "per region total persons move a little as workers change sectors with different benchmark wages per person, with "
        "fixed premia they do not; only a fixed real wage changes the labour employed)\n",
        *[f"- {line}" for line in jobs_lines(run)],
        "",
        "*Welfare* (EV, % of benchmark income):\n",
        welfare_table(run).to_markdown() + "\n",
        "*World welfare decomposition* (US$ million; residual = EV - sum of terms):\n",
        decomposition_table(run).to_markdown() + "\n",
        "*Largest gain and loss* (EV decomposition of the region with the largest and smallest EV %, US$ million):\n",
        drivers_table(run).to_markdown() + "\n",
        "*Value chains* (ASEAN and RCEP treated as one economy for participation):\n",
        chains_table(run).to_markdown() + "\n",
        "*Jobs and wages* (columns that are zero in every scenario are left out):\n",
        jobs_table(run).to_markdown() + "\n",
    ]
    return "\n".join(out)


def readme_summary(run: Run) -> str:
    """The result line of an experiment in experiments/README.md (from the same numbers as RESULTS.md)."""
    text = " ".join(world_lines(run) + specific_lines(run))
    return re.sub(r" \((\*[^)]*\*(, [^)]*)?)+\)", "", text) + " (RESULTS.md)"


def update_readme(runs: dict, path: Path = HERE / "README.md") -> None:
    """Replace the text between ``<!-- results:NAME -->`` and ``<!-- /results -->`` in the README."""
    text = path.read_text()
    for name, run in runs.items():
        pattern = re.compile(rf"(<!-- results:{re.escape(name)} -->\n)(?:(?!<!--).*\n)*?(<!-- /results -->)")
        text, n = pattern.subn(lambda m, run=run: m.group(1) + "*Results:* " + readme_summary(run) + "\n" + m.group(2), text)
        if n != 1:
            raise ValueError(f"{path}: expected one <!-- results:{name} --> ... <!-- /results --> block, found {n}")
    path.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=HERE.parent / "results" / "experiments")
    ap.add_argument("--force", action="store_true", help="rerun every experiment")
    ap.add_argument("--only", nargs="*", default=None, help="rerun only these experiments if stale (others must be current)")
    args = ap.parse_args()
    runs = {}
    for name in ORDER:
        folder = args.results / name
        if args.only is None or name in args.only:
            ensure_run(HERE / f"{name}.toml", folder, args.force)
        elif why := stale(HERE / f"{name}.toml", folder):
            raise SystemExit(f"{name}: results are stale ({why}); run without --only")
        runs[name] = Run.read(name, folder)
    parts = [
        "# Results of the experiment library\n",
        "Generated by `python experiments/summarise.py` from the run outputs in `results/experiments/` (built-in "
        "`eastasia-2011` benchmark, default elasticities, sourcing by agent, full employment and one labour market per "
        "region unless a scenario says otherwise). Do not edit by hand: every number and sentence below is computed from "
        "the tables that follow it, and each sentence names its table in italics.\n",
    ]
    parts += [section(run) for run in runs.values()]
    (HERE / "RESULTS.md").write_text("\n".join(parts))
    update_readme(runs)
    print("wrote", HERE / "RESULTS.md", "and the result lines of", HERE / "README.md")


if __name__ == "__main__":
    main()
