"""Turn the United States tariffs of 2025 into a scenario file: April and August partner rates, with the
product exemptions of Annex II.

    python experiments/make_us_tariffs.py      # writes experiments/us_tariffs_2025.toml (2022 base)
                                               # and us_tariffs_2025_base2011.toml (the 2011 variant)

The experiment runs on the 2022 benchmark (``eastasia-2022``, the 2011 table updated to the trade of
2022); the same tariffs on the 2011 benchmark are kept as a variant that shows how much the base
year matters (US imports from Viet Nam were six times larger in 2022 than in 2011).

Sources (``../shared/data/us_reciprocal_tariffs_2025``, see its PROVENANCE.txt files):

- **April 2025.** The country schedule of Executive Order 14257 (2 April 2025) as compiled by
  Lashkaripour et al.'s ``ustariff`` package (``tariffs.csv``), with CEPII bilateral trade. Taiwan is
  not in its country list: 32% from the Order's Annex I. China's 54% is the reciprocal 34% (heading
  9903.01.63) plus the 20% "fentanyl" duty (EO 14195 as amended by EO 14228; heading 9903.01.24).
- **August 2025.** The partner rates in force from 7 August 2025 (EO 14326), headings 9903.02.02-.71
  of HTSUS 2026 Rev. 6 chapter 99 (``annex_ii_and_aug2025_rates``); partners not listed there pay the
  10% baseline of heading 9903.01.25. The EU's "15% all-in" rate (headings 9903.02.19/.20) adds
  ``max(0, 15% - benchmark tariff)`` sector by sector and use by use for the members of 2025 (the
  model's EU of 2011 also holds the United Kingdom, at 10%, heading 9903.02.66). China: the 10% baseline (the 34% of 9903.01.63
  suspended under the May 2025 arrangement, EO 14298) plus the 20% fentanyl duty.
- **Hong Kong** pays China's rates in both (headings 9903.01.24 and 9903.01.63 cover "China and Hong
  Kong"). **Canada and Mexico** are not subject to the reciprocal duties; their (fentanyl) rates of
  ``tariffs.csv`` are kept in both scenarios and, like China's fentanyl duty, are not covered by
  Annex II. Not modelled: section 232 duties (steel, aluminium, autos, copper), Brazil's and India's
  additional IEEPA duties of August 2025 (EO 14323, EO 14329), retaliation.
- **Annex II.** The exempt share ``e`` of each exporter's US imports of each sector
  (:mod:`annex_ii`: HS-to-ICIO concordance, frequency ratio within ICIO sectors, ICIO 2022 US imports
  as weights across them). The reciprocal duty applies to the non-exempt part only, so the effective
  added tariff on a sector is approximated by ``(1 - e) x rate``: the average of ``rate`` on the
  non-exempt lines and zero on the exempt ones, weighted by their trade at benchmark prices, which
  ignores the substitution between lines within a sector that the model cannot see.

Rates of aggregate regions (rest of ASEAN, Australia and New Zealand, rest of North America, EU,
rest of the world) are averages of their members' rates weighted by exports to the United States
(CEPII). Duties are added to the benchmark tariffs on goods, both uses.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import annex_ii  # noqa: E402
from staged import HERE, ROOT, SHARED, benchmark, goods_sectors, spec_header  # noqa: E402

SOURCE = SHARED / "us_reciprocal_tariffs_2025"
AUGUST = SOURCE / "annex_ii_and_aug2025_rates" / "reciprocal_rates_9903_02_headings_htsus2026rev6.csv"
MAPPING = ROOT / "calibration" / "mappings" / "eastasia-2011.toml"
TAIWAN_APRIL = 0.32  # Executive Order 14257 (2 April 2025), Annex I: Taiwan 32%
BASELINE = 0.10  # HTSUS ch. 99 heading 9903.01.25: +10% on products of any country not listed elsewhere
CHINA_RECIPROCAL = {"april": 0.34, "august": 0.10}  # 9903.01.63 (+34%), suspended to the 9903.01.25 baseline (EO 14298)
CHINA_FENTANYL = 0.20  # EO 14195 as amended by EO 14228 (4 March 2025), heading 9903.01.24; not covered by Annex II
NOT_RECIPROCAL = ("CAN", "MEX")  # fentanyl/border duties (9903.01.26/.27), USMCA goods exempt; Annex II does not apply
EU_ALL_IN = 0.15  # 9903.02.19/.20: 15% including the MFN duty, for EU members (of 2025)
BASES = {"eastasia-2022": "us_tariffs_2025.toml", "eastasia-2011": "us_tariffs_2025_base2011.toml"}
"""Benchmark -> scenario file: the 2022 base, and the 2011 base kept as a variant."""
SCENARIOS = {
    "april": ("us_april_2025", "US reciprocal tariffs of 2 April 2025 (EO 14257) net of Annex II, added to US tariffs on goods."),
    "august": ("us_august_2025", "US partner rates in force from 7 August 2025 (EO 14326) net of Annex II, added to US tariffs on goods."),
}


def _region_members() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Model region -> member ISO3 codes (expanding @EU and *), and the raw mapping."""
    from cge.aggregate import eu_members

    with open(MAPPING, "rb") as fh:
        regions = tomllib.load(fh)["regions"]
    members = {}
    for region, countries in regions.items():
        expanded = []
        for c in countries:
            expanded += eu_members(2011) if c == "@EU" else ([] if c == "*" else [c])
        members[region] = expanded
    return members, regions


