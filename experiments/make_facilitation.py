"""Trade-facilitation scenarios from measured border times: writes experiments/facilitation.toml.

    python experiments/make_facilitation.py

**Days.** Lead times of the World Bank's Logistics Performance Index survey, WDI series
LP.IMP.DURS.MD (lead time to import: median days from port of discharge to the consignee) and
LP.EXP.DURS.MD (lead time to export: median days from the seller's premises to the port of loading),
``../shared/data/wdi_fx_lpi`` (see its PROVENANCE.txt). For the 2011 benchmark each economy takes the
mean of the two survey editions either side of the base year (2010 and 2012), or, where it was not
surveyed then, the mean of its editions 2007-2018; an aggregate region (rest of ASEAN) takes the
simple mean of its members. Taiwan is not in WDI and keeps its costs.

**Benchmark.** Each moving economy halves the gap between its lead time and that of East Asia's
best performer (the lowest lead time among the East Asian regions of the benchmark, imports and
exports separately); the best performer itself does not move. The import gap lowers the costs of
the economy's imports from every partner, the export gap those of its exports to every partner;
on a route both apply (factors multiply).

**Cost per day.** Hummels and Schaur (2013, "Time as a trade barrier", American Economic Review
103(7), 2935-2959; abstract, p. 2935): "each day in transit is equivalent to an ad-valorem tariff of
0.6 to 2.1 percent", and "the most time-sensitive trade flows involve parts and components trade".
Their estimates by product group are not among the staged sources, so the variants use only the
published range's ends and its midpoint, with parts and components never less time-sensitive than
other goods and not the top of the range for everything in the central case:

=========  ===========  ======================
variant    other goods  parts and components
=========  ===========  ======================
low        0.6%         1.35% (midpoint)
central    0.6%         2.1%
high       1.35%        2.1%
=========  ===========  ======================

Parts and components are the intermediate use of machinery, electrical and optical equipment and
transport equipment; their final use (capital and consumer goods) and every other goods sector take
the "other goods" rate; services are not shipped and keep their costs. A day saved lowers the
iceberg factor by the rate (``tau = 1 - rate x days``), as in the package's earlier facilitation runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from staged import HERE, SHARED, benchmark, goods_sectors, spec_header, toml_list  # noqa: E402

LPI = SHARED / "wdi_fx_lpi" / "wdi_target_economies_long.csv"
INDICATORS = {"import": "LP.IMP.DURS.MD", "export": "LP.EXP.DURS.MD"}
YEARS = (2010, 2012)  # LPI survey editions either side of the 2011 base year
GAP_SHARE = 0.5  # halve the gap to the best performer
PER_DAY = {
    # ad-valorem equivalent of one day (fraction of value): Hummels and Schaur (2013, AER 103(7)), abstract
    # p. 2935, range 0.6 to 2.1 percent a day, parts and components the most time-sensitive; midpoint 1.35
    "low": {"other": 0.006, "parts": 0.0135},
    "central": {"other": 0.006, "parts": 0.021},
    "high": {"other": 0.0135, "parts": 0.021},
}
PARTS = ["machinery", "electrical_optical", "transport_equipment"]


def lead_times(bench=None) -> pd.DataFrame:
    """Import and export lead times (days) by East Asian model region, with the survey years used."""
    bench = bench or benchmark()
    data = pd.read_csv(LPI)
    rows = []
    for region in bench.group("EastAsia"):
        row = {"region": region}
        for side, code in INDICATORS.items():
            values, years = [], set()
            for iso in bench.metadata["members"][region]:
                series = data[(data["indicator"] == code) & (data["iso3"] == iso)].set_index("year")["value"]
                near = series.reindex(YEARS).dropna()
                use = near if len(near) else series
                if len(use):
                    values.append(float(use.mean()))
                    years |= set(use.index)
            row[side] = sum(values) / len(values) if values else float("nan")
            row[f"{side}_years"] = " ".join(str(y) for y in sorted(years))
        rows.append(row)
    return pd.DataFrame(rows).set_index("region")


def days_saved(times: pd.DataFrame) -> pd.DataFrame:
    """Days saved on each side when every region halves the gap to East Asia's best performer."""
    out = pd.DataFrame(index=times.index)
    for side in INDICATORS:
        best = times[side].min()
        out[side] = (GAP_SHARE * (times[side] - best)).fillna(0.0)
        out[f"{side}_best"] = times[side].idxmin()
    return out


def _shocks(region: str, side: str, days: float, rates: dict) -> list[str]:
    key = "importers" if side == "import" else "exporters"
    lines = []
    for sectors, use, rate in (("parts", "intermediate", rates["parts"]), ("parts", "final", rates["other"]),
                               ("other_goods", "all", rates["other"])):
        lines += [
            "[[scenario.shock]]",
            'instrument = "iceberg"',
            f'{key} = "{region}"',
            f'sectors = "{sectors}"',
            f'use = "{use}"',
            'op = "scale"',
            f"value = {round(1 - rate * days, 6)}  # {days:.3f} days x {100 * rate:.2f}% a day",
        ]
    return lines


