"""Rebuild every built-in benchmark from the raw sources in ../shared/data.

Usage (from the repository root)::

    python -m calibration.build_all              # rebuild and write cge/data/benchmarks/<name>/
    python -m calibration.build_all --check      # rebuild in memory and compare with the committed files
    python -m calibration.build_all --only eastasia-small --out /tmp/benchmarks

The raw data folder is ``<repo>/../shared/data`` or ``$CGE_SHARED_DATA``. Each benchmark folder gets
its CSV files (gzipped), ``metadata.toml`` and a ``SOURCE.md`` generated from the recipe and the
build's checks, so that a rebuild from unchanged sources reproduces the committed files exactly.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: python calibration/build_all.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cge  # noqa: E402
from cge.datasets import DATA_DIR  # noqa: E402
from cge.sources import build, customs, premia, update  # noqa: E402

from calibration import checks, recipes  # noqa: E402


def build_all(names=recipes.BUILT, inputs: build.Inputs | None = None) -> tuple[build.Inputs, dict]:
    """Build the benchmarks ``names`` (in memory); returns the inputs and ``{name: (bench, report)}``."""
    inputs = inputs or build.load_inputs(io_proxies=recipes.io_proxies())
    out = {}
    for name in names:
        if name in recipes.UPDATED:
            base, year = recipes.UPDATED[name]
            if base not in out:
                out[base] = build.build_benchmark(recipes.recipe(base), inputs)
            later, rep = updated_inputs(inputs, year)
            bench, report = build.build_benchmark(recipes.recipe(name), later)
            out[name] = (update.mark_updated(bench, rep, out[base][0]), report)
        else:
            out[name] = build.build_benchmark(recipes.recipe(name), inputs)
    return inputs, {name: out[name] for name in names}


_UPDATED_INPUTS: dict = {}


def updated_inputs(inputs: build.Inputs, year: int) -> tuple[build.Inputs, update.UpdateReport]:
    """:func:`cge.sources.update.updated_inputs`, once per (inputs, year) in a session."""
    key = (id(inputs), year)
    if key not in _UPDATED_INPUTS:
        _UPDATED_INPUTS[key] = (inputs, *update.updated_inputs(inputs, year))
    return _UPDATED_INPUTS[key][1:]


def compare(bench: cge.Benchmark, other: cge.Benchmark, rtol: float = 1e-9) -> list[str]:
    """Differences between two benchmarks (labels exactly, arrays within ``rtol``)."""
    diffs = []
    for attr in ("regions", "sectors", "factors", "agents", "groups", "employment_proxy"):
        if getattr(bench, attr) != getattr(other, attr):
            diffs.append(f"{attr}: {getattr(bench, attr)} != {getattr(other, attr)}")
    for attr in ("z_0", "f_0", "fp_0", "tariff_0", "employment"):
        a, b = getattr(bench, attr), getattr(other, attr)
        if (a is None) != (b is None) or (a is not None and (a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=1e-9))):
            diffs.append(f"{attr}: arrays differ")
    for k in bench.elasticities:
        if not np.allclose(bench.elasticities[k], other.elasticities.get(k, np.nan), rtol=rtol):
            diffs.append(f"elasticities {k}: differ")
    return diffs


def _fmt(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def source_md(bench: cge.Benchmark, report: build.BuildReport, inputs: build.Inputs) -> str:
    """The SOURCE.md of a built benchmark (deterministic: no timings)."""
    meta = bench.metadata
    upd = meta.get("update")
    if upd:
        inputs, _ = updated_inputs(inputs, upd["year"])
    year = meta["base_year"]
    split = inputs.split
    shares = checks.trade_share_table(inputs, bench)
    emp = checks.employment_table(bench)
    lines = [
        f"# {meta['name']}: {meta['title']}",
        "",
        meta["description"],
        "",
        "Derived, aggregated data built by `python -m calibration.build_all` from public raw data kept outside the",
        "repository (`../shared/data`); the method, its assumptions and limits are in `calibration/README.md` and the",
        f"notebook `calibration/eastasia_2011.py`. Values are US$ million at {year} basic prices; tariffs are",
        "ad-valorem rates on top of basic prices; employment is persons engaged.",
        "",
        f"Dimensions: {bench.n_regions} regions x {bench.n_sectors} sectors, factors {bench.factors}, final agents {bench.agents}.",
        "",
        "## Regions",
        "",
        "| region | name | members (ISO3) | employment |",
        "|---|---|---|---|",
    ]
    for r in bench.regions:
        members = meta["members"][r]
        shown = " ".join(m if m != "ROW" else "rest of WIOD's RoW (all other economies)" for m in members)
        lines.append(f"| {r} | {meta['region_labels'].get(r, r)} | {shown} | {'proxy' if r in bench.employment_proxy else 'SEA'} |")
    lines += ["", "Groups on these regions: " + "; ".join(f"{g}: {', '.join(m)}" for g, m in bench.groups.items()) + "."]
    if report.partial_groups:
        lines.append(
            "Groups that these regions cannot represent exactly (a region holds members and non-members): "
            + "; ".join(f"{g} (in {', '.join(m)})" for g, m in report.partial_groups.items())
            + "."
        )
    lines += [
        "",
        "## Sectors",
        "",
        "| sector | description | WIOD sectors | sigma_mm | sigma_dm |",
        "|---|---|---|---|---|",
    ]
    for n, s in enumerate(bench.sectors):
        lines.append(
            f"| {s} | {meta['sector_labels'].get(s, s)} | {' '.join(meta['sector_members'][s])} | "
            f"{bench.elasticities['sigma_mm'][n]:.2f} | {bench.elasticities['sigma_dm'][n]:.2f} |"
        )
    lines += [
        "",
        "## Sources",
        "",
        "- WIOD 2013 release world input-output table 2011 (40 countries + RoW, 35 sectors): " + build.CITATIONS["WIOD"],
        "- WIOD Socio-Economic Accounts, 2013 release (labour compensation, value added, persons engaged): " + build.CITATIONS["SEA"],
        f"- Bilateral trade by sector {'2011 and ' + str(year) if upd else '2011'} from the OECD ICIO 2023 tables and Teti applied tariffs, as assembled in the",
        "  tariffwar cubes: " + build.CITATIONS["ICIO"] + " " + build.CITATIONS["Teti"] + " " + build.CITATIONS["tariffwar"],
        f"- Trade elasticities: {meta['elasticity_source']}; {meta['sigma_dm_rule']}.",
        "",
        "Cite the original sources when using this benchmark. Raw files (SHA-256, first 16 hex digits): "
        + ", ".join(f"`{k}` {v}" for k, v in meta["raw_files_sha256"].items())
        + ".",
        "",
        "## Method in brief",
        "",
        "1. WIOD 2011: final demand mapped to household (households + NPISH), government, investment (GFCF + inventories);",
        "   negative inventory cells removed without changing any sector's output; value added = output - inputs.",
        f"2. {', '.join(split.output.index[:-1])} split out of WIOD's RoW with ICIO 2011 trade shares and proxy",
        "   input-output structures, balanced by iterative proportional fitting (multi-dimensional RAS) so that the",
        "   split economies and the remaining RoW add up to WIOD's RoW, trade with the 40 WIOD countries follows ICIO",
        "   and output = sales = costs everywhere.",
        "3. Value added split into labour and capital by SEA labour shares (proxies for economies without SEA data).",
        f"4. Aggregation; Teti {TARIFF_YEAR.get(year, year)} applied tariffs, trade-weighted, zero on services and inside the EU; the tariff",
        "   paid on intermediates is taken out of the buyer's value added (WIOD's residual value added contains it);",
        "   tariff revenue brought to the customs duties collected where data exist (below).",
    ]
    if upd:
        lines += update_lines(upd)
    lines += [
        "",
        "## Checks",
        "",
        f"- Balance: largest |costs - sales| / max(1, sales) = {float((abs(bench.costs - bench.output) / np.maximum(1, bench.output)).max()):.1e}.",
        f"- RoW split: {split.fit.iterations} IPF sweeps; largest margin error {split.fit.max_error:.1e}. Before balancing,",
        f"  the largest |costs - sales| / sales of a split region-sector was {split.balance_before:.2f} and the gaps summed to",
        f"  {100 * split.imbalance_before_share:.1f}% of the split economies' output; after balancing the largest gap is {split.balance_after:.1e}.",
        "- RoW identity (split economies + remaining RoW = WIOD RoW), largest relative gap: "
        + ", ".join(f"{k} {v:.0e}" for k, v in split.identity_error.items())
        + ".",
        f"- World output {_fmt(bench.output.sum() / 1e6, 2)} trillion US$; tariff revenue {_fmt(report.tariff_revenue / 1e3)} billion US$,"
        f" of which {_fmt(report.tariff_paid_on_intermediates / 1e3)} billion on intermediates; labour share of factor payments {report.labour_share:.3f}.",
    ]
    names = {
        "intra_group_share_of_exports": "Intra-East-Asia share of East Asia's exports",
        "intra_group_share_of_trade": "Intra-East-Asia share of East Asia's trade (exports + imports)",
        "intermediate_share_of_world_trade": "Share of intermediate goods and services in world trade",
    }
    for _, row in shares.iterrows():
        lines.append(f"- {names[row['indicator']]} ({row['table']}): {row['value']:.3f}.")
    lines += revenue_lines(report)
    lines += [
        "",
        "## Employment (persons engaged, millions)",
        "",
        "| region | persons | source |",
        "|---|---|---|",
    ]
    for r, row in emp.iterrows():
        lines.append(f"| {r} | {row['persons_million']:.1f} | {'2011 persons carried over (flagged)' if upd else 'proxy' if row['proxy'] else 'SEA 2011'} |")
    lines += [
        "",
        "Proxies (economies without SEA data): labour shares and persons per US$ of labour compensation of WIOD",
        "countries chosen by structure and income level, listed in `calibration/proxies.csv`.",
    ]
    lines += premia_lines(report)
    return "\n".join(lines)


def markdown_table(header: list[str], rows) -> str:
    """A Markdown table from a header and rows of cells (strings)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows])


