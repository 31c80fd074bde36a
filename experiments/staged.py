"""What the scenario-writing scripts of this folder share: where the staged data are, and the
benchmark's goods sectors and region members.

The raw data live outside the repository in ``../shared/data`` (or ``$CGE_SHARED_DATA``); the scripts
``make_us_tariffs.py`` and ``make_facilitation.py`` read them and write scenario files whose numbers
carry their provenance in comments.
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = Path(os.environ.get("CGE_SHARED_DATA", ROOT.parent / "shared" / "data"))
BENCHMARK = "eastasia-2011"
WIOD_GOODS = {f"c{k}" for k in range(1, 17)}
"""WIOD 2013 sectors c1-c16: agriculture, mining and manufacturing (tariffed, shipped)."""


def benchmark(name: str = BENCHMARK):
    """The built-in benchmark the experiments run on (``name``: another built-in benchmark)."""
    import cge

    return cge.Benchmark.load(name)


def goods_sectors(bench=None) -> list[str]:
    """Model sectors made only of WIOD goods sectors (c1-c16), in benchmark order."""
    bench = bench or benchmark()
    members = bench.metadata["sector_members"]
    return [s for s in bench.sectors if set(members[s]) <= WIOD_GOODS]


def toml_list(names) -> str:
    """A TOML array of strings."""
    return "[" + ", ".join(f'"{n}"' for n in names) + "]"


def spec_header(title: str, description: list[str], sector_groups: dict[str, list[str]], bench: str = BENCHMARK) -> list[str]:
    """The lines of a scenario file before its scenarios: title, description, benchmark, model, sector groups."""
    lines = [f'title = "{title}"', 'description = """', *description, '"""', f'benchmark = "{bench}"', "",
             "[model]", 'sourcing = "agent"', 'backend = "auto"', "", "[sector_groups]"]
    return lines + [f"{name} = {toml_list(members)}" for name, members in sector_groups.items()]
