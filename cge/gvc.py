r"""Global value chain (GVC) accounting on a multi-regional input-output (MRIO) table.

Pure functions of an immutable :class:`MRIO` table (benchmark or counterfactual): value-added
decompositions of gross exports, participation, position and trade-structure indicators, and a
long-format :func:`summary` of headline indicators for the results layer.

Notation
--------
The table has :math:`n` rows (country-sectors; rows sell, columns buy) grouped in :math:`G`
economies. For economy :math:`s`, :math:`Z_{sr}` and :math:`A_{sr} = Z_{sr}\hat x_r^{-1}` are the
intermediate-flow and input-coefficient blocks, :math:`Y_{sr}` final goods of :math:`s` bought by
:math:`r`, :math:`x` gross output, :math:`v = va / x` value-added coefficients (``va`` defaults to
:math:`x - u'Z`), :math:`V = \mathrm{diag}(v)` and

.. math::
    B = (I - A)^{-1}, \qquad L = \mathrm{blockdiag}_s\,(I - A_{ss})^{-1}, \qquad
    A^F = A - \mathrm{blockdiag}_s A_{ss},

the global and the local (domestic) Leontief inverses and the foreign input coefficients. Bilateral
gross exports are :math:`E_{sr} = Z_{sr} u + Y_{sr}` (:math:`r \ne s`) and total exports
:math:`E_{s*} = \sum_{r \ne s} E_{sr}`. Final demand of all economies is
:math:`y = Y u`, its domestic part :math:`y^D_s = Y_{ss}` and its exported part
:math:`y^F_s = \sum_{r\ne s} Y_{sr}`. ``#`` is the element-wise product.

Following the papers implemented here (Koopman, Wang and Wei 2014; Wang, Wei and Zhu 2013; Borin
and Mancini 2019, 2023), formulas write the **exporter** :math:`s` and the **importer** :math:`r`;
results are labelled unambiguously with the index levels ``exporter``, ``sector``, ``importer``
(and ``region`` for indicators that are not about a trade flow).

Rows, economies and groups
--------------------------
By default row :math:`k` of a :math:`G S \times G S` table belongs to region ``regions[k // S]`` and
sector ``sectors[k % S]``. ``row_regions``/``row_sectors`` map rows explicitly, so that several row
blocks can belong to one country (OECD ICIO split tables: China and Mexico appear as CN1/CN2 and
MX1/MX2 processing blocks); such a country's domestic block is the whole set of its rows. ``groups``
(e.g. ``{"NAFTA": ["MEX", "USA"]}``) treat their members as one economy: trade inside the group is
domestic (local Leontief inverse over the group block, final demand of members summed), as in
R package exvatools (Feás 2023).

References
----------
- Antràs, P., Chor, D., Fally, T. and Hillberry, R. (2012). Measuring the upstreamness of
  production and trade flows. *American Economic Review P&P* 102(3), 412-416.
- Borin, A. and Mancini, M. (2019). Measuring what matters in global value chains and value-added
  trade. World Bank Policy Research Working Paper 8804.
- Borin, A. and Mancini, M. (2023). Measuring what matters in value-added trade. *Economic Systems
  Research* 35(4), 586-613.
- Borin, A., Mancini, M. and Taglioni, D. (2021). Economic consequences of trade and global value
  chain integration: a measurement perspective. World Bank Policy Research Working Paper 9785.
- Belotti, F., Borin, A. and Mancini, M. (2021). icio: Economic analysis with intercountry
  input-output tables. *Stata Journal* 21(3), 708-755.
- Feás, E. (2023). exvatools: value added in exports and other input-output table analysis tools.
  R package, CRAN.
- Hummels, D., Ishii, J. and Yi, K.-M. (2001). The nature and growth of vertical specialization in
  world trade. *Journal of International Economics* 54(1), 75-96.
- Johnson, R. C. and Noguera, G. (2012). Accounting for intermediates: production sharing and
  trade in value added. *Journal of International Economics* 86(2), 224-236.
- Johnson, R. C. (2018). Measuring global value chains. *Annual Review of Economics* 10, 207-236.
- Koopman, R., Wang, Z. and Wei, S.-J. (2014). Tracing value-added and double counting in gross
  exports. *American Economic Review* 104(2), 459-494.
- Los, B., Timmer, M. P. and de Vries, G. J. (2016). Tracing value-added and double counting in
  gross exports: comment. *American Economic Review* 106(7), 1958-1966.
- Miller, R. E. and Temurshoev, U. (2017). Output upstreamness and input downstreamness of
  industries/countries in world production. *International Regional Science Review* 40(5), 443-475.
- Miroudot, S. and Ye, M. (2021). Decomposing value added in gross exports. *Economic Systems
  Research* 33(1), 67-87.
- Muradov, K. (2016). Counting borders in global value chains. 24th IIOA Conference, Seoul.
- OECD (2023). Guide to OECD Trade in Value Added (TiVA) indicators, 2023 edition.
- Quast, B. and Kummritz, V. (2015). decompr: global value chain decomposition in R. CTEI Working
  Paper 2015-01, Graduate Institute Geneva.
- Wang, Z., Wei, S.-J. and Zhu, K. (2013, rev. 2018). Quantifying international production
  sharing at the bilateral and sector levels. NBER Working Paper 19677.
- Wang, Z., Wei, S.-J., Yu, X. and Zhu, K. (2017a). Measures of participation in global value chains
  and global business cycles. NBER Working Paper 23222.
- Wang, Z., Wei, S.-J., Yu, X. and Zhu, K. (2017b). Characterizing global value chains: production
  length and upstreamness. NBER Working Paper 23261.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property

import numpy as np
import pandas as pd

__all__ = [
    "MRIO",
    "borin_mancini",
    "bm_imports",
    "bm2025_output",
    "bm2025_trade",
    "border_crossings",
    "downstreamness",
    "intermediate_share",
    "intra_regional_trade_share",
    "kww",
    "leontief",
    "miroudot_ye",
    "nrca",
    "production_length",
    "summary",
    "tiva",
    "to_long",
    "upstreamness",
    "vax",
    "vertical_specialisation",
    "wwyz_participation",
    "wwz",
]

KWW_TERMS = ("DVA_FIN", "DVA_INT", "DVA_INTrex", "RDV_FIN", "RDV_INT", "DDC", "FVA_FIN", "FVA_INT", "FDC")
WWZ_TERMS = (
    "DVA_FIN", "DVA_INT", "DVA_INTrexI1", "DVA_INTrexF", "DVA_INTrexI2", "RDV_INT", "RDV_FIN",
    "RDV_FIN2", "OVA_FIN", "MVA_FIN", "OVA_INT", "MVA_INT", "DDC_FIN", "DDC_INT", "ODC", "MDC",
)  # fmt: skip
BM_TERMS = ("GEXP", "DC", "DVA", "VAX", "DAVAX", "REF", "DDC", "FC", "FVA", "FDC", "GVC", "GVCB", "GVCF")
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


class MRIO:
    r"""An MRIO table arranged for GVC accounting, with its Leontief algebra computed once.

    Parameters
    ----------
    Z : array (n, n) or (G, S, G, S)
        Intermediate flows, rows sell, columns buy; country-major row order.
    Y : array (n, G) or (G, S, G)
        Final demand by destination region (final-demand categories already summed).
    x : array (n,), optional
        Gross output; default :math:`Zu + Yu`.
    va : array (n,), optional
        Value added; default :math:`x - u'Z`.
    regions, sectors : sequences of labels
        ``regions`` label the columns of ``Y`` (length G); ``sectors`` the sector codes.
    row_regions, row_sectors : sequences of labels (length n), optional
        Region and sector of each table row, for tables whose rows are not the regular
        ``regions x sectors`` grid (OECD ICIO split China/Mexico rows).
    groups : mapping group label -> member regions, optional
        Regions treated as one economy (trade inside the group counts as domestic).

    Notes
    -----
    Arrays keep the table's row order. Row-level quantities have shape ``(n,)``, row-by-economy
    ones ``(n, G)`` (e.g. bilateral exports :math:`E_{sr}` of row :math:`(s, i)` to economy
    :math:`r`), and block-diagonal matrices (:math:`L`, :math:`B_{ss}`, ...) are kept as stacks of
    per-economy blocks (:class:`BlockDiag`), so every operation costs at most :math:`O(n^2 G)`
    besides the one inverse :math:`B`, which :meth:`regroup` reuses. Zero-output rows (OECD ICIO ``CHN``/``MEX`` aggregate rows) have zero coefficients
    and drop out. Instances are immutable; the arrays they expose are read-only by convention.
    """

    def __init__(
        self,
        Z,
        Y,
        x=None,
        va=None,
        *,
        regions: Sequence,
        sectors: Sequence,
        row_regions: Sequence | None = None,
        row_sectors: Sequence | None = None,
        groups: Mapping[str, Sequence] | None = None,
    ):
        regions, sectors = tuple(regions), tuple(sectors)
        n_reg, n_sec = len(regions), len(sectors)
        if n_reg == 0 or n_sec == 0:
            raise ValueError("regions and sectors must be given")
        if len(set(regions)) != n_reg or len(set(sectors)) != n_sec:
            raise ValueError("region and sector labels must be unique")
        Z = np.array(Z, dtype=float)
        Y = np.array(Y, dtype=float)
        if Z.ndim == 4:
            if Z.shape != (n_reg, n_sec, n_reg, n_sec):
                raise ValueError(f"4-d Z must have shape (G, S, G, S) = {(n_reg, n_sec, n_reg, n_sec)}")
            Z = Z.reshape(n_reg * n_sec, n_reg * n_sec)
        if Y.ndim == 3:
            if Y.shape != (n_reg, n_sec, n_reg):
                raise ValueError(f"3-d Y must have shape (G, S, G) = {(n_reg, n_sec, n_reg)}")
            Y = Y.reshape(n_reg * n_sec, n_reg)
        n = Z.shape[0]
        if Z.ndim != 2 or Z.shape != (n, n):
            raise ValueError("Z must be square (n, n) or (G, S, G, S)")
        if Y.shape != (n, n_reg):
            raise ValueError(f"Y must have shape (n, G) = {(n, n_reg)}, got {Y.shape}")
        if row_regions is None:
            if n != n_reg * n_sec:
                raise ValueError("without row_regions the table must have len(regions) * len(sectors) rows")
            row_region = np.repeat(np.arange(n_reg), n_sec)
            row_sector = np.tile(np.arange(n_sec), n_reg)
        else:
            if row_sectors is None or len(row_regions) != n or len(row_sectors) != n:
                raise ValueError("row_regions and row_sectors must both be given, one label per row")
            reg_pos = {r: i for i, r in enumerate(regions)}
            sec_pos = {s: i for i, s in enumerate(sectors)}
            row_region = np.array([reg_pos[r] for r in row_regions], dtype=int)
            row_sector = np.array([sec_pos[s] for s in row_sectors], dtype=int)
        x = Z.sum(axis=1) + Y.sum(axis=1) if x is None else np.array(x, dtype=float).reshape(-1)
        va = x - Z.sum(axis=0) if va is None else np.array(va, dtype=float).reshape(-1)
        if x.shape != (n,) or va.shape != (n,):
            raise ValueError("x and va must have one value per row")
        for name, arr in (("Z", Z), ("Y", Y), ("x", x), ("va", va)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} has non-finite values")
            arr.setflags(write=False)

        self.Z, self.Y, self.x, self.va = Z, Y, x, va
        self.regions, self.sectors = regions, sectors
        self.row_region, self.row_sector = row_region, row_sector
        self.groups = {str(g): tuple(m) for g, m in (groups or {}).items()}
        self._explicit_rows = row_regions is not None
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
        self.n, self.G = n, len(economies)
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
    def regroup(self, groups: Mapping[str, Sequence] | None) -> MRIO:
        """The same table with other ``groups`` (``None``: every region is its own economy).

        The global Leontief inverse does not depend on groups and is reused.
        """
        new = MRIO(
            self.Z, self.Y, self.x, self.va, regions=self.regions, sectors=self.sectors,
            row_regions=[self.regions[i] for i in self.row_region] if self._explicit_rows else None,
            row_sectors=[self.sectors[i] for i in self.row_sector] if self._explicit_rows else None,
            groups=groups,
        )  # fmt: skip
        for name in ("A", "B", "v"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name]
        return new

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


# =====================================================================================================
# 1. Leontief value-added origin, vertical specialisation, value-added exports
# =====================================================================================================
def leontief(t: MRIO, post: str = "exports") -> pd.DataFrame:
    r"""Leontief decomposition of gross flows into their value-added origins.

    .. math::
        \text{exports: } V B \,\mathrm{diag}(E_{*}), \qquad
        \text{output: } V B \,\mathrm{diag}(x), \qquad
        \text{final demand: } V B Y, \qquad \text{none: } V B,

    with :math:`E_*` the total gross exports of each row. Element :math:`(k, i)` of
    :math:`V B\,\mathrm{diag}(E_*)` is the value added of origin row :math:`k` embodied in the exports
    of row :math:`i`; its column sums are gross exports and the off-(own-country) part of column
    :math:`i` is Hummels, Ishii and Yi's (2001) vertical specialisation. Same convention as
    ``decompr::leontief`` (Quast and Kummritz 2015).

    Returns a wide frame: rows ``(origin, origin_sector)``, columns ``(region, sector)`` (or
    ``importer`` for ``post="final_demand"``).
    """
    if post == "final_demand":
        rows = t._sum_keys(t.v[:, None] * t.bfd)
        cols = pd.Index(t.economies, name="importer", dtype=object)
    elif post in ("exports", "output", "none"):
        w = {"exports": t.e, "output": t.x, "none": np.ones(t.n)}[post]
        M = t.v[:, None] * t.B * w[None, :]
        rows = t._sum_keys(t._sum_keys(M).T).T
        cols = t._sector_index("region")
    else:
        raise ValueError("post must be 'exports', 'output', 'final_demand' or 'none'")
    index = t._sector_index("origin").set_names(["origin", "origin_sector"])
    return pd.DataFrame(rows, index=index, columns=cols)


def vertical_specialisation(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Hummels, Ishii and Yi (2001) vertical specialisation, measured with the MRIO Leontief inverse.

    VS, the foreign value added in exports of :math:`(s, i)` (backward; ``gvc::i2e``), and VS1, the
    value added of :math:`(s, i)` in the exports of other countries (forward; ``gvc::e2r``):

    .. math::
        VS_{s,i} = \Big[\sum_{t \ne s} V_t B_{ts}\Big]_i E_{s*,i}, \qquad
        VS1_{s,i} = v_{s,i} \sum_{r \ne s} \big[B_{sr} E_{r*}\big]_i .

    Columns ``EXGR, VS, VS_share, VS1, VS1_share`` (shares of the exporter's or sector's gross
    exports). ``aggregation``: ``country`` or ``sector`` (VS by exporting sector, VS1 by origin
    sector).
    """
    _check(aggregation, ("country", "sector"))
    vals = {"EXGR": t.e, "VS": t.vb_for * t.e, "VS1": t.v * (t.Bm @ t.e)}
    if aggregation == "country":
        vals = {k: t.by_economy(val) for k, val in vals.items()}
    df = t.frame(vals, aggregation)
    df.insert(2, "VS_share", _ratio(df["VS"], df["EXGR"]))
    df["VS1_share"] = _ratio(df["VS1"], df["EXGR"])
    return df


