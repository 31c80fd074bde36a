"""Bilateral trade, applied tariffs and trade elasticities: the "tariffwar" cubes (Lashkaripour).

Files (under the shared data folder, ``icio2023_trade_tariffs/original_mat/``): ``ICIO2011.mat`` ..
``ICIO2022.mat`` (OECD ICIO 2023 based: 81 economies incl. all ten ASEAN members, 27 goods sectors
plus one services aggregate) and ``WIOD2000.mat`` .. ``WIOD2014.mat`` (WIOD 2016 based: 44 x 16).
They are MATLAB v7.3 files, i.e. HDF5, read with h5py; h5py sees MATLAB arrays with their axes
reversed, so the stored ``data/Xjik_3D`` of shape (S, N, N) is ``[sector, importer, exporter]``.
This reader returns arrays in the package's trade order ``[exporter, sector, importer]``.

Contents (see the folder's PROVENANCE.txt):

- ``trade``: total purchases (intermediate + final) by importer from exporter, US$ million, basic
  prices; the diagonal is domestic absorption of own output, so ``trade[e].sum()`` is gross output
  of ``e``. China (CHN + CN1 + CN2) and Mexico (MEX + MX1 + MX2) are re-aggregated; all services
  are one aggregate sector. Not balanced (trade deficits are present). Negative cells floored at 0.
- ``tariff``: Teti Global Tariff Database applied ad-valorem tariff (fraction) of the importer on
  the exporter; zero on the diagonal; for 2022 the 2021 tariffs. The services aggregate carries
  spurious non-zero "tariffs" (a concordance artefact): :func:`read_cube` sets them to zero unless
  ``keep_services_tariffs``.
- ``sigma[source]``: CES elasticity of substitution across sources (``sigma = epsilon + 1``) per
  sector, for eight published estimates (:data:`ELASTICITY_SOURCES`), concorded by tariffwar to the
  cube's sectors.

References: OECD (2023), Inter-Country Input-Output tables, 2023 edition; Teti, F. (2024), 30+
years of trade policy: evidence from 160 countries, ECARES WP 2024-04; Lashkaripour, A. (2021), The
cost of a global tariff war: a sufficient statistics approach, *Journal of International Economics*
131, 103489; and the elasticity papers in :data:`ELASTICITY_SOURCES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import mrio
from . import source_file

FOLDER = ("icio2023_trade_tariffs", "original_mat")
DATASETS = {"ICIO": tuple(range(2011, 2023)), "WIOD": tuple(range(2000, 2015))}

ELASTICITY_SOURCES = {
    "IS": "in-sample estimate of the tariffwar package (Lashkaripour 2021)",
    "U4": "uniform trade elasticity of 4 (sigma = 5)",
    "CP": "Caliendo, L. and Parro, F. (2015), Review of Economic Studies 82(1), 1-44",
    "BSY": "Bagwell, K., Staiger, R. W. and Yurukoglu, A. (2021), Econometrica 89(4), 1595-1631",
    "GYY": "Giri, R., Yi, K.-M. and Yilmazkuday, H. (2021), Journal of International Economics 130, 103445",
    "Shap": "Shapiro, J. S. (2016), American Economic Journal: Economic Policy 8(4), 278-307",
    "FGO": "Fontagné, L., Guimbard, H. and Orefice, G. (2022), Journal of International Economics 137, 103593",
    "LL": "Lashkaripour, A. and Lugovskyy, V. (2023), American Economic Review 113(10), 2759-2808",
}
"""The eight published sets of sectoral trade elasticities in the cubes, by the cubes' names."""


@dataclass
class TradeCube:
    """One year of a trade-tariff cube, in ``[exporter, sector, importer]`` order."""

    dataset: str
    year: int
    countries: list[str]
    sectors: list[str]
    trade: np.ndarray
    tariff: np.ndarray
    sigma: dict[str, np.ndarray] = field(default_factory=dict)
    epsilon: dict[str, np.ndarray] = field(default_factory=dict)
    services_sector: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def output(self) -> np.ndarray:
        """Gross output by (country, sector): sales to all importers incl. the domestic diagonal."""
        return mrio.sales(self.trade)

    def index(self, code: str) -> int:
        return self.countries.index(code)


