"""Annex II of the US "reciprocal" tariffs mapped to the benchmark's sectors.

The exempt list (Annex II of Executive Order 14257, as printed in US Note 2(v)(iii)(a) to chapter 99 of
the HTSUS 2026 Rev. 6; ``../shared/data/us_reciprocal_tariffs_2025/annex_ii_and_aug2025_rates``) names
1,082 HTS codes. The share of a sector's US imports that it exempts is estimated in three steps:

1. **HS to ICIO sectors.** Every HS 2022 heading (4 digits) is assigned to one of the 27 goods sectors
   of the OECD ICIO tables (ISIC rev. 4 divisions) by :data:`CHAPTERS` (HS chapter -> ISIC division,
   following the correspondence of HS sections to ISIC rev. 4 divisions) and the heading-level
   exceptions in :data:`HEADINGS` (e.g. coal 2701-2703 to mining B05, crude oil and natural gas
   2709/2711 to B06, refined products 2710 to C19; computers 8471/8473 and telecom, audio-video and
   semiconductor headings of chapter 85 to C26; medicinal chemicals 2936-2941 to C21). This is a
   heading-level concordance written for this purpose; national lines within a heading are not split.
2. **Exempt share within an ICIO sector: frequency ratio.** No US imports by HS line are staged, so
   within an ICIO sector the share exempted is the *frequency ratio*, exempt HS 6-digit subheadings /
   all HS 6-digit subheadings of the sector (the standard proxy when trade by line is missing; e.g.
   Nogues, Olechowski and Winters 1987). A subheading counts as exempt when the Annex lists it, its
   heading, or any of its 8- or 10-digit lines (an upper bound where only some national lines are
   exempt, e.g. 8505.11.0070). Subheadings per heading: the HS 2022 nomenclature (WCO, as published
   in the datasets/harmonized-system data package, ODC-PDDL; counts in
   ``data/hs2022_subheadings_per_heading.csv``).
3. **Model sectors: coverage weights.** A model sector's exempt share for a partner is the average of
   its ICIO sectors' frequency ratios weighted by US imports from that partner by ICIO sector (ICIO
   2022 trade cube, ``../shared/data/icio2023_trade_tariffs``), so that, e.g., the energy share of
   "mining" or the pharmaceutical share of "chemicals" in US imports is measured, not assumed.

The consolidated list includes products added after August 2025 (food and agricultural products
of chapters 01-24 in November 2025, see the folder's PROVENANCE.txt); they are left out by default
(``food=False``) so that the list approximates the one in force in April-August 2025.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from staged import HERE, SHARED, goods_sectors  # noqa: E402

ANNEX = SHARED / "us_reciprocal_tariffs_2025" / "annex_ii_and_aug2025_rates" / "annex_ii_subheadings_htsus2026rev6.csv"
CUBE = SHARED / "icio2023_trade_tariffs" / "derived_csv" / "icio_2022_trade_tariff_long.csv.gz"
HS_COUNTS = HERE / "data" / "hs2022_subheadings_per_heading.csv"
FOOD_CHAPTERS = range(1, 25)  # HS chapters 01-24: food and agricultural additions of November 2025

# HS 2022 chapter -> ICIO sector (ISIC rev. 4 division); None: not a good of the model (works of art, ch. 97)
CHAPTERS = {
    **{c: "A01" for c in (1, 6, 7, 8, 9, 10, 12, 13, 14)},  # live animals, plants, vegetables, fruit, coffee/tea/spices, cereals, oil seeds
    3: "A03",  # fish and crustaceans
    **{c: "C10T12" for c in (2, 4, 5, 11, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24)},  # meat, dairy, milling, fats, food, beverages, tobacco
    25: "B08", 26: "B07", 27: "C19",  # salt/stone, ores; mineral fuels (crude, gas, coal below)
    **{c: "C20" for c in (28, 29, 31, 32, 33, 34, 35, 36, 37, 38)},  # chemicals
    30: "C21",  # pharmaceutical products
    39: "C22", 40: "C22",  # plastics, rubber
    **{c: "C13T15" for c in range(41, 44)}, **{c: "C13T15" for c in range(50, 68)},  # leather, textiles, apparel, footwear
    44: "C16", 45: "C16", 46: "C16",  # wood, cork, plaiting
    47: "C17_18", 48: "C17_18", 49: "C17_18",  # pulp, paper, printed matter
    68: "C23", 69: "C23", 70: "C23",  # stone, ceramic, glass
    71: "C24B",  # precious metals (jewellery below)
    72: "C24A", 73: "C25",  # iron and steel; articles of iron or steel
    **{c: "C24B" for c in range(74, 82)},  # non-ferrous metals (articles below)
    82: "C25", 83: "C25", 93: "C25",  # tools, misc. articles of base metal, arms
    84: "C28", 85: "C27",  # machinery; electrical machinery (electronics below)
    86: "C302T309", 87: "C29", 88: "C302T309", 89: "C301",  # rail, motor vehicles, aircraft, ships
    90: "C26", 91: "C26",  # instruments, clocks and watches (medical below)
    92: "C31T33", 94: "C31T33", 95: "C31T33", 96: "C31T33",  # instruments, furniture, toys, misc.
    97: None, 98: None, 99: None,  # works of art; special-use and unspecified codes
}
# heading (HS4) -> ICIO sector, exceptions to CHAPTERS
HEADINGS = {
    **{h: "A01" for h in ("0407", "0409", "2401", "4001", "5001", "5002", "5101", "5102", "5201", "5301", "5305")},
    **{h: "A02" for h in ("4401", "4402", "4403")},
    **{h: "B05" for h in ("2701", "2702", "2703")},  # coal, lignite, peat
    **{h: "B06" for h in ("2709", "2711")},  # crude petroleum, petroleum gases and natural gas
    "2716": None,  # electrical energy (utilities, not a good of the model)
    "2523": "C23",  # cement
    **{h: "C21" for h in ("2936", "2937", "2938", "2939", "2940", "2941")},  # vitamins, hormones, alkaloids, antibiotics
    **{h: "C31T33" for h in ("7101", "7102", "7103", "7104", "7105", "7113", "7114", "7116", "7117")},  # jewellery
    "7115": "C25", "7118": "C25",  # other articles of precious metal; coin
    **{h: "C25" for h in ("7411", "7412", "7413", "7415", "7418", "7419", "7507", "7508", "7608", "7609", "7610",
                           "7611", "7612", "7613", "7614", "7615", "7616", "7806", "7907", "8007")},  # articles of non-ferrous metals
    **{h: "C26" for h in ("8471", "8473", "8517", "8518", "8519", "8521", "8522", "8523", "8524", "8525", "8526",
                           "8527", "8528", "8529", "8540", "8541", "8542")},  # computers, telecom, audio-video, semiconductors
    **{h: "C31T33" for h in ("9018", "9019", "9020", "9021")},  # medical and orthopaedic appliances (ISIC 3250)
    "9405": "C27",  # lamps and lighting fittings (ISIC 2740)
    **{h: "C302T309" for h in ("8709", "8710", "8711", "8712", "8713", "8714", "8715")},  # works trucks, tanks, cycles
}


def icio_sector(heading: str) -> str | None:
    """The ICIO sector of an HS 2022 heading (4 digits)."""
    return HEADINGS[heading] if heading in HEADINGS else CHAPTERS[int(heading[:2])]


def exempt_subheadings(food: bool = False) -> tuple[set[str], list[str]]:
    """HS 6-digit subheadings exempted by Annex II, and the Annex codes not in HS 2022 (if any)."""
    annex = pd.read_csv(ANNEX, dtype=str)
    counts = pd.read_csv(HS_COUNTS, dtype={"heading": str}).set_index("heading")["hs6_subheadings"]
    if not food:
        annex = annex[~annex["hs_chapter"].astype(int).isin(FOOD_CHAPTERS)]
    digits = annex["hts_code_as_printed"].str.replace(".", "", regex=False)
    hs6, unknown = set(), []
    for code in digits:
        if code[:4] not in counts.index:
            unknown.append(code)
        elif len(code) == 4:
            hs6 |= {f"{code}*{k}" for k in range(counts[code])}  # the whole heading: one token per subheading
        else:
            hs6.add(code[:6])
    return hs6, unknown


def frequency_ratios(food: bool = False) -> pd.DataFrame:
    """By ICIO sector: HS 6-digit subheadings, how many Annex II exempts, and their ratio."""
    counts = pd.read_csv(HS_COUNTS, dtype={"heading": str}).set_index("heading")["hs6_subheadings"]
    exempt, _ = exempt_subheadings(food)
    per_heading = pd.Series(0, index=counts.index)
    for token in exempt:
        per_heading[token[:4]] += 1
    per_heading = np.minimum(per_heading, counts)
    sector = pd.Series({h: icio_sector(h) for h in counts.index}).dropna()
    table = pd.DataFrame({"subheadings": counts[sector.index], "exempt": per_heading[sector.index], "sector": sector})
    out = table.groupby("sector")[["subheadings", "exempt"]].sum()
    out["ratio"] = out["exempt"] / out["subheadings"]
    return out


def us_imports(members: dict[str, list[str]]) -> pd.DataFrame:
    """US imports (US$ million, ICIO 2022) by model region (rows) and ICIO sector (columns)."""
    cube = pd.read_csv(CUBE)
    cube = cube[(cube["importer"] == "USA") & (cube["exporter"] != "USA")]
    named = {c: r for r, cs in members.items() for c in cs}
    rest = [r for r, cs in members.items() if "ROW" in cs]
    cube = cube.assign(region=cube["exporter"].map(named).fillna(rest[0] if rest else "ROW"))
    return cube.pivot_table(index="region", columns="sector", values="trade_usd_mn", aggfunc="sum", fill_value=0.0)


def model_sector_of_icio(bench) -> dict[str, str]:
    """ICIO goods sector -> model sector, through the WIOD-ICIO bridge groups."""
    from cge.sources.concordance import bridge_of_icio, bridge_of_wiod

    bw, bi = bridge_of_wiod(), bridge_of_icio()
    out = {}
    for s in goods_sectors(bench):
        groups = {bw[w] for w in bench.metadata["sector_members"][s]}
        out |= {k: s for k, g in bi.items() if g in groups}
    return out


def _shares(imports: pd.DataFrame, ratios: pd.Series, to_model: dict, sectors: list[str]) -> pd.DataFrame:
    """Exempt share by row of ``imports`` (ICIO sectors in columns) and model sector (NaN without imports)."""
    cols = [k for k in imports.columns if k in to_model]
    exempt = imports[cols] * ratios.reindex(cols).fillna(0.0)
    out = pd.DataFrame(index=imports.index, columns=sectors, dtype=float)
    for s in sectors:
        ks = [k for k in cols if to_model[k] == s]
        total = imports[ks].sum(axis=1)
        out[s] = (exempt[ks].sum(axis=1) / total).where(total > 0)
    return out


def exempt_shares(bench, members: dict[str, list[str]], food: bool = False) -> pd.DataFrame:
    """Share of each model region's US imports of each goods sector that Annex II exempts.

    Rows are model regions (exporters) and ``"World"`` (all partners), columns goods sectors; a region
    without US imports in a sector takes the sector's share over all partners.
    """
    ratios = frequency_ratios(food)["ratio"]
    imports = us_imports(members)
    args = (ratios, model_sector_of_icio(bench), goods_sectors(bench))
    world = _shares(imports.sum().to_frame("World").T, *args).loc["World"]
    regions = [r for r in bench.regions if r != "USA"]
    out = _shares(imports, *args).reindex(regions).fillna(world)
    out.loc["World"] = world
    return out
