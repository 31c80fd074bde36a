"""Solvers for the reduced system: Newton's method with a line search, and Ipopt through cyipopt.

Newton's method is the default: the reduced system is small (a few thousand unknowns for a full
world table) and its Jacobian exact, so a handful of steps from a warm start reach machine
precision. Each fresh Jacobian is factorised (by blocks: zero profit against producer prices and
goods markets against output are two LUs of half the size, the few factor, income and labour
unknowns a Schur complement (:func:`factorise_blocks`); or one dense LU through LAPACK; in single
precision for large systems while that pays; or sparse LU through SuperLU when the Jacobian is
large and sparse), its factors reused by chord steps while they pay, and steps backtrack on the
sum of squared residuals,
keeping every unknown positive. When Newton's method stalls, the same residuals and Jacobian are
handed to Ipopt (``cyipopt.Problem``: zero objective, the residuals as equality constraints, a
sparse Jacobian structure and a limited-memory Hessian), as the reference backend does.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

LOWER = 1e-10
"""Lower bound of every unknown, as in the reference model."""

NEWTON_TARGET = 1e-13
"""Largest residual at which Newton's method stops (well below the acceptance tolerance)."""


class Timer:
    """Seconds and counts spent in residual evaluations, Jacobians and factorisations."""

    def __init__(self):
        self.seconds = {"evaluation": 0.0, "jacobian": 0.0, "factorisation": 0.0}
        self.counts = {"evaluation": 0, "jacobian": 0, "factorisation": 0}

    def add(self, key, start):
        self.seconds[key] += time.perf_counter() - start
        self.counts[key] += 1

    def stats(self) -> dict:
        out = {f"{k}_seconds": v for k, v in self.seconds.items()}
        out.update({f"{k}s": v for k, v in self.counts.items()})
        return out


SINGLE_MIN = 2500
"""Size of the reduced system from which Newton's chord steps start from a single-precision LU."""


def single_precision(n: int, method: str = "auto") -> bool:
    """Whether a fresh dense factorisation of an ``n``-row Jacobian is made in single precision.

    A rule on the size alone, so that it never depends on the clock. The LU then takes half the
    time (LAPACK ``sgetrf``) and memory; its steps are those of Newton's method up to a relative
    error of about ``cond(J) 6e-8``, so the chord steps that follow still contract quickly, to a
    residual evaluated in double precision. :func:`newton` returns to double precision as soon as
    a single-precision factorisation stops paying.
    """
    return method == "auto" and n >= SINGLE_MIN


BLOCK_MIN = 400
"""Size of the reduced system from which ``"auto"`` factorises by blocks (:func:`factorise_blocks`)
when the Jacobian has the block-triangular pattern the system declares (a rule on size and on exact
zeros, never on the clock)."""


def factorise(J, method: str = "auto", single: bool = False, blocks=None):
    """LU factors of ``J`` (overwritten) and a function solving ``J d = b`` with them.

    ``method`` ``"dense"`` (LAPACK), ``"sparse"`` (SuperLU) or ``"auto"``: sparse when the
    Jacobian has more than 4,000 rows and fewer than 5% non-zeros; otherwise by blocks
    (:func:`factorise_blocks`) when ``blocks`` is given, the system has at least :data:`BLOCK_MIN`
    rows and its declared zero block is exactly zero; dense otherwise. ``single``: the dense
    factors in single precision (see :func:`single_precision`).
    """
    n = J.shape[0]
    if method == "auto":
        method = "dense"
        if n > 4000 and not _has_nonzeros(J, 0.05 * n * n):
            method = "sparse"
            single = False
        elif blocks is not None and n >= BLOCK_MIN:
            try:
                return factorise_blocks(J, blocks, single)
            except (np.linalg.LinAlgError, ValueError):
                pass  # the pattern does not hold or a diagonal block is singular: one dense LU
    if method == "sparse":
        lu = scipy.sparse.linalg.splu(scipy.sparse.csc_matrix(J))
        return lu.solve
    if method != "dense":
        raise ValueError(f"linear solver {method!r}; allowed: 'auto', 'dense', 'sparse'")
    if single:
        J = J.astype(np.float32)
    lu = scipy.linalg.lu_factor(J, overwrite_a=True, check_finite=False)
    if not np.all(np.isfinite(lu[0])) or np.min(np.abs(np.diag(lu[0]))) == 0.0:
        raise np.linalg.LinAlgError("singular Jacobian")
    if single:
        return lambda b: scipy.linalg.lu_solve(lu, b.astype(np.float32), check_finite=False).astype(float)
    return lambda b: scipy.linalg.lu_solve(lu, b, check_finite=False)


