"""Benchmark data: a multi-regional input-output table with factor payments, tariffs and satellites.

A :class:`Benchmark` is the single validated input of the model. Values are at basic prices (producer
prices, before tariffs and trade costs) in the benchmark's currency unit; a buyer pays the basic value
times ``1 + tariff``.

Arrays and their index order (``r`` exporter, ``i`` commodity, ``s`` importer, ``j`` using sector,
``a`` final-demand agent, ``f`` factor, ``u`` use):

=================  ======================  ============================================
attribute          shape                   meaning
=================  ======================  ============================================
``z_0``            (R, S, R, S)            intermediate deliveries ``Z[r, i, s, j]``
``f_0``            (R, S, R, A)            final deliveries ``F[r, i, s, a]``
``fp_0``           (R, S, F)               factor payments of sector ``(s, j)``
``tariff_0``       (R, S, R, 2)            ad-valorem tariff ``[r, i, s, u]``, ``u`` in USES
``duty_exemption_0``  (R, S)               share of the intermediate-use tariff waived on the
                                           imported inputs of sector ``(s, j)`` (default 0)
``employment``     (R, S) or None          persons employed in ``(s, j)``
``elasticities``   dict name -> (S,)       ``sigma_dm``, ``sigma_mm``, ``sigma_va``, ...
=================  ======================  ============================================

On disk a benchmark is a folder of tidy CSV files (long format, one ``value`` column) plus
``metadata.toml``; see :meth:`Benchmark.write` and the README. :meth:`Benchmark.read` checks the
folder before using it and raises :class:`BenchmarkError` naming the file, column and cells:

- ``intermediate``, ``final`` and ``factors`` are required. ``metadata.toml`` lists the tables
  the folder holds as ``files = ["intermediate.csv", ...]`` (:meth:`Benchmark.write` records it);
  a listed file that is missing, or a data file present but not listed, is an error. A folder
  without that list (written by hand or before the list existed) may omit ``tariffs`` (zero),
  ``employment`` (none) or ``elasticities`` (:data:`DEFAULT_ELASTICITIES`): each default used
  is logged as a :class:`BenchmarkWarning` and recorded in ``metadata["defaults_used"]``, which
  results metadata carry.
- ``x.csv`` beside ``x.csv.gz`` is an error (which one is meant is unknown); an empty, damaged
  or unparsable file is an error naming it.
- Every sector needs a row for each elasticity parameter the file gives (a missing row is an
  error, never 0); a parameter the file does not give at all takes its default, recorded as above.
- Tariffs above ``max_tariff`` (default :data:`MAX_TARIFF` = 2.0, i.e. 200% ad valorem; a
  benchmark may state its own bound as ``max_tariff`` in ``[metadata]``) are rejected: they are
  usually percentages entered as numbers.
- Employment belongs to the ``labour`` factor: employment without a ``labour`` factor is an error.

Duty exemptions (processing regimes, duty drawback): a sector ``(s, j)`` with exemption ``e`` pays
``t (1 - e)`` on its imported inputs, where ``t`` is the intermediate-use tariff of the route; its
costs and the region's tariff revenue count the tariff actually paid. The table
``duty_exemption.csv`` (columns ``region, sector, value``, each value in [0, 1]) is written only when
some exemption is non-zero; a folder without it has none (no default is logged: zero exemption is
the standard treatment, and every benchmark written before the table existed has none).
"""

from __future__ import annotations

import gzip
import hashlib
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import tomli_w

from .mrio import sales

if TYPE_CHECKING:
    from .gvc import MRIO
from .files import read_toml, replace_folder

USES = ("intermediate", "final")
AGENTS = ("household", "government", "investment")
ELASTICITIES = ("sigma_dm", "sigma_mm", "sigma_va", "sigma_top", "sigma_int", "sigma_fd")
DEFAULT_ELASTICITIES = {
    "sigma_dm": 2.0,
    "sigma_mm": 4.0,
    "sigma_va": 1.0,
    "sigma_top": 0.0,
    "sigma_int": 0.0,
    "sigma_fd": 1.0,
}
WORLD = "World"
"""Label of world totals in results tables; not allowed as a region label."""
BALANCE_TOLERANCE = 1e-9
"""Relative tolerance of the output = sales = costs check, as a share of ``max(1, output)``."""
MAX_TARIFF = 2.0
"""Largest benchmark tariff accepted (2.0 = 200% ad valorem) unless ``metadata["max_tariff"]`` says
otherwise: a larger rate is usually a percentage entered as a number (15 for 15%)."""

FILES = {
    "intermediate": ("intermediate.csv", ["exporter", "commodity", "importer", "sector"]),
    "final": ("final.csv", ["exporter", "commodity", "importer", "agent"]),
    "factors": ("factors.csv", ["region", "sector", "factor"]),
    "employment": ("employment.csv", ["region", "sector"]),
    "tariffs": ("tariffs.csv", ["exporter", "commodity", "importer", "use"]),
    "elasticities": ("elasticities.csv", ["parameter", "sector"]),
    "duty_exemption": ("duty_exemption.csv", ["region", "sector"]),
}
REQUIRED = ("intermediate", "final", "factors")
"""Tables every benchmark folder holds; the others are optional unless ``metadata.toml`` lists them."""


