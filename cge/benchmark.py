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
``employment``     (R, S) or None          persons employed in ``(s, j)``
``elasticities``   dict name -> (S,)       ``sigma_dm``, ``sigma_mm``, ``sigma_va``, ...
=================  ======================  ============================================

On disk a benchmark is a folder of tidy CSV files (long format, one ``value`` column) plus
``metadata.toml``; see :meth:`Benchmark.write` and the README.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import tomli_w

from .mrio import sales

if TYPE_CHECKING:
    from .gvc import MRIO

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

FILES = {
    "intermediate": ("intermediate.csv", ["exporter", "commodity", "importer", "sector"]),
    "final": ("final.csv", ["exporter", "commodity", "importer", "agent"]),
    "factors": ("factors.csv", ["region", "sector", "factor"]),
    "employment": ("employment.csv", ["region", "sector"]),
    "tariffs": ("tariffs.csv", ["exporter", "commodity", "importer", "use"]),
    "elasticities": ("elasticities.csv", ["parameter", "sector"]),
}


class BenchmarkError(ValueError):
    """A benchmark failed validation; the message names the offending file, label or cell."""


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


@dataclass
class Benchmark:
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

    def __post_init__(self) -> None:
        self.regions = [str(r) for r in self.regions]
        self.sectors = [str(i) for i in self.sectors]
        self.factors = [str(f) for f in self.factors]
        self.agents = [str(a) for a in self.agents]
        full = dict(DEFAULT_ELASTICITIES)
        full.update(self.elasticities)
        self.elasticities = {k: np.broadcast_to(np.asarray(v, float), (self.n_sectors,)).copy() for k, v in full.items()}
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
    ) -> "Benchmark":
        """Build a benchmark from numpy arrays.

        ``Z`` is (R, S, R, S); ``F`` is (R, S, R) for one final agent (the household) or
        (R, S, R, A); ``factors`` maps factor name to an (R, S) array of payments; ``tariffs`` is
        (R, S, R) (same rate for both uses) or (R, S, R, 2) by use (intermediate, final).
        """
        regions, sectors = list(regions), list(sectors)
        R, S = len(regions), len(sectors)
        Z = np.asarray(Z, dtype=float)
        F = np.asarray(F, dtype=float)
        if F.ndim == 3:
            F = F[..., None]
        if agents is None:
            agents = list(AGENTS[: F.shape[3]]) if F.shape[3] <= 3 else [f"agent{k}" for k in range(F.shape[3])]
        if not isinstance(factors, dict) or not factors:
            raise BenchmarkError("factors must be a non-empty dict: factor name -> (R, S) array of payments")
        fnames = list(factors)
        fp = np.stack([np.asarray(factors[f], dtype=float) for f in fnames], axis=-1)
        if tariffs is None:
            t = np.zeros((R, S, R, 2))
        else:
            t = np.asarray(tariffs, dtype=float)
            if t.ndim == 3:
                t = np.repeat(t[..., None], 2, axis=3)
        emp = None if employment is None else np.asarray(employment, dtype=float)
        return cls(
            regions=regions,
            sectors=sectors,
            factors=fnames,
            agents=list(agents),
            z_0=Z,
            f_0=F,
            fp_0=fp,
            tariff_0=t,
            employment=emp,
            elasticities=dict(elasticities or {}),
            groups={k: list(v) for k, v in (groups or {}).items()},
            metadata=dict(metadata or {}),
            employment_proxy=list(employment_proxy or []),
        )

    # ------------------------------------------------------------------ sizes and totals
    @property
    def n_regions(self) -> int:
        return len(self.regions)

    @property
    def n_sectors(self) -> int:
        return len(self.sectors)

    @property
    def output(self) -> np.ndarray:
        """Gross output by (region, sector) from the sales side: ``sum_{s,j} Z + sum_{s,a} F``."""
        return sales(self.z_0, self.f_0)

    @property
    def costs(self) -> np.ndarray:
        """Costs of (region, sector): inputs at basic prices, tariffs on them, and factor payments."""
        inputs = np.einsum("risj,ris->sj", self.z_0, 1.0 + self.tariff_0[..., 0])
        return inputs + self.fp_0.sum(axis=2)

    @property
    def value_added(self) -> np.ndarray:
        """Factor payments by (region, sector)."""
        return self.fp_0.sum(axis=2)

    @property
    def tariff_revenue(self) -> np.ndarray:
        """Benchmark tariff revenue collected by each importing region."""
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
            raise BenchmarkError(f"agents {self.agents}: a 'household' agent is required")
        shapes = {
            "z_0 (intermediate)": (self.z_0, (R, S, R, S)),
            "f_0 (final)": (self.f_0, (R, S, R, A)),
            "fp_0 (factors)": (self.fp_0, (R, S, nF)),
            "tariff_0 (tariffs)": (self.tariff_0, (R, S, R, 2)),
        }
        if self.employment is not None:
            shapes["employment"] = (self.employment, (R, S))
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
        diag = np.zeros_like(t, dtype=bool)
        for r in range(R):
            diag[r, :, r, :] = t[r, :, r, :] != 0.0
        if diag.any():
            raise BenchmarkError(f"tariffs: domestic flows carry no tariff, found {_cells(diag, lab_t, t)}")
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
            raise BenchmarkError(f"employment_proxy names unknown regions {unknown}")
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
        the CSV files are gzipped (``*.csv.gz``, read the same way).
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": "cge-benchmark/1",
            "regions": self.regions,
            "sectors": self.sectors,
            "factors": self.factors,
            "agents": self.agents,
            "groups": self.groups,
            "employment_proxy": self.employment_proxy,
            "metadata": self.metadata,
        }
        (path / "metadata.toml").write_text(tomli_w.dumps(meta))
        labels = {
            "intermediate": [self.regions, self.sectors, self.regions, self.sectors],
            "final": [self.regions, self.sectors, self.regions, self.agents],
            "factors": [self.regions, self.sectors, self.factors],
            "tariffs": [self.regions, self.sectors, self.regions, list(USES)],
            "employment": [self.regions, self.sectors],
        }
        arrays = {"intermediate": self.z_0, "final": self.f_0, "factors": self.fp_0, "tariffs": self.tariff_0}
        if self.employment is not None:
            arrays["employment"] = self.employment
        suffix = ".gz" if compress else ""
        compression = {"method": "gzip", "mtime": 0} if compress else None  # byte-identical rewrites
        for key in FILES:
            for old in (path / FILES[key][0], path / (FILES[key][0] + ".gz")):
                old.unlink(missing_ok=True)
        for key, arr in arrays.items():
            fname, cols = FILES[key]
            _long_frame(arr, labels[key], cols).to_csv(path / (fname + suffix), index=False, compression=compression)
        rows = [(k, self.sectors[n], v[n]) for k, v in self.elasticities.items() for n in range(self.n_sectors)]
        pd.DataFrame(rows, columns=["parameter", "sector", "value"]).to_csv(
            path / (FILES["elasticities"][0] + suffix), index=False, compression=compression
        )
        return path

    @classmethod
    def load(cls, name: str) -> "Benchmark":
        """Load a built-in benchmark by name (see :func:`cge.datasets.available`)."""
        from .datasets import load

        return load(name)

    @classmethod
    def read(cls, path) -> "Benchmark":
        """Read a benchmark folder written by :meth:`write` (validated on load)."""
        path = Path(path)
        meta_file = path / "metadata.toml"
        if not meta_file.is_file():
            raise BenchmarkError(f"{meta_file}: missing metadata file")
        with open(meta_file, "rb") as fh:
            meta = tomllib.load(fh)
        for key in ("regions", "sectors", "factors", "agents"):
            if key not in meta:
                raise BenchmarkError(f"{meta_file}: missing key {key!r}")
        regions, sectors, factors, agents = (list(meta[k]) for k in ("regions", "sectors", "factors", "agents"))
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
        z = _read_long(path, "intermediate", labels, required=True)
        f = _read_long(path, "final", labels, required=True)
        fp = _read_long(path, "factors", labels, required=True)
        t = _read_long(path, "tariffs", labels, required=False)
        emp = _read_long(path, "employment", labels, required=False)
        el = _read_long(path, "elasticities", labels, required=False)
        R, S = len(regions), len(sectors)
        elasticities = {}
        if el is not None:
            present = pd.read_csv(_existing(path / FILES["elasticities"][0]), usecols=["parameter"])["parameter"].unique()
            elasticities = {k: el[ELASTICITIES.index(k)] for k in present}
        return cls(
            regions=regions,
            sectors=sectors,
            factors=factors,
            agents=agents,
            z_0=z,
            f_0=f,
            fp_0=fp,
            tariff_0=t if t is not None else np.zeros((R, S, R, 2)),
            employment=emp,
            elasticities=elasticities,
            groups={k: list(v) for k, v in meta.get("groups", {}).items()},
            metadata=dict(meta.get("metadata", {})),
            employment_proxy=list(meta.get("employment_proxy", [])),
        )

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


