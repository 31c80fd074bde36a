r"""Table balancing: RAS, generalised RAS (GRAS) and iterative proportional fitting on several margins.

RAS (Stone 1961; Bacharach 1970) finds the matrix :math:`X = \hat r A \hat s` closest to a
non-negative prior :math:`A` in the information (cross-entropy) sense whose row and column sums are
given. GRAS (Junius and Oosterhaven 2003, corrected by Lenzen, Wood and Gallego 2007) extends it to
priors with negative cells: :math:`x_{ij} = r_i a^+_{ij} s_j + a^-_{ij} / (r_i s_j)`, with
:math:`a^+` and :math:`a^-` the positive and negative parts of :math:`A` (``a = a^+ - a^-``).
:func:`ipf` fits a non-negative array to any set of margins, each a sum of cells over a partition
(Deming and Stephan 1940; Bishop, Fienberg and Holland 1975): it is the multi-dimensional RAS used
by :mod:`cge.sources.hybrid`. Zero cells of the prior stay zero; the problem must be feasible on the
prior's support, otherwise the iterations stop at ``max_iter`` and report the remaining error.

References
----------
- Bacharach, M. (1970). *Biproportional Matrices and Input-Output Change*. Cambridge UP.
- Junius, T. and Oosterhaven, J. (2003). The solution of updating or regionalizing a matrix with
  both positive and negative entries. *Economic Systems Research* 15(1), 87-96.
- Lenzen, M., Wood, R. and Gallego, B. (2007). Some comments on the GRAS method. *Economic
  Systems Research* 19(4), 461-465.
- Miller, R. E. and Blair, P. D. (2009). *Input-Output Analysis*, 2nd ed., section 7.4.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class FitInfo:
    """Outcome of a balancing run: iterations, the largest remaining margin error and by margin."""

    iterations: int
    max_error: float
    converged: bool
    errors: dict[str, float] = field(default_factory=dict)
    history: list[float] = field(default_factory=list)


def _ratio(target: np.ndarray, current: np.ndarray) -> np.ndarray:
    """target / current, with 0/0 = 1 and a zero where the current sum is zero but the target is not."""
    out = np.ones_like(current, dtype=float)
    np.divide(target, current, out=out, where=current != 0)
    return out


def _check_totals(rows: np.ndarray, cols: np.ndarray, name: str) -> None:
    a, b = float(rows.sum()), float(cols.sum())
    if abs(a - b) > 1e-9 * max(1.0, abs(a), abs(b)):
        raise ValueError(f"{name}: row targets sum to {a:.10g} but column targets to {b:.10g}")


def ras(prior, row_targets, col_targets, tol: float = 1e-12, max_iter: int = 10_000) -> tuple[np.ndarray, FitInfo]:
    """Biproportional scaling of a non-negative ``prior`` to ``row_targets`` and ``col_targets``.

    Returns the balanced matrix and a :class:`FitInfo`; ``max_error`` is the largest absolute margin
    error relative to ``max(1, target)``.
    """
    A = np.asarray(prior, dtype=float)
    u, v = np.asarray(row_targets, float), np.asarray(col_targets, float)
    if (A < 0).any():
        raise ValueError("ras: the prior has negative cells; use gras")
    _check_totals(u, v, "ras")
    X = A.copy()
    history = []
    for it in range(1, max_iter + 1):
        X *= _ratio(u, X.sum(axis=1))[:, None]
        X *= _ratio(v, X.sum(axis=0))[None, :]
        err = float(np.max(np.abs(X.sum(axis=1) - u) / np.maximum(1.0, np.abs(u)), initial=0.0))
        history.append(err)
        if err <= tol:
            return X, FitInfo(it, err, True, {"rows": err, "columns": 0.0}, history)
    return X, FitInfo(max_iter, err, False, {"rows": err, "columns": 0.0}, history)


def gras(prior, row_targets, col_targets, tol: float = 1e-12, max_iter: int = 10_000) -> tuple[np.ndarray, FitInfo]:
    r"""Generalised RAS for a prior with positive and negative cells (Lenzen, Wood and Gallego 2007).

    Solves for multipliers :math:`r, s` with :math:`x_{ij} = r_i p_{ij} s_j - n_{ij} / (r_i s_j)`,
    :math:`p = \max(a, 0)`, :math:`n = \max(-a, 0)`; each cell keeps the sign of the prior. On a
    non-negative prior it is RAS.
    """
    A = np.asarray(prior, dtype=float)
    u, v = np.asarray(row_targets, float), np.asarray(col_targets, float)
    _check_totals(u, v, "gras")
    P, N = np.maximum(A, 0.0), np.maximum(-A, 0.0)
    m, n = A.shape
    r, s = np.ones(m), np.ones(n)

    def solve(p_sum, n_sum, target):
        # positive root of p x - n / x = target (x > 0); where p == 0, x = -n / target.
        with np.errstate(divide="ignore", invalid="ignore"):
            root = (target + np.sqrt(target**2 + 4.0 * p_sum * n_sum)) / (2.0 * p_sum)
            alt = -n_sum / target
        out = np.where(p_sum > 0, root, np.where((n_sum > 0) & (target < 0), alt, 1.0))
        return np.where(np.isfinite(out) & (out > 0), out, 1.0)

    history = []
    for it in range(1, max_iter + 1):
        s = solve(P.T @ r, N.T @ (1.0 / r), v)
        r = solve(P @ s, N @ (1.0 / s), u)
        X = r[:, None] * P * s[None, :] - N / (r[:, None] * s[None, :])
        err = float(np.max(np.abs(X.sum(axis=0) - v) / np.maximum(1.0, np.abs(v)), initial=0.0))
        history.append(err)
        if err <= tol:
            return X, FitInfo(it, err, True, {"rows": 0.0, "columns": err}, history)
    return X, FitInfo(max_iter, err, False, {"rows": 0.0, "columns": err}, history)


@dataclass
class Margin:
    """One margin of :func:`ipf`: a function that sums cells into groups and the target of each group.

    ``total(arrays)`` returns the current group sums (any shape, same as ``target``); ``scale(arrays,
    factor)`` multiplies every cell of each group by ``factor`` in place (same shape as ``target``).
    Groups of one margin must not overlap (a partition of the cells they cover).
    """

    name: str
    target: np.ndarray
    total: Callable
    scale: Callable


def ipf(arrays: dict, margins: list[Margin], tol: float = 1e-11, max_iter: int = 20_000, check_every: int = 1) -> FitInfo:
    """Iterative proportional fitting of non-negative ``arrays`` (modified in place) to ``margins``.

    Each sweep scales the cells to every margin in turn. Stops when the largest error of any margin,
    relative to ``max(1, target)``, is at most ``tol``.
    """
    for k, a in arrays.items():
        if (np.asarray(a) < 0).any():
            raise ValueError(f"ipf: array {k!r} has negative cells")
    history = []
    errors = {}
    for it in range(1, max_iter + 1):
        for mg in margins:
            mg.scale(arrays, _ratio(mg.target, mg.total(arrays)))
        if it % check_every == 0 or it == max_iter:
            errors = {mg.name: margin_error(arrays, mg) for mg in margins}
            worst = max(errors.values())
            history.append(worst)
            if worst <= tol:
                return FitInfo(it, worst, True, errors, history)
    return FitInfo(max_iter, max(errors.values()), False, errors, history)


def margin_error(arrays: dict, mg: Margin) -> float:
    """Largest error of a margin relative to ``max(1, target)``."""
    cur = mg.total(arrays)
    return float(np.max(np.abs(cur - mg.target) / np.maximum(1.0, np.abs(mg.target)), initial=0.0))


__all__ = ["FitInfo", "Margin", "gras", "ipf", "margin_error", "ras"]