class BenchmarkError(ValueError):
    """A benchmark failed validation; the message names the offending file, label or cell."""


class BenchmarkWarning(UserWarning):
    """A benchmark folder omits an optional table and a default is used (recorded in its metadata)."""


def _cells(mask: np.ndarray, labels: list[list[str]], values: np.ndarray | None = None, most: int = 5) -> str:
    """Describe the first ``most`` true cells of ``mask`` by their labels."""
    idx = np.argwhere(mask)
    parts = []
    for row in idx[:most]:
        name = "(" + ", ".join(labels[k][row[k]] for k in range(len(row))) + ")"
        if values is not None:
            name += f"={values[tuple(row)]:.6g}"
        parts.append(name)
    more = f" and {len(idx) - most} more" if len(idx) > most else ""
    return ", ".join(parts) + more


class RegionsSectors:
    """``n_regions`` and ``n_sectors`` of an object with ``regions`` and ``sectors`` label lists
    (:class:`Benchmark`, :class:`cge.calibrate.Parameters`, :class:`cge.melitz.MelitzParameters`)."""

    @property
    def n_regions(self) -> int:
        return len(self.regions)

    @property
    def n_sectors(self) -> int:
        return len(self.sectors)


@dataclass
class Benchmark(RegionsSectors):
    """A validated multi-regional input-output benchmark (see the module docstring for layouts)."""

    regions: list[str]
    sectors: list[str]
    factors: list[str]
    agents: list[str]
    z_0: np.ndarray
    f_0: np.ndarray
    fp_0: np.ndarray
    tariff_0: np.ndarray
    employment: np.ndarray | None = None
    elasticities: dict[str, np.ndarray] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    employment_proxy: list[str] = field(default_factory=list)
    balance_tolerance: float = BALANCE_TOLERANCE
    duty_exemption_0: np.ndarray | None = None  # (R, S); None: no exemption (zeros)

    def __post_init__(self) -> None:
        self.regions = [str(r) for r in self.regions]
        self.sectors = [str(i) for i in self.sectors]
        self.factors = [str(f) for f in self.factors]
        self.agents = [str(a) for a in self.agents]
        if self.duty_exemption_0 is None:
            self.duty_exemption_0 = np.zeros((len(self.regions), len(self.sectors)))
        else:
            self.duty_exemption_0 = _numeric(self.duty_exemption_0, "duty_exemption_0", "duty_exemption_0 (duty_exemption)", [(None, None)])
        full = dict(DEFAULT_ELASTICITIES)
        full.update(self.elasticities)
        self.elasticities = {k: np.broadcast_to(_numeric(v, f"elasticities[{k!r}]", "elasticities", [(), (self.n_sectors,)]), (self.n_sectors,)).copy() for k, v in full.items()}
        self.validate(self.balance_tolerance)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(
        cls,
        regions,
        sectors,
        Z,
        F,
        factors,
        tariffs=None,
        employment=None,
        elasticities=None,
        groups=None,
        agents=None,
        metadata=None,
        employment_proxy=None,
        duty_exemption=None,
    ) -> "Benchmark":
        """Build a benchmark from numpy arrays.

        ``Z`` is (R, S, R, S); ``F`` is (R, S, R) for one final agent (the household) or
        (R, S, R, A); ``factors`` maps factor name to an (R, S) array of payments; ``tariffs`` is
        (R, S, R) (same rate for both uses) or (R, S, R, 2) by use (intermediate, final);
        ``employment`` is (R, S); ``duty_exemption`` (R, S) the share of the intermediate-use tariff
        waived on each sector's imported inputs (default none); each elasticity is a number or one value a sector. Every argument
        is checked before use: an error names the argument and its shape, type or bad cells.
        """
        regions = _label_list(regions, "regions")
        sectors = _label_list(sectors, "sectors")
        R, S = len(regions), len(sectors)
        Z = _numeric(Z, "Z", "z_0 (intermediate)", [(R, S, R, S)])
        F = _numeric(F, "F", "f_0 (final)", [(R, S, R), (R, S, R, None)])
        if F.ndim == 3:
            F = F[..., None]
        if agents is None:
            agents = list(AGENTS[: F.shape[3]]) if F.shape[3] <= 3 else [f"agent{k}" for k in range(F.shape[3])]
        agents = _label_list(agents, "agents")
        if len(agents) != F.shape[3]:
            raise BenchmarkError(f"agents: {len(agents)} labels {agents}, but argument F has {F.shape[3]} agents on its last axis")
        if not isinstance(factors, dict) or not factors:
            raise BenchmarkError("factors must be a non-empty dict: factor name -> (R, S) array of payments")
        fnames = _label_list(list(factors), "factors")
        fp = np.stack([_numeric(factors[f], f"factors[{f!r}]", "fp_0 (factors)", [(R, S)]) for f in factors], axis=-1)
        if tariffs is None:
            t = np.zeros((R, S, R, 2))
        else:
            t = _numeric(tariffs, "tariffs", "tariff_0 (tariffs)", [(R, S, R), (R, S, R, 2)])
            if t.ndim == 3:
                t = np.repeat(t[..., None], 2, axis=3)
        emp = None if employment is None else _numeric(employment, "employment", "employment", [(R, S)])
        exempt = None if duty_exemption is None else _numeric(duty_exemption, "duty_exemption", "duty_exemption_0 (duty_exemption)", [(R, S)])
        checks = [("Z", "intermediate", Z, [regions, sectors, regions, sectors]), ("F", "final", F, [regions, sectors, regions, agents])]
        checks += [(f"factors[{f!r}]", "factors", fp[..., n], [regions, sectors]) for n, f in enumerate(fnames)]
        checks += [("tariffs", "tariffs", t, [regions, sectors, regions, list(USES)])]
        checks += [] if emp is None else [("employment", "employment", emp, [regions, sectors])]
        for arg, table, arr, labels in checks:
            bad = ~np.isfinite(arr)
            if bad.any():
                raise BenchmarkError(f"{table}: non-finite values at {_cells(bad, labels)} (argument {arg})")
        el = {}
        if elasticities is not None:
            if not isinstance(elasticities, dict):
                raise BenchmarkError(f"elasticities must be a dict: parameter -> number or one value a sector, got {type(elasticities).__name__}")
            el = {k: _numeric(v, f"elasticities[{k!r}]", "elasticities", [(), (S,)]) for k, v in elasticities.items()}
        if groups is not None and not (isinstance(groups, dict) and all(isinstance(v, (list, tuple)) for v in groups.values())):
            raise BenchmarkError(f"groups must be a dict: group name -> list of regions, got {groups!r}")
        if metadata is not None and not isinstance(metadata, dict):
            raise BenchmarkError(f"metadata must be a dict, got {type(metadata).__name__}")
        if employment_proxy is not None:
            employment_proxy = _label_list(employment_proxy, "employment_proxy", empty_ok=True)
        return cls(
            regions=regions,
            sectors=sectors,
            factors=fnames,
            agents=agents,
            z_0=Z,
            f_0=F,
            fp_0=fp,
            tariff_0=t,
            employment=emp,
            elasticities=el,
            groups={k: list(v) for k, v in (groups or {}).items()},
            metadata=dict(metadata or {}),
            employment_proxy=list(employment_proxy or []),
            duty_exemption_0=exempt,
        )

    # ------------------------------------------------------------------ totals
    @property
    def output(self) -> np.ndarray:
        """Gross output by (region, sector) from the sales side: ``sum_{s,j} Z + sum_{s,a} F``."""
        return sales(self.z_0, self.f_0)

    @property
    def intermediate_tariff(self) -> np.ndarray:
        """Tariff each using sector pays on its inputs ``[r, i, s, j]``: the intermediate-use rate less
        the share its duty exemption waives, ``t[r, i, s] (1 - e[s, j])``."""
        return self.tariff_0[..., 0][..., None] * (1.0 - self.duty_exemption_0)[None, None]

    @property
    def costs(self) -> np.ndarray:
        """Costs of (region, sector): inputs at basic prices, tariffs paid on them, and factor payments."""
        if self.duty_exemption_0.any():
            inputs = (self.z_0 * (1.0 + self.intermediate_tariff)).sum(axis=(0, 1))
        else:
            inputs = np.einsum("risj,ris->sj", self.z_0, 1.0 + self.tariff_0[..., 0])
        return inputs + self.fp_0.sum(axis=2)

    @property
    def value_added(self) -> np.ndarray:
        """Factor payments by (region, sector)."""
        return self.fp_0.sum(axis=2)

    @property
    def tariff_revenue(self) -> np.ndarray:
        """Benchmark tariff revenue collected by each importing region."""
        if self.duty_exemption_0.any():
            tz = (self.z_0 * self.intermediate_tariff).sum(axis=(0, 1, 3))
        else:
            tz = np.einsum("risj,ris->s", self.z_0, self.tariff_0[..., 0])
        tf = np.einsum("risa,ris->s", self.f_0, self.tariff_0[..., 1])
        return tz + tf

    @property
    def income(self) -> np.ndarray:
        """Regional household income: final expenditure at buyer prices."""
        return np.einsum("risa,ris->s", self.f_0, 1.0 + self.tariff_0[..., 1])

    @property
    def net_transfer(self) -> np.ndarray:
        """Net transfer from abroad (the benchmark trade deficit): income - factor income - tariffs."""
        return self.income - self.fp_0.sum(axis=(1, 2)) - self.tariff_revenue

    def hash(self) -> str:
        """SHA-256 of the arrays and labels, for results metadata."""
        h = hashlib.sha256()
        for lab in (self.regions, self.sectors, self.factors, self.agents):
            h.update("\x1f".join(lab).encode())
        for arr in (self.z_0, self.f_0, self.fp_0, self.tariff_0):
            h.update(np.ascontiguousarray(arr, dtype=float).tobytes())
        if self.employment is not None:
            h.update(np.ascontiguousarray(self.employment, dtype=float).tobytes())
        for k in sorted(self.elasticities):
            h.update(k.encode() + self.elasticities[k].tobytes())
        if self.duty_exemption_0.any():  # benchmarks without exemptions keep their hash
            h.update(b"duty_exemption" + np.ascontiguousarray(self.duty_exemption_0, dtype=float).tobytes())
        return h.hexdigest()[:16]

    def group(self, name: str) -> list[str]:
        """Members of a named region group (error naming the group when unknown)."""
        if name not in self.groups:
            raise KeyError(f"unknown region group {name!r}; known: {sorted(self.groups)}")
        return list(self.groups[name])

    # ------------------------------------------------------------------ validation
    def validate(self, tolerance: float = BALANCE_TOLERANCE) -> None:
        """Check shapes, labels, signs and the output = sales = costs balance; raise BenchmarkError."""
        R, S, nF, A = self.n_regions, self.n_sectors, len(self.factors), len(self.agents)
        for name, labels in (("regions", self.regions), ("sectors", self.sectors), ("factors", self.factors), ("agents", self.agents)):
            if len(labels) == 0:
                raise BenchmarkError(f"{name}: at least one label is needed")
            dup = sorted({x for x in labels if labels.count(x) > 1})
            if dup:
                raise BenchmarkError(f"{name}: duplicate labels {dup}")
        if WORLD in self.regions:
            raise BenchmarkError(f"regions: {WORLD!r} is reserved for world totals in results; rename that region (e.g. 'RoW')")
        if "household" not in self.agents:
            raise BenchmarkError(f"agents: {self.agents} has no 'household'; a 'household' agent is required")
        shapes = {
            "z_0 (intermediate)": (self.z_0, (R, S, R, S)),
            "f_0 (final)": (self.f_0, (R, S, R, A)),
            "fp_0 (factors)": (self.fp_0, (R, S, nF)),
            "tariff_0 (tariffs)": (self.tariff_0, (R, S, R, 2)),
        }
        if self.employment is not None:
            shapes["employment"] = (self.employment, (R, S))
        shapes["duty_exemption_0 (duty_exemption)"] = (self.duty_exemption_0, (R, S))
        for name, (arr, shape) in shapes.items():
            if arr.shape != shape:
                raise BenchmarkError(f"{name}: shape {arr.shape}, expected {shape} from the labels")
        lab_t = [self.regions, self.sectors, self.regions, list(USES)]
        checks = [
            ("intermediate", self.z_0, [self.regions, self.sectors, self.regions, self.sectors]),
            ("final", self.f_0, [self.regions, self.sectors, self.regions, self.agents]),
            ("factors", self.fp_0, [self.regions, self.sectors, self.factors]),
        ]
        if self.employment is not None:
            checks.append(("employment", self.employment, [self.regions, self.sectors]))
        for name, arr, labels in checks:
            bad = ~np.isfinite(arr)
            if bad.any():
                raise BenchmarkError(f"{name}: non-finite values at {_cells(bad, labels)}")
            bad = arr < 0
            if name == "factors":  # net taxes (counterfactual tables with output subsidies) may be negative
                bad &= ~np.isin(self.factors, self.metadata.get("net_tax_factors", []))[None, None, :]
            if bad.any():
                raise BenchmarkError(f"{name}: negative values at {_cells(bad, labels, arr)}")
        t = self.tariff_0
        bad = ~np.isfinite(t)
        if bad.any():
            raise BenchmarkError(f"tariffs: non-finite values at {_cells(bad, lab_t)}")
        bad = t <= -1.0
        if bad.any():
            raise BenchmarkError(f"tariffs: rates must exceed -1, found {_cells(bad, lab_t, t)}")
        bound = self.metadata.get("max_tariff", MAX_TARIFF)
        if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not bound > 0:
            raise BenchmarkError(f"metadata: max_tariff = {bound!r}; must be a positive number (2.0 = 200% ad valorem)")
        bad = t > bound
        if bad.any():
            raise BenchmarkError(
                f"tariffs: rates above max_tariff = {bound:g} ({100 * bound:g}% ad valorem) at {_cells(bad, lab_t, t)}; "
                "rates are fractions (0.15 for 15%); if such rates are meant, state the bound as max_tariff in the metadata"
            )
        diag = np.zeros_like(t, dtype=bool)
        for r in range(R):
            diag[r, :, r, :] = t[r, :, r, :] != 0.0
        if diag.any():
            raise BenchmarkError(f"tariffs: domestic flows carry no tariff, found {_cells(diag, lab_t, t)}")
        e = self.duty_exemption_0
        bad = ~np.isfinite(e) | (e < 0.0) | (e > 1.0)
        if bad.any():
            raise BenchmarkError(f"duty_exemption: shares of the tariff waived must be finite shares in [0, 1], found {_cells(bad, [self.regions, self.sectors], e)}")
        for k, v in self.elasticities.items():
            if k not in ELASTICITIES:
                raise BenchmarkError(f"elasticities: unknown parameter {k!r}; allowed: {list(ELASTICITIES)}")
            bad = ~np.isfinite(v) | (v < 0)
            if bad.any():
                raise BenchmarkError(f"elasticities: {k} must be finite and >= 0, found {_cells(bad, [self.sectors], v)}")
        for g, members in self.groups.items():
            unknown = [m for m in members if m not in self.regions]
            if unknown:
                raise BenchmarkError(f"groups: group {g!r} names unknown regions {unknown}")
        unknown = [m for m in self.employment_proxy if m not in self.regions]
        if unknown:
            raise BenchmarkError(f"employment_proxy: names unknown regions {unknown}")
        sales, costs = self.output, self.costs
        scale = np.maximum(1.0, sales)
        bad = np.abs(costs - sales) > tolerance * scale
        if bad.any():
            gap = costs - sales
            raise BenchmarkError(
                "balance: output (sales) differs from costs (inputs + tariffs + factor payments) by more than "
                f"{tolerance:g} x max(1, output) in (region, sector) {_cells(bad, [self.regions, self.sectors], gap)} "
                "(value shown: costs - sales)"
            )
        if self.employment is not None and "labour" not in self.factors:
            raise BenchmarkError(
                f"employment: persons employed are given but no factor is named 'labour' (factors: {self.factors}); "
                "employment belongs to the 'labour' factor: rename that factor to 'labour' or drop employment"
            )
        if "labour" in self.factors and self.employment is not None:
            li = self.factors.index("labour")
            bad = (self.employment > 0) & (self.fp_0[..., li] == 0)
            if bad.any():
                raise BenchmarkError(f"employment: persons employed but no labour payments in {_cells(bad, [self.regions, self.sectors])}")

    # ------------------------------------------------------------------ disk format
    def write(self, path, compress: bool = False) -> Path:
        """Write the benchmark as tidy CSV files plus ``metadata.toml`` into folder ``path``.

        Only non-zero cells are written; floats are written with the shortest representation that
        round-trips, so ``Benchmark.read(path)`` reproduces the arrays exactly. With ``compress``
        the CSV files are gzipped (``*.csv.gz``, read the same way). ``metadata.toml`` lists the
        tables written (``files``), so that a reader notices a lost one.

        The write is atomic (:mod:`cge.files`): every file goes into a temporary folder beside
        ``path``, which replaces ``path`` whole once complete; on any failure ``path`` keeps its old
        content, byte for byte (or stays absent). Files of an existing benchmark folder that are not
        benchmark tables (such as ``SOURCE.md``) are carried over. A non-empty folder that holds no
        benchmark (no ``metadata.toml``) is never replaced.
        """
        path = Path(path)
        if path.is_dir() and any(path.iterdir()) and not (path / "metadata.toml").is_file():
            raise BenchmarkError(f"{path}: not empty and holds no benchmark (metadata.toml); not replacing it")
        own = {"metadata.toml"} | {f for name, _ in FILES.values() for f in (name, name + ".gz")}
        with replace_folder(path, carry=lambda entry: entry.name not in own) as tmp:
            self._write_files(tmp, compress)
        return path

    def _write_files(self, path: Path, compress: bool) -> None:
        labels = {
            "intermediate": [self.regions, self.sectors, self.regions, self.sectors],
            "final": [self.regions, self.sectors, self.regions, self.agents],
            "factors": [self.regions, self.sectors, self.factors],
            "tariffs": [self.regions, self.sectors, self.regions, list(USES)],
            "employment": [self.regions, self.sectors],
            "duty_exemption": [self.regions, self.sectors],
        }
        arrays = {"intermediate": self.z_0, "final": self.f_0, "factors": self.fp_0, "tariffs": self.tariff_0}
        if self.employment is not None:
            arrays["employment"] = self.employment
        if self.duty_exemption_0.any():
            arrays["duty_exemption"] = self.duty_exemption_0
        suffix = ".gz" if compress else ""
        compression = {"method": "gzip", "mtime": 0} if compress else None  # byte-identical rewrites
        for key, arr in arrays.items():
            fname, cols = FILES[key]
            _long_frame(arr, labels[key], cols).to_csv(path / (fname + suffix), index=False, compression=compression)
        rows = [(k, self.sectors[n], v[n]) for k, v in self.elasticities.items() for n in range(self.n_sectors)]
        pd.DataFrame(rows, columns=["parameter", "sector", "value"]).to_csv(
            path / (FILES["elasticities"][0] + suffix), index=False, compression=compression
        )
        meta = {
            "format": "cge-benchmark/1",
            "files": [FILES[k][0] for k in FILES if k in arrays or k == "elasticities"],
            "regions": self.regions,
            "sectors": self.sectors,
            "factors": self.factors,
            "agents": self.agents,
            "groups": self.groups,
            "employment_proxy": self.employment_proxy,
            "metadata": self.metadata,
        }
        (path / "metadata.toml").write_text(tomli_w.dumps(meta))

    @classmethod
    def load(cls, name: str) -> "Benchmark":
        """Load a built-in benchmark by name (see :func:`cge.datasets.available`)."""
        from .datasets import load

        return load(name)

    @classmethod
    def read(cls, path) -> "Benchmark":
        """Read a benchmark folder written by :meth:`write`, checking it first (see the module docstring)."""
        path = Path(path)
        meta_file = path / "metadata.toml"
        if not path.is_dir():
            raise BenchmarkError(f"{meta_file}: missing metadata file; {path} is not a benchmark folder")
        meta = _read_metadata(meta_file)
        regions, sectors, factors, agents = (meta[k] for k in ("regions", "sectors", "factors", "agents"))
        labels = {
            "exporter": regions,
            "importer": regions,
            "region": regions,
            "commodity": sectors,
            "sector": sectors,
            "factor": factors,
            "agent": agents,
            "use": list(USES),
            "parameter": list(ELASTICITIES),
        }
        declared = meta.get("files")
        tables, seen, files, notes = {}, {}, {}, []
        for key, (fname, cols) in FILES.items():
            file = _existing(path / fname)
            if declared is not None and fname in declared and file is None:
                raise BenchmarkError(f"{path / fname}: missing file (listed in {meta_file} files)")
            if declared is not None and fname not in declared and file is not None:
                raise BenchmarkError(f"{file}: not listed in {meta_file} files {declared}; add it there or remove the file")
            if file is None:
                if key in REQUIRED:
                    raise BenchmarkError(f"{path / fname}: missing file")
                if declared is None and key != "duty_exemption":  # no exemption is the standard case, not a default to log
                    notes.append(f"{fname} absent: " + {"tariffs": "no tariffs", "employment": "no employment", "elasticities": "default elasticities"}[key])
                continue
            files[key] = file
            tables[key], seen[key] = _read_long(file, cols, labels)
        R, S = len(regions), len(sectors)
        elasticities = {}
        if "elasticities" in tables:
            for n, k in enumerate(ELASTICITIES):
                if not seen["elasticities"][n].any():
                    notes.append(f"{files['elasticities'].name} gives no {k}: default {DEFAULT_ELASTICITIES[k]:g} for every sector")
                    continue
                gap = ~seen["elasticities"][n]
                if gap.any():
                    missing = [sectors[j] for j in np.flatnonzero(gap)]
                    raise BenchmarkError(f"{files['elasticities']}: parameter {k!r} has no row for sector(s) {missing}; every sector needs a value")
                elasticities[k] = tables["elasticities"][n]
        metadata = dict(meta["metadata"])
        if notes:
            for note in notes:
                warnings.warn(f"{path}: {note}", BenchmarkWarning, stacklevel=2)
            metadata["defaults_used"] = list(metadata.get("defaults_used", [])) + notes
        try:
            return cls(
                regions=regions,
                sectors=sectors,
                factors=factors,
                agents=agents,
                z_0=tables["intermediate"],
                f_0=tables["final"],
                fp_0=tables["factors"],
                tariff_0=tables["tariffs"] if "tariffs" in tables else np.zeros((R, S, R, 2)),
                employment=tables.get("employment"),
                elasticities=elasticities,
                groups=meta["groups"],
                metadata=metadata,
                employment_proxy=meta["employment_proxy"],
                duty_exemption_0=tables.get("duty_exemption"),
            )
        except BenchmarkError as exc:
            raise BenchmarkError(_in_file(str(exc), path, files)) from None

    def split_stages(self, sectors=None, rule: str = "assembly_first", parts_cap: float = 0.5, regions=None) -> "Benchmark":
        """This benchmark with ``sectors`` split into parts and assembly stages (:func:`cge.stages.split_stages`)."""
        from .stages import split_stages

        return split_stages(self, sectors, rule=rule, parts_cap=parts_cap, regions=regions)

    def split_firm_size(self, sectors=None, regions=None, **options) -> "Benchmark":
        """This benchmark with ``sectors`` split into SMEs and large firms (:func:`cge.firms.split_firm_size`)."""
        from .firms import split_firm_size

        return split_firm_size(self, sectors, regions, **options)

    # ------------------------------------------------------------------ views
    def to_mrio(self, groups: dict[str, list[str]] | None = None) -> MRIO:
        """The table as a :class:`cge.gvc.MRIO` (a :class:`cge.mrio.MRIOTable`), ready for GVC accounting.

        ``Z`` (N x N, N = regions x sectors) and ``Y`` (N x regions, final demand of all agents by
        destination) at basic prices; ``x`` is :attr:`output` (the row sums) and ``va`` output minus
        intermediate inputs (factor payments plus tariffs paid on intermediates). ``groups`` (region
        groups treated as one economy) default to none.
        """
        from .gvc import MRIO

        return MRIO(self.z_0, self.f_0.sum(axis=3), regions=self.regions, sectors=self.sectors, groups=groups)

    def summary(self) -> pd.DataFrame:
        """One row per region: GDP (value added + tariffs), output, exports, imports, mean tariff."""
        R = self.n_regions
        off = ~np.eye(R, dtype=bool)
        exports = np.einsum("risj,rs->r", self.z_0, off) + np.einsum("risa,rs->r", self.f_0, off)
        imports = np.einsum("risj,rs->s", self.z_0, off) + np.einsum("risa,rs->s", self.f_0, off)
        flows = self.z_0.sum(axis=3) + self.f_0.sum(axis=3)
        imp_flows = flows * off[:, None, :]
        paid = np.einsum("ris,ris->s", imp_flows, self.tariff_0.mean(axis=3))
        mean_tariff = np.divide(paid, imports, out=np.zeros(R), where=imports > 0)
        return pd.DataFrame(
            {
                "gdp": self.fp_0.sum(axis=(1, 2)) + self.tariff_revenue,
                "output": self.output.sum(axis=1),
                "exports": exports,
                "imports": imports,
                "mean_tariff": mean_tariff,
            },
            index=pd.Index(self.regions, name="region"),
        )

    def __repr__(self) -> str:
        name = self.metadata.get("name", "benchmark")
        return f"Benchmark({name!r}: {self.n_regions} regions x {self.n_sectors} sectors, factors {self.factors}, agents {self.agents})"