def _long_frame(arr: np.ndarray, labels: list[list[str]], columns: list[str]) -> pd.DataFrame:
    idx = np.nonzero(arr)
    data = {col: np.asarray(labels[k], dtype=object)[idx[k]] for k, col in enumerate(columns)}
    data["value"] = arr[idx]
    return pd.DataFrame(data)


def _read_long(path: Path, key: str, labels: dict, required: bool) -> np.ndarray | None:
    fname, cols = FILES[key]
    file = _existing(path / fname)
    if file is None:
        if required:
            raise BenchmarkError(f"{path / fname}: missing file")
        return None
    df = pd.read_csv(file, dtype={c: str for c in cols}, keep_default_na=False)
    missing = [c for c in cols + ["value"] if c not in df.columns]
    if missing:
        raise BenchmarkError(f"{file}: missing columns {missing}; expected {cols + ['value']}")
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
            raise BenchmarkError(f"{file}: column {c!r} has labels not in metadata.toml: {unknown[:10]} (known: {labs[:10]}...)")
        shape.append(len(labs))
        index.append(codes.to_numpy(dtype=int))
    if df.duplicated(subset=cols).any():
        dup = df.loc[df.duplicated(subset=cols, keep=False), cols].head(3).to_dict("records")
        raise BenchmarkError(f"{file}: duplicate rows for {dup}")
    arr = np.zeros(shape)
    arr[tuple(index)] = values.to_numpy(dtype=float)
    return arr


def _existing(file: Path) -> Path | None:
    """``file`` or its gzipped twin ``file.gz``, whichever exists."""
    if file.is_file():
        return file
    gz = file.with_name(file.name + ".gz")
    return gz if gz.is_file() else None