def premia_table(audit: premia.Audit) -> str:
    """Markdown table: proxied region-sectors whose wage premium exceeded its sector's bound, before and after the rule."""
    header = ["region", "sector", "premium before", "bound (economy)", "premium after", "persons before (thousands)", "persons after (thousands)"]
    return markdown_table(header, (
        [r, j, f"{row['premium_before']:.2f}", f"{row['bound']:.2f} ({row['bound_economy']})", f"{row['premium_after']:.2f}",
         _fmt(row["persons_before"] / 1e3), _fmt(row["persons_after"] / 1e3)]
        for (r, j), row in audit.flagged().iterrows()
    ))


def premia_lines(report: build.BuildReport) -> list[str]:
    """The SOURCE.md section on the wage premia of proxied employment."""
    audit = report.premia
    lines = [
        "",
        "## Wage premia of proxied employment",
        "",
        f"Rule `{audit.rule}`: {premia.RULES[audit.rule]} (`cge.sources.premia`). Premium = wage per person of a sector",
        "relative to its region's average; bound = the largest premium of the same sector among the 40 SEA economies at",
        "this benchmark's sector aggregation:",
        "",
        markdown_table(["sector", *audit.bounds.index], [["bound", *(f"{b:.2f} ({e})" for b, e in zip(audit.bounds["bound"], audit.bounds["economy"]))]]),
        "",
    ]
    if audit.flagged().empty:
        lines.append("No proxied region-sector exceeds its sector's bound; persons are as built.")
    else:
        lines += ["Proxied region-sectors above their bound before the rule:", "", premia_table(audit)]
    return lines + ["", "- " + premia.CITATIONS["KS"], ""]