def _label_list(labels, name: str, empty_ok: bool = False) -> list[str]:
    """A list of labels (strings or numbers); a bare string or a non-list is an error naming ``name``."""
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__iter__"):
        raise BenchmarkError(f"{name} must be a list of labels, got {labels!r}")
    out = list(labels)
    bad = [x for x in out if not isinstance(x, (str, int, np.integer)) or isinstance(x, bool)]
    if bad:
        raise BenchmarkError(f"{name}: labels must be strings, got {bad[:3]!r}")
    if not out and not empty_ok:
        raise BenchmarkError(f"{name}: at least one label is needed")
    return [str(x) for x in out]


def _numeric(value, arg: str, what: str, shapes: list[tuple]) -> np.ndarray:
    """``value`` as a float array of one of ``shapes`` (``None``: any length); errors name the table and the argument."""
    try:
        arr = np.asarray(value)
    except ValueError as exc:  # ragged nested lists
        raise BenchmarkError(f"{what}: argument {arg} is not a rectangular array ({exc})") from None
    if arr.dtype.kind not in "iuf":
        raise BenchmarkError(f"{what}: argument {arg} must hold numbers, got dtype {arr.dtype} (e.g. {arr.flat[0]!r})" if arr.size else f"{what}: argument {arg} must hold numbers, got dtype {arr.dtype}")
    fits = any(len(arr.shape) == len(shape) and all(n is None or n == m for n, m in zip(shape, arr.shape)) for shape in shapes)
    if not fits:
        expected = " or ".join(str(x).replace("None", "any") for x in shapes)
        raise BenchmarkError(f"{what}: shape {arr.shape}, expected {expected} from the labels (argument {arg})")
    return arr.astype(float)


