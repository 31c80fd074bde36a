"""The MRIO table arranged for GVC accounting, and the helpers every indicator family shares.

:class:`MRIO` is the package's table (:class:`cge.mrio.MRIOTable`) with its Leontief algebra
(computed once, on demand); :class:`BlockDiag` keeps block-diagonal matrices as stacks of
per-economy blocks; :meth:`MRIO.frame` and :meth:`MRIO.aggregate` label results at the four
aggregation levels of :data:`AGGREGATIONS`; :func:`to_long` turns a wide result into a tidy one.
Notation: :mod:`cge.gvc`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property

import numpy as np
import pandas as pd

from ..mrio import MRIOTable

AGGREGATIONS = ("country", "sector", "bilateral", "sector_bilateral")


def _safe_div(num, den):
    """``num / den`` with 0 where ``den == 0`` (zero-output rows of split ICIO tables)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _ratio(num, den):
    """``num / den`` with NaN where ``den == 0`` (ratios of empty aggregates are undefined)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _eye(stack: np.ndarray) -> np.ndarray:
    return np.eye(stack.shape[-1])[None]


class BlockDiag:
    """Block-diagonal matrix over the economies, kept as stacks of equal-size diagonal blocks.

    ``layout`` lists, per block size k, the table rows of the economies of that size as a
    (count, k) array; ``stacks`` the matching (count, k, k) blocks. Products are batched numpy
    calls, one per block size.
    """

    def __init__(self, layout: Sequence[np.ndarray], stacks: Sequence[np.ndarray]):
        self.layout, self.stacks = list(layout), list(stacks)

    @classmethod
    def of(cls, layout: Sequence[np.ndarray], M: np.ndarray) -> BlockDiag:
        """The domestic blocks :math:`M_{ss}` of an (n, n) matrix."""
        return cls(layout, [M[rows[:, :, None], rows[:, None, :]] for rows in layout])

    def map(self, fn, *others: BlockDiag) -> BlockDiag:
        """Apply ``fn`` to the block stacks (and those of ``others``), e.g. ``np.linalg.inv``."""
        return BlockDiag(self.layout, [fn(s, *(o.stacks[i] for o in others)) for i, s in enumerate(self.stacks)])

    def dot(self, X: np.ndarray) -> np.ndarray:
        """This matrix times X of shape (n[, c])."""
        out = np.empty(X.shape)
        for rows, s in zip(self.layout, self.stacks):
            out[rows] = (s @ X[rows][:, :, None])[:, :, 0] if X.ndim == 1 else s @ X[rows]
        return out

    def rdot(self, vec: np.ndarray) -> np.ndarray:
        """Row vector (n,) times this matrix."""
        out = np.empty(vec.shape)
        for rows, s in zip(self.layout, self.stacks):
            out[rows] = (vec[rows][:, None, :] @ s)[:, 0, :]
        return out

    def left(self, M: np.ndarray) -> np.ndarray:
        """A full (m, n) matrix times this matrix."""
        out = np.empty(M.shape)
        for rows, s in zip(self.layout, self.stacks):
            out[:, rows] = np.swapaxes(np.swapaxes(M[:, rows], 0, 1) @ s, 0, 1)
        return out

    def diag(self) -> np.ndarray:
        """The diagonal, (n,)."""
        out = np.empty(sum(rows.size for rows in self.layout))
        for rows, s in zip(self.layout, self.stacks):
            out[rows] = np.einsum("cii->ci", s)
        return out


def _memo(fn):
    """Keep a table's term arrays once computed (tables are immutable); callers get a fresh dict."""

    def wrapper(t, *args):
        key = (fn.__name__, *args)
        if key not in t._memo:
            t._memo[key] = fn(t, *args)
        out = t._memo[key]
        return dict(out) if isinstance(out, dict) else out

    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


