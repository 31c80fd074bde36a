"""WIOD Socio-Economic Accounts (SEA), 2013 release: labour compensation and persons engaged.

File (under the shared data folder): ``wiod2013_sea/wiod_sea_2013release_wide.csv.gz`` with
columns ``country, variable, industry, 1995 .. 2011``: 40 countries (the WIOD countries, no RoW) x 25
variables x 36 industry rows ("total industries" and the 35 WIOD industries, always in WIOD order).
Industry labels are lower-case text whose spelling differs between variables ("food , beverages" and
"food, beverages"); the reader identifies industries by their position within each
(country, variable) block and checks the labels against key words.

Units: monetary variables (``VA``, ``LAB``, ``CAP``, ``COMP``...) in millions of national currency,
current prices; ``EMP`` (persons engaged) and ``EMPE`` (employees) in thousands. Coverage: monetary
variables end in 2009 for the non-EU countries (AUS BRA CAN CHN IDN IND JPN KOR MEX RUS TUR TWN USA)
and in 2011 for the EU; ``EMP`` runs to 2011 everywhere. A few cells are missing (China's and
Indonesia's motor-vehicle trade c19 and private households c35, Korea's c35), all in sectors whose
WIOD output is zero.

References: Timmer et al. (2015), *Review of International Economics* 23(3), 575-605; Erumban, A. A.,
Gouma, R., de Vries, G., de Vries, K. and Timmer, M. (2012). WIOD Socio-Economic Accounts (SEA):
Sources and Methods. WIOD working paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import source_file
from .wiod import ISO3_FIXES

FILE = ("wiod2013_sea", "wiod_sea_2013release_wide.csv.gz")
YEARS = tuple(range(1995, 2012))
SECTORS = tuple(f"c{k}" for k in range(1, 36))
KEYWORDS = (
    "total", "agriculture", "mining", "food", "textiles", "leather", "wood", "pulp", "coke", "chemicals", "rubber",
    "non-metallic", "basic metals", "machinery", "electrical", "transport equipment", "manufacturing", "electricity",
    "construction", "sale, maintenance", "wholesale", "retail", "hotels", "inland transport", "water transport",
    "air transport", "supporting", "post", "financial", "real estate", "renting", "public admin", "education",
    "health", "other community", "private households",
)
"""A key word of each industry row, in block order (``total`` first), to check the position rule."""


@dataclass
class SEA:
    """The SEA as an array ``values[variable][country, sector, year]`` (NaN where missing)."""

    countries: list[str]
    sectors: list[str]
    years: list[int]
    values: dict[str, np.ndarray]
    totals: dict[str, np.ndarray]

    def get(self, variable: str, year: int) -> np.ndarray:
        """``variable`` by (country, sector) in ``year`` (NaN where missing)."""
        return self.values[variable][:, :, self.years.index(year)]

    def total(self, variable: str, year: int) -> np.ndarray:
        """``variable`` for "total industries" by country in ``year``."""
        return self.totals[variable][:, self.years.index(year)]


def read_sea(root: Path | str | None = None) -> SEA:
    """Read the SEA into arrays by variable, (country, WIOD sector c1..c35, year)."""
    df = pd.read_csv(source_file(*FILE, root=root))
    years = [int(y) for y in YEARS]
    ycols = [str(y) for y in years]
    df["position"] = df.groupby(["country", "variable"], sort=False).cumcount()
    if df["position"].max() != len(KEYWORDS) - 1:
        raise ValueError(f"{FILE[-1]}: expected {len(KEYWORDS)} industry rows per country and variable")
    bad = [
        (c, v, lab)
        for c, v, lab, pos in df[["country", "variable", "industry", "position"]].itertuples(index=False)
        if KEYWORDS[pos] not in lab.replace(" , ", ", ")
    ]
    if bad:
        raise ValueError(f"{FILE[-1]}: industry labels out of the expected order, e.g. {bad[:3]}")
    countries = [ISO3_FIXES.get(c, c) for c in pd.unique(df["country"])]
    codes = {c: n for n, c in enumerate(pd.unique(df["country"]))}
    values, totals = {}, {}
    for var, g in df.groupby("variable", sort=False):
        arr = np.full((len(countries), len(SECTORS) + 1, len(years)), np.nan)
        arr[g["country"].map(codes).to_numpy(), g["position"].to_numpy()] = g[ycols].to_numpy(dtype=float)
        values[var] = arr[:, 1:, :]
        totals[var] = arr[:, 0, :]
    return SEA(countries=countries, sectors=list(SECTORS), years=years, values=values, totals=totals)


def labour_shares(sea: SEA, year: int = 2011) -> pd.DataFrame:
    """Labour compensation over value added (``LAB / VA``) by country and sector.

    For each country the latest year up to ``year`` with ``LAB`` and ``VA`` for its total industries
    is used. Imputations, flagged in column ``imputed``: a sector with missing or non-positive
    value added takes the country's total-industries share; shares are clipped to [0, 1] (``LAB``
    exceeds ``VA`` where the SEA imputes self-employed income above value added, mostly in
    agriculture). Columns: ``country, sector, year, share, raw, imputed``.
    """
    rows = []
    for n, c in enumerate(sea.countries):
        avail = [y for y in sea.years if y <= year and np.isfinite(sea.total("LAB", y)[n]) and np.isfinite(sea.total("VA", y)[n])]
        if not avail:
            raise ValueError(f"SEA: no year up to {year} with LAB and VA for {c}")
        y = avail[-1]
        lab, va = sea.get("LAB", y)[n], sea.get("VA", y)[n]
        total = sea.total("LAB", y)[n] / sea.total("VA", y)[n]
        for k, s in enumerate(sea.sectors):
            ok = np.isfinite(lab[k]) and np.isfinite(va[k]) and va[k] > 0
            raw = lab[k] / va[k] if ok else np.nan
            share = raw if ok else total
            clipped = float(np.clip(share, 0.0, 1.0))
            rows.append((c, s, y, clipped, raw, (not ok) or clipped != share))
    return pd.DataFrame(rows, columns=["country", "sector", "year", "share", "raw", "imputed"])


def employment(sea: SEA, year: int = 2011) -> pd.DataFrame:
    """Persons engaged (``EMP``, converted from thousands to persons) by country and sector in ``year``.

    Missing cells are returned as NaN (they are all in sectors without WIOD output). Columns:
    ``country, sector, persons``.
    """
    emp = sea.get("EMP", year) * 1000.0
    idx = pd.MultiIndex.from_product([sea.countries, sea.sectors], names=["country", "sector"])
    return pd.DataFrame({"persons": emp.reshape(-1)}, index=idx).reset_index()


__all__ = ["SEA", "SECTORS", "employment", "labour_shares", "read_sea"]
