"""The fast backend's model object: the interface of :class:`cge.solve.Model` on the reduced system."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..benchmark import Benchmark
from ..calibrate import calibrate, check_same_for_both_uses
from ..model import Closure
from ..solve import IPOPT_OPTIONS, Model, Solution, SolveError
from .equations import equation_labels, equation_residuals, variables_of
from .layout import Layout
from .solvers import Timer, ipopt, newton
from .system import Instruments, System

FAST_OPTIONS = {"method": "newton", "newton_linear_solver": "auto", "newton_max_iter": 50}
"""Options of the fast backend (``solver_options`` keys); every other key is an Ipopt option.

``method``: ``"newton"`` (Newton's method, Ipopt when it fails) or ``"ipopt"`` (Ipopt only);
``newton_linear_solver``: ``"auto"``, ``"dense"`` or ``"sparse"`` factorisation of the Jacobian
in Newton's method; ``newton_max_iter``: Newton steps before falling back to Ipopt.
"""


class FastModel:
    """The calibrated model of :class:`cge.solve.Model`, solved in reduced form from array evaluations.

    Same calibration, closures, scenarios, :class:`~cge.solve.Solution` and
    :class:`~cge.results.Results` as the reference (Pyomo) backend; the unknowns are producer
    prices, activity levels, factor prices, incomes and labour supplies, every other variable of
    the reference model being a closed form of them (see :mod:`cge.fast.system`). After each solve
    the full equation system of the reference model is evaluated (:mod:`cge.fast.equations`) and
    the solve is accepted only when its largest residual is within the tolerance.
    """

    backend = "fast"

    def __init__(
        self,
        bench: Benchmark,
        closure: Closure | None = None,
        sourcing: str = "agent",
        elasticities: dict | None = None,
        solver_options: dict | None = None,
    ):
        self.bench = bench
        self.closure = closure or Closure()
        self.sourcing = sourcing
        self.params = calibrate(bench, sourcing=sourcing, elasticities=elasticities)
        options = dict(FAST_OPTIONS)
        ipopt_options = dict(IPOPT_OPTIONS)
        for k, v in (solver_options or {}).items():
            (options if k in FAST_OPTIONS else ipopt_options)[k] = v
        if options["method"] not in ("newton", "ipopt"):
            raise ValueError(f"solver_options method={options['method']!r}; allowed: 'newton', 'ipopt'")
        self.options = options
        self.solver_options = ipopt_options
        start = time.perf_counter()
        self.layout = Layout(self.params, self.closure)
        self.system = System(self.layout)
        self.build_seconds = time.perf_counter() - start
        self._benchmark_values = self.system.benchmark_point()
        self._x = self._benchmark_values.copy()
        self._state = None
        self._labels = None
        self._structure = None
        self._set_instruments(bench.tariff_0.copy(), np.ones_like(bench.tariff_0), 1.0)
        self.log: list[str] = []

    # ------------------------------------------------------------------ shared with the reference backend
    solve = Model.solve
    path = Model.path
    _solve_to = Model._solve_to
    _label = Model._label

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Return every variable and instrument to the benchmark."""
        self._restore(self._benchmark_values)
        self._set_instruments(self.bench.tariff_0, np.ones_like(self.bench.tariff_0), 1.0)

    def _values(self) -> np.ndarray:
        return self._x.copy()

    def _restore(self, values: np.ndarray) -> None:
        self._x = np.array(values, dtype=float)
        self._state = None

    def _set_instruments(self, t: np.ndarray, tau: np.ndarray, numeraire_value: float) -> None:
        if self.sourcing == "common":
            check_same_for_both_uses(self.bench, tariff=t, iceberg=tau)
        t, tau = np.array(t, dtype=float), np.array(tau, dtype=float)
        self._inst = Instruments(self.layout, t, tau, numeraire_value)
        self._instruments = (t.copy(), tau.copy(), float(numeraire_value))
        self._state = None

    @property
    def state(self):
        """Prices, quantities and reduced residuals at the current point."""
        if self._state is None:
            self._state = self.system.evaluate(self._x, self._inst)
        return self._state

    def _evaluate(self, x):
        return self.system.evaluate(x, self._inst)

    # ------------------------------------------------------------------ residuals
    def _equations(self):
        """Residual arrays of the full equation system at the current point, and the Walras market."""
        return equation_residuals(self.layout, self._inst, variables_of(self.state, self.layout))

    def residuals(self) -> pd.Series:
        """Residual of every equation of the full model at the current point, labelled, plus the Walras market."""
        blocks, walras = self._equations()
        values = np.concatenate([*blocks.values(), [walras]])
        if self._labels is None:
            self._labels = pd.Index(equation_labels(self.layout, self._label))
        return pd.Series(values, index=self._labels, name="residual", dtype=float)

    def jacobian(self) -> np.ndarray:
        """Exact Jacobian of the reduced system at the current point (rows: equations, columns: unknowns)."""
        return self.system.jacobian(self.state)

    def reduced_residuals(self) -> pd.Series:
        """Residuals of the reduced system at the current point, labelled by the unknown each determines."""
        names = self.layout.unknown_names()
        return pd.Series(self.state.residual, index=names, name="residual")

    # ------------------------------------------------------------------ solving
    def _ipopt_structure(self):
        """Sparsity of the Jacobian: non-zeros at the current point and at a perturbed one."""
        if self._structure is None:
            rng = np.random.default_rng(0)
            x = self._x
            mask = self.system.jacobian(self._evaluate(x)) != 0
            mask |= self.system.jacobian(self._evaluate(x * rng.uniform(0.9, 1.1, size=x.shape))) != 0
            self._structure = np.nonzero(mask)
        return self._structure

    def _attempt(self, instruments, tol):
        """One solve from the current point; (ok, stats, error), as :meth:`cge.solve.Model._attempt`."""
        self._last_good = self._values()
        self._set_instruments(*instruments)
        timer = Timer()
        stats = {"method": self.options["method"]}
        x0 = self._x.copy()
        t0 = time.perf_counter()
        ok = False
        try:
            if self.options["method"] == "newton":
                x, st, it, ok, msg = newton(
                    self._evaluate, self.system.jacobian, x0, self.options["newton_max_iter"], self.options["newton_linear_solver"], timer
                )
                stats["iterations"], stats["termination"] = it, msg
                stats["newton_iterations"] = it
            if not ok:
                if self.options["method"] == "newton":
                    stats["newton_failure"] = msg
                x, st, it, msg = ipopt(self._evaluate, self.system.jacobian, x0, self._ipopt_structure(), self.solver_options, timer)
                stats["iterations"] = stats.get("iterations", 0) + it
                stats["termination"] = msg
                stats["method"] = "ipopt" if self.options["method"] == "ipopt" else "newton, then ipopt"
        except Exception as exc:  # evaluation errors or solver failures are reported as SolveError
            self._restore(self._last_good)
            return False, stats, SolveError(f"the fast backend stopped with an error: {exc}")
        stats["solver_seconds"] = time.perf_counter() - t0
        stats.update(timer.stats())
        self._x, self._state = np.array(x), st
        t1 = time.perf_counter()
        blocks, walras = self._equations()
        worst = max(float(np.max(np.abs(v))) if len(v) else 0.0 for v in blocks.values())
        worst = max(worst, abs(walras))
        stats["check_seconds"] = time.perf_counter() - t1
        stats["max_residual"] = worst
        if not np.isfinite(worst) or worst > tol:
            res = self.residuals()
            order = res.abs().sort_values(ascending=False)
            top = "\n".join(f"  {k}: {res[k]:.3e}" for k in order.index[:5])
            err = SolveError(
                f"no equilibrium within tolerance {tol:g} ({stats['method']}: {stats.get('termination')}); worst equations:\n{top}", res
            )
            self._restore(self._last_good)
            return False, stats, err
        return True, stats, None

    # ------------------------------------------------------------------ extraction
    def _solution(self, stats: dict) -> Solution:
        L, P, st = self.layout, self.params, self.state
        R, S, F = P.fp_0.shape
        fd = np.zeros((R, S, F))
        fd[L.use_s, L.use_j, L.use_f] = st.FD
        w = np.zeros((R, S, F))
        w[L.use_s, L.use_j, L.use_f] = st.w[L.use_k]
        pfd = np.where(L.agent_exists, st.PFD, 1.0)
        utility = st.inc * np.exp(-(P.alpha * np.log(pfd)).sum(axis=1))
        t, tau, num = self._instruments
        return Solution(
            p=np.where(L.prod, st.p, 0.0),
            y=np.where(L.prod, st.y, 0.0),
            w=w,
            factor_demand=fd,
            z=np.array(st.Zb),
            pfd=pfd,
            income=st.inc * P.income_0,
            utility=utility,
            labour_supply=st.ls.copy(),
            tariff=t,
            tau=tau,
            numeraire_value=num,
            max_residual=stats.get("max_residual", float("nan")),
            walras_residual=float(st.walras_excess),
            stats=stats,
        )

    def size(self) -> dict:
        """Numbers of variables and equations of the full model, and of the reduced system solved."""
        L = self.layout
        n_comp = int(L.comp.sum())
        n_pm = int(L.nest_c.sum()) if L.common else int(L.nest.sum())
        n_qm = n_pm if L.common else 0
        full = 2 * L.N + int(L.has_va.sum()) + int(L.has_int.sum()) + L.K + 2 * n_comp + n_pm + n_qm + int(L.agent_exists.sum()) + L.R + L.L
        return {"variables": full, "equations": full, "reduced": L.n}


AUTO_FAST_FLOWS = 2000
"""``choose_backend`` picks the fast backend above this many Armington terms (bilateral flows)."""


def choose_backend(bench: Benchmark, sourcing: str = "agent") -> str:
    """``"fast"`` for models with more than :data:`AUTO_FAST_FLOWS` bilateral flows, else ``"pyomo"``.

    The Pyomo model holds one expression per flow (buyer by buyer with ``sourcing="agent"``); its
    build time grows with their number while the fast backend's does not.
    """
    flows = int(np.count_nonzero(bench.z_0) + np.count_nonzero(bench.f_0))
    return "fast" if flows > AUTO_FAST_FLOWS else "pyomo"
