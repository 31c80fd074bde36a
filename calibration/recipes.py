"""The recipes of the built-in benchmarks: mapping files plus proxies, as :class:`cge.sources.build.Recipe`.

Each built-in benchmark built from the raw sources has a mapping file ``mappings/<name>.toml``
(the updated benchmarks of :data:`UPDATED` share the mapping file of their base)
(tables ``[regions]``, ``[sectors]``, ``[region_labels]``, ``[sector_labels]``); all share
``proxies.csv`` (economies without WIOD/SEA data), an optional ``[build]`` table
(``tariff_collection = "drawback" | "collection" | "applied"``, see :mod:`cge.sources.customs`;
default ``"collection"``; ``proxy_premia = "cap" | "keep"``, see :mod:`cge.sources.premia`;
default ``"cap"``) and the default elasticities (Fontagné, Guimbard
and Orefice 2022 for ``sigma_mm``, ``sigma_dm = sigma_mm / 2``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

from cge.sources.build import Recipe

HERE = Path(__file__).resolve().parent
MAPPINGS = HERE / "mappings"
PROXIES = HERE / "proxies.csv"

DESCRIPTIONS = {
    "eastasia-2011": (
        "East Asia and its partners, base year 2011: 18 regions (every ASEAN economy, alone or in the rest of "
        "ASEAN) x 14 sectors keeping the GVC-heavy manufacturing sectors apart. Hybrid of the WIOD 2013 "
        "input-output structure and ICIO 2023 bilateral trade; Teti applied tariffs; SEA factor shares and employment."
    ),
    "eastasia-small": (
        "Small East Asia benchmark for demos and tests, base year 2011: 8 regions x 6 sectors, built by the same "
        "pipeline as eastasia-2011."
    ),
    "eastasia-2019": (
        "East Asia and its partners, base year 2019: eastasia-2011 (same 18 regions x 14 sectors and satellites) "
        "updated to the output and bilateral trade of the ICIO 2023 cube of 2019 (cge.sources.update); Teti applied "
        "tariffs of 2019; persons engaged of 2011 (flagged)."
    ),
    "eastasia-2022": (
        "East Asia and its partners, base year 2022: eastasia-2011 (same 18 regions x 14 sectors and satellites) "
        "updated to the output and bilateral trade of the ICIO 2023 cube of 2022 (cge.sources.update); Teti applied "
        "tariffs of 2021 (the cube's tariffs for 2022); persons engaged of 2011 (flagged)."
    ),
}
TITLES = {
    "eastasia-2011": "East Asia 2011: hybrid WIOD-ICIO world table, 18 regions x 14 sectors",
    "eastasia-small": "East Asia 2011, small: 8 regions x 6 sectors",
    "eastasia-2019": "East Asia 2019: the 2011 hybrid table updated to ICIO 2019 trade and output, 18 regions x 14 sectors",
    "eastasia-2022": "East Asia 2022: the 2011 hybrid table updated to ICIO 2022 trade and output, 18 regions x 14 sectors",
}
UPDATED = {"eastasia-2019": ("eastasia-2011", 2019), "eastasia-2022": ("eastasia-2011", 2022)}
"""Benchmarks built by updating the hybrid table (:mod:`cge.sources.update`): name -> (recipe whose
regions and sectors they share, year)."""
BUILT = tuple(DESCRIPTIONS)
"""Built-in benchmarks that this folder rebuilds from ../shared/data."""


def read_proxies(path: Path = PROXIES) -> pd.DataFrame:
    """The proxies table, one row per economy without WIOD/SEA data."""
    df = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)
    return df.set_index("economy")


def io_proxies(path: Path = PROXIES) -> dict[str, str]:
    """Economy -> WIOD region whose input-output structure is its prior in the RoW split."""
    return read_proxies(path)["io_proxy"].to_dict()


def recipe(name: str) -> Recipe:
    """The :class:`Recipe` of built-in benchmark ``name`` (error listing the known names)."""
    file = MAPPINGS / f"{UPDATED.get(name, (name,))[0]}.toml"
    if not file.is_file():
        raise KeyError(f"no recipe {name!r}; known: {sorted(p.stem for p in MAPPINGS.glob('*.toml'))}")
    with open(file, "rb") as fh:
        spec = tomllib.load(fh)
    proxies = read_proxies()
    return Recipe(
        name=name,
        title=TITLES.get(name, name),
        regions={k: list(v) for k, v in spec["regions"].items()},
        sectors={k: list(v) for k, v in spec["sectors"].items()},
        labour_share_proxies={e: row.labour_share_proxy.split() for e, row in proxies.iterrows()},
        wage_proxies={e: row.wage_proxy.split() for e, row in proxies.iterrows()},
        description=DESCRIPTIONS.get(name, ""),
        region_labels=dict(spec.get("region_labels", {})),
        sector_labels=dict(spec.get("sector_labels", {})),
        tariff_collection=spec.get("build", {}).get("tariff_collection", "collection"),
        proxy_premia=spec.get("build", {}).get("proxy_premia", "cap"),
    )
