r"""The multi-regional input-output (MRIO) table shared by the benchmark, the results and the GVC code.

Rows sell and columns buy. A table has :math:`n` rows (region-sectors, region-major), intermediate
flows :math:`Z` (n x n), final demand :math:`Y` by destination region (n x G), gross output
:math:`x` and value added :math:`va`. Gross output is measured from the sales side, with one
definition for every table in the package (:func:`sales`):

.. math::
    x = Z u + Y u, \qquad va = x - u'Z,

so that in a balanced table output equals sales equals costs (intermediate inputs plus value
added). :class:`MRIOTable` holds such a table with its labels; :class:`cge.gvc.MRIO` adds the
Leontief algebra of GVC accounting to it, and :meth:`cge.Benchmark.to_mrio` returns one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def sales(*flows: np.ndarray, row_axes: int = 2) -> np.ndarray:
    """Total sales of each selling row: every array of ``flows`` summed over its buyer axes, then added.

    Arrays are indexed seller first. With ``row_axes=2`` (the default) the seller is
    ``[exporter, commodity]`` (``Z[r, i, s, j]``, ``F[r, i, s, a]``, a trade cube ``[r, i, s]``) and
    the result is (R, S); with ``row_axes=1`` the seller is a table row (``Z`` (n, n), ``Y`` (n, G))
    and the result is (n,). In a balanced table this is gross output.
    """
    return sum(np.asarray(f).sum(axis=tuple(range(row_axes, np.ndim(f)))) for f in flows)


class MRIOTable:
    r"""A multi-regional input-output table: flows, gross output, value added and labels.

    Parameters
    ----------
    Z : array (n, n) or (G, S, G, S)
        Intermediate flows, rows sell, columns buy; country-major row order.
    Y : array (n, G) or (G, S, G)
        Final demand by destination region (final-demand categories already summed).
    x : array (n,), optional
        Gross output; default the row sums :math:`Zu + Yu` (:attr:`sales`).
    va : array (n,), optional
        Value added; default :math:`x - u'Z`.
    regions, sectors : sequences of labels
        ``regions`` label the columns of ``Y`` (length G); ``sectors`` the sector codes.
    row_regions, row_sectors : sequences of labels (length n), optional
        Region and sector of each table row, for tables whose rows are not the regular
        ``regions x sectors`` grid (OECD ICIO split China/Mexico rows).

    Attributes ``Z, Y, x, va`` are flat read-only arrays in the table's row order; ``row_region``
    and ``row_sector`` give the position of each row's region and sector label.
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
        x = sales(Z, Y, row_axes=1) if x is None else np.array(x, dtype=float).reshape(-1)
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
        self.n = n
        self._explicit_rows = row_regions is not None

    @property
    def sales(self) -> np.ndarray:
        """Intermediate plus final sales of each row, :math:`Zu + Yu` (n,); equals ``x`` by default."""
        return sales(self.Z, self.Y, row_axes=1)

    @property
    def row_labels(self) -> tuple[list, list] | tuple[None, None]:
        """``(row_regions, row_sectors)`` as given to the constructor (``None`` for the regular grid)."""
        if not self._explicit_rows:
            return None, None
        return [self.regions[i] for i in self.row_region], [self.sectors[i] for i in self.row_sector]