def country_rates(which: str) -> pd.DataFrame:
    """Additional US duty by partner (ISO3): ``reciprocal`` (covered by Annex II), ``other`` (not), and
    ``all_in`` (1 for partners under the EU's 15% all-in rate, whose duty depends on the sector's tariff)."""
    from cge.aggregate import _converter, eu_members

    labels = pd.read_csv(SOURCE / "country_labels.csv")
    april = pd.Series(pd.read_csv(SOURCE / "tariffs.csv")["applied_tariff"].to_numpy(), index=labels["iso3"])
    all_in = pd.Series(0.0, index=april.index)
    if which == "april":
        reciprocal = april.copy()
        reciprocal["TWN"] = TAIWAN_APRIL
    elif which == "august":
        listed = pd.read_csv(AUGUST)
        iso = _converter().convert(listed["country_as_printed"].tolist(), to="ISO3")
        reciprocal = pd.Series(BASELINE, index=labels["iso3"])
        reciprocal.update(pd.Series(listed["additional_ad_valorem_pct"].to_numpy() / 100, index=iso))
        reciprocal["TWN"] = float(listed.loc[listed["country_as_printed"] == "Taiwan", "additional_ad_valorem_pct"].iloc[0]) / 100
        eu = [c for c in eu_members(2025) if c in reciprocal.index]
        reciprocal[eu], all_in[eu] = 0.0, 1.0
    else:
        raise KeyError(f"scenario {which!r}; known: {sorted(SCENARIOS)}")
    other = pd.Series(0.0, index=reciprocal.index)
    for c in ("CHN", "HKG"):
        reciprocal[c], other[c] = CHINA_RECIPROCAL[which], CHINA_FENTANYL
    for c in NOT_RECIPROCAL:
        reciprocal[c], other[c] = 0.0, april[c]
    out = pd.DataFrame({"reciprocal": reciprocal, "other": other, "all_in": all_in.reindex(reciprocal.index).fillna(0.0)})
    return out.drop(index="USA")


def regional_rates(which: str = "april") -> pd.DataFrame:
    """Additional US duty by model region (fractions), export-weighted within aggregate regions."""
    labels = pd.read_csv(SOURCE / "country_labels.csv")
    trade = pd.read_csv(SOURCE / "trade_cepii.csv").fillna(0.0).to_numpy()
    if trade.shape != (len(labels), len(labels)):
        raise ValueError(f"{SOURCE}: country labels and trade matrix do not line up")
    iso = labels["iso3"].tolist()
    to_us = pd.Series(trade[:, iso.index("USA")], index=iso)  # exports of each country to the United States
    rates = country_rates(which)
    members, regions = _region_members()
    named = {c for cs in members.values() for c in cs}
    rest = [c for c in rates.index if c not in named]
    out = {}
    for region, cs in members.items():
        if region == "USA":
            continue
        cs = rest if regions[region] == ["*"] else cs
        present = [c for c in cs if c in rates.index]
        if not present:
            raise ValueError(f"region {region}: none of {cs} has a rate")
        w = to_us.reindex(present).fillna(0.0)
        w = w if w.sum() > 0 else pd.Series(1.0, index=present)
        out[region] = (rates.loc[present].mul(w, axis=0).sum() / w.sum()).to_dict()
    return pd.DataFrame(out).T