def _has_nonzeros(J, limit) -> bool:
    """Whether ``J`` has at least ``limit`` non-zeros: counted by slices of rows, stopping once reached
    (the same answer as counting them all; a dense Jacobian is read only in part)."""
    count = 0
    for a in range(0, J.shape[0], 256):
        count += int(np.count_nonzero(J[a : a + 256]))
        if count >= limit:
            return True
    return False


def _lu(a, what):
    """LU factors of the C-ordered copy ``a`` (overwritten: LAPACK factorises ``a.T`` in place)
    and a function solving ``a x = b`` with them."""
    lu = scipy.linalg.lu_factor(a.T, overwrite_a=True, check_finite=False)
    if not np.all(np.isfinite(lu[0])) or (len(a) and np.min(np.abs(np.diag(lu[0]))) == 0.0):
        raise np.linalg.LinAlgError(f"singular {what}")
    return lambda b: scipy.linalg.lu_solve(lu, b, trans=1, check_finite=False)


def _runs(idx):
    """An increasing index array as a list of ``(slice of the array, slice of the indices)`` runs."""
    idx = np.asarray(idx)
    cut = np.flatnonzero(np.diff(idx) != 1) + 1
    starts, stops = np.concatenate([[0], cut]), np.concatenate([cut, [len(idx)]])
    return [(slice(a, b), slice(int(idx[a]), int(idx[b - 1]) + 1)) for a, b in zip(starts, stops) if b > a]


def _take(J, rows, cols, dtype=float):
    """``J[np.ix_(rows, cols)]`` as a C-ordered ``dtype`` array, copied run by run of adjacent indices
    (fancy indexing of a large matrix is many times slower than copying its slices)."""
    out = np.empty((len(rows), len(cols)), dtype=dtype)
    rr, cc = _runs(rows), _runs(cols)
    for ro, ri in rr:
        for co, ci in cc:
            out[ro, co] = J[ri, ci]
    return out


