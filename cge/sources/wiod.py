"""WIOD 2013 release world input-output tables (Timmer et al. 2015).

Files (under the shared data folder, ``wiod2013/``): ``npz/wiot_YYYY.npz`` with ``Z`` (1435 x 1435),
``F`` (1435 x 205) and ``x`` (1435) for 1995-2011, in US$ million at current basic prices;
``countries.csv`` (41 codes in table order: 40 countries and RoW), ``sectors.csv`` (c1..c35 with
NACE rev. 1 codes and names) and ``final_demand_categories.csv`` (5 columns per country).

The reader reshapes the flat table into labelled blocks ``Z[r, i, s, j]`` and ``F[r, i, s, k]``
(rows sell, columns buy) and normalises two codes to ISO 3166 alpha-3: WIOD's ``ROM`` (Romania) is
``ROU`` and ``RoW`` is ``ROW``.

The tables have no value-added rows: value added can only be recovered as a residual, output minus
intermediate inputs, which then also holds net taxes on products (including import duties paid by
the using sector) and international trade margins. Gross output ``x`` differs slightly from the row
sums of ``Z`` and ``F`` (by 0.04-0.09% of world output, rounding of the published cells).

Reference: Timmer, M. P., Dietzenbacher, E., Los, B., Stehrer, R. and de Vries, G. J. (2015). An
illustrated user guide to the World Input-Output Database: the case of global automotive production.
*Review of International Economics* 23(3), 575-605.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import mrio
from . import source_file

FOLDER = "wiod2013"
YEARS = tuple(range(1995, 2012))
ISO3_FIXES = {"ROM": "ROU", "RoW": "ROW"}
"""WIOD codes that are not ISO 3166 alpha-3, and their replacements."""


@dataclass
class WIOT:
    """One year of the WIOD world input-output table, in labelled blocks (US$ million, basic prices).

    ``Z`` is (R, S, R, S) intermediate deliveries ``[exporter, commodity, importer, sector]``; ``F`` is
    (R, S, R, K) final deliveries ``[exporter, commodity, importer, category]`` with the categories in
    ``final_demand``; ``x`` is (R, S) published gross output.
    """

    year: int
    regions: list[str]
    sectors: list[str]
    sector_names: dict[str, str]
    nace: dict[str, str]
    final_demand: list[str]
    Z: np.ndarray
    F: np.ndarray
    x: np.ndarray

    @property
    def sales(self) -> np.ndarray:
        """Row sums: intermediate plus final sales of each (region, sector), (R, S)."""
        return mrio.sales(self.Z, self.F)

    @property
    def value_added(self) -> np.ndarray:
        """Residual value added: published output minus intermediate inputs, (R, S)."""
        return self.x - self.Z.sum(axis=(0, 1))

    def region_index(self, code: str) -> int:
        return self.regions.index(code)


def read_wiot(year: int = 2011, root: Path | str | None = None) -> WIOT:
    """Read the WIOD 2013 release table of ``year`` (1995-2011)."""
    if year not in YEARS:
        raise ValueError(f"WIOD 2013 release covers {YEARS[0]}-{YEARS[-1]}; got {year}")
    folder = source_file(FOLDER, root=root)
    data = np.load(source_file(FOLDER, "npz", f"wiot_{year}.npz", root=root), allow_pickle=False)
    countries = pd.read_csv(folder / "countries.csv")["iso3"].tolist()
    sectors = pd.read_csv(folder / "sectors.csv", dtype=str)
    fd = pd.read_csv(folder / "final_demand_categories.csv")["code"].tolist()
    in_file = [str(c) for c in data["countries"]]
    if in_file != countries:
        raise ValueError(f"wiot_{year}.npz: country order {in_file[:3]}... differs from countries.csv")
    R, S, K = len(countries), len(sectors), len(fd)
    Z = np.asarray(data["Z"], dtype=float)
    F = np.asarray(data["F"], dtype=float)
    x = np.asarray(data["x"], dtype=float)
    if Z.shape != (R * S, R * S) or F.shape != (R * S, R * K) or x.shape != (R * S,):
        raise ValueError(f"wiot_{year}.npz: shapes Z {Z.shape}, F {F.shape}, x {x.shape} do not fit {R} x {S} with {K} final categories")
    return WIOT(
        year=year,
        regions=[ISO3_FIXES.get(c, c) for c in countries],
        sectors=sectors["code"].tolist(),
        sector_names=dict(zip(sectors["code"], sectors["name"])),
        nace=dict(zip(sectors["code"], sectors["nace_rev1_code"])),
        final_demand=fd,
        Z=Z.reshape(R, S, R, S),
        F=F.reshape(R, S, R, K),
        x=x.reshape(R, S),
    )


def sector_table(root: Path | str | None = None) -> pd.DataFrame:
    """The 35 WIOD sectors: ``code`` (c1..c35), ``nace_rev1_code`` and ``name``."""
    return pd.read_csv(source_file(FOLDER, "sectors.csv", root=root), dtype=str)


__all__ = ["ISO3_FIXES", "WIOT", "YEARS", "read_wiot", "sector_table"]
