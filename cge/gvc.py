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
exvatools (Campos, Timini and Vásquez 2024).

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
- Hummels, D., Ishii, J. and Yi, K.-M. (2001). The nature and growth of vertical specialization in
  world trade. *Journal of International Economics* 54(1), 75-96.
- Johnson, R. C. and Noguera, G. (2012). Accounting for intermediates: production sharing and
  trade in value added. *Journal of International Economics* 86(2), 224-236.
- Koopman, R., Wang, Z. and Wei, S.-J. (2014). Tracing value-added and double counting in gross
  exports. *American Economic Review* 104(2), 459-494.
- Miller, R. E. and Temurshoev, U. (2017). Output upstreamness and input downstreamness of
  industries/countries in world production. *International Regional Science Review* 40(5), 443-475.
- Miroudot, S. and Ye, M. (2021). Decomposing value added in gross exports. *Economic Systems
  Research* 33(1), 67-87.
- Muradov, K. (2016). Counting borders in global value chains. 24th IIOA Conference, Seoul.
- OECD (2023). Guide to OECD Trade in Value Added (TiVA) indicators, 2023 edition.
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
    Internally rows are arranged in blocks of equal size :math:`K` per economy (padding with empty
    rows where economies have fewer rows), so every block operation is a batched array operation.
    Padding rows have zero output and drop out of every result. Instances are immutable; the
    arrays they expose are read-only.
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
            row_region = np.array([reg_pos[r] for r in row_regions])
            row_sector = np.array([sec_pos[s] for s in row_sectors])
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

        # economies: a group replaces its members, at the position of its first member
        member_of = {}
        for g, members in self.groups.items():
            for r in members:
                if r not in regions:
                    raise ValueError(f"group {g!r}: unknown region {r!r}")
                if r in member_of:
                    raise ValueError(f"region {r!r} is in groups {member_of[r]!r} and {g!r}")
                member_of[r] = g
        economies, econ_of_region = [], np.empty(n_reg, dtype=int)
        for i, r in enumerate(regions):
            label = member_of.get(r, r)
            if label not in economies:
                economies.append(label)
            econ_of_region[i] = economies.index(label)
        self.economies = tuple(economies)
        self.econ_of_region = econ_of_region
        G = len(economies)
        row_econ = econ_of_region[row_region]

        # block layout: K slots per economy, rows in table order within their economy
        counts = np.bincount(row_econ, minlength=G)
        K = int(counts.max())
        rank = np.zeros(n, dtype=int)
        seen = np.zeros(G, dtype=int)
        for k, g in enumerate(row_econ):
            rank[k] = seen[g]
            seen[g] += 1
        slot = row_econ * K + rank
        m = G * K
        self.G, self.K, self.m = G, K, m
        self._slot = slot

        to_econ = np.zeros((n_reg, G))
        to_econ[np.arange(n_reg), econ_of_region] = 1.0
        Zp = np.zeros((m, m))
        Zp[np.ix_(slot, slot)] = Z
        Yp = np.zeros((m, G))
        Yp[slot] = Y @ to_econ
        xp = np.zeros(m)
        xp[slot] = x
        vap = np.zeros(m)
        vap[slot] = va
        self._Z, self._Y, self._x, self._va = Zp, Yp, xp, vap

        # reporting keys: (economy, sector); split rows with the same labels are summed
        slot_key = np.full(m, -1)
        slot_key[slot] = row_econ * n_sec + row_sector
        keys = np.unique(slot_key[slot_key >= 0])
        self._key_of_slot = np.searchsorted(keys, slot_key)
        self._key_of_slot[slot_key < 0] = -1
        self._keys = keys
        self._regular = len(keys) == m and bool(np.all(keys == slot_key))
        self._key_econ = keys // n_sec
        self._key_sector = keys % n_sec

    # ------------------------------------------------------------------ construction helpers
    def regroup(self, groups: Mapping[str, Sequence] | None) -> MRIO:
        """The same table with other ``groups`` (``None``: every region is its own economy)."""
        explicit = not (len(self.row_region) == len(self.regions) * len(self.sectors) and np.array_equal(
            self.row_region, np.repeat(np.arange(len(self.regions)), len(self.sectors))
        ) and np.array_equal(self.row_sector, np.tile(np.arange(len(self.sectors)), len(self.regions))))
        return MRIO(
            self.Z, self.Y, self.x, self.va, regions=self.regions, sectors=self.sectors,
            row_regions=[self.regions[i] for i in self.row_region] if explicit else None,
            row_sectors=[self.sectors[i] for i in self.row_sector] if explicit else None,
            groups=groups,
        )  # fmt: skip

    # ------------------------------------------------------------------ Leontief algebra (cached)
    @cached_property
    def A(self) -> np.ndarray:
        """Input coefficients :math:`A = Z \\hat x^{-1}` on the block layout (m, m)."""
        return _safe_div(self._Z, self._x[None, :])

    @cached_property
    def B(self) -> np.ndarray:
        """Global Leontief inverse :math:`B = (I - A)^{-1}` (m, m)."""
        return np.linalg.inv(np.eye(self.m) - self.A)

    @cached_property
    def v(self) -> np.ndarray:
        """Value-added coefficients :math:`v = va / x`, shape (G, K)."""
        return _safe_div(self._va, self._x).reshape(self.G, self.K)

    @cached_property
    def A4(self) -> np.ndarray:
        return self.A.reshape(self.G, self.K, self.G, self.K)

    @cached_property
    def B4(self) -> np.ndarray:
        return self.B.reshape(self.G, self.K, self.G, self.K)

    @cached_property
    def Am4(self) -> np.ndarray:
        """Foreign input coefficients :math:`A^F` (domestic blocks zeroed), shape (G, K, G, K)."""
        out = self.A4.copy()
        g = np.arange(self.G)
        out[g, :, g, :] = 0.0
        return out

    @cached_property
    def Bm4(self) -> np.ndarray:
        """:math:`B` with its domestic blocks :math:`B_{ss}` zeroed, shape (G, K, G, K)."""
        out = self.B4.copy()
        g = np.arange(self.G)
        out[g, :, g, :] = 0.0
        return out

    @cached_property
    def Add(self) -> np.ndarray:
        """Domestic blocks :math:`A_{ss}`, shape (G, K, K)."""
        return np.einsum("gigj->gij", self.A4).copy()

    @cached_property
    def Bdd(self) -> np.ndarray:
        """Domestic blocks :math:`B_{ss}` of the global inverse, shape (G, K, K)."""
        return np.einsum("gigj->gij", self.B4).copy()

    @cached_property
    def L(self) -> np.ndarray:
        """Local Leontief inverses :math:`L_{ss} = (I - A_{ss})^{-1}`, shape (G, K, K)."""
        return np.linalg.inv(np.eye(self.K)[None] - self.Add)

    @cached_property
    def x3(self) -> np.ndarray:
        return self._x.reshape(self.G, self.K)

    @cached_property
    def Y3(self) -> np.ndarray:
        """Final demand :math:`Y_{sr}` as (G, K, G): [producer, sector, destination]."""
        return self._Y.reshape(self.G, self.K, self.G)

    @cached_property
    def Ym3(self) -> np.ndarray:
        """Exported final goods (:math:`Y_{sr}`, :math:`r \\ne s`; domestic blocks zeroed)."""
        out = self.Y3.copy()
        g = np.arange(self.G)
        out[g, :, g] = 0.0
        return out

    @cached_property
    def y_dom(self) -> np.ndarray:
        """Domestic final demand :math:`Y_{ss}`, shape (G, K)."""
        return np.einsum("gig->gi", self.Y3).copy()

    @cached_property
    def y_tot(self) -> np.ndarray:
        """Total final demand for each row's goods :math:`y = Yu`, shape (G, K)."""
        return self.Y3.sum(axis=2)

    @cached_property
    def esr3(self) -> np.ndarray:
        """Bilateral gross exports :math:`E_{sr} = Z_{sr}u + Y_{sr}` as (G, K, G), zero for r = s."""
        out = self._Z.reshape(self.G, self.K, self.G, self.K).sum(axis=3) + self.Y3
        g = np.arange(self.G)
        out[g, :, g] = 0.0
        return out

    @cached_property
    def eint3(self) -> np.ndarray:
        """Bilateral intermediate exports :math:`Z_{sr}u` as (G, K, G), zero for r = s."""
        return self.esr3 - self.Ym3

    @cached_property
    def e(self) -> np.ndarray:
        """Total gross exports :math:`E_{s*}`, shape (G, K)."""
        return self.esr3.sum(axis=2)

    @cached_property
    def vbc(self) -> np.ndarray:
        r"""Value added of origin economy t per unit of output of (s, i):
        :math:`\sum_{k \in t} v_k B_{k,(s,i)}`, shape (G_t, G_s, K)."""
        return np.einsum("tm,tmsi->tsi", self.v, self.B4)

    @cached_property
    def vb_dom(self) -> np.ndarray:
        """Domestic VA multiplier :math:`V_s B_{ss}` (column sums), shape (G, K)."""
        return np.einsum("ssi->si", self.vbc).copy()

    @cached_property
    def vb_for(self) -> np.ndarray:
        """Foreign VA multiplier :math:`\\sum_{t \\ne s} V_t B_{ts}`, shape (G, K)."""
        return self.vbc.sum(axis=0) - self.vb_dom

    @cached_property
    def vl_dom(self) -> np.ndarray:
        """Local domestic VA multiplier :math:`V_s L_{ss}`, shape (G, K)."""
        return np.einsum("gk,gki->gi", self.v, self.L)

    @cached_property
    def bfd3(self) -> np.ndarray:
        """Output driven by each destination's final demand :math:`BY` as (G, K, G)."""
        return (self.B @ self._Y).reshape(self.G, self.K, self.G)

    @cached_property
    def ly_dom(self) -> np.ndarray:
        """:math:`L_{rr} Y_{rr}`, shape (G, K)."""
        return np.einsum("gij,gj->gi", self.L, self.y_dom)

    # ------------------------------------------------------------------ block helpers
    def bmv(self, blocks: np.ndarray, vec: np.ndarray) -> np.ndarray:
        """Block-diagonal matrix (G, K, K) times (G, K[, ...]) stacked vectors."""
        if vec.ndim == 2:
            return np.einsum("gij,gj->gi", blocks, vec)
        return np.einsum("gij,gj...->gi...", blocks, vec)

    def mat(self, M: np.ndarray, Q: np.ndarray) -> np.ndarray:
        """Full (m, m) matrix (or (G, K, G, K)) times Q of shape (G, K[, c])."""
        M2 = M.reshape(self.m, self.m)
        if Q.ndim == 2:
            return (M2 @ Q.reshape(self.m)).reshape(self.G, self.K)
        return (M2 @ Q.reshape(self.m, -1)).reshape(self.G, self.K, *Q.shape[2:])

    def route(self, Q3: np.ndarray) -> np.ndarray:
        r"""Intermediate exports routed through importer r for exporter s:
        :math:`[A_{sr} Q_{\cdot s}]_i = \sum_{j} A_{(s,i),(r,j)} Q_{(r,j), s}` for Q of shape (G_r, K, G_s).

        Returns (G_s, K, G_r); zero for r = s.
        """
        return np.einsum("sirj,rjs->sir", self.Am4, Q3)

    def block_cols(self, M4: np.ndarray, q: np.ndarray) -> np.ndarray:
        r""":math:`\sum_{k} M_{(a,j),(r,k)} q_{r,k}` for each r: the column block of r applied to
        the r-th slice of q (G, K). Returns (G_a, K, G_r)."""
        return np.einsum("ajrk,rk->ajr", M4, q)

    # ------------------------------------------------------------------ reporting
    def _sum_keys(self, arr: np.ndarray) -> np.ndarray:
        """Aggregate (m, ...) slot arrays to (n_keys, ...) reporting rows (economy, sector)."""
        arr = np.asarray(arr).reshape(self.m, -1)
        if self._regular:
            return arr
        out = np.zeros((len(self._keys), arr.shape[1]))
        ok = self._key_of_slot >= 0
        np.add.at(out, self._key_of_slot[ok], arr[ok])
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

        ``kind``: ``country`` (G,), ``sector`` (G, K), ``bilateral`` (G, G) [exporter, importer],
        ``sector_bilateral`` (G, K, G). Padding slots are dropped, split rows summed and flows of
        an economy to itself removed.
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
            keyed = [self._sum_keys(np.asarray(terms[t]).reshape(self.m, self.G)) for t in names]
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
        out = pd.DataFrame(data, index=index, columns=pd.Index(names, name="term"))
        return out

    def aggregate(self, terms3: Mapping[str, np.ndarray], aggregation: str, level: str = "exporter"):
        """Sum additive sector-bilateral term arrays (G, K, G) to ``aggregation`` and frame them."""
        if aggregation == "sector_bilateral":
            return self.frame(terms3, "sector_bilateral", level)
        if aggregation == "bilateral":
            return self.frame({k: v.sum(axis=1) for k, v in terms3.items()}, "bilateral", level)
        if aggregation == "sector":
            return self.frame({k: v.sum(axis=2) for k, v in terms3.items()}, "sector", level)
        if aggregation == "country":
            return self.frame({k: v.sum(axis=(1, 2)) for k, v in terms3.items()}, "country", level)
        raise ValueError(f"unknown aggregation {aggregation!r}; use one of {AGGREGATIONS}")


def to_long(frame: pd.DataFrame, value_name: str = "value") -> pd.DataFrame:
    """Long (tidy) form of a wide result frame: one row per index entry and ``term``."""
    n_rows, n_cols = frame.shape
    idx = frame.index.repeat(n_cols)
    arrays = [idx.get_level_values(i) for i in range(idx.nlevels)]
    names = list(frame.index.names) + [frame.columns.name or "term"]
    index = pd.MultiIndex.from_arrays([*arrays, np.tile(frame.columns.to_numpy(), n_rows)], names=names)
    return pd.DataFrame({value_name: frame.to_numpy().reshape(-1)}, index=index)