def vax(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Johnson and Noguera (2012) value-added exports and the VAX ratio.

    Value added of exporter :math:`s` absorbed in the final demand of :math:`r`:

    .. math::
        VAX_{sr} = V_s \sum_{t} B_{st} Y_{tr}, \qquad VAX_s = \sum_{r \ne s} VAX_{sr}, \qquad
        \text{VAX ratio} = VAX / E .

    ``aggregation``: ``country`` (:math:`VAX_s / E_{s*}`), ``bilateral`` (:math:`VAX_{sr}/E_{sr}`)
    or ``sector`` (value added of origin sector :math:`(s,i)` absorbed abroad over the sector's gross
    exports; forward, by origin). Columns ``EXGR, VAX, VAX_ratio``.
    """
    _check(aggregation, ("country", "bilateral", "sector"))
    vby_abroad = t.v[:, None] * t.bfd * (1.0 - t.C)  # VA of origin row absorbed in foreign r
    if aggregation == "country":
        df = t.frame({"EXGR": t.by_economy(t.e), "VAX": t.by_economy(vby_abroad.sum(axis=1))}, "country")
    elif aggregation == "sector":
        df = t.frame({"EXGR": t.e, "VAX": vby_abroad.sum(axis=1)}, "sector")
    else:
        df = t.frame({"EXGR": t.C.T @ t.esr, "VAX": t.C.T @ vby_abroad}, "bilateral")
    df["VAX_ratio"] = _ratio(df["VAX"], df["EXGR"])
    return df


def nrca(t: MRIO) -> pd.DataFrame:
    r"""New revealed comparative advantage of Koopman, Wang and Wei (2014), by country and sector.

    Balassa's index computed on the domestic value added of origin sector :math:`(s,i)` embodied in
    the gross exports of its own country (forward linkage; the ``Source == Using`` block of
    :func:`leontief`, as in R package ``gvc::nrca``):

    .. math::
        F_{s,i} = v_{s,i}\,\big[B_{ss} E_{s*}\big]_i, \qquad
        \mathrm{NRCA}_{s,i} = \frac{F_{s,i} / \sum_j F_{s,j}}{\sum_t F_{t,i} / \sum_{t,j} F_{t,j}} .
    """
    fwd = t.v * t.bd(t.Bd, t.e)
    df = t.frame({"DVA_forward": fwd}, "sector", level="region")
    by_region = df.groupby(level="region", sort=False)["DVA_forward"].transform("sum")
    by_sector = df.groupby(level="sector", sort=False)["DVA_forward"].transform("sum")
    df["NRCA"] = _ratio(df["DVA_forward"] / by_region, by_sector / df["DVA_forward"].sum())
    return df


# =====================================================================================================
# 2-3. Koopman, Wang and Wei (2014) and Wang, Wei and Zhu (2013)
# =====================================================================================================
@_memo
def _wwz_terms(t: MRIO) -> dict[str, np.ndarray]:
    """The sixteen WWZ terms as (n, G) arrays [exporting row, importer]; see :func:`wwz`."""
    wL, wB = t.vl_dom[:, None], t.vb_dom[:, None]
    Bm, Ym = t.Bm, t.Ym
    # (n, G) arrays Q[(r, j), s], routed through A_sr by t.route
    bm_yd = t.cols(Bm, t.y_dom)  # B_rs Y_ss
    bd_ym = t.bd(t.Bd, Ym)  # B_rr Y_rs
    bm_ym = Bm @ Ym  # sum_{t != r} B_rt Y_ts
    bm_yfex = t.cols(Bm, t.y_fex)  # B_rs Y_s*
    mv = t.vbc  # [(s, i), r] = V_r B_rs
    ov = t.vb_for[:, None] - mv  # sum_{t != s, r} V_t B_ts
    a_ly = t.cols(t.Am, t.ly_dom)  # A_sr L_rr Y_rr
    a_le = t.cols(t.Am, t.bd(t.L, t.e))  # A_sr L_rr E_r*
    return {
        "DVA_FIN": wB * Ym,
        "DVA_INT": wL * t.cols(t.Am, t.bd(t.Bd, t.y_dom)),
        "DVA_INTrexI1": wL * t.route(bm_yd.sum(axis=1, keepdims=True) - bm_yd),
        "DVA_INTrexF": wL * t.route(bd_ym.sum(axis=1, keepdims=True) - bd_ym),
        "DVA_INTrexI2": wL * t.route((Bm @ t.y_fex)[:, None] - bm_ym - bm_yfex),
        "RDV_INT": wL * t.route(bm_yd),
        "RDV_FIN": wL * t.route(bd_ym),
        "RDV_FIN2": wL * t.route(bm_ym),
        "OVA_FIN": ov * Ym,
        "MVA_FIN": mv * Ym,
        "OVA_INT": ov * a_ly,
        "MVA_INT": mv * a_ly,
        "DDC_FIN": wL * t.route(bm_yfex),
        "DDC_INT": (wB - wL) * t.cols(t.Am, t.x),
        "ODC": ov * a_le,
        "MDC": mv * a_le,
    }


def wwz(t: MRIO, aggregation: str = "sector_bilateral") -> pd.DataFrame:
    r"""Wang, Wei and Zhu (2013, 2018) decomposition of gross exports into sixteen terms.

    For exports of sector :math:`i` of :math:`s` to :math:`r` (:math:`\#`: element-wise product;
    :math:`Y_{s*} = \sum_{r\ne s} Y_{sr}`; sums over :math:`t, u` exclude the indicated economies):

    .. math::
        E_{sr} ={}& (V_s B_{ss})' \# Y_{sr} && \text{DVA\_FIN}\\
        &+ (V_s L_{ss})' \# (A_{sr} B_{rr} Y_{rr}) && \text{DVA\_INT}\\
        &+ (V_s L_{ss})' \# (A_{sr} \textstyle\sum_{t\ne s,r} B_{rt} Y_{tt}) && \text{DVA\_INTrexI1}\\
        &+ (V_s L_{ss})' \# (A_{sr} B_{rr} \textstyle\sum_{t\ne s,r} Y_{rt}) && \text{DVA\_INTrexF}\\
        &+ (V_s L_{ss})' \# (A_{sr} \textstyle\sum_{t\ne s,r} B_{rt} \sum_{u\ne s,t} Y_{tu})
            && \text{DVA\_INTrexI2}\\
        &+ (V_s L_{ss})' \# (A_{sr} B_{rs} Y_{ss}) && \text{RDV\_INT}\\
        &+ (V_s L_{ss})' \# (A_{sr} B_{rr} Y_{rs}) && \text{RDV\_FIN}\\
        &+ (V_s L_{ss})' \# (A_{sr} \textstyle\sum_{t\ne s,r} B_{rt} Y_{ts}) && \text{RDV\_FIN2}\\
        &+ (\textstyle\sum_{t\ne s,r} V_t B_{ts})' \# Y_{sr} + (V_r B_{rs})' \# Y_{sr}
            && \text{OVA\_FIN, MVA\_FIN}\\
        &+ (\textstyle\sum_{t\ne s,r} V_t B_{ts})' \# (A_{sr} L_{rr} Y_{rr})
           + (V_r B_{rs})' \# (A_{sr} L_{rr} Y_{rr}) && \text{OVA\_INT, MVA\_INT}\\
        &+ (V_s L_{ss})' \# (A_{sr} B_{rs} Y_{s*}) && \text{DDC\_FIN}\\
        &+ (V_s B_{ss} - V_s L_{ss})' \# (A_{sr} X_r) && \text{DDC\_INT}\\
        &+ (\textstyle\sum_{t\ne s,r} V_t B_{ts})' \# (A_{sr} L_{rr} E_{r*})
           + (V_r B_{rs})' \# (A_{sr} L_{rr} E_{r*}) && \text{ODC, MDC}

    (WWZ 2013, eq. 37 and table E1). Term names and their order follow R ``decompr::wwz``; the
    three return terms are named by the route back home (intermediate imports; final imports from
    the direct importer; final imports via third countries). The terms add up to :math:`E_{sr}` at
    every level. ``aggregation``: ``sector_bilateral`` (default: exporter, sector, importer),
    ``bilateral``, ``sector`` or ``country`` (sums). Columns: the sixteen terms, ``EXGR`` and the
    diagnostic ``DViX_F`` (``DViX_Fsr`` of decompr): domestic value added of the *origin* sector
    :math:`(s,i)` in :math:`s`'s exports to :math:`r`, forward linkage,
    :math:`v_{s,i} [L_{ss} E_{sr}]_i` (sums over sectors to Borin-Mancini's DVA).
    """
    _check(aggregation, AGGREGATIONS)
    terms = _wwz_terms(t)
    terms["EXGR"] = t.esr
    terms["DViX_F"] = t.v[:, None] * t.bd(t.L, t.esr)
    return t.aggregate(terms, aggregation)


def kww(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Koopman, Wang and Wei (2014) nine-term decomposition of gross exports.

    Country level (KWW 2014, eq. 36):

    .. math::
        E_{s*} ={}& \underbrace{V_s \textstyle\sum_{r\ne s} B_{ss} Y_{sr}}_{\text{DVA\_FIN}}
          + \underbrace{V_s \textstyle\sum_{r\ne s} B_{sr} Y_{rr}}_{\text{DVA\_INT}}
          + \underbrace{V_s \textstyle\sum_{r\ne s}\sum_{t\ne s,r} B_{sr} Y_{rt}}_{\text{DVA\_INTrex}}
          + \underbrace{V_s \textstyle\sum_{r\ne s} B_{sr} Y_{rs}}_{\text{RDV\_FIN}}
          + \underbrace{V_s \textstyle\sum_{r\ne s} B_{sr} A_{rs} L_{ss} Y_{ss}}_{\text{RDV\_INT}}
          + \underbrace{V_s \textstyle\sum_{r\ne s} B_{sr} A_{rs} L_{ss} E_{s*}}_{\text{DDC}} \\
          &+ \underbrace{\textstyle\sum_{t\ne s} V_t B_{ts} \sum_{r\ne s} Y_{sr}}_{\text{FVA\_FIN}}
          + \underbrace{\textstyle\sum_{t\ne s} V_t B_{ts} \sum_{r\ne s} A_{sr} L_{rr} Y_{rr}}_{\text{FVA\_INT}}
          + \underbrace{\textstyle\sum_{t\ne s} V_t B_{ts} \sum_{r\ne s} A_{sr} L_{rr} E_{r*}}_{\text{FDC}}

    computed, as in ``decompr::wwz2kww``, by summing the WWZ terms (WWZ 2013, table E2):
    DVA_INT = DVA_INT + DVA_INTrexI1, DVA_INTrex = DVA_INTrexF + DVA_INTrexI2, RDV_FIN = RDV_FIN +
    RDV_FIN2, DDC = DDC_FIN + DDC_INT, FVA_FIN = OVA_FIN + MVA_FIN, FVA_INT = OVA_INT + MVA_INT,
    FDC = ODC + MDC. Value-added exports (Johnson-Noguera VAX) are the first three terms, domestic
    value added is the first five and reflection (REF) is RDV_FIN + RDV_INT, so that
    VAX = DVA - REF. Only the country total is KWW's own object; finer ``aggregation`` levels give the
    same terms in KWW format.
    """
    _check(aggregation, AGGREGATIONS)
    w = _wwz_terms(t)
    terms = {
        "DVA_FIN": w["DVA_FIN"],
        "DVA_INT": w["DVA_INT"] + w["DVA_INTrexI1"],
        "DVA_INTrex": w["DVA_INTrexF"] + w["DVA_INTrexI2"],
        "RDV_FIN": w["RDV_FIN"] + w["RDV_FIN2"],
        "RDV_INT": w["RDV_INT"],
        "DDC": w["DDC_FIN"] + w["DDC_INT"],
        "FVA_FIN": w["OVA_FIN"] + w["MVA_FIN"],
        "FVA_INT": w["OVA_INT"] + w["MVA_INT"],
        "FDC": w["ODC"] + w["MDC"],
        "EXGR": t.esr,
    }
    return t.aggregate(terms, aggregation)


# =====================================================================================================
# 4. Borin and Mancini (2019, 2023)
# =====================================================================================================
@_memo
def _bm_vaxe(t: MRIO) -> tuple[np.ndarray, np.ndarray]:
    r"""Directly absorbed (DAE) and absorbed-abroad (VAXE) parts of bilateral exports, (n, G).

    :math:`DAE_{sr} = Y_{sr} + A_{sr} L_{rr} Y_{rr}`,
    :math:`VAXE_{sr} = Y_{sr} + A_{sr} (X_r - \sum_t B_{rt} Y_{ts})`.
    """
    dae = t.Ym + t.cols(t.Am, t.ly_dom)
    vaxe = t.Ym + t.route(t.x[:, None] - t.bfd)
    return dae, vaxe


@_memo
def _bm_source(t: MRIO) -> dict[str, np.ndarray]:
    """Exporter perspective, source approach: 13 terms as (n, G) arrays."""
    e = t.esr
    vl, vbd, vbf = t.vl_dom[:, None], t.vb_dom[:, None], t.vb_for[:, None]
    # foreign VA recorded once: sum_{t != s} V_t B^{/s}_{ts} = (sum_{t != s} V_t B_ts) B_ss^{-1} L_ss
    fva_coef = t.vbd(t.vb_for, t.Bd.map(np.linalg.solve, t.L))[:, None]
    dae, vaxe = _bm_vaxe(t)
    dc, fc, dva, fva = vbd * e, vbf * e, vl * e, fva_coef * e
    davax, vax_ = vl * dae, vl * vaxe
    gvc = e - davax
    return {
        "GEXP": e, "DC": dc, "DVA": dva, "VAX": vax_, "DAVAX": davax, "REF": dva - vax_,
        "DDC": dc - dva, "FC": fc, "FVA": fva, "FDC": fc - fva, "GVC": gvc, "GVCB": fc + dc - dva,
        "GVCF": gvc - fc - (dc - dva),
    }  # fmt: skip


@_memo
def _bm_sink(t: MRIO) -> dict[str, np.ndarray]:
    """Exporter perspective, sink approach (BM 2019, eqs. 33-39): terms as (n, G) arrays."""
    Am, B, L = t.Am, t.B, t.L
    ia = t.IAd
    finv = ia.map(lambda i, b: np.linalg.inv(i @ b), t.Bd)  # [(I - A_ss) B_ss]^-1
    # output with the exporter's exports taken out of the system, and its response to own final demand
    x_til = t.x[:, None] - t.cols(B, t.bd(finv, t.e))
    phi = t.Ym + t.route(t.bd(L, t.y_tot[:, None] + Am @ x_til))
    am_bfd = Am @ t.bfd
    x_til_s = t.bfd - t.cols(B, t.bd(finv, t.own(am_bfd)))
    phi_ref = t.route(t.bd(L, t.Yr + Am @ x_til_s))
    # value added absorbed by the direct importer (incl. re-processing), VAXIM; A^F B = (I - A_D) B - I
    f_r = t.bd(finv, am_bfd + t.Ym)  # [(s, k), r]
    amb = t.bd(ia, B) - np.eye(t.n)
    arx = t.own(am_bfd)[:, None] - (amb * f_r[:, t.econ].T) @ t.C
    phi_vx = t.Ym + t.route(t.bd(L, t.y_dom[:, None] + arx))
    vbd, vbf = t.vb_dom[:, None], t.vb_for[:, None]
    e = t.esr
    dc, fc = vbd * e, vbf * e
    dva, fva, ref = vbd * phi, vbf * phi, vbd * phi_ref
    return {
        "GEXP": e, "DC": dc, "DVA": dva, "VAX": dva - ref, "VAXIM": vbd * phi_vx, "REF": ref,
        "DDC": dc - dva, "FC": fc, "FVA": fva, "FDC": fc - fva,
    }  # fmt: skip


@_memo
def _bm_self(t: MRIO, aggregation: str) -> tuple[dict[str, np.ndarray], str]:
    """Self perimeter: the perimeter is the export flow at the requested aggregation level."""
    vbd, vbf = t.vb_dom, t.vb_for
    if aggregation == "sector":
        # rank-one extraction of row (s, i)'s exports: B^{/i}_{., i} = B_{., i} / [(I - A_ss) B_ss]_ii
        d = t.IAd.map(np.matmul, t.Bd).diag()
        _, vaxe = _bm_vaxe(t)
        e = t.e
        dva, fva, vax_ = vbd / d * e, vbf / d * e, vbd / d * vaxe.sum(axis=1)
        dc, fc = vbd * e, vbf * e
        return {
            "GEXP": e, "DC": dc, "DVA": dva, "VAX": vax_, "REF": dva - vax_, "DDC": dc - dva,
            "FC": fc, "FVA": fva, "FDC": fc - fva,
        }, "sector"  # fmt: skip
    if aggregation == "sector_bilateral":
        d = 1.0 + (t.Am * t.B.T) @ t.C  # 1 + [A_sr B_rs]_ii
        _, vaxe = _bm_vaxe(t)
        e = t.esr
        c_d, c_f = vbd[:, None] / d, vbf[:, None] / d
        dc, fc = vbd[:, None] * e, vbf[:, None] * e
        dva, vax_, fva = c_d * e, c_d * vaxe, c_f * e
        return {
            "GEXP": e, "DC": dc, "DVA": dva, "VAX": vax_, "REF": dva - vax_, "DDC": dc - dva,
            "FC": fc, "FVA": fva, "FDC": fc - fva,
        }, "sector_bilateral"  # fmt: skip
    if aggregation == "bilateral":
        # country-pair extraction A_sr = 0: B^{/sr}_{., s} = B_{., s} (I + A_sr B_rs)^{-1}
        dva, fva = np.zeros((t.G, t.G)), np.zeros((t.G, t.G))
        for s, bs in enumerate(t.blocks):
            a_s, b_s = t.A[bs], t.B[:, bs]
            for econs, rows in zip(t._size_econs, t._layout):  # importers batched by block size
                keep = econs != s
                econs, rows = econs[keep], rows[keep]
                if not len(econs):
                    continue
                m = np.eye(len(bs))[None] + np.swapaxes(a_s[:, rows], 0, 1) @ b_s[rows]  # I + A_sr B_rs
                w = np.linalg.solve(m, t.esr[bs][:, econs].T[:, :, None])[:, :, 0]
                dva[s, econs], fva[s, econs] = w @ vbd[bs], w @ vbf[bs]
        gexp = t.C.T @ t.esr
        dc, fc = t.C.T @ (vbd[:, None] * t.esr), t.C.T @ (vbf[:, None] * t.esr)
        terms = {"GEXP": gexp, "DC": dc, "DVA": dva, "DDC": dc - dva, "FC": fc, "FVA": fva, "FDC": fc - fva}
        return terms, "bilateral"
    raise ValueError("perspective 'self' needs aggregation 'sector', 'bilateral' or 'sector_bilateral'")


@_memo
def _bm_world(t: MRIO, approach: str) -> dict[str, np.ndarray]:
    """World perspective, country level: source (BM 2019 eq. 52) or sink (eq. 54) foreign terms."""
    src = {k: t.by_economy(v.sum(axis=1)) for k, v in _bm_source(t).items()}
    if approach == "source":
        fva = t.by_economy((t.vl_dom @ t.Am) * t.bd(t.L, t.e))
    else:
        dae, _ = _bm_vaxe(t)
        w_rex = t.bd(t.L, t.y_fex + t.Am @ t.ly_dom)
        tc = t.vbc * t.cols(t.Am, w_rex)
        fva = t.by_economy(t.vb_for * dae.sum(axis=1) + tc.sum(axis=1))
    out = {k: src[k] for k in ("GEXP", "DC", "DVA", "VAX", "REF", "DDC", "FC")}
    out["FVA"] = fva
    out["FDC"] = src["FC"] - fva
    return out


def borin_mancini(
    t: MRIO, perspective: str = "exporter", approach: str = "source", aggregation: str = "country"
) -> pd.DataFrame:
    r"""Borin and Mancini (2019, 2023) accounting of gross exports.

    Gross exports split into domestic and foreign content, each into value added and double
    counting, with value added split by where it is absorbed:

    .. math::
        \text{GEXP} = \underbrace{\text{DVA} + \text{DDC}}_{\text{DC}}
                    + \underbrace{\text{FVA} + \text{FDC}}_{\text{FC}}, \qquad
        \text{DVA} = \text{VAX} + \text{REF}, \qquad \text{VAX} \supseteq \text{DAVAX}.

    **Exporter perspective, source approach** (value added recorded the first time it leaves the
    exporter :math:`s`; perimeter: :math:`s`'s total exports; :math:`A^{/s}` extracts them):

    .. math::
        \text{DC}_{sr} = V_s B_{ss} E_{sr},\quad \text{DVA}_{sr} = V_s L_{ss} E_{sr},\quad
        \text{FC}_{sr} = \textstyle\sum_{t\ne s} V_t B_{ts} E_{sr},\quad
        \text{FVA}_{sr} = \textstyle\sum_{t\ne s} V_t B^{/s}_{ts} E_{sr}
          = \big(\textstyle\sum_{t\ne s} V_t B_{ts}\big) B_{ss}^{-1} L_{ss} E_{sr},

    .. math::
        \text{VAX}_{sr} = V_s L_{ss}\big[Y_{sr} + A_{sr}\big(X_r - \textstyle\sum_t B_{rt} Y_{ts}\big)\big],
        \quad
        \text{DAVAX}_{sr} = V_s L_{ss} (Y_{sr} + A_{sr} L_{rr} Y_{rr}),

    and GVC-related trade :math:`\text{GVC} = E - \text{DAVAX}`, backward
    :math:`\text{GVCB} = \text{FC} + \text{DDC}`, forward :math:`\text{GVCF} = \text{DVA} - \text{DAVAX}`
    (BM 2023, eqs. 18-20). **Sink approach** (value added recorded the last time it leaves
    :math:`s`, BM 2019 eqs. 33-39): same DC and FC, DVA/FVA/REF from output with :math:`s`'s exports
    extracted; at the bilateral levels also ``VAXIM`` (absorbed by the direct importer, incl.
    re-processing). Source and sink coincide at the country level.

    **World perspective** (country level only): FVA counted once in world trade, the "corrected
    KWW" (BM 2019, eq. 52 for ``source``, eq. 54 for ``sink``).

    **Self perspective**: the perimeter is the flow itself, at ``sector`` (the sector's total
    exports), ``sector_bilateral`` (Johnson 2018 / Los et al. 2016 :math:`DVA^\star`) or
    ``bilateral`` (the country pair, extraction of :math:`A_{sr}` only:
    :math:`B^{/sr}_{\cdot s} = B_{\cdot s} (I + A_{sr} B_{rs})^{-1}`, BM 2023 eq. 9; gives DVA,
    DDC, FVA, FDC only). At the country level it is the exporter perspective.

    ``aggregation``: ``country``, ``sector`` (exporter, sector), ``bilateral`` (exporter, importer)
    or ``sector_bilateral`` (exporter, sector, importer). Same conventions and results as
    ``decompr::bm`` 7.0 (Krantz), Stata ``icio`` (Belotti, Borin and Mancini 2021), ``exvatools``
    (``bm_src``/``bm_snk``) and ``gvcAnalyzer`` (BM 2023). Groups of the table are single economies.
    """
    _check(aggregation, AGGREGATIONS)
    if approach not in ("source", "sink"):
        raise ValueError("approach must be 'source' or 'sink'")
    if perspective == "world":
        if aggregation != "country":
            raise ValueError("perspective 'world' is defined at the country level only")
        return t.frame(_bm_world(t, approach), "country")
    if perspective not in ("exporter", "self"):
        raise ValueError("perspective must be 'exporter', 'world' or 'self'")
    if perspective == "self" and aggregation != "country":
        terms, kind = _bm_self(t, aggregation)
        return t.frame(terms, kind)
    if approach == "source" or aggregation == "country":
        return t.aggregate(_bm_source(t), aggregation)
    terms = _bm_sink(t)
    if aggregation == "sector":
        terms.pop("VAXIM")
    return t.aggregate(terms, aggregation)


def bm_imports(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Borin and Mancini (2019, eq. 51) importer-perspective decomposition of gross imports.

    Gross imports of :math:`r` split into value added (counted once, by origin) and double counting,
    with the perimeter at the importer: :math:`\tilde B^{r}` is the Leontief inverse with :math:`r`'s
    imports extracted, obtained from :math:`B` by a block Woodbury update. Country level: columns
    ``GIMP = VA + DC``; ``bilateral``: ``VA, DC`` by ``(importer, origin)``, including domestic
    value added that returns to the importer.
    """
    _check(aggregation, ("country", "bilateral"))
    B = t.B
    m = t.IAd.left(B) - np.eye(t.n)  # B_{., r} (I - A_rr) - I_{., r}
    kinv = t.Bd.map(lambda b, i: np.linalg.inv(b @ i), t.IAd)  # [B_rr (I - A_rr)]^-1
    b_esr = B @ t.esr
    diag_b = t.own(b_esr)
    btil_d = b_esr - t.cols(m, t.bd(kinv, diag_b))
    bh = B @ t.cols(t.Am, diag_b)
    btil_h = bh - t.cols(m, t.bd(kinv, t.own(bh)))
    va = t.C.T @ (t.v[:, None] * btil_d)  # [origin economy, importer]
    dc = t.C.T @ (t.v[:, None] * btil_h)
    if aggregation == "country":
        va_r, dc_r = va.sum(axis=0), dc.sum(axis=0)
        return t.frame({"GIMP": va_r + dc_r, "VA": va_r, "DC": dc_r}, "country", level="importer")
    econ = pd.Index(t.economies, dtype=object)
    imp, org = np.meshgrid(np.arange(t.G), np.arange(t.G), indexing="ij")
    index = pd.MultiIndex.from_arrays([econ[imp.ravel()], econ[org.ravel()]], names=["importer", "origin"])
    data = np.column_stack([va.T.ravel(), dc.T.ravel()])
    return pd.DataFrame(data, index=index, columns=pd.Index(["VA", "DC"], name="term"))


def miroudot_ye(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Miroudot and Ye (2021) decomposition of gross exports with the world perimeter.

    With every international flow extracted (:math:`B^{o} = L`), domestic value added is
    :math:`V_s L_{ss} E_{s*}`, no foreign value added is "counted once" in the exporter's flow and the
    whole foreign content is foreign double counting, split into value added crossing one more
    border before entering :math:`s` and the rest:

    .. math::
        \text{DVA} = V_s L_{ss} E_{s*},\quad \text{DDC} = V_s (B_{ss} - L_{ss}) E_{s*},\quad
        \text{FVA} = 0,\quad
        \text{FDC1} = \textstyle\sum_{t\ne s} V_t L_{tt} A_{ts} L_{ss} E_{s*},\quad
        \text{FDC2} = \textstyle\sum_{t\ne s} V_t [L A^F (B - L)]_{ts} E_{s*} .

    FDC1 is Borin and Mancini's world/source FVA. Columns ``EXGR, DC, DVA, DDC, FC, FVA, FDC, FDC1,
    FDC2``; ``aggregation``: ``country`` or ``sector``. Same as ``exvatools`` method ``my`` with
    ``perim = "WLD"``.
    """
    _check(aggregation, ("country", "sector"))
    e = t.e
    fdc1_coef = t.vbd(t.vl_dom @ t.Am, t.L)
    terms = {
        "EXGR": e, "DC": t.vb_dom * e, "DVA": t.vl_dom * e, "DDC": (t.vb_dom - t.vl_dom) * e,
        "FC": t.vb_for * e, "FVA": np.zeros_like(e), "FDC": t.vb_for * e, "FDC1": fdc1_coef * e,
        "FDC2": (t.vb_for - fdc1_coef) * e,
    }  # fmt: skip
    if aggregation == "country":
        terms = {k: t.by_economy(v) for k, v in terms.items()}
    return t.frame(terms, aggregation)


# =====================================================================================================
# 5. OECD TiVA indicators
# =====================================================================================================
def tiva(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""OECD Trade in Value Added (TiVA) indicators of gross exports and participation.

    By exporting sector :math:`(s,i)` (backward indicators) or origin sector (forward ones), with
    :math:`\ell_{ii}` the diagonal of :math:`L_{ss}`:

    .. math::
        \text{EXGR\_DVA} = V_s B_{ss} E_{s*} = \text{EXGR\_DDC} + \text{EXGR\_IDC} + \text{EXGR\_RIM},

    .. math::
        \text{EXGR\_DDC} = v_{s,i}\,\ell_{ii}\, E_{s*,i},\quad
        \text{EXGR\_IDC} = (V_s L_{ss} - v_{s}\,\ell)_i\, E_{s*,i},\quad
        \text{EXGR\_RIM} = \big[V_s (B_{ss} - L_{ss})\big]_i E_{s*,i},\quad
        \text{EXGR\_FVA} = \Big[\textstyle\sum_{t\ne s} V_t B_{ts}\Big]_i E_{s*,i},

    domestic value added in foreign final demand (Johnson-Noguera VAX, by origin sector)
    :math:`\text{FFD\_DVA}_{s,i} = v_{s,i} \sum_{r\ne s} [B Y_{\cdot r}]_{s,i}`, and the GVC
    participation components (OECD 2023): backward :math:`\text{DEXFVAP} = \text{EXGR\_FVA}`, forward
    :math:`\text{FEXDVAP}_{s,i} = v_{s,i} \sum_{r\ne s} [B_{sr} E_{r*}]_i` (domestic value added in
    partners' exports), with participation ratios ``PART_B = DEXFVAP / EXGR``,
    ``PART_F = FEXDVAP / EXGR`` and ``PART = PART_B + PART_F``. Value-added terms split as in
    ``exvatools`` (``oecd`` method): its ``DC`` is EXGR_DVA, ``DVA`` is EXGR_DDC + EXGR_IDC, ``DDC`` is
    EXGR_RIM. ``aggregation``: ``country`` or ``sector``.
    """
    _check(aggregation, ("country", "sector"))
    e, v = t.e, t.v
    v_diag = v * t.L.diag()
    terms = {
        "EXGR": e,
        "EXGR_DVA": t.vb_dom * e,
        "EXGR_DDC": v_diag * e,
        "EXGR_IDC": (t.vl_dom - v_diag) * e,
        "EXGR_RIM": (t.vb_dom - t.vl_dom) * e,
        "EXGR_FVA": t.vb_for * e,
        "FFD_DVA": v * (t.bfd * (1.0 - t.C)).sum(axis=1),
        "DEXFVAP": t.vb_for * e,
        "FEXDVAP": v * (t.Bm @ e),
    }
    if aggregation == "country":
        terms = {k: t.by_economy(val) for k, val in terms.items()}
    df = t.frame(terms, aggregation)
    df["EXGR_DVA_SH"] = _ratio(df["EXGR_DVA"], df["EXGR"])
    df["EXGR_FVA_SH"] = _ratio(df["EXGR_FVA"], df["EXGR"])
    df["PART_B"] = _ratio(df["DEXFVAP"], df["EXGR"])
    df["PART_F"] = _ratio(df["FEXDVAP"], df["EXGR"])
    df["PART"] = df["PART_B"] + df["PART_F"]
    return df


# =====================================================================================================
# 6. Wang, Wei, Yu and Zhu (2017a) GVC participation
# =====================================================================================================
@_memo
def _wwyz_parts(t: MRIO) -> dict[str, np.ndarray]:
    """Forward (by origin row) and backward (by final-goods row) WWYZ components, each (n,)."""
    v, L, y, yd, yf = t.v, t.L, t.y_tot, t.y_dom, t.y_fex
    by = t.B @ y
    ly_d = t.bd(L, yd)
    # forward: V^ L Y^D, V^ L Y^F, V^ L A^F L Y^D, V^ L A^F (BY - L Y^D)
    fwd_s = v * t.bd(L, t.Am @ ly_d)
    fwd_gvc = v * t.bd(L, t.Am @ by)
    # backward: row vectors v'L, v'L A^F, v'L A^F L, v'L A^F B
    vl = t.vl_dom
    vlaf = vl @ t.Am
    vlafl = t.vbd(vlaf, L)
    vlafb = vlaf @ t.B
    vb = t.vbc.sum(axis=1)
    return {
        "Va": v * by, "V_D": v * ly_d, "V_RT": v * t.bd(L, yf), "V_GVC_S": fwd_s,
        "V_GVC_C": fwd_gvc - fwd_s,
        "Y": vb * y, "Y_D": vl * yd, "Y_RT": vl * yf, "Y_GVC_S": vlafl * yd, "Y_GVC_C": vlafb * y - vlafl * yd,
    }  # fmt: skip


def wwyz_participation(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Wang, Wei, Yu and Zhu (2017a) forward and backward GVC participation, simple and complex.

    Value added by origin (forward, row sums) and final goods by producer (backward, column sums)
    split into purely domestic, traditional trade, simple GVC (crossing one border for production)
    and complex GVC activities:

    .. math::
        \hat V B \hat Y = \underbrace{\hat V L \hat Y^D}_{D}
            + \underbrace{\hat V L \hat Y^F}_{RT}
            + \underbrace{\hat V L A^F L \hat Y^D}_{GVC\_S}
            + \underbrace{\hat V L A^F (B \hat Y - L \hat Y^D)}_{GVC\_C}

    with :math:`\hat Y`, :math:`\hat Y^D`, :math:`\hat Y^F` diagonal matrices of total, domestically
    absorbed and exported final goods. Forward participation
    :math:`\text{GVCPt\_f} = \hat V L A^F B \hat Y u / \hat V B Y u` and backward participation
    :math:`\text{GVCPt\_b} = u'\hat V L A^F B \hat Y / u'\hat V B \hat Y`, each with its simple
    (``_S``) and complex (``_C``) part. Columns ``Va, V_D, V_RT, V_GVC_S, V_GVC_C`` (forward
    levels), ``Y, Y_D, Y_RT, Y_GVC_S, Y_GVC_C`` (backward levels) and the six participation ratios.
    ``aggregation``: ``country`` or ``sector``; ratios of aggregates are ratios of sums.
    """
    _check(aggregation, ("country", "sector"))
    parts = _wwyz_parts(t)
    if aggregation == "country":
        parts = {k: t.by_economy(val) for k, val in parts.items()}
    df = t.frame(parts, aggregation, level="region")
    for side, tot in (("f", "Va"), ("b", "Y")):
        pre = "V" if side == "f" else "Y"
        s, c = df[f"{pre}_GVC_S"], df[f"{pre}_GVC_C"]
        df[f"GVCPt_{side}"] = _ratio(s + c, df[tot])
        df[f"GVCPt_{side}_S"] = _ratio(s, df[tot])
        df[f"GVCPt_{side}_C"] = _ratio(c, df[tot])
    return df


# =====================================================================================================
# 7. Positions: upstreamness, downstreamness, production length, border crossings
# =====================================================================================================
def _ratios(t: MRIO, pairs: Mapping[str, tuple[np.ndarray, np.ndarray]], aggregation: str) -> pd.DataFrame:
    """Frame of ratios of sums ``num / den`` at ``aggregation`` for row-level (n,) pairs."""
    flat = {}
    for name, (num, den) in pairs.items():
        flat[f"{name}__num"], flat[f"{name}__den"] = num, den
    if aggregation == "country":
        flat = {k: t.by_economy(val) for k, val in flat.items()}
    df = t.frame(flat, aggregation, level="region")
    out = pd.DataFrame({name: _ratio(df[f"{name}__num"], df[f"{name}__den"]) for name in pairs}, index=df.index)
    return out.rename_axis(columns="term")


def upstreamness(t: MRIO, aggregation: str = "sector") -> pd.DataFrame:
    r"""Upstreamness of Antràs, Chor, Fally and Hillberry (2012), MRIO version.

    The average number of production stages between a sector's output and final use,
    :math:`U = (I - \Delta)^{-1} u = \hat x^{-1} B x`, with :math:`\Delta = \hat x^{-1} Z` the output
    coefficients (Ghosh). Equal to the forward total production length of Wang et al. (2017b) and
    Miller and Temurshoev's (2017) output upstreamness. Country values are output-weighted means.
    Columns ``U`` and ``output``.
    """
    _check(aggregation, ("country", "sector"))
    df = _ratios(t, {"U": (t.B @ t.x, t.x)}, aggregation)
    df["output"] = t.frame({"x": t.by_economy(t.x) if aggregation == "country" else t.x}, aggregation, "region")["x"]
    return df


def downstreamness(t: MRIO, aggregation: str = "sector") -> pd.DataFrame:
    r"""Input downstreamness of Miller and Temurshoev (2017): :math:`D' = u' B` (column sums of the
    Leontief inverse), the average number of stages from primary inputs to a sector's output.
    Country values are output-weighted means. Columns ``D`` and ``output``."""
    _check(aggregation, ("country", "sector"))
    df = _ratios(t, {"D": (t.B.sum(axis=0) * t.x, t.x)}, aggregation)
    df["output"] = t.frame({"x": t.by_economy(t.x) if aggregation == "country" else t.x}, aggregation, "region")["x"]
    return df


def production_length(t: MRIO, aggregation: str = "sector") -> pd.DataFrame:
    r"""Average production length of Wang, Wei, Yu and Zhu (2017b), total and GVC.

    Production length counts how many times value added is counted as gross output from primary
    input to final use. Forward (by origin, :math:`PLv`) and backward (by final good, :math:`PLy`):

    .. math::
        PLv = \frac{\hat V B B Y u}{\hat V B Y u}, \qquad
        PLy = \frac{u' \hat V B B \hat Y}{u' \hat V B \hat Y},

    and for GVC production (value added crossing borders for production, :math:`\hat V L A^F B \hat Y`)

    .. math::
        PLv\_GVC = \frac{\hat V L L A^F B Y u + \hat V L A^F B B Y u}{\hat V L A^F B Y u}, \qquad
        PLy\_GVC = \frac{u'(\hat V L L A^F B + \hat V L A^F B B)\hat Y}{u'\hat V L A^F B \hat Y},

    with the GVC position index ``POS_GVC = PLv_GVC / PLy_GVC`` (larger: more upstream). Country
    values are ratios of sums (value-added weights forward, final-goods weights backward).
    """
    _check(aggregation, ("country", "sector"))
    v, L, y, B, Am = t.v, t.L, t.y_tot, t.B, t.Am
    by = B @ y
    bby = B @ by
    af_by = Am @ by
    vb = t.vbc.sum(axis=1)
    vlaf = t.vl_dom @ Am
    vlafb = vlaf @ B
    vllaf = t.vbd(t.vl_dom, L) @ Am
    df = _ratios(
        t,
        {
            "PLv": (v * bby, v * by),
            "PLy": ((vb @ B) * y, vb * y),
            "PLv_GVC": (v * t.bd(L, t.bd(L, af_by)) + v * t.bd(L, Am @ bby), v * t.bd(L, af_by)),
            "PLy_GVC": ((vllaf @ B + vlafb @ B) * y, vlafb * y),
        },
        aggregation,
    )
    df["POS_GVC"] = df["PLv_GVC"] / df["PLy_GVC"]
    return df


def border_crossings(t: MRIO, aggregation: str = "sector") -> pd.DataFrame:
    r"""Expected number of border crossings of value added (Muradov 2016).

    Every value-added path from primary input to final use crosses a border at each foreign
    intermediate link (:math:`A^F`) and once more if the final good is consumed abroad. Weighting
    paths by the value added they carry:

    .. math::
        N^{v} = \frac{\hat V B A^F B Y u + \hat V B Y^F u}{\hat V B Y u} \quad\text{(forward, by
        origin)}, \qquad
        N^{y} = \frac{u'\hat V B A^F B \hat Y + u'\hat V B \hat Y^F}{u'\hat V B \hat Y}
        \quad\text{(backward, by final good)},

    with :math:`Y^F` exported final goods. Country values are value-added (forward) or final-goods
    (backward) weighted means. Columns ``forward`` and ``backward``.
    """
    _check(aggregation, ("country", "sector"))
    v, y, yf, B = t.v, t.y_tot, t.y_fex, t.B
    by = B @ y
    vb = t.vbc.sum(axis=1)
    return _ratios(
        t,
        {
            "forward": (v * (B @ (t.Am @ by) + B @ yf), v * by),
            "backward": (((vb @ t.Am) @ B) * y + vb * yf, vb * y),
        },
        aggregation,
    )


# =====================================================================================================
# 8. Trade structure
# =====================================================================================================
def _region_trade(t: MRIO) -> np.ndarray:
    """Gross trade between regions (not economies), (G_reg, G_reg), own-region flows zeroed."""
    n_reg = len(t.regions)
    to_reg = np.zeros((t.n, n_reg))
    to_reg[np.arange(t.n), t.row_region] = 1.0
    flows = to_reg.T @ (t.Z @ to_reg + t.Y)
    np.fill_diagonal(flows, 0.0)
    return flows


def intra_regional_trade_share(t: MRIO, groups: Mapping[str, Sequence] | None = None) -> pd.DataFrame:
    r"""Intra-regional trade share of groups of regions, as in the IMF Direction of Trade figures.

    For a group :math:`M` with bilateral gross trade :math:`T_{ab}` (intermediate plus final goods):

    .. math::
        \text{share}_M = \frac{\sum_{a \in M}\sum_{b \in M, b\ne a} (T_{ab} + T_{ba})}
                              {\sum_{a\in M} \big(\sum_{b\ne a} T_{ab} + \sum_{b \ne a} T_{ba}\big)},

    members' exports plus imports to and from members over their total exports plus imports.
    ``groups`` default to the table's groups. Columns ``intra_exports, exports, imports, share``.
    """
    groups = t.groups if groups is None else {str(g): tuple(m) for g, m in groups.items()}
    if not groups:
        raise ValueError("no groups given")
    flows = _region_trade(t)
    pos = {r: i for i, r in enumerate(t.regions)}
    rows = {}
    for g, members in groups.items():
        idx = np.array([pos[r] for r in members])
        intra = flows[np.ix_(idx, idx)].sum()
        exports, imports = flows[idx].sum(), flows[:, idx].sum()
        rows[g] = (intra, exports, imports, _ratio(2.0 * intra, exports + imports).item())
    df = pd.DataFrame.from_dict(rows, orient="index", columns=["intra_exports", "exports", "imports", "share"])
    return df.rename_axis(index="group", columns="term")


def intermediate_share(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Share of intermediate goods in gross exports and imports.

    Exports of :math:`(s,i)`: :math:`E^{int}_{s*,i} = \sum_{r\ne s} [Z_{sr}u]_i` over
    :math:`E_{s*,i}`; imports of region :math:`r` of goods of sector :math:`i`:
    :math:`\sum_{s\ne r} [Z_{sr}u]_i` over :math:`\sum_{s\ne r} E_{sr,i}`. Columns
    ``EXGR_INT, EXGR, EXGR_INT_SH, IMGR_INT, IMGR, IMGR_INT_SH``; ``aggregation``: ``country`` or
    ``sector`` (by region and sector of the goods traded). Trade inside a group is domestic.
    """
    _check(aggregation, ("country", "sector"))
    if aggregation == "country":
        terms = {
            "EXGR_INT": t.by_economy(t.eint.sum(axis=1)), "EXGR": t.by_economy(t.e),
            "IMGR_INT": t.eint.sum(axis=0), "IMGR": t.esr.sum(axis=0),
        }  # fmt: skip
        df = t.frame(terms, "country", level="region")
    else:
        exp = t.frame({"EXGR_INT": t.eint.sum(axis=1), "EXGR": t.e}, "sector", level="region")
        # imports of economy r of goods of sector i: exporters' rows summed by sector label
        n_sec = len(t.sectors)
        imp_int, imp_tot = np.zeros((n_sec, t.G)), np.zeros((n_sec, t.G))
        np.add.at(imp_int, t.row_sector, t.eint)
        np.add.at(imp_tot, t.row_sector, t.esr)
        imp = pd.DataFrame(
            {"IMGR_INT": imp_int.T.ravel(), "IMGR": imp_tot.T.ravel()},
            index=pd.MultiIndex.from_product(
                [pd.Index(t.economies, dtype=object), pd.Index(t.sectors, dtype=object)], names=["region", "sector"]
            ),
        )
        df = exp.join(imp, how="outer").fillna(0.0)
        df = df.loc[exp.index.append(imp.index.difference(exp.index, sort=False))]
    df["EXGR_INT_SH"] = _ratio(df["EXGR_INT"], df["EXGR"])
    df["IMGR_INT_SH"] = _ratio(df["IMGR_INT"], df["IMGR"])
    cols = ["EXGR_INT", "EXGR", "EXGR_INT_SH", "IMGR_INT", "IMGR", "IMGR_INT_SH"]
    return df[cols].rename_axis(columns="term")


# =====================================================================================================
# Borin, Mancini and Taglioni (2021) tripartite GVC measures, as implemented in gvcAnalyzer
# =====================================================================================================
def _imported_input_coef(t: MRIO) -> np.ndarray:
    r"""Gross imported inputs per unit of final output of :math:`s` along its domestic chain:
    :math:`\sum_{t\ne s} u' A_{ts} L_{ss}`, shape (n,)."""
    return t.vbd(t.Am.sum(axis=0), t.L)


def bm2025_trade(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Tripartite split of GVC-related trade into pure-forward, two-sided and pure-backward trade.

    Borin, Mancini and Taglioni (2021) split GVC-related exports :math:`\text{GVC}_{sr} = E_{sr} -
    \text{DAVAX}_{sr}` (see :func:`borin_mancini`) by whether imported inputs are used (backward) and
    whether the importer re-exports (forward). With :math:`m_s = \sum_{t\ne s} u' A_{ts} L_{ss}`
    the gross imported inputs along the exporter's domestic chain (the convention of R package
    ``gvcAnalyzer`` 0.1.1):

    .. math::
        \text{PB}_{sr} = m_s (Y_{sr} + A_{sr} L_{rr} Y_{rr}), \qquad
        \text{TS}_{sr} = m_s\, A_{sr} L_{rr} E_{r*}, \qquad
        \text{PF}_{sr} = \text{GVC}_{sr} - \text{TS}_{sr} - \text{PB}_{sr} .

    Columns ``E, DAVAX, GVC, GVC_PF, GVC_TS, GVC_PB``, and at the country level the trade-based
    indicators ``share_GVC_trade = GVC / E``, ``share_PF/TS/PB_trade`` (shares of GVC) and
    ``forward_trade = (PF - PB) / GVC``. ``aggregation``: ``country``, ``bilateral``, ``sector`` or
    ``sector_bilateral``. The imported-input convention is the package's, not independently verified
    against the paper.
    """
    _check(aggregation, AGGREGATIONS)
    dae, _ = _bm_vaxe(t)
    m_s = _imported_input_coef(t)[:, None]
    davax = t.vl_dom[:, None] * dae
    pb = m_s * dae
    ts = m_s * t.cols(t.Am, t.bd(t.L, t.e))
    gvc = t.esr - davax
    df = t.aggregate(
        {"E": t.esr, "DAVAX": davax, "GVC": gvc, "GVC_PF": gvc - ts - pb, "GVC_TS": ts, "GVC_PB": pb}, aggregation
    )
    if aggregation == "country":
        df["share_GVC_trade"] = _ratio(df["GVC"], df["E"])
        for part in ("PF", "TS", "PB"):
            df[f"share_{part}_trade"] = _ratio(df[f"GVC_{part}"], df["GVC"])
        df["forward_trade"] = _ratio(df["GVC_PF"] - df["GVC_PB"], df["GVC"])
    return df


def bm2025_output(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Output-based tripartite GVC measures (Borin, Mancini and Taglioni 2021) as in gvcAnalyzer.

    Gross output of :math:`s` split into purely domestic production :math:`\text{DomX} = \hat v_s
    L_{ss} Y_{ss}`, GVC-related output (pure forward, two-sided, pure backward) and traditional trade
    (the residual). With :math:`q_s = L_{ss} \sum_{r\ne s} A_{sr} L_{rr} E_{r*}`,
    :math:`c = u'\hat V L A^F B` and :math:`f_s = \sum_{j\ne s} V_j L_{jj} A_{js} L_{ss}`:

    .. math::
        \text{PF} = \hat v_s q_s,\quad
        \text{PB} = c_s \# y_s - f_s \# Y_{ss},\quad
        \text{TS}^{imp} = c_s \# x_s - f_s \# (A_{ss} L_{ss} Y_{ss}) - \text{PB},\quad
        \text{TS}^{dom} = \hat v_s L_{ss} A_{ss} q_s,

    the country-level formulas of R package ``gvcAnalyzer`` 0.1.1 (``bm_2025_output_components``),
    split by sector element by element so that sector values add up to the country values (that
    package's own sector function uses a different pure-backward formula whose sector values do not
    add up to its country values, and it clips negative two-sided values at zero, which this function
    does not). Not independently verified against the paper. Columns ``GVC_PF_X, GVC_PB_X,
    GVC_TSImp, GVC_TSDom, GVC_TS_X, GVC_X, DomX, TradX, X_total`` and the shares ``share_GVC_output
    = GVC_X / X_total``, ``share_PF/TS/PB_output`` (of GVC_X) and ``forward_output = (PF - PB) /
    GVC_X``. ``aggregation``: ``country`` or ``sector``.
    """
    _check(aggregation, ("country", "sector"))
    v, L = t.v, t.L
    q = t.bd(L, t.Am @ t.bd(L, t.e))
    vlaf = t.vl_dom @ t.Am
    c = vlaf @ t.B
    f = t.vbd(vlaf, L)
    pf = v * q
    pb = c * t.y_tot - f * t.y_dom
    ts_imp = c * t.x - f * t.bd(t.Ad, t.ly_dom) - pb
    ts_dom = v * t.bd(L, t.bd(t.Ad, q))
    gvc = pf + pb + ts_imp + ts_dom
    dom = v * t.ly_dom
    terms = {
        "GVC_PF_X": pf, "GVC_PB_X": pb, "GVC_TSImp": ts_imp, "GVC_TSDom": ts_dom, "GVC_TS_X": ts_imp + ts_dom,
        "GVC_X": gvc, "DomX": dom, "TradX": t.x - dom - gvc, "X_total": np.asarray(t.x),
    }  # fmt: skip
    if aggregation == "country":
        terms = {k: t.by_economy(val) for k, val in terms.items()}
    df = t.frame(terms, aggregation, level="region")
    df["share_GVC_output"] = _ratio(df["GVC_X"], df["X_total"])
    df["share_PF_output"] = _ratio(df["GVC_PF_X"], df["GVC_X"])
    df["share_TS_output"] = _ratio(df["GVC_TS_X"], df["GVC_X"])
    df["share_PB_output"] = _ratio(df["GVC_PB_X"], df["GVC_X"])
    df["forward_output"] = _ratio(df["GVC_PF_X"] - df["GVC_PB_X"], df["GVC_X"])
    return df


# =====================================================================================================
# Summary for the results layer
# =====================================================================================================
SUMMARY_INDICATORS = {
    "gross_exports": "value",
    "dva_share_exports": "share",
    "fva_share_exports": "share",
    "vax_ratio": "share",
    "gvc_participation_forward_wwyz": "share",
    "gvc_participation_backward_wwyz": "share",
    "gvc_participation_forward_tiva": "share",
    "gvc_participation_backward_tiva": "share",
    "upstreamness": "stages",
    "border_crossings": "crossings",
    "intermediate_share_exports": "share",
}


def _headline(t: MRIO) -> dict[str, pd.Series]:
    """Country-level headline indicators of one table, as Series indexed by economy."""
    tv = tiva(t, "country")
    ww = wwyz_participation(t, "country")
    return {
        "gross_exports": tv["EXGR"],
        "dva_share_exports": tv["EXGR_DVA_SH"],
        "fva_share_exports": tv["EXGR_FVA_SH"],
        "vax_ratio": pd.Series(_ratio(tv["FFD_DVA"], tv["EXGR"]), index=tv.index),
        "gvc_participation_forward_wwyz": ww["GVCPt_f"],
        "gvc_participation_backward_wwyz": ww["GVCPt_b"],
        "gvc_participation_forward_tiva": tv["PART_F"],
        "gvc_participation_backward_tiva": tv["PART_B"],
        "upstreamness": upstreamness(t, "country")["U"],
        "border_crossings": border_crossings(t, "country")["forward"],
        "intermediate_share_exports": intermediate_share(t, "country")["EXGR_INT_SH"],
    }


def summary(
    Z,
    Y,
    x=None,
    va=None,
    regions: Sequence | None = None,
    sectors: Sequence | None = None,
    groups: Mapping[str, Sequence] | None = None,
    *,
    row_regions: Sequence | None = None,
    row_sectors: Sequence | None = None,
    value_unit: str = "US$ million",
) -> pd.DataFrame:
    r"""Country-level headline GVC indicators of an MRIO table, long format.

    Columns ``indicator, region, value, unit``. For every region: gross exports (``value_unit``),
    domestic and foreign value-added shares of gross exports (TiVA EXGR_DVA and EXGR_FVA over EXGR;
    the foreign share is Hummels-Ishii-Yi's VS share), the Johnson-Noguera VAX ratio, forward and
    backward GVC participation (Wang, Wei, Yu and Zhu 2017a, shares of value added and of final
    goods; OECD TiVA, shares of gross exports), output-weighted upstreamness (Antràs et al. 2012),
    the value-added-weighted number of border crossings (Muradov 2016, forward) and the share of
    intermediates in gross exports. For every group in ``groups`` the same indicators with the
    group as one economy (trade inside it is domestic), labelled by the group name, and
    ``intra_group_trade_share`` (IMF Direction of Trade definition, computed from members' gross
    trade). Ratios are ``share`` (0-1). Intended for benchmark and counterfactual tables side by
    side.
    """
    if regions is None or sectors is None:
        raise ValueError("summary needs the regions and sectors labels")
    t = MRIO(Z, Y, x, va, regions=regions, sectors=sectors, row_regions=row_regions, row_sectors=row_sectors)
    frames = []

    def add(name: str, series: pd.Series, unit: str) -> None:
        columns = {"indicator": name, "region": series.index, "value": series.to_numpy(), "unit": unit}
        frames.append(pd.DataFrame(columns))

    for name, series in _headline(t).items():
        kind = SUMMARY_INDICATORS[name]
        add(name, series.loc[list(t.economies)], value_unit if kind == "value" else kind)
    for g, members in (groups or {}).items():
        # each group as one economy, all other regions as themselves
        for name, series in _headline(t.regroup({g: members})).items():
            kind = SUMMARY_INDICATORS[name]
            add(name, series.loc[[str(g)]], value_unit if kind == "value" else kind)
    if groups:
        add("intra_group_trade_share", intra_regional_trade_share(t, groups)["share"], "share")
    out = pd.concat(frames, ignore_index=True)
    out["region"] = out["region"].astype(object)
    return out
