"""One solver front for every backend: :class:`Model`, residual checks, starts, homotopy, paths.

A backend (:mod:`cge.model.backend` for Pyomo, :mod:`cge.fast.backend` for the reduced vectorised
system) builds the equations of :mod:`cge.equations` for a calibrated benchmark and offers five
operations: set the instruments, read and restore its point, evaluate the residual of every
equation block, and run its solver once from the current point. Everything else is written here
once: the choice of backend, where a solve starts, homotopy, the residual check that decides
whether a point is an equilibrium, :class:`SolveError`, and the extraction of results.

Every solve starts from the benchmark (or from an explicit ``start``), so the same scenario gives
the same bits whatever was solved before on the same model. The system is square (one equation per
variable, with one goods market replaced by the numeraire); after every solve the residual of every
equation, and of the goods market left out by Walras' law, is checked: a point with a residual
above the tolerance, or any residual that is not a finite number, is not an equilibrium and the
solve raises :class:`SolveError` naming the worst equations. Only that (the solver did not reach an
equilibrium) is a ``SolveError``: bad input and programming errors propagate with their cause.
"""

from __future__ import annotations

import copy
import logging
import resource
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .benchmark import Benchmark
from .calibrate import calibrate
from .closure import Closure, ClosureError
from .equations import WALRAS_LABEL, check_blocks, index_names, label
from .instruments import Instruments
from .scenario import Scenario, ScenarioError

log = logging.getLogger("cge")

RESIDUAL_TOLERANCE = 1e-8
"""Largest accepted residual of any equation (all equations are in relative form)."""

IPOPT_OPTIONS = {
    "tol": 1e-11,
    "constr_viol_tol": 1e-11,
    "acceptable_tol": 1e-9,
    "nlp_scaling_method": "none",
    "max_iter": 300,
    "print_level": 0,
}
"""Ipopt options of both backends (``solver_options`` override them)."""

BACKENDS = ("pyomo", "fast", "auto")
AUTO_FAST_FLOWS = 2000
"""``backend="auto"`` picks the fast backend above this many Armington terms (bilateral flows)."""

DEFAULT_PATH_STEPS = 8
"""Points on the path from the benchmark along which the welfare decomposition is integrated."""


class SolveError(RuntimeError):
    """The solver did not reach an equilibrium within tolerance; the message names the worst equations."""

    def __init__(self, message: str, residuals: pd.Series | None = None):
        super().__init__(message)
        self.residuals = residuals


@dataclass
class Solution:
    """A solved equilibrium in arrays (levels, benchmark units), independent of the backend.

    ``z`` holds delivered quantities in benchmark-value units, ``(R, S, R, B)``; ``factor_demand``
    is in benchmark-value units, ``(R, S, F)``; ``w`` the factor price each use pays, ``(R, S, F)``.
    ``instruments`` are the policy levels solved for; ``values`` the backend's point (a start for
    another solve).
    """

    p: np.ndarray
    y: np.ndarray
    w: np.ndarray
    factor_demand: np.ndarray
    z: np.ndarray
    pfd: np.ndarray
    income: np.ndarray
    utility: np.ndarray
    labour_supply: np.ndarray
    instruments: Instruments
    max_residual: float = float("nan")
    walras_residual: float = float("nan")
    stats: dict = field(default_factory=dict)
    values: np.ndarray | None = None

    @property
    def tariff(self) -> np.ndarray:
        return self.instruments.tariff

    @property
    def tau(self) -> np.ndarray:
        return self.instruments.iceberg

    @property
    def output_tax(self) -> np.ndarray:
        return self.instruments.output_tax

    @property
    def numeraire_value(self) -> float:
        return self.instruments.numeraire_value

    @property
    def unit_cost(self) -> np.ndarray:
        """Unit cost ``c = p / (1 + output tax)`` of each producer, relative to the benchmark."""
        return self.p / (1.0 + self.instruments.output_tax)


def choose_backend(bench: Benchmark, sourcing: str = "agent") -> str:
    """``"fast"`` for models with more than :data:`AUTO_FAST_FLOWS` bilateral flows, else ``"pyomo"``.

    The Pyomo model holds one expression per flow (buyer by buyer with ``sourcing="agent"``); its
    build time grows with their number while the fast backend's does not.
    """
    flows = int(np.count_nonzero(bench.z_0) + np.count_nonzero(bench.f_0))
    return "fast" if flows > AUTO_FAST_FLOWS else "pyomo"