def factorise_blocks(J, blocks, single: bool = False):
    r"""Factors of a Jacobian with a zero block, by block elimination: two LUs of half its size.

    ``blocks = ((r1, c1), (r2, c2), (r3, c3))`` partitions the rows and columns (index arrays) so
    that ``J[r1, c2] = 0``: with :math:`T = \begin{pmatrix} A & 0 \\ C & E \end{pmatrix}`
    (``A = J[r1, c1]``, ``C = J[r2, c1]``, ``E = J[r2, c2]``) block-triangular, border columns
    ``B = J[r1 + r2, c3]``, border rows ``G = J[r3, c1 + c2]`` and corner ``H = J[r3, c3]``,

    .. math::
        J d = f \iff \Sigma d_3 = f_3 - G T^{-1} f_{12},\quad d_{12} = T^{-1} (f_{12} - B d_3),
        \qquad \Sigma = H - G T^{-1} B,

    and :math:`T^{-1}` needs the LUs of ``A`` and ``E`` only. In the reduced system ``A`` is zero
    profit against producer prices, ``E`` goods markets against output (unit costs do not depend
    on output), and the border the few factor, income and labour unknowns: the two LUs of half the
    size cost a quarter of one of the whole. Raises ``ValueError`` if ``J[r1, c2]`` is not exactly
    zero and ``LinAlgError`` if a block is singular. ``single``: ``A``, ``C`` and ``E`` in single
    precision (the Schur complement :math:`\Sigma` stays in double).
    """
    (r1, c1), (r2, c2), (r3, c3) = blocks
    if any(J[ri, ci].any() for _, ri in _runs(r1) for _, ci in _runs(c2)):
        raise ValueError("the declared zero block of the Jacobian is not zero")
    dt = np.float32 if single else float
    solve_a = _lu(_take(J, r1, c1, dt), "zero-profit block")
    C = _take(J, r2, c1, dt)
    solve_e = _lu(_take(J, r2, c2, dt), "market block")

    def tri(f1, f2):  # T^{-1} (f1, f2)
        x1 = solve_a(f1.astype(dt))
        x2 = solve_e(f2.astype(dt) - C @ x1)
        return x1.astype(float), x2.astype(float)

    X1, X2 = tri(_take(J, r1, c3), _take(J, r2, c3))
    G1, G2 = _take(J, r3, c1), _take(J, r3, c2)
    solve_s = _lu(_take(J, r3, c3) - G1 @ X1 - G2 @ X2, "Schur complement")

    def solve(f):
        y1, y2 = tri(f[r1], f[r2])
        d3 = solve_s(f[r3] - G1 @ y1 - G2 @ y2)
        d = np.empty(len(f))
        d[c1], d[c2], d[c3] = y1 - X1 @ d3, y2 - X2 @ d3, d3
        return d

    return solve


REUSE_RATIO = 0.2
"""A step with an older factorisation is kept when it cuts the residual norm at least this much."""


SMALL_PAGES_FROM = 256 * 2**20
"""Size in bytes of the dense Jacobian from which calibration (:class:`cge.Model`) and the fast backend's
build, solves, checks and extraction run without numpy's advice for transparent huge pages (its own switch, on by default on Linux for arrays
of 4 MB and more). A rule on size, not a measurement at run time. With transparent huge pages on
``madvise`` and defrag ``madvise`` (the project's 2-core machine), a fault in advised memory makes the
kernel find or compact 2 MB of contiguous memory, and how long that takes depends on the machine's
state: in one state the 538 MB dense Jacobian of an 80 x 50 model took 0.5-1.3 s to touch the first
time against 0.2 s in small pages, and the solve 4.4-4.7 s against 3.2-3.9 s; in another, after a
session of large allocations, the solve took 9.4-10 s with huge pages (5.7-6.6 s of it the Jacobian,
builds up to 6 s) against 3.8-4.6 s in small pages, and huge pages for the solve's arrays alone
stalled the extraction after it for 4.4 s. Small pages cost a few per cent on arrays a process reuses
(0.19 against 0.09 s to touch the same array again), so below this size numpy's default stays (at
WIOD 2011 size, 70 MB, a Jacobian took 0.24 s with huge pages and 0.27 s without).
``NUMPY_MADVISE_HUGEPAGE`` in the environment (numpy's own variable) takes precedence. Results do not
depend on it."""


_PAGES = {"lock": threading.Lock(), "inside": 0, "before": None}


@contextmanager
def page_policy(jacobian_bytes: float):
    """A context in which numpy makes no huge-page advice when ``jacobian_bytes`` reaches
    :data:`SMALL_PAGES_FROM`. numpy's switch is process-wide: contexts in several threads share it,
    and the last one to leave restores numpy's setting as the first one found it."""
    multiarray = getattr(np, "_core", getattr(np, "core", None)).multiarray
    switch = getattr(multiarray, "_set_madvise_hugepage", None)
    if jacobian_bytes < SMALL_PAGES_FROM or switch is None or "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        yield
        return
    with _PAGES["lock"]:
        if _PAGES["inside"] == 0:
            _PAGES["before"] = switch(False)
        _PAGES["inside"] += 1
    try:
        yield
    finally:
        with _PAGES["lock"]:
            _PAGES["inside"] -= 1
            if _PAGES["inside"] == 0:
                switch(_PAGES["before"])