def _long_frame(arr: np.ndarray, labels: list[list[str]], columns: list[str]) -> pd.DataFrame:
    idx = np.nonzero(arr)
    data = {col: np.asarray(labels[k], dtype=object)[idx[k]] for k, col in enumerate(columns)}
    data["value"] = arr[idx]
    return pd.DataFrame(data)


def _read_metadata(meta_file: Path) -> dict:
    """``metadata.toml`` parsed and type-checked; errors name the file and the key."""
    meta = read_toml(meta_file, BenchmarkError, "missing metadata file")
    for key in ("regions", "sectors", "factors", "agents"):
        if key not in meta:
            raise BenchmarkError(f"{meta_file}: missing key {key!r}")
        value = meta[key]
        if not isinstance(value, list) or not value or not all(isinstance(x, str) for x in value):
            raise BenchmarkError(f"{meta_file}: key {key!r} must be a non-empty list of labels (strings), got {value!r}")
        dup = sorted({x for x in value if value.count(x) > 1})
        if dup:
            raise BenchmarkError(f"{meta_file}: key {key!r} has duplicate labels {dup}")
    meta.setdefault("groups", {})
    meta.setdefault("employment_proxy", [])
    meta.setdefault("metadata", {})
    groups = meta["groups"]
    if not isinstance(groups, dict) or not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in groups.values()):
        raise BenchmarkError(f"{meta_file}: key 'groups' must be a table of lists of region labels, got {groups!r}")
    proxy = meta["employment_proxy"]
    if not isinstance(proxy, list) or not all(isinstance(x, str) for x in proxy):
        raise BenchmarkError(f"{meta_file}: key 'employment_proxy' must be a list of region labels, got {proxy!r}")
    if not isinstance(meta["metadata"], dict):
        raise BenchmarkError(f"{meta_file}: [metadata] must be a table, got {meta['metadata']!r}")
    if "files" in meta:
        listed = meta["files"]
        known = [name for name, _ in FILES.values()]
        if not isinstance(listed, list) or not all(isinstance(x, str) for x in listed):
            raise BenchmarkError(f"{meta_file}: key 'files' must be a list of file names from {known}, got {listed!r}")
        unknown = [x for x in listed if x not in known]
        if unknown:
            raise BenchmarkError(f"{meta_file}: key 'files' names unknown files {unknown}; allowed: {known}")
        absent = [FILES[k][0] for k in REQUIRED if FILES[k][0] not in listed]
        if absent:
            raise BenchmarkError(f"{meta_file}: key 'files' must list the required files {absent}")
    return meta


