"""Building and solving the model: :class:`Model`, residual checks, warm starts and homotopy.

The system is square (one equation per variable, with one goods market replaced by the numeraire)
and is solved by Ipopt through Pyomo's PyNumero ``cyipopt`` interface with a constant objective.
After every solve the residual of every equation, and of the goods market left out by Walras' law,
is checked; a solve that misses the tolerance raises :class:`SolveError` naming the worst equations.
"""

from __future__ import annotations

import logging
import resource
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.opt import TerminationCondition

from .benchmark import Benchmark
from .calibrate import calibrate, check_same_for_both_uses
from .model import Closure, build_model
from .scenario import Scenario

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

EQUATION_LABELS = {
    "zero_profit": ("zero profit", ("region", "sector")),
    "pva_def": ("value-added price", ("region", "sector")),
    "pint_def": ("intermediate price", ("region", "sector")),
    "input_demand": ("intermediate composite demand", ("region", "buyer", "commodity")),
    "armington_price": ("Armington price", ("region", "buyer", "commodity")),
    "import_price": ("import price", None),
    "import_quantity": ("import composite demand", ("region", "commodity")),
    "goods_market": ("market clearing", ("region", "sector")),
    "factor_market_clearing": ("factor market", ("region", "factor", "sector")),
    "pfd_def": ("final-demand price", ("region", "agent")),
    "final_demand": ("final composite demand", ("region", "buyer", "commodity")),
    "income_balance": ("income balance", ("region",)),
    "numeraire": ("numeraire", ()),
    "labour_supply": ("labour supply", ("region",)),
}


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
    tariff: np.ndarray
    tau: np.ndarray
    numeraire_value: float
    max_residual: float = float("nan")
    walras_residual: float = float("nan")
    stats: dict = field(default_factory=dict)