def _scenario_shocks(who: str, variant: str, bench, times, saved) -> list[str]:
    """The iceberg shocks of one facilitation scenario: ``who`` ("asean" or "eastasia") halves its gaps."""
    moving = {"asean": bench.group("ASEAN"), "eastasia": [r for r in bench.group("EastAsia") if times.loc[r].notna()[["import", "export"]].all()]}
    lines = []
    for region in moving[who]:
        for side in INDICATORS:
            days = float(saved.loc[region, side])
            if days > 0:
                lines += _shocks(region, side, days, PER_DAY[variant])
    return lines


def _inputs():
    """The benchmark, LPI lead times, days saved and goods sectors that both files are written from."""
    bench = benchmark()
    times = lead_times(bench)
    return bench, times, days_saved(times), goods_sectors(bench)


def write_headline(path: Path = HERE / "headline.toml") -> Path:
    """The headline experiment: RCEP tariff elimination, alone and with ASEAN's central facilitation scenario."""
    bench, times, saved, goods = _inputs()
    rates = PER_DAY["central"]
    lines = ["# Generated by experiments/make_facilitation.py (write_headline) from ../shared/data/wdi_fx_lpi; do not edit."]
    lines += spec_header(
        "Headline: RCEP tariff elimination and faster ASEAN borders",
        [
            "The package's headline experiment, run by the README's main command: RCEP-wide tariff elimination, alone",
            "and together with faster ASEAN borders, each ASEAN member halving the gap between its LPI lead times to",
            "import and export and those of East Asia's best performer (see facilitation.toml), each day saved worth",
            f"{100 * rates['parts']:.1f}% of the value of parts and components bought as inputs and {100 * rates['other']:.1f}% of other goods",
            "(Hummels and Schaur 2013, central variant). Welfare, employment and value chains, region by region.",
        ],
        {"goods": goods, "parts": PARTS, "other_goods": [s for s in goods if s not in PARTS]},
    )
    rcep = ["[[scenario.shock]]", 'instrument = "tariff"', 'exporters = "RCEP"', 'importers = "RCEP"', "value = 0.0"]
    lines += ["", "[[scenario]]", 'name = "rcep"', 'description = "Tariffs among ASEAN+3, Australia and New Zealand set to zero."', *rcep]
    lines += ["", "[[scenario]]", 'name = "rcep_facilitation"',
              'description = "RCEP tariff elimination, and ASEAN members halve the gap to East Asia\'s best import and export lead times (central variant)."',
              *rcep, *_scenario_shocks("asean", "central", bench, times, saved)]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_spec(path: Path = HERE / "facilitation.toml") -> Path:
    bench, times, saved, goods = _inputs()
    other = [s for s in goods if s not in PARTS]
    lines = [
        "# Generated by experiments/make_facilitation.py from ../shared/data/wdi_fx_lpi; do not edit.",
        "# LPI lead times (days; WDI LP.IMP.DURS.MD / LP.EXP.DURS.MD, mean of the 2010 and 2012 editions unless noted)",
        "# and days saved by halving the gap to East Asia's best performer:",
        "#   region  import  (years)  export  (years)  saved on imports  saved on exports",
    ]
    for r, row in times.iterrows():
        lines.append(
            f"#   {r:<6}  {row['import']:5.2f}  ({row['import_years'] or 'no data'})  {row['export']:5.2f}  "
            f"({row['export_years'] or 'no data'})  {saved.loc[r, 'import']:.3f}  {saved.loc[r, 'export']:.3f}"
        )
    lines += [
        f"# best performers: imports {saved['import_best'].iloc[0]}, exports {saved['export_best'].iloc[0]}",
        "# cost per day (Hummels and Schaur 2013, AER 103(7), abstract p. 2935: 0.6 to 2.1% a day, parts and components",
        "# the most time-sensitive): " + "; ".join(f"{v} other goods {100 * p['other']:.2f}%, parts {100 * p['parts']:.2f}%" for v, p in PER_DAY.items()),
    ]
    lines += spec_header(
        "Trade facilitation: halving the gap to East Asia's fastest borders",
        [
            "Trade facilitation measured, not assumed: each economy halves the gap between its LPI lead times to",
            "import and to export (World Bank LPI survey, 2010 and 2012 editions) and those of East Asia's best",
            "performer, and each day saved is valued with Hummels and Schaur (2013): 0.6 to 2.1% of the value of",
            "goods a day, parts and components at the higher end. Low, central and high variants carry the range.",
            "Iceberg costs fall on the economy's imports (import gap) and exports (export gap) of goods.",
        ],
        {"goods": goods, "parts": PARTS, "other_goods": other},
    )
    scenarios = [("asean", v) for v in PER_DAY] + [("eastasia", "central")]
    for who, variant in scenarios:
        rates = PER_DAY[variant]
        where = "ASEAN members" if who == "asean" else "East Asian economies (Taiwan: no LPI data)"
        lines += [
            "",
            "[[scenario]]",
            f'name = "{who}_halve_gap_{variant}"',
            f'description = "{where} halve the gap to East Asia\'s best import and export lead times; '
            f'{100 * rates["other"]:.2f}% a day for goods, {100 * rates["parts"]:.2f}% for parts and components ({variant})."',
        ]
        lines += _scenario_shocks(who, variant, bench, times, saved)
    path.write_text("\n".join(lines) + "\n")
    return path