def _in_file(message: str, path: Path, files: dict) -> str:
    """A validation message with the file it concerns (or the folder) in front."""
    head = message.split(":")[0]  # "final", "z_0 (intermediate)", "balance", "regions", ...
    key = head.split("(")[-1].rstrip(")") if "(" in head else head
    if key in files:
        return f"{files[key]}: {message}"
    if key in ("regions", "sectors", "factors", "agents", "groups", "employment_proxy", "metadata"):
        return f"{path / 'metadata.toml'}: {message}"
    return f"{path}: {message}"


def _read_csv(file: Path, cols: list[str]) -> pd.DataFrame:
    """The CSV file as strings; a damaged, empty or unparsable file is a :class:`BenchmarkError` naming it."""
    expected = cols + ["value"]
    try:
        df = pd.read_csv(file, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise BenchmarkError(f"{file}: empty file; expected a header row with columns {expected}") from None
    except (ValueError, OSError, EOFError, zlib.error) as exc:  # ParserError, UnicodeDecodeError, gzip.BadGzipFile, truncated gzip
        kind = "damaged gzip file" if isinstance(exc, (EOFError, zlib.error, gzip.BadGzipFile)) else "cannot be read as CSV"
        raise BenchmarkError(f"{file}: {kind} ({type(exc).__name__}: {' '.join(str(exc).split())})") from None
    missing = [c for c in expected if c not in df.columns]
    if missing:
        raise BenchmarkError(f"{file}: missing columns {missing}; expected {expected}")
    extra = [c for c in df.columns if c not in expected]
    if extra:
        raise BenchmarkError(f"{file}: unexpected columns {extra}; expected {expected}")
    return df


def _read_long(file: Path, cols: list[str], labels: dict) -> tuple[np.ndarray, np.ndarray]:
    """The long table in ``file`` as a dense array, and a mask of the cells it gives."""
    df = _read_csv(file, cols)
    values = pd.to_numeric(df["value"], errors="coerce")
    bad = values.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise BenchmarkError(f"{file}: column 'value' row {row + 2} is not a number: {df['value'].iloc[row]!r}")
    shape, index = [], []
    for c in cols:
        labs = labels[c]
        pos = {lab: n for n, lab in enumerate(labs)}
        codes = df[c].map(pos)
        if codes.isna().any():
            unknown = sorted(set(df.loc[codes.isna(), c]))
            row = int(np.flatnonzero(codes.isna().to_numpy())[0])
            where = "the known parameters" if c == "parameter" else "metadata.toml"
            raise BenchmarkError(f"{file}: column {c!r} has labels not in {where}: {unknown[:10]} (first at row {row + 2}; known: {labs[:10]})")
        shape.append(len(labs))
        index.append(codes.to_numpy(dtype=int))
    if df.duplicated(subset=cols).any():
        dup = df.loc[df.duplicated(subset=cols, keep=False), cols].head(3).to_dict("records")
        raise BenchmarkError(f"{file}: duplicate rows for {dup}")
    arr = np.zeros(shape)
    arr[tuple(index)] = values.to_numpy(dtype=float)
    seen = np.zeros(shape, dtype=bool)
    seen[tuple(index)] = True
    return arr, seen


def _existing(file: Path) -> Path | None:
    """``file`` or its gzipped twin ``file.gz``, whichever exists; both at once is an error."""
    gz = file.with_name(file.name + ".gz")
    if file.is_file() and gz.is_file():
        raise BenchmarkError(f"{file}: found beside {gz.name}; keep one of the two (which one is meant is unknown)")
    if file.is_file():
        return file
    return gz if gz.is_file() else None