TARIFF_YEAR = {2022: 2021}
"""Year of the Teti tariffs in the cube of a year (the 2022 cube carries the 2021 tariffs)."""


def update_lines(upd: dict) -> list[str]:
    """The SOURCE.md step of a benchmark updated from its base (:mod:`cge.sources.update`)."""
    return [
        f"5. **Updated to {upd['year']}** (`cge.sources.update`, method and back-test in `calibration/README.md`): the detailed",
        f"   {upd['base_year']} hybrid table's sales of each route (origin, commodity, buyer region) grown with the ICIO cube's",
        f"   growth {upd['base_year']}-{upd['year']} of bilateral trade and domestic absorption of its bridge group; input structure,",
        "   value-added shares and final-demand shares by agent kept; one RAS per buyer region "
        f"({upd['ras_sweeps']} sweeps at most, largest margin error {upd['max_margin_error']:.1e});",
        f"   {upd['fallback_routes']} routes without a comparable {upd['base_year']} cube flow grew with the exporter's output of the group",
        f"   (US$ {upd['fallback_value'] / 1e3:,.1f} billion in {upd['year']}). Sales are exact; the RAS error, where a buyer region's",
        "   small cells do not converge, is left in value added (moving no value-added share by more than a few 1e-10 on average).",
        f"   Tariffs of {upd['year']} ({TARIFF_YEAR.get(upd['year'], upd['year'])} rates in the cube); factor shares and elasticity sources of",
        f"   {upd['base_year']}; persons engaged of {upd['base_year']} carried over (no later data staged), every region flagged in `employment_proxy`.",
    ]