_BLAS = None


def one_blas_thread():
    """A context in which BLAS runs one thread (bits independent of the thread count; a
    ``threadpoolctl`` controller made once, as finding the libraries costs a millisecond a call)."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def newton(evaluate, jacobian, x0, max_iter=50, linear="auto", timer=None, reuse=True, blocks=None):
    """Damped Newton's method on ``F(x) = 0`` with ``x > 0``, reusing factorisations that still work.

    ``evaluate(x)`` returns a state with ``.residual``; ``jacobian(state)`` the dense Jacobian.
    After a step with a fresh Jacobian, later steps reuse its factorisation (a chord step costs
    one evaluation) as long as each cuts the residual norm by :data:`REUSE_RATIO`; otherwise the
    Jacobian is recomputed at the current point and the step is damped by backtracking on
    ``|F|^2``, keeping every unknown above :data:`LOWER`.
    ``blocks``: the system's block pattern for :func:`factorise` (``None``: none).
    BLAS and LAPACK run in one thread throughout: on a shared machine their threads only contend
    (a dense LU of WIOD size took 2-6 times longer in two threads on two busy cores than in one),
    and the bits of the solution then do not depend on the thread count.
    Returns ``(x, state, steps, converged, message)``.
    """
    with one_blas_thread():
        return _newton(evaluate, jacobian, x0, max_iter, linear, timer, reuse, blocks)


def _newton(evaluate, jacobian, x0, max_iter, linear, timer, reuse, blocks):
    timer = timer or Timer()
    x = np.array(x0, dtype=float)
    t = time.perf_counter()
    st = evaluate(x)
    timer.add("evaluation", t)
    F = st.residual
    if not np.all(np.isfinite(F)):
        return x, st, 0, False, "residuals not finite at the starting point"
    solve = None
    single = single_precision(len(x), linear)  # the next fresh factorisation in single precision
    steps = 0
    while True:
        norm = float(np.max(np.abs(F)))
        if norm <= NEWTON_TARGET:
            return x, st, steps, True, "converged"
        if steps >= max_iter:
            return x, st, steps, False, f"{max_iter} steps, max residual {norm:.3e}"
        fresh = solve is None or not reuse
        if fresh:
            t = time.perf_counter()
            J = jacobian(st)
            timer.add("jacobian", t)
            t = time.perf_counter()
            try:
                solve = factorise(J, linear, single, blocks)
            except (np.linalg.LinAlgError, RuntimeError, ValueError) as exc:
                if single:
                    single, solve = False, None
                    continue
                return x, st, steps, False, f"singular Jacobian: {exc}"
            timer.add("factorisation", t)
            del J
            in_single = single
        dx = -solve(F)
        if not np.all(np.isfinite(dx)):
            solve, single = None, False
            if fresh and not in_single:
                return x, st, steps, False, "Newton step not finite"
            continue
        neg = dx < 0
        alpha = 1.0
        if neg.any():
            alpha = min(1.0, 0.995 * float(np.min((x[neg] - LOWER) / -dx[neg])))
        merit = float(F @ F)
        if not fresh:
            xn = x + alpha * dx
            t = time.perf_counter()
            stn = evaluate(xn)
            timer.add("evaluation", t)
            Fn = stn.residual
            if np.all(np.isfinite(Fn)) and float(Fn @ Fn) <= REUSE_RATIO**2 * merit:
                x, st, F = xn, stn, Fn
                steps += 1
                if _refresh_pays(norm, float(np.max(np.abs(Fn)))):
                    solve, single = None, False
            else:
                solve, single = None, False  # the old factorisation no longer helps: a fresh Jacobian here
            continue
        while True:
            xn = x + alpha * dx
            t = time.perf_counter()
            stn = evaluate(xn)
            timer.add("evaluation", t)
            Fn = stn.residual
            if np.all(np.isfinite(Fn)) and float(Fn @ Fn) <= (1.0 - 1e-4 * alpha) * merit:
                break
            alpha *= 0.5
            if alpha < 1e-10:
                if in_single:  # the single-precision step does not descend: again in double precision
                    break
                # at the precision floor a full step no longer reduces the residual: stop there
                if norm <= 1e-10:
                    return x, st, steps, True, "converged to rounding precision"
                return x, st, steps, False, f"line search failed at max residual {norm:.3e}"
        if alpha < 1e-10:
            single, solve = False, None
            continue
        x, st, F = xn, stn, Fn
        steps += 1


FRESH_COST = 12.0
"""Cost of a fresh Jacobian and its factorisation, in residual evaluations (measured on WIOD 2011:
0.2 s Jacobian + 0.1 s LU by blocks against 0.02 s per evaluation; 80 x 50: about 40). A fixed
number, not a timing, so that the steps taken, and so the bits of the solution, never depend on
the clock."""


def _refresh_pays(before: float, after: float) -> bool:
    """Whether a fresh Jacobian is expected to reach the target sooner than more chord steps.

    Chord steps contract the residual linearly at the rate just observed; Newton steps from a
    fresh Jacobian square it. A fresh Jacobian costs :data:`FRESH_COST` evaluations.
    """
    if after <= NEWTON_TARGET or after <= 0.0:
        return False
    rate = after / before
    chord_steps = np.log(NEWTON_TARGET / after) / np.log(rate) if rate < 1.0 else np.inf
    newton_steps = max(1.0, np.ceil(np.log2(np.log(NEWTON_TARGET) / np.log(min(after, 0.5)))))
    return FRESH_COST + newton_steps < chord_steps


class _IpoptProblem:
    """The reduced system for ``cyipopt.Problem``: zero objective, residuals as equalities."""

    def __init__(self, evaluate, jacobian, structure, timer):
        self.evaluate, self.jac, self.timer = evaluate, jacobian, timer
        self.rows, self.cols = structure
        self.iterations = 0
        self._x = None
        self._st = None

    def _state(self, x):
        if self._x is None or not np.array_equal(x, self._x):
            t = time.perf_counter()
            self._st = self.evaluate(np.array(x))
            self.timer.add("evaluation", t)
            self._x = np.array(x)
        return self._st

    def objective(self, x):
        return 0.0

    def gradient(self, x):
        return np.zeros_like(x)

    def constraints(self, x):
        return self._state(x).residual

    def jacobianstructure(self):
        return self.rows, self.cols

    def jacobian(self, x):
        t = time.perf_counter()
        J = self.jac(self._state(x))
        self.timer.add("jacobian", t)
        return J[self.rows, self.cols]

    def intermediate(self, alg_mod, iter_count, *args):
        self.iterations = iter_count
        return True


def ipopt(evaluate, jacobian, x0, structure, options, timer=None):
    """Solve ``F(x) = 0, x >= LOWER`` with Ipopt; returns ``(x, state, iterations, status message)``."""
    import cyipopt

    timer = timer or Timer()
    n = len(x0)
    prob = _IpoptProblem(evaluate, jacobian, structure, timer)
    nlp = cyipopt.Problem(
        n=n, m=n, problem_obj=prob, lb=np.full(n, LOWER), ub=np.full(n, np.inf), cl=np.zeros(n), cu=np.zeros(n)
    )
    opts = {"hessian_approximation": "limited-memory", "sb": "yes"}
    opts.update(options)
    for k, v in opts.items():
        nlp.add_option(k, v)
    x, info = nlp.solve(np.array(x0, dtype=float))
    st = prob._state(x)
    return x, st, prob.iterations, info["status_msg"].decode() if isinstance(info["status_msg"], bytes) else str(info["status_msg"])