SME_EXTRA_COST = 0.10
"""SMEs' assumed extra trade cost on exports (ad valorem equivalent) that ``sme.toml``'s reform halves."""


def write_sme(path: Path = HERE / "sme.toml") -> Path:
    """The SME experiments on the benchmark split by firm size: RCEP, ASEAN's central facilitation
    scenario (the shocks of ``facilitation.toml``, for both firm sizes) and an SME-targeted reform."""
    bench, times, saved, goods = _inputs()
    rates = PER_DAY["central"]
    sized = lambda sectors: [f"{j}_{size}" for j in sectors for size in ("sme", "large")]  # noqa: E731
    reform = round((1 + SME_EXTRA_COST / 2) / (1 + SME_EXTRA_COST), 16)
    lines = [
        "# Generated by experiments/make_facilitation.py (write_sme) from ../shared/data/wdi_fx_lpi; do not edit.",
        'title = "SMEs in East Asian value chains: RCEP, faster ASEAN borders and an SME-targeted trade-cost reform"',
        'description = """',
        "The benchmark split by firm size (every goods sector into SMEs and large firms, cge.split_firm_size with",
        "its stylised structures calibrated to ../shared/data/sme_shares), with the firm-size nest: buyers choose",
        "between the SME and large-firm supplies of one origin with sigma_size (default twice sigma_mm).",
        "RCEP: tariffs among the members set to zero (as in rcep.toml). ASEAN facilitation: the central scenario of",
        "facilitation.toml (each ASEAN member halves the gap to East Asia's best LPI lead times; "
        f"{100 * rates['parts']:.1f}% a day for parts",
        f"and components bought as inputs, {100 * rates['other']:.1f}% for other goods), for SMEs and large firms alike. SME reform: SMEs are",
        f"assumed to face an extra trade cost of {100 * SME_EXTRA_COST:.0f}% ad valorem equivalent on every export (an assumption: the WTO's World",
        "Trade Report 2016 documents higher per-unit trade costs for SMEs without one figure we could use), and the",
        f"reform halves it: the iceberg cost of SMEs' exports falls by the factor {1 + SME_EXTRA_COST / 2:.2f} / {1 + SME_EXTRA_COST:.2f}. "
        "experiments/firm_size_shares.py",
        "reports the SME shares of gross exports and of domestic value added in exports by economy.",
        '"""',
        "",
        "[benchmark]",
        'name = "eastasia-2011"',
        "split_firm_size = true",
        "",
        "[model]",
        'sourcing = "agent"',
        'backend = "fast"',
        "",
        "[region_groups]",
        f"RCEP = {toml_list(bench.group('RCEP'))}",
        "",
        "[sector_groups]",
        f"sme = {toml_list([f'{j}_sme' for j in goods])}",
        f"parts = {toml_list(sized(PARTS))}",
        f"other_goods = {toml_list(sized([j for j in goods if j not in PARTS]))}",
    ]
    rcep = ["[[scenario.shock]]", 'instrument = "tariff"', 'exporters = "RCEP"', 'importers = "RCEP"', "value = 0.0"]
    sme = ["[[scenario.shock]]", 'instrument = "iceberg"', 'op = "scale"', 'sectors = "sme"', f"value = {reform!r}"]
    for name, description, shocks in (
        ("rcep", "Tariffs among the RCEP members set to zero, every firm size.", rcep),
        ("asean_facilitation", "ASEAN members halve the gap to East Asia's best import and export lead times (central variant), every firm size.",
         _scenario_shocks("asean", "central", bench, times, saved)),
        ("sme_reform", f"SMEs' assumed extra {100 * SME_EXTRA_COST:.0f}% trade cost on exports halved, every economy.", sme),
        ("rcep_and_sme_reform", "RCEP tariff elimination and the SME reform together.", rcep + sme),
    ):
        lines += ["", "[[scenario]]", f'name = "{name}"', f'description = "{description}"', *shocks]
    path.write_text("\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    times = lead_times()
    print(pd.concat([times, days_saved(times).add_prefix("saved_")], axis=1).round(3).to_string())
    print("wrote", write_spec())
    print("wrote", write_headline())
    print("wrote", write_sme())