def revenue_table(report: build.BuildReport) -> str:
    """Markdown table: benchmark tariff revenue against customs duties collected, before and after the treatment."""
    header = ["region", "implied revenue", "collected", "ratio before", "duty drawback", "collection rate", "revenue after", "ratio after"]
    return markdown_table(header, (
        [r, _fmt(row["implied"] / 1e3), _fmt(row["collected"] / 1e3), f"{row['ratio_before']:.2f}", _fmt(row["drawback"] / 1e3),
         f"{row['collection_rate']:.3f}", _fmt(row["revenue_after"] / 1e3), f"{row['ratio_after']:.2f}"]
        for r, row in report.collection.table.iterrows()
    ))


def revenue_lines(report: build.BuildReport) -> list[str]:
    """The SOURCE.md section on tariff revenue and customs duties collected."""
    col = report.collection
    if col is None or col.table.empty:
        return ["", "## Tariff revenue and customs duties collected", "",
                "No region of this benchmark has collected-duty data for all its members; applied tariffs are kept.", ""]
    return [
        "",
        "## Tariff revenue and customs duties collected",
        "",
        f"Treatment `{col.treatment}`: {customs.TREATMENTS[col.treatment]} (`cge.sources.customs`). Collected: customs and",
        "other import duties (WDI GC.TAX.IMPT.CN, from IMF GFS; secondary copy from indexmundi), converted with the WDI",
        "official exchange rate of the base year. US$ billion; ratio = benchmark revenue / collected. Regions not listed",
        "have no collected-duty data (for all members) and keep the applied rates.",
        "",
        revenue_table(report),
        "",
        "- " + customs.CITATIONS["WDI"],
        "- " + customs.CITATIONS["IMH"],
        "- " + customs.CITATIONS["PS"],
    ]


def write(bench: cge.Benchmark, report: build.BuildReport, inputs: build.Inputs, out_dir: Path) -> Path:
    """Write a benchmark folder (gzipped CSV, metadata.toml, SOURCE.md)."""
    path = bench.write(out_dir / bench.metadata["name"], compress=True)
    (path / "SOURCE.md").write_text(source_md(bench, report, inputs))
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="benchmarks to build (default: all)")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help=f"output folder (default: {DATA_DIR})")
    parser.add_argument("--check", action="store_true", help="compare with the committed benchmarks; write nothing")
    args = parser.parse_args(argv)
    names = tuple(args.only) if args.only else recipes.BUILT
    t0 = time.perf_counter()
    inputs = build.load_inputs(io_proxies=recipes.io_proxies())
    print(f"raw data and hybrid table: {inputs.seconds:.1f} s; IPF {inputs.split.fit.iterations} sweeps, "
          f"balance before {inputs.split.balance_before:.3g} after {inputs.split.balance_after:.1e}")
    _, built = build_all(names, inputs)
    status = 0
    for name, (bench, report) in built.items():
        if args.check:
            diffs = compare(bench, cge.Benchmark.load(name))
            print(f"{name}: {'identical to the committed files' if not diffs else 'DIFFERS: ' + '; '.join(diffs)}")
            status |= bool(diffs)
        else:
            path = write(bench, report, inputs, args.out)
            print(f"{name}: {bench.n_regions} x {bench.n_sectors} written to {path} ({report.seconds:.1f} s)")
    print(f"total {time.perf_counter() - t0:.1f} s")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