def shocks(which: str, base: str = "eastasia-2022") -> list[dict]:
    """The shocks of one scenario on benchmark ``base``: exporter, sector, use, Annex II exempt share, added duty.

    Added duty = (1 - e) x (reciprocal + all_in x max(0, 15% - benchmark tariff)) + other duties.
    """
    bench = benchmark(base)
    exempt = annex_ii.exempt_shares(bench, bench.metadata["members"])
    rates = regional_rates(which)
    usa = bench.regions.index("USA")
    out = []
    for region, row in rates.iterrows():
        k = bench.regions.index(region)
        for sector in goods_sectors(bench):
            e, j = float(exempt.loc[region, sector]), bench.sectors.index(sector)
            uses = ("intermediate", "final") if row["all_in"] > 0 else ("all",)
            for u, use in enumerate(uses):
                floor = row["all_in"] * max(0.0, EU_ALL_IN - float(bench.tariff_0[k, j, usa, u])) if row["all_in"] > 0 else 0.0
                value = (1 - e) * (row["reciprocal"] + floor) + row["other"]
                out.append({"region": region, "sector": sector, "use": use, "exempt": e, "value": value})
    return out


def write_spec(path: Path | None = None, base: str = "eastasia-2022") -> Path:
    """Write the scenario file of benchmark ``base`` (default path: :data:`BASES`)."""
    path = path or HERE / BASES[base]
    bench = benchmark(base)
    lines = [
        "# Generated by experiments/make_us_tariffs.py from ../shared/data/us_reciprocal_tariffs_2025; do not edit.",
        "# Partner rates (reciprocal part covered by Annex II + other duties), export-weighted within regions:",
    ]
    for which in SCENARIOS:
        r = regional_rates(which)
        lines.append(f"#   {which}: " + ", ".join(
            f"{k} {v['reciprocal']:.3f}+{v['other']:.3f}" + (f" ({v['all_in']:.2f} of it under the 15% all-in rate)" if v["all_in"] else "")
            for k, v in r.iterrows()))
    lines += [
        "# Annex II exempt share of US imports by sector (all partners, frequency ratio within ICIO sectors weighted by",
        "# ICIO 2022 US imports; see experiments/annex_ii.py): "
        + ", ".join(f"{s} {v:.3f}" for s, v in annex_ii.exempt_shares(bench, bench.metadata["members"]).loc["World"].items()),
    ]
    lines += spec_header(
        "United States tariffs of 2025: April and August partner rates, net of Annex II",
        [
            "The additional US tariffs of 2025 on imports of goods, from the legal texts: the 'reciprocal' rates of",
            "2 April 2025 (Executive Order 14257) and those in force from 7 August 2025 (EO 14326; HTSUS chapter 99,",
            "headings 9903.02.02-.71, the EU's 15% all-in rate, a 10% baseline elsewhere), plus China's 20% fentanyl",
            "duty. Products exempted by Annex II (energy, pharmaceuticals, semiconductors, certain minerals...)",
            "are taken out sector by sector: the added tariff is (1 - exempt share) x rate. Rates are trade-weighted",
            "within aggregate regions. What do they do to East Asia and ASEAN: welfare, jobs, and the value chains",
            "that run through China and ASEAN to the United States? No retaliation is modelled.",
            f"Base: {base} ({bench.metadata['base_year']} trade weights and benchmark tariffs)"
            + ("." if base == "eastasia-2022" else "; a variant of us_tariffs_2025.toml (base eastasia-2022) that shows what the base year changes."),
        ],
        {"goods": goods_sectors(bench)},
        bench=base,
    )
    for which, (name, description) in SCENARIOS.items():
        lines += ["", "[[scenario]]", f'name = "{name}"', f'description = "{description}"']
        for s in shocks(which, base):
            if s["value"] <= 0:
                continue
            lines += [
                "[[scenario.shock]]",
                'instrument = "tariff"',
                f'exporters = "{s["region"]}"',
                'importers = "USA"',
                f'sectors = "{s["sector"]}"',
            ]
            if s["use"] != "all":
                lines.append(f'use = "{s["use"]}"')
            lines += ['op = "add"', f'value = {round(s["value"], 4)}  # exempt share {s["exempt"]:.3f}']
    path.write_text("\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    for which in SCENARIOS:
        print(which)
        print(regional_rates(which).round(4).to_string())
    for base in BASES:
        bench = benchmark(base)
        print(base)
        print(annex_ii.exempt_shares(bench, bench.metadata["members"]).round(3).to_string())
        print("wrote", write_spec(base=base))
