"""Readers of the raw source tables that calibration builds benchmarks from.

Raw data never live in the repository: they are read from the shared data folder beside it
(``<repo>/../shared/data``), or from the folder named by the environment variable
``CGE_SHARED_DATA``. Each reader returns plain numpy arrays with labelled axes (small dataclasses)
in the source's own classification and units; aggregation and balancing happen downstream
(:mod:`cge.aggregate`, :mod:`cge.sources.hybrid`, :mod:`cge.sources.build`, ``calibration/``).

=====================  ===================================================================
module                 source
=====================  ===================================================================
:mod:`.wiod`           WIOD 2013 release world input-output tables (41 regions x 35 sectors)
:mod:`.sea`            WIOD Socio-Economic Accounts, 2013 release (labour shares, persons)
:mod:`.icio_cubes`     bilateral trade, Teti applied tariffs and trade elasticities (tariffwar
                       cubes built on OECD ICIO 2023 and WIOD 2016; MATLAB v7.3 / HDF5)
:mod:`.pymrio_io`      any MRIO that pymrio reads (``IOSystem`` -> :class:`cge.Benchmark`)
:mod:`.concordance`    WIOD 35 sectors <-> ICIO 28 sectors (16 bridge groups)
:mod:`.ras`            RAS, GRAS and iterative proportional fitting used to balance tables
:mod:`.hybrid`         the hybrid WIOD-ICIO world table with ASEAN economies split out of RoW
:mod:`.build`          hybrid table + satellites + aggregation + tariffs -> a benchmark
:mod:`.customs`        customs duties collected (WDI, IMF GFS); tariffs matched to them
:mod:`.update`         a base-year table updated to a later year's trade and output (cube growth, RAS)
=====================  ===================================================================
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "CGE_SHARED_DATA"
"""Environment variable that overrides the location of the shared raw data folder."""

REPO_ROOT = Path(__file__).resolve().parents[2]


class SourceDataMissing(FileNotFoundError):
    """A raw source file is not where the readers look for it (message says where and how to fix)."""


def shared_data_dir() -> Path:
    """The folder holding the raw source data sets.

    ``$CGE_SHARED_DATA`` when set, else ``<repository>/../shared/data``. The folder is not required
    to exist (use :func:`has_shared_data` to test).
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser().resolve()
    return (REPO_ROOT / ".." / "shared" / "data").resolve()


def has_shared_data(*parts: str) -> bool:
    """True when ``shared_data_dir() / parts`` exists (tests use it to skip without raw data)."""
    return shared_data_dir().joinpath(*parts).exists()


def source_file(*parts: str, root: Path | str | None = None) -> Path:
    """Path of a raw file under the shared data folder (or ``root``); raise SourceDataMissing if absent."""
    base = Path(root) if root is not None else shared_data_dir()
    path = base.joinpath(*parts)
    if not path.exists():
        raise SourceDataMissing(
            f"{path}: raw source file not found. Raw data are read from <repo>/../shared/data "
            f"or from the folder named by ${ENV_VAR}; see calibration/README.md."
        )
    return path


__all__ = ["ENV_VAR", "SourceDataMissing", "has_shared_data", "shared_data_dir", "source_file"]