def _backend_class(name: str):
    if name == "pyomo":
        from .model.backend import PyomoBackend

        return PyomoBackend
    from .fast.backend import FastBackend

    return FastBackend


class Model:
    """A calibrated equilibrium model of a benchmark, solved by one of several backends.

    ``closure`` (default :class:`Closure` ()), ``sourcing`` ``"agent"`` (each buyer its own
    Armington nest) or ``"common"`` (one import mix per commodity and importer), ``elasticities``
    overriding the benchmark's. ``backend``: ``"auto"`` (default: picks by size, see
    :func:`choose_backend`, and records its choice in ``model.log`` and the results' metadata),
    ``"pyomo"`` (the readable reference formulation) or ``"fast"`` (the reduced system solved from
    vectorised evaluations, for full-size tables; see :mod:`cge.fast`). ``solver_options`` are
    Ipopt options, plus the fast backend's own (:data:`cge.fast.FAST_OPTIONS`) or the Pyomo
    backend's (:data:`cge.model.backend.PYOMO_OPTIONS`). ``size_nest``:
    the firm-size nest on a benchmark split by firm size (default None: on when the benchmark
    carries ``metadata["firm_size"]``; see :func:`cge.calibrate.size_groups`); its elasticity is
    ``elasticities={"sigma_size": ...}``; both backends build it.
    """

    def __init__(
        self,
        bench: Benchmark,
        closure: Closure | None = None,
        sourcing: str = "agent",
        elasticities: dict | str | None = None,
        backend: str = "auto",
        solver_options: dict | None = None,
        size_nest: bool | None = None,
    ):
        if not isinstance(bench, Benchmark):
            raise TypeError(f"Model(bench=...) needs a cge.Benchmark, got {type(bench).__name__}")
        if closure is not None and not isinstance(closure, Closure):
            raise ClosureError(f"Model(closure={closure!r}) needs a cge.Closure, e.g. cge.Closure(labour='fixed_real_wage')")
        if backend not in BACKENDS:
            raise ValueError(f"Model(backend={backend!r}); allowed: {list(BACKENDS)}")
        if solver_options is not None and not isinstance(solver_options, dict):
            raise TypeError(f"Model(solver_options={solver_options!r}) must be a dict of option names and values")
        self.bench = bench
        self.closure = closure or Closure()
        self.sourcing = sourcing
        self.solver_options = dict(solver_options or {})
        from .fast.solvers import page_policy

        with page_policy(8.0 * (2 * bench.n_regions * bench.n_sectors) ** 2):  # flow-size arrays of large tables in small pages
            self.params = calibrate(bench, sourcing=sourcing, elasticities=elasticities, size_nest=size_nest)
        self.size_nest = self.params.size_nest
        self.log: list[str] = []
        self.requested_backend = backend
        self.backend = choose_backend(bench, sourcing) if backend == "auto" else backend
        if backend == "auto":
            self.log.append(f"backend 'auto' chose {self.backend!r} for {bench.n_regions} x {bench.n_sectors}")
        self.engine = _backend_class(self.backend)(self.params, self.closure, solver_options or {})
        self.build_seconds = self.engine.build_seconds
        self._labels: pd.Index | None = None
        self.benchmark_gvc: dict = {}
        """Headline GVC indicators of the benchmark table by region grouping, computed once for all results."""
        self._benchmark_values = self.engine.values()
        self.instruments = Instruments.benchmark(bench)
        self._set_instruments(self.instruments)

    def with_elasticities(self, elasticities: dict | str) -> "Model":
        """A model of the same benchmark, closure, sourcing and backend with other elasticities.

        ``elasticities`` override this model's values (scalars or per-sector arrays); a string or
        a ``"set"`` key selects a stored set first, as in :class:`Model`. The parameters are
        recalibrated; the fast backend keeps its options and rebuilds its layout only
        (:meth:`cge.fast.backend.FastBackend.with_params`), other backends are rebuilt. This model
        is left unchanged, and the results of its solves can start the new model's (``start=``):
        the unknowns are the same.
        """
        named = isinstance(elasticities, str) or "set" in elasticities
        values = elasticities if named else {**self.params.sigma, **elasticities}
        params = calibrate(self.bench, sourcing=self.sourcing, elasticities=values, size_nest=self.size_nest)
        other = copy.copy(self)
        other.params = params
        rebuild = getattr(self.engine, "with_params", None)
        other.engine = rebuild(params) if rebuild else _backend_class(self.backend)(params, self.closure, self.solver_options)
        other.build_seconds = other.engine.build_seconds
        other.log, other._labels = [], None
        other._benchmark_values = other.engine.values()
        other._set_instruments(Instruments.benchmark(self.bench))
        return other

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Return every variable and instrument to the benchmark."""
        self.engine.restore(self._benchmark_values)
        self._set_instruments(Instruments.benchmark(self.bench))

    def _set_instruments(self, inst: Instruments) -> None:
        if np.any(inst.fixed_cost != 1.0):  # no heterogeneous-firm sectors in this model (cge.melitz has them)
            from .instruments import InstrumentError

            k = tuple(np.argwhere(inst.fixed_cost != 1.0)[0])
            cell = f"({self.bench.regions[k[0]]}, {self.bench.sectors[k[1]]}, {self.bench.regions[k[2]]})"
            raise InstrumentError(
                f"fixed_cost {cell} = {float(inst.fixed_cost[k])!r}: fixed costs of serving routes act on heterogeneous-firm sectors, "
                f"which cge.Model (backend {self.engine.name!r}) does not have; solve with cge.melitz.MelitzModel (fast formulation only)"
            )
        self.params.sourcing.check(self.bench, tariff=inst.tariff, iceberg=inst.iceberg, duty_exemption=inst.duty_exemption)
        self.engine.set_instruments(inst)
        self.instruments = inst

    def _values(self) -> np.ndarray:
        return self.engine.values()

    # ------------------------------------------------------------------ residuals
    def residual_blocks(self) -> tuple[dict, float]:
        """Residual arrays of every equation block at the current point (registry order), and the Walras market."""
        blocks, walras = self.engine.residual_blocks()
        check_blocks(list(blocks), self.backend)
        return blocks, walras

    def residuals(self) -> pd.Series:
        """Residual of every equation at the current point, labelled, plus the Walras market."""
        blocks, walras = self.residual_blocks()
        return self._series(blocks, walras)

    def _series(self, blocks: dict, walras: float) -> pd.Series:
        if self._labels is None:
            names = index_names(self.params)
            labels = [label(b, k, names) for b, idx in self.engine.residual_indices().items() for k in idx]
            r, i = self.engine.walras_market
            labels.append(f"{WALRAS_LABEL} ({self.params.regions[r]}, {self.params.sectors[i]})")
            self._labels = pd.Index(labels)
        values = np.concatenate([*(np.asarray(v, dtype=float) for v in blocks.values()), [walras]])
        return pd.Series(values, index=self._labels, name="residual", dtype=float)

    @staticmethod
    def worst_residual(blocks: dict, walras: float) -> float:
        """Largest absolute residual; infinite when any residual is not a finite number."""
        values = np.concatenate([*(np.asarray(v, dtype=float).ravel() for v in blocks.values()), [walras]])
        if not np.all(np.isfinite(values)):
            return float("inf")
        return float(np.max(np.abs(values))) if len(values) else 0.0

    # ------------------------------------------------------------------ solving
    def solve(
        self,
        scenario: Scenario | None = None,
        tol: float = RESIDUAL_TOLERANCE,
        homotopy: bool = True,
        decompose: bool | int = False,
        start=None,
    ):
        """Solve for the equilibrium of ``scenario`` (the benchmark when None).

        The solve starts from the benchmark, or from ``start`` (the :class:`~cge.results.Results`
        of an earlier solve on this model). When a direct solve fails and ``homotopy`` is on, the
        shock is reached in steps, halving the step on failure; the steps are recorded in the
        result's log. ``decompose`` (``True`` or a number of steps) also solves the path from the
        benchmark along which :meth:`~cge.results.Results.welfare_decomposition` integrates, and
        stores it in the results.
        """
        from .results import Results

        scenario = scenario or Scenario(name="benchmark")
        if not isinstance(scenario, Scenario):
            raise ScenarioError(f"Model.solve needs a cge.Scenario, got {type(scenario).__name__}")
        target = scenario.instruments(self.bench)
        steps = _path_steps(decompose)
        if start is None:
            self.reset()
        else:
            self._start_from(start)
        t0 = time.perf_counter()
        log_lines: list[str] = []
        stats = self._solve_to(target, tol, homotopy, log_lines)
        stats["solve_seconds"] = time.perf_counter() - t0
        stats["build_seconds"] = self.build_seconds
        stats["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        solution = self._solution(stats)
        path = None
        if steps:
            t1 = time.perf_counter()
            path = self._path_to(target, steps, tol, last=solution)
            stats["path_seconds"] = time.perf_counter() - t1
            self.engine.restore(solution.values)
            self._set_instruments(target)
        self.log.extend(log_lines)
        return Results(self, scenario, solution, log=log_lines, path=path)

    def _start_from(self, start) -> None:
        sol = getattr(start, "solution", start)
        if not isinstance(sol, Solution) or sol.values is None or len(sol.values) != len(self._benchmark_values):
            raise ValueError("start must be the Results (or Solution) of an earlier solve on this model")
        self.engine.restore(sol.values)
        self._set_instruments(sol.instruments)

    def _solve_to(self, target: Instruments, tol, homotopy, log_lines) -> dict:
        origin = self.instruments
        ok, stats, err = self._attempt(target, tol)
        if ok:
            return stats
        if not homotopy:
            raise err
        log_lines.append(f"direct solve failed ({err.args[0].splitlines()[0]}); stepping the shock")
        done, step, last = 0.0, 0.5, self._values()
        iterations = stats.get("iterations", 0)
        while done < 1.0:
            weight = min(1.0, done + step)
            self.engine.restore(last)
            ok, st, err = self._attempt(origin.toward(target, weight), tol)
            iterations += st.get("iterations", 0)
            if ok:
                log_lines.append(f"homotopy: reached {weight:.4g} of the shock")
                done, last = weight, self._values()
                step = min(2 * step, 1.0 - done) if done < 1.0 else step
            else:
                step /= 2.0
                if step < 1.0 / 256:
                    raise SolveError(f"homotopy failed at {done:.4g} of the shock: {err.args[0]}", err.residuals)
        return dict(st, iterations=iterations, homotopy_steps=len(log_lines) - 1)

    def _attempt(self, inst: Instruments, tol: float):
        """One solver run from the current point; (ok, stats, error). A failure restores the start."""
        start_values, previous = self._values(), self.instruments
        self._set_instruments(inst)
        stats = self.engine.run_solver()
        t0 = time.perf_counter()
        blocks, walras = self.residual_blocks()
        worst = self.worst_residual(blocks, walras)
        stats["check_seconds"] = time.perf_counter() - t0
        stats["max_residual"] = worst
        if stats.get("solver_failed") or not worst <= tol:
            res = self._series(blocks, walras)
            order = res.abs().fillna(np.inf).sort_values(ascending=False, kind="stable")
            top = "\n".join(f"  {k}: {res[k]:.3e}" for k in order.index[:5])
            err = SolveError(
                f"no equilibrium within tolerance {tol:g} ({stats.get('method', self.backend)}: {stats.get('termination')}); "
                f"worst equations:\n{top}",
                res,
            )
            self.engine.restore(start_values)
            self._set_instruments(previous)
            return False, stats, err
        return True, stats, None

    def _solution(self, stats: dict) -> Solution:
        arrays = self.engine.solution_arrays()
        return Solution(
            **arrays,
            instruments=self.instruments,
            max_residual=stats.get("max_residual", float("nan")),
            stats=stats,
            values=self._values(),
        )

    def _path_to(self, target: Instruments, steps: int, tol: float, last: Solution | None = None) -> list[Solution]:
        origin = Instruments.benchmark(self.bench)
        self.reset()
        blocks, walras = self.residual_blocks()
        out = [self._solution({"max_residual": self.worst_residual(blocks, walras)})]
        for k in range(1, steps + 1):
            if k == steps and last is not None:
                out.append(last)
                break
            stats = self._solve_to(origin.toward(target, k / steps), tol, True, [])
            out.append(self._solution(stats))
        return out

    def path(self, scenario: Scenario, steps: int) -> list[Solution]:
        """Solutions at ``steps`` evenly spaced points from the benchmark to ``scenario``.

        The model is left at the scenario's equilibrium.
        """
        if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
            raise ValueError(f"steps = {steps!r}; must be an integer >= 1")
        return self._path_to(scenario.instruments(self.bench), steps, RESIDUAL_TOLERANCE)

    def size(self) -> dict:
        """Numbers of variables and equations (and of the reduced system the fast backend solves)."""
        return self.engine.size()

    def __repr__(self) -> str:
        return f"Model({self.bench.metadata.get('name', 'benchmark')!r}, backend={self.backend!r}, sourcing={self.sourcing!r})"


def _path_steps(decompose) -> int:
    if decompose is False or decompose is None:
        return 0
    if decompose is True:
        return DEFAULT_PATH_STEPS
    if isinstance(decompose, int) and decompose >= 1:
        return decompose
    raise ValueError(f"decompose = {decompose!r}; must be True, False or a number of path steps >= 1")
