"""Built-in benchmarks shipped with the package (derived, aggregated data with source notes).

Each built-in benchmark is a folder ``cge/data/benchmarks/<name>/`` in the on-disk format of
:class:`cge.Benchmark`, with a ``SOURCE.md`` giving sources, method and citations.
"""

from __future__ import annotations

from pathlib import Path

from .benchmark import Benchmark, BenchmarkError

DATA_DIR = Path(__file__).resolve().parent / "data" / "benchmarks"


def available() -> list[str]:
    """Names of the built-in benchmarks."""
    if not DATA_DIR.is_dir():
        return []
    return sorted(p.name for p in DATA_DIR.iterdir() if (p / "metadata.toml").is_file())


def path_of(name: str) -> Path:
    """Folder of a built-in benchmark (error listing the known names)."""
    names = available()
    if name not in names:
        raise KeyError(f"unknown built-in benchmark {name!r}; available: {names}")
    return DATA_DIR / name


def load(name: str) -> Benchmark:
    """Read a built-in benchmark by name."""
    return Benchmark.read(path_of(name))


def locate(ref, base=None) -> Path:
    """Folder of a benchmark named by ``ref``: a built-in name, or a folder (relative to ``base``).

    An error names ``ref``, the built-in names and the folder looked at.
    """
    ref = str(ref)
    if ref in available():
        return DATA_DIR / ref
    folder = Path(ref)
    if not folder.is_absolute() and base is not None:
        folder = Path(base) / folder
    if (folder / "metadata.toml").is_file():
        return folder
    raise BenchmarkError(f"benchmark {ref!r} is neither a built-in benchmark {available()} nor a benchmark folder ({folder / 'metadata.toml'} not found)")