class MRIO(MRIOTable):
    r"""An MRIO table arranged for GVC accounting, with its Leontief algebra computed once.

    Parameters
    ----------
    *table
        ``Z, Y, x, va`` as for :class:`cge.mrio.MRIOTable` (``x`` defaults to the row sums
        :math:`Zu + Yu`, ``va`` to :math:`x - u'Z`).
    groups : mapping group label -> member regions, optional
        Regions treated as one economy (trade inside the group counts as domestic).
    **labels
        ``regions``, ``sectors`` and optionally ``row_regions``, ``row_sectors``, as for
        :class:`cge.mrio.MRIOTable`.

    Notes
    -----
    Arrays keep the table's row order. Row-level quantities have shape ``(n,)``, row-by-economy
    ones ``(n, G)`` (e.g. bilateral exports :math:`E_{sr}` of row :math:`(s, i)` to economy
    :math:`r`), and block-diagonal matrices (:math:`L`, :math:`B_{ss}`, ...) are kept as stacks of
    per-economy blocks (:class:`BlockDiag`), so every operation costs at most :math:`O(n^2 G)`
    besides the one inverse :math:`B`, which :meth:`regroup` reuses. Zero-output rows (OECD ICIO ``CHN``/``MEX`` aggregate rows) have zero coefficients
    and drop out. Instances are immutable; the arrays they expose are read-only by convention.
    """

    def __init__(self, *table, groups: Mapping[str, Sequence] | None = None, **labels):
        super().__init__(*table, **labels)
        regions, sectors, n = self.regions, self.sectors, self.n
        n_reg, n_sec = len(regions), len(sectors)
        row_region, row_sector, Y = self.row_region, self.row_sector, self.Y
        self.groups = {str(g): tuple(m) for g, m in (groups or {}).items()}
        self._memo: dict = {}

        # economies: a group replaces its members, at the position of its first member
        member_of: dict = {}
        for g, members in self.groups.items():
            if not members:
                raise ValueError(f"group {g!r} has no members")
            if g in regions and g not in members:
                raise ValueError(f"group label {g!r} is the name of a region outside the group")
            for r in members:
                if r not in regions:
                    raise ValueError(f"group {g!r}: unknown region {r!r}")
                if r in member_of:
                    raise ValueError(f"region {r!r} is in groups {member_of[r]!r} and {g!r}")
                member_of[r] = g
        economies: list = []
        econ_of_region = np.empty(n_reg, dtype=int)
        for i, r in enumerate(regions):
            label = member_of.get(r, r)
            if label not in economies:
                economies.append(label)
            econ_of_region[i] = economies.index(label)
        self.economies = tuple(economies)
        self.econ_of_region = econ_of_region
        self.G = len(economies)
        self.econ = econ_of_region[row_region]
        self.blocks = [np.flatnonzero(self.econ == g) for g in range(self.G)]
        sizes = np.array([len(b) for b in self.blocks])
        self._size_econs = [np.flatnonzero(sizes == k) for k in np.unique(sizes)]
        self._layout = [np.array([self.blocks[g] for g in econs]) for econs in self._size_econs]
        self.C = np.zeros((n, self.G))
        self.C[np.arange(n), self.econ] = 1.0
        to_econ = np.zeros((n_reg, self.G))
        to_econ[np.arange(n_reg), econ_of_region] = 1.0
        self.Yr = Y @ to_econ  # final demand by destination economy

        # reporting keys (economy, sector): split rows with the same labels are summed
        row_key = self.econ * n_sec + row_sector
        keys, key_of_row = np.unique(row_key, return_inverse=True)
        self._keys, self._key_of_row = keys, key_of_row
        self._regular = len(keys) == n and bool(np.all(keys == row_key))
        self._key_econ, self._key_sector = keys // n_sec, keys % n_sec

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def of(cls, table: MRIOTable, groups: Mapping[str, Sequence] | None = None) -> MRIO:
        """``table`` arranged for GVC accounting, with ``groups`` (``None``: every region is its own
        economy).

        The global Leontief inverse does not depend on groups: an :class:`MRIO`'s is reused.
        """
        row_regions, row_sectors = table.row_labels
        new = cls(
            table.Z, table.Y, table.x, table.va, regions=table.regions, sectors=table.sectors,
            row_regions=row_regions, row_sectors=row_sectors, groups=groups,
        )  # fmt: skip
        for name in ("A", "B", "v"):
            if name in table.__dict__:
                new.__dict__[name] = table.__dict__[name]
        return new

    def regroup(self, groups: Mapping[str, Sequence] | None) -> MRIO:
        """The same table with other ``groups`` (``None``: every region is its own economy).

        The global Leontief inverse does not depend on groups and is reused.
        """
        return MRIO.of(self, groups)

    # ------------------------------------------------------------------ Leontief algebra (cached)
    @cached_property
    def A(self) -> np.ndarray:
        """Input coefficients :math:`A = Z \\hat x^{-1}`, (n, n)."""
        return _safe_div(self.Z, self.x[None, :])

    @cached_property
    def B(self) -> np.ndarray:
        """Global Leontief inverse :math:`B = (I - A)^{-1}`, (n, n)."""
        return np.linalg.inv(np.eye(self.n) - self.A)

    @cached_property
    def v(self) -> np.ndarray:
        """Value-added coefficients :math:`v = va / x`, (n,)."""
        return _safe_div(self.va, self.x)

    @cached_property
    def domestic(self) -> np.ndarray:
        """Boolean (n, n) mask of pairs of rows in the same economy."""
        return self.econ[:, None] == self.econ[None, :]

    @cached_property
    def Am(self) -> np.ndarray:
        """Foreign input coefficients :math:`A^F` (domestic blocks zeroed), (n, n)."""
        return np.where(self.domestic, 0.0, self.A)

    @cached_property
    def Bm(self) -> np.ndarray:
        """:math:`B` with its domestic blocks :math:`B_{ss}` zeroed, (n, n)."""
        return np.where(self.domestic, 0.0, self.B)

    @cached_property
    def Ad(self) -> BlockDiag:
        """Domestic blocks :math:`A_{ss}`."""
        return BlockDiag.of(self._layout, self.A)

    @cached_property
    def Bd(self) -> BlockDiag:
        """Domestic blocks :math:`B_{ss}` of the global inverse."""
        return BlockDiag.of(self._layout, self.B)

    @cached_property
    def IAd(self) -> BlockDiag:
        """:math:`I - A_{ss}`."""
        return self.Ad.map(lambda a: _eye(a) - a)

    @cached_property
    def L(self) -> BlockDiag:
        """Local Leontief inverses :math:`L_{ss} = (I - A_{ss})^{-1}`."""
        return self.IAd.map(np.linalg.inv)

    @cached_property
    def Ym(self) -> np.ndarray:
        """Exported final goods :math:`Y_{sr}`, :math:`r \\ne s`, (n, G)."""
        return self.Yr * (1.0 - self.C)

    @cached_property
    def y_dom(self) -> np.ndarray:
        """Domestic final demand :math:`Y_{ss}`, (n,)."""
        return self.own(self.Yr)

    @cached_property
    def y_tot(self) -> np.ndarray:
        """Final demand for each row's goods :math:`y = Yu`, (n,)."""
        return self.Yr.sum(axis=1)

    @cached_property
    def y_fex(self) -> np.ndarray:
        """Final exports :math:`Y_{s*} = \\sum_{r\\ne s} Y_{sr}`, (n,)."""
        return self.Ym.sum(axis=1)

    @cached_property
    def eint(self) -> np.ndarray:
        """Bilateral intermediate exports :math:`Z_{sr}u`, (n, G), zero for r = s."""
        return (self.Z @ self.C) * (1.0 - self.C)

    @cached_property
    def esr(self) -> np.ndarray:
        """Bilateral gross exports :math:`E_{sr} = Z_{sr}u + Y_{sr}`, (n, G), zero for r = s."""
        return self.eint + self.Ym

    @cached_property
    def e(self) -> np.ndarray:
        """Total gross exports :math:`E_{s*}`, (n,)."""
        return self.esr.sum(axis=1)

    @cached_property
    def vbc(self) -> np.ndarray:
        r"""Value added of origin economy t per unit of output of row i:
        :math:`\sum_{k \in t} v_k B_{k i}`, (n, G)."""
        return self.B.T @ (self.C * self.v[:, None])

    @cached_property
    def vb_dom(self) -> np.ndarray:
        """Domestic VA multiplier :math:`V_s B_{ss}` (column sums), (n,)."""
        return self.own(self.vbc)

    @cached_property
    def vb_for(self) -> np.ndarray:
        """Foreign VA multiplier :math:`\\sum_{t \\ne s} V_t B_{ts}`, (n,)."""
        return self.vbc.sum(axis=1) - self.vb_dom

    @cached_property
    def vl_dom(self) -> np.ndarray:
        """Local domestic VA multiplier :math:`V_s L_{ss}`, (n,)."""
        return self.vbd(self.v, self.L)

    @cached_property
    def bfd(self) -> np.ndarray:
        """Output driven by each economy's final demand :math:`BY`, (n, G)."""
        return self.B @ self.Yr

    @cached_property
    def ly_dom(self) -> np.ndarray:
        """:math:`L_{rr} Y_{rr}`, (n,)."""
        return self.bd(self.L, self.y_dom)

    # ------------------------------------------------------------------ block helpers
    def own(self, M: np.ndarray) -> np.ndarray:
        """Entry of each row's own economy in an (n, G) array: :math:`M_{i, s(i)}`."""
        return M[np.arange(self.n), self.econ]

    @staticmethod
    def bd(blocks: BlockDiag, X: np.ndarray) -> np.ndarray:
        """Block-diagonal matrix times X of shape (n[, c])."""
        return blocks.dot(X)

    @staticmethod
    def vbd(vec: np.ndarray, blocks: BlockDiag) -> np.ndarray:
        """Row vector (n,) times a block-diagonal matrix."""
        return blocks.rdot(vec)

    def cols(self, M: np.ndarray, q: np.ndarray) -> np.ndarray:
        r"""Column block of each economy applied to its slice of q:
        :math:`\sum_{k \in r} M_{a k} q_k`, (n, G)."""
        return M @ (self.C * q[:, None])

    def route(self, Q: np.ndarray) -> np.ndarray:
        r"""Intermediate exports of row :math:`(s,i)` routed through importer :math:`r`:
        :math:`[A_{sr} Q_{\cdot s}]_i = \sum_{j \in r} A^F_{ij} Q_{j, s}` for Q of shape (n, G).

        Returns (n, G), zero for r = s.
        """
        return (self.Am * Q[:, self.econ].T) @ self.C

    # ------------------------------------------------------------------ reporting
    def _sum_keys(self, arr: np.ndarray) -> np.ndarray:
        """Aggregate row arrays (n[, c]) to reporting rows (economy, sector), (n_keys, c)."""
        arr = np.asarray(arr).reshape(self.n, -1)
        if self._regular:
            return arr
        out = np.zeros((len(self._keys), arr.shape[1]))
        np.add.at(out, self._key_of_row, arr)
        return out

    def _sector_index(self, level: str = "exporter") -> pd.MultiIndex:
        return pd.MultiIndex.from_arrays(
            [
                pd.Index([self.economies[g] for g in self._key_econ], dtype=object),
                pd.Index([self.sectors[i] for i in self._key_sector], dtype=object),
            ],
            names=[level, "sector"],
        )

    def frame(self, terms: Mapping[str, np.ndarray], kind: str, level: str = "exporter") -> pd.DataFrame:
        """Tidy wide frame of term arrays at one aggregation level (columns named ``term``).

        ``kind``: ``country`` (G,), ``sector`` (n,), ``bilateral`` (G, G) [exporter, importer],
        ``sector_bilateral`` (n, G). Split rows are summed and flows of an economy to itself
        removed.
        """
        names = list(terms)
        econ = pd.Index(self.economies, dtype=object)
        if kind == "country":
            data = np.column_stack([np.asarray(terms[t]).reshape(self.G) for t in names])
            index = pd.Index(econ, name=level)
        elif kind == "sector":
            data = np.column_stack([self._sum_keys(terms[t])[:, 0] for t in names])
            index = self._sector_index(level)
        elif kind == "bilateral":
            exp, imp = np.nonzero(~np.eye(self.G, dtype=bool))
            data = np.column_stack([np.asarray(terms[t])[exp, imp] for t in names])
            index = pd.MultiIndex.from_arrays([econ[exp], econ[imp]], names=[level, "importer"])
        elif kind == "sector_bilateral":
            keyed = [self._sum_keys(np.asarray(terms[t]).reshape(self.n, self.G)) for t in names]
            key_pos, imp = np.nonzero(self._key_econ[:, None] != np.arange(self.G)[None, :])
            data = np.column_stack([kt[key_pos, imp] for kt in keyed])
            index = pd.MultiIndex.from_arrays(
                [
                    econ[self._key_econ[key_pos]],
                    pd.Index([self.sectors[i] for i in self._key_sector[key_pos]], dtype=object),
                    econ[imp],
                ],
                names=[level, "sector", "importer"],
            )
        else:
            raise ValueError(f"unknown aggregation {kind!r}; use one of {AGGREGATIONS}")
        return pd.DataFrame(data, index=index, columns=pd.Index(names, name="term"))

    def aggregate(self, terms: Mapping[str, np.ndarray], aggregation: str, level: str = "exporter"):
        """Sum additive row-by-importer term arrays (n, G) to ``aggregation`` and frame them."""
        if aggregation == "sector_bilateral":
            return self.frame(terms, "sector_bilateral", level)
        if aggregation == "bilateral":
            return self.frame({k: self.C.T @ v for k, v in terms.items()}, "bilateral", level)
        if aggregation == "sector":
            return self.frame({k: v.sum(axis=1) for k, v in terms.items()}, "sector", level)
        if aggregation == "country":
            return self.frame({k: self.C.T @ v.sum(axis=1) for k, v in terms.items()}, "country", level)
        raise ValueError(f"unknown aggregation {aggregation!r}; use one of {AGGREGATIONS}")

    def by_economy(self, vec: np.ndarray) -> np.ndarray:
        """Sum a row vector (n,) by economy, (G,)."""
        return self.C.T @ vec


def to_long(frame: pd.DataFrame, value_name: str = "value") -> pd.DataFrame:
    """Long (tidy) form of a wide result frame: one row per index entry and ``term``."""
    n_rows, n_cols = frame.shape
    idx = frame.index.repeat(n_cols)
    arrays = [idx.get_level_values(i) for i in range(idx.nlevels)]
    names = list(frame.index.names) + [frame.columns.name or "term"]
    index = pd.MultiIndex.from_arrays([*arrays, np.tile(frame.columns.to_numpy(), n_rows)], names=names)
    return pd.DataFrame({value_name: frame.to_numpy().reshape(-1)}, index=index)


def _check(aggregation: str, allowed: Sequence[str]) -> None:
    if aggregation not in allowed:
        raise ValueError(f"aggregation {aggregation!r} not available here; use one of {tuple(allowed)}")