def _text(f, ref) -> str:
    return "".join(chr(c) for c in np.asarray(f[ref][()]).ravel())


def _texts(f, dataset) -> list[str]:
    return [_text(f, ref) for ref in np.asarray(dataset[()]).ravel()]


def read_cube(
    year: int = 2011,
    dataset: str = "ICIO",
    root: Path | str | None = None,
    keep_services_tariffs: bool = False,
) -> TradeCube:
    """Read the ``dataset`` (``"ICIO"`` or ``"WIOD"``) cube of ``year`` with h5py."""
    import h5py

    if dataset not in DATASETS:
        raise ValueError(f"dataset={dataset!r}; available: {sorted(DATASETS)}")
    if year not in DATASETS[dataset]:
        years = DATASETS[dataset]
        raise ValueError(f"{dataset} cubes cover {years[0]}-{years[-1]}; got {year}")
    path = source_file(*FOLDER, f"{dataset}{year}.mat", root=root)
    with h5py.File(path, "r") as f:
        d = f["data"]
        countries = _texts(f, d["countries"])
        sectors = _texts(f, d["sectors"])
        trade = np.asarray(d["Xjik_3D"][()], dtype=float).transpose(2, 0, 1).copy()
        tariff = np.asarray(d["tjik_3D"][()], dtype=float).transpose(2, 0, 1).copy()
        services = int(np.asarray(d["services_sector"][()]).ravel()[0]) - 1
        sigma, epsilon = {}, {}
        for src in d["sigma"]:
            sigma[src] = np.asarray(d["sigma"][src]["sigma_S"][()], dtype=float).ravel()
            epsilon[src] = np.asarray(d["sigma"][src]["epsilon_S"][()], dtype=float).ravel()
    N, S = len(countries), len(sectors)
    if trade.shape != (N, S, N) or tariff.shape != (N, S, N):
        raise ValueError(f"{path.name}: cube shapes {trade.shape}, {tariff.shape} do not fit {N} countries x {S} sectors")
    notes = []
    if not keep_services_tariffs:
        n_bad = int((tariff[:, services, :] != 0).sum())
        tariff[:, services, :] = 0.0
        notes.append(f"services tariffs set to zero ({n_bad} non-zero pairs in the cube, a concordance artefact)")
    return TradeCube(
        dataset=dataset,
        year=year,
        countries=countries,
        sectors=sectors,
        trade=trade,
        tariff=tariff,
        sigma=sigma,
        epsilon=epsilon,
        services_sector=sectors[services],
        notes=notes,
    )


def cap_to_other_goods(cube: TradeCube, sector: str = "C10T12", tariff: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Tariffs with ``sector`` capped, pair by pair, at the highest tariff of the pair's other goods sectors.

    The cube's food, beverages and tobacco sector (C10T12) carries implausible rates for many
    importers (US MFN 91.6%, Malaysia 126%, trade-weighted world average 13% against 1-5% for every
    other goods sector), most likely ad-valorem equivalents of tobacco and alcohol lines that dominate
    the concorded average. No other goods sector of the cube exceeds 31%. Returns the capped copy of
    ``tariff`` (default the cube's) and the number of cells changed.
    """
    t = (cube.tariff if tariff is None else tariff).copy()
    k = cube.sectors.index(sector)
    goods = [j for j in range(len(cube.sectors)) if j != k and cube.sectors[j] != cube.services_sector]
    cap = t[:, goods, :].max(axis=1)
    changed = int((t[:, k, :] > cap).sum())
    t[:, k, :] = np.minimum(t[:, k, :], cap)
    return t, changed


def zero_inside(cube: TradeCube, members: list[str]) -> int:
    """Set tariffs among ``members`` (a customs union such as the EU) to zero; return cells changed."""
    idx = [cube.index(c) for c in members if c in cube.countries]
    block = np.ix_(idx, range(len(cube.sectors)), idx)
    changed = int((cube.tariff[block] != 0).sum())
    cube.tariff[block] = 0.0
    cube.notes.append(f"tariffs inside {len(idx)}-member customs union set to zero ({changed} cells)")
    return changed


__all__ = ["DATASETS", "ELASTICITY_SOURCES", "TradeCube", "cap_to_other_goods", "read_cube", "zero_inside"]