class Model:
    """A calibrated equilibrium model of a benchmark.

    ``closure`` (default :class:`Closure` ()), ``sourcing`` ``"agent"`` (each buyer its own
    Armington nest) or ``"common"`` (one import mix per commodity and importer), ``elasticities``
    overriding the benchmark's. ``backend``: ``"pyomo"`` (the readable reference formulation),
    ``"fast"`` (vectorised evaluations passed to Ipopt directly, for full-size tables; see
    :mod:`cge.fast`) or ``"auto"`` (picks by size and says which it used in ``model.log``).
    """

    def __new__(cls, bench=None, closure=None, sourcing="agent", elasticities=None, backend="pyomo", solver_options=None):
        if cls is Model and backend in ("fast", "auto"):
            from . import fast

            chosen = "fast" if backend == "fast" else fast.choose_backend(bench, sourcing)
            if chosen == "fast":
                model = fast.FastModel(bench, closure=closure, sourcing=sourcing, elasticities=elasticities, solver_options=solver_options)
                if backend == "auto":
                    model.log.append(f"backend 'auto' chose 'fast' for {bench.n_regions} x {bench.n_sectors}")
                return model
        return super().__new__(cls)

    def __init__(
        self,
        bench: Benchmark,
        closure: Closure | None = None,
        sourcing: str = "agent",
        elasticities: dict | None = None,
        backend: str = "pyomo",
        solver_options: dict | None = None,
    ):
        if backend not in ("pyomo", "auto"):
            raise ValueError(f"backend={backend!r}; available: 'pyomo', 'fast', 'auto'")
        self.bench = bench
        self.closure = closure or Closure()
        self.sourcing = sourcing
        self.backend = "pyomo"
        self.params = calibrate(bench, sourcing=sourcing, elasticities=elasticities)
        self.solver_options = dict(IPOPT_OPTIONS, **(solver_options or {}))
        start = time.perf_counter()
        self.m = build_model(self.params, self.closure)
        self.build_seconds = time.perf_counter() - start
        self._vars = list(self.m.component_data_objects(pyo.Var, descend_into=True))
        self._benchmark_values = np.array([v.value for v in self._vars])
        self._instruments = (bench.tariff_0.copy(), np.ones_like(bench.tariff_0), 1.0)
        self.log: list[str] = []
        if backend == "auto":
            self.log.append(f"backend 'auto' chose 'pyomo' for {bench.n_regions} x {bench.n_sectors}")

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Return every variable and instrument to the benchmark."""
        self._restore(self._benchmark_values)
        self._set_instruments(self.bench.tariff_0, np.ones_like(self.bench.tariff_0), 1.0)

    def _values(self) -> np.ndarray:
        return np.array([v.value for v in self._vars])

    def _restore(self, values: np.ndarray) -> None:
        for v, x in zip(self._vars, values):
            v.set_value(float(x), skip_validation=True)

    def _set_instruments(self, t: np.ndarray, tau: np.ndarray, numeraire_value: float) -> None:
        m = self.m
        if self.sourcing == "common":
            check_same_for_both_uses(self.bench, tariff=t, iceberg=tau)
        for k in m.ROUTES:
            m.tariff[k] = float(t[k])
            m.tau[k] = float(tau[k])
        m.numeraire_value = float(numeraire_value)
        self._instruments = (t.copy(), tau.copy(), float(numeraire_value))

    # ------------------------------------------------------------------ residuals
    def residuals(self) -> pd.Series:
        """Residual of every equation at the current point, labelled, plus the Walras market."""
        labels, values = [], []
        for con in self.m.component_objects(pyo.Constraint, active=True):
            name, kinds = EQUATION_LABELS.get(con.local_name, (con.local_name, None))
            for idx, c in con.items():
                labels.append(f"{name} ({self._label(idx, kinds)})" if idx is not None else name)
                values.append(pyo.value(c.body) - pyo.value(c.upper))
        r, i = self.m.walras_market
        labels.append(f"market clearing, left out by Walras' law ({self.params.regions[r]}, {self.params.sectors[i]})")
        values.append(pyo.value(self.m.goods_excess[r, i]))
        return pd.Series(values, index=labels, name="residual", dtype=float)

    def _label(self, idx, kinds) -> str:
        p = self.params
        idx = idx if isinstance(idx, tuple) else (idx,)
        if kinds is None:
            kinds = ("region", "buyer", "commodity") if len(idx) == 3 else ("region", "commodity")
        names = {
            "region": p.regions,
            "sector": p.sectors,
            "commodity": p.sectors,
            "buyer": p.buyers,
            "agent": p.agents,
            "factor": p.factors,
        }
        out = []
        for k, v in zip(kinds, idx):
            if k == "sector" and v == -1:
                continue
            out.append(names[k][v])
        return ", ".join(out)

    # ------------------------------------------------------------------ solving
    def solve(self, scenario: Scenario | None = None, tol: float = RESIDUAL_TOLERANCE, homotopy: bool = True):
        """Solve for the equilibrium of ``scenario`` (the benchmark when None), warm-started.

        When a direct solve fails and ``homotopy`` is on, the shock is reached in steps from the
        last solved point, halving the step on failure; the steps are recorded in the result's log.
        """
        from .results import Results

        scenario = scenario or Scenario(name="benchmark")
        t, tau = scenario.instruments(self.bench)
        target = (t, tau, scenario.numeraire_value)
        start = time.perf_counter()
        log_lines: list[str] = []
        stats = self._solve_to(target, tol, homotopy, log_lines)
        stats["solve_seconds"] = time.perf_counter() - start
        stats["build_seconds"] = self.build_seconds
        stats["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        solution = self._solution(stats)
        self.log.extend(log_lines)
        return Results(self, scenario, solution, log=log_lines)

    def _solve_to(self, target, tol, homotopy, log_lines) -> dict:
        origin = self._instruments
        ok, stats, err = self._attempt(target, tol)
        if ok:
            return stats
        if not homotopy:
            raise err
        log_lines.append(f"direct solve failed ({err.args[0].splitlines()[0]}); stepping the shock")
        done, step, last = 0.0, 0.5, self._last_good
        iterations = stats.get("iterations", 0)
        while done < 1.0:
            weight = min(1.0, done + step)
            point = tuple(o + weight * (g - o) for o, g in zip(origin[:2], target[:2])) + (
                origin[2] + weight * (target[2] - origin[2]),
            )
            self._restore(last)
            ok, st, err = self._attempt(point, tol)
            iterations += st.get("iterations", 0)
            if ok:
                log_lines.append(f"homotopy: reached {weight:.4g} of the shock")
                done, last = weight, self._values()
                step = min(2 * step, 1.0 - done) if done < 1.0 else step
            else:
                step /= 2.0
                if step < 1.0 / 256:
                    raise SolveError(f"homotopy failed at {done:.4g} of the shock: {err.args[0]}", err.residuals)
        stats = dict(st, iterations=iterations, homotopy_steps=len(log_lines) - 1)
        return stats

    def _attempt(self, instruments, tol):
        """One Ipopt solve from the current point; (ok, stats, error)."""
        self._last_good = self._values()
        previous = self._instruments
        self._set_instruments(*instruments)
        solver = pyo.SolverFactory("cyipopt")
        solver.config.options.update(self.solver_options)
        stats = {}
        counted: list[int] = []
        solver.config.intermediate_callback = lambda *args: counted.append(args[2]) or True
        t0 = time.perf_counter()
        try:
            result = solver.solve(self.m, tee=False, load_solutions=True)
            status = result.solver.termination_condition
            stats["iterations"] = counted[-1] if counted else 0
        except Exception as exc:  # evaluation errors or solver failures are reported as SolveError
            self._restore(self._last_good)
            self._set_instruments(*previous)
            return False, stats, SolveError(f"Ipopt stopped with an error: {exc}")
        stats["ipopt_seconds"] = time.perf_counter() - t0
        stats["termination"] = str(status)
        res = self.residuals()
        worst = res.abs().sort_values(ascending=False)
        stats["max_residual"] = float(worst.iloc[0])
        if status not in (TerminationCondition.optimal, TerminationCondition.locallyOptimal, TerminationCondition.feasible) or worst.iloc[0] > tol:
            top = "\n".join(f"  {k}: {res[k]:.3e}" for k in worst.index[:5])
            err = SolveError(
                f"no equilibrium within tolerance {tol:g} (Ipopt: {status}); worst equations:\n{top}", res
            )
            self._restore(self._last_good)
            self._set_instruments(*previous)
            return False, stats, err
        return True, stats, None

    # ------------------------------------------------------------------ extraction
    def _solution(self, stats: dict) -> Solution:
        m, p = self.m, self.params
        R, S, F = p.fp_0.shape
        B = len(p.buyers)
        price = np.zeros((R, S))
        y = np.zeros((R, S))
        for k in m.PRODUCERS:
            price[k] = m.p[k].value
            y[k] = m.Y[k].value
        z = np.zeros((R, S, R, B))
        for k in m.FLOWS:
            z[k] = p.d_0[k] * pyo.value(m.z[k])
        if p.sourcing == "common":
            z = self._allocate_common_imports(z)
        fd = np.zeros((R, S, F))
        w = np.zeros((R, S, F))
        for k in m.FACTOR_USES:
            fd[k] = pyo.value(m.factor_demand[k])
            w[k] = m.w[m.factor_market[k]].value
        pfd = np.ones((R, len(p.agents)))
        for k in m.AGENTS:
            pfd[k] = m.PFD[k].value
        ls = np.ones(R)
        for s in m.LABOUR_REGIONS:
            ls[s] = m.LS[s].value
        t, tau, num = self._instruments
        return Solution(
            p=price,
            y=y,
            w=w,
            factor_demand=fd,
            z=z,
            pfd=pfd,
            income=np.array([m.INC[s].value for s in m.REGIONS]) * p.income_0,
            utility=np.array([pyo.value(m.utility[s]) for s in m.REGIONS]),
            labour_supply=ls,
            tariff=t,
            tau=tau,
            numeraire_value=num,
            max_residual=stats.get("max_residual", float("nan")),
            walras_residual=float(pyo.value(m.goods_excess[m.walras_market])),
            stats=stats,
        )

    def _allocate_common_imports(self, z: np.ndarray) -> np.ndarray:
        """With common sourcing, share each route's imports among buyers by their import demand.

        The model determines imports by route (exporter, commodity, importer); buyer ``b`` takes the
        share ``m_0[s, b, i] * QM_b / sum_b' m_0[s, b', i] * QM_b'``, where ``QM_b`` is the buyer's
        import composite, ``Q^A (P^A / P^M)^{sigma_dm}`` relative to the benchmark.
        """
        m, p = self.m, self.params
        sig_dm = p.sigma["sigma_dm"]
        weight = np.zeros_like(p.m_0)
        for s, b, i in m.COMPOSITES:
            if p.m_0[s, b, i] > 0:
                weight[s, b, i] = p.m_0[s, b, i] * m.QA[s, b, i].value * (m.PA[s, b, i].value / m.PM[s, i].value) ** sig_dm[i]
        total = weight.sum(axis=1, keepdims=True)
        share = weight / np.where(total > 0, total, 1.0)  # [s, b, i]
        route = np.zeros(z.shape[:3])
        for k in m.IMPORT_ROUTES:
            route[k] = m.route_0[k] * pyo.value(m.z_import[k])
        return z + route[..., None] * share.transpose(2, 0, 1)[None]

    def path(self, scenario: Scenario, steps: int) -> list[Solution]:
        """Solutions at ``steps`` evenly spaced points from the benchmark to ``scenario``.

        The model is left at the scenario's equilibrium.
        """
        if steps < 1:
            raise ValueError("steps must be at least 1")
        self.reset()
        out = [self._solution({"max_residual": float(self.residuals().abs().max())})]
        for k in range(1, steps + 1):
            point = scenario.scaled(self.bench, k / steps)
            t, tau = point.instruments(self.bench)
            stats = self._solve_to((t, tau, point.numeraire_value), RESIDUAL_TOLERANCE, True, [])
            out.append(self._solution(stats))
        return out

    def size(self) -> dict:
        """Numbers of variables and equations."""
        nv = sum(1 for _ in self.m.component_data_objects(pyo.Var))
        nc = sum(1 for _ in self.m.component_data_objects(pyo.Constraint, active=True))
        return {"variables": nv, "equations": nc}

