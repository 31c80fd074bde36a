"""The fast backend: the reduced system of :mod:`cge.fast.system` behind :class:`cge.solve.Model`."""

from __future__ import annotations

import copy
import time

import numpy as np

from ..equations import check_blocks
from .equations import equation_indices, equation_residuals, variables_of
from .layout import Layout
from .solvers import Timer, ipopt, newton, page_policy
from .sizenest import SizeNestSystem
from .system import FlowInstruments, System


def _system(layout):
    """The reduced system of a layout: with the firm-size nest when the model has it."""
    return SizeNestSystem(layout) if layout.grouped else System(layout)

FAST_OPTIONS = {"method": "newton", "newton_linear_solver": "auto", "newton_max_iter": 50}
"""Options of the fast backend (``solver_options`` keys); every other key is an Ipopt option.

``method``: ``"newton"`` (Newton's method, Ipopt when it fails) or ``"ipopt"`` (Ipopt only);
``newton_linear_solver``: ``"auto"``, ``"dense"`` or ``"sparse"`` factorisation of the Jacobian
in Newton's method; ``newton_max_iter``: Newton steps before falling back to Ipopt.
"""


class FastBackend:
    """Backend interface of :class:`cge.solve.Model` on the reduced system.

    The unknowns are producer prices, activity levels, factor prices, incomes and labour supplies,
    every other variable of the reference model being a closed form of them (see
    :mod:`cge.fast.system`). Residuals are those of the full equation system of the reference model
    (:mod:`cge.fast.equations`), evaluated with the eliminated variables filled in.
    """

    name = "fast"

    def __init__(self, params, closure, solver_options: dict):
        from ..solve import IPOPT_OPTIONS

        self.params = params
        options = dict(FAST_OPTIONS)
        ipopt_options = dict(IPOPT_OPTIONS)
        for k, v in solver_options.items():
            (options if k in FAST_OPTIONS else ipopt_options)[k] = v
        if options["method"] not in ("newton", "ipopt"):
            raise ValueError(f"solver_options method={options['method']!r}; allowed: 'newton', 'ipopt'")
        if options["newton_linear_solver"] not in ("auto", "dense", "sparse"):
            raise ValueError(f"solver_options newton_linear_solver={options['newton_linear_solver']!r}; allowed: 'auto', 'dense', 'sparse'")
        self.options = options
        self.solver_options = ipopt_options
        start = time.perf_counter()
        self._page_bytes = 8.0 * (2 * params.n_regions * params.n_sectors) ** 2  # about the dense Jacobian's size
        with page_policy(self._page_bytes):
            self.layout = Layout(params, closure)
            self.system = _system(self.layout)
        self.build_seconds = time.perf_counter() - start
        self.walras_market = self.layout.walras
        self._x = self.system.benchmark_point()
        self._state = None
        self._structure = None
        self._inst = None

    def with_params(self, params) -> "FastBackend":
        """This backend for parameters that differ from its own in the elasticities only.

        The options are kept and the layout rebuilt, with every array that depends on an
        elasticity, including which composites are nested (``Layout.nest``: one level where
        ``sigma_dm == sigma_mm``); a few milliseconds on ``eastasia-2011``, nothing is solved.
        """
        other = copy.copy(self)
        start = time.perf_counter()
        other.params = params
        with page_policy(self._page_bytes):
            other.layout = Layout(params, self.layout.closure)
            other.system = _system(other.layout)
        other.build_seconds = time.perf_counter() - start
        other.walras_market = other.layout.walras
        other._x = other.system.benchmark_point()
        other._state = other._structure = other._inst = None
        return other

    # ------------------------------------------------------------------ state
    def values(self) -> np.ndarray:
        return self._x.copy()

    def restore(self, values) -> None:
        self._x = np.array(values, dtype=float)
        self._state = None

    def set_instruments(self, inst) -> None:
        with page_policy(self._page_bytes):
            self._inst = FlowInstruments(self.layout, inst)
        self._state = None

    @property
    def state(self):
        """Prices, quantities and reduced residuals at the current point."""
        if self._state is None:
            self._state = self.system.evaluate(self._x, self._inst)
        return self._state

    def evaluate(self, x):
        return self.system.evaluate(x, self._inst)

    # ------------------------------------------------------------------ equations
    def residual_blocks(self) -> tuple[dict, float]:
        with page_policy(self._page_bytes):
            blocks, walras = equation_residuals(self.layout, self._inst, variables_of(self.state, self.layout))
        return blocks, walras

    def residual_indices(self) -> dict:
        idx = equation_indices(self.layout)
        check_blocks(list(idx), self.name)
        return idx

    def jacobian(self) -> np.ndarray:
        """Exact Jacobian of the reduced system at the current point (rows: equations, columns: unknowns)."""
        return self.system.jacobian(self.state)

    def reduced_residuals(self):
        """Residuals of the reduced system at the current point, labelled by the unknown each determines."""
        import pandas as pd

        return pd.Series(self.state.residual, index=self.layout.unknown_names(), name="residual")

    # ------------------------------------------------------------------ solving
    def _ipopt_structure(self):
        """Sparsity of the Jacobian: non-zeros at the benchmark point and at a perturbed one."""
        if self._structure is None:
            rng = np.random.default_rng(0)
            x = self.system.benchmark_point()
            mask = self.system.jacobian(self.evaluate(x)) != 0
            mask |= self.system.jacobian(self.evaluate(x * rng.uniform(0.9, 1.1, size=x.shape))) != 0
            self._structure = np.nonzero(mask)
        return self._structure

    def run_solver(self) -> dict:
        """Newton's method from the current point, Ipopt when it fails (or Ipopt alone), with numpy's
        page advice of :func:`cge.fast.solvers.page_policy` for its size (as the build, the check and the
        extraction)."""
        with page_policy(self._page_bytes):
            return self._run_solver()

    def _run_solver(self) -> dict:
        timer = Timer()
        stats = {"method": self.options["method"]}
        x0 = self._x.copy()
        t0 = time.perf_counter()
        ok = False
        if self.options["method"] == "newton":
            x, st, it, ok, msg = newton(
                self.evaluate, self.system.jacobian, x0, self.options["newton_max_iter"], self.options["newton_linear_solver"], timer,
                blocks=self.system.block_pattern(),
            )
            stats["iterations"], stats["termination"], stats["newton_iterations"] = it, msg, it
        if not ok:
            if self.options["method"] == "newton":
                stats["newton_failure"] = msg
            x, st, it, msg = ipopt(self.evaluate, self.system.jacobian, x0, self._ipopt_structure(), self.solver_options, timer)
            stats["iterations"] = stats.get("iterations", 0) + it
            stats["termination"] = msg
            stats["method"] = "ipopt" if self.options["method"] == "ipopt" else "newton, then ipopt"
        stats["solver_seconds"] = time.perf_counter() - t0
        stats.update(timer.stats())
        self._x, self._state = np.array(x), st
        return stats

    # ------------------------------------------------------------------ extraction
    def solution_arrays(self) -> dict:
        with page_policy(self._page_bytes):
            return self._solution_arrays()

    def _solution_arrays(self) -> dict:
        L, P, st = self.layout, self.params, self.state
        R, S, F = P.fp_0.shape
        fd = np.zeros((R, S, F))
        fd[L.use_s, L.use_j, L.use_f] = st.FD
        w = np.zeros((R, S, F))
        w[L.use_s, L.use_j, L.use_f] = st.w[L.use_k]
        pfd = np.where(L.agent_exists, st.PFD, 1.0)
        utility = st.inc * np.exp(-(P.alpha * np.log(pfd)).sum(axis=1))
        z = self.system.deliveries(st)
        if L.common:  # the model's route flows and each buyer's import demand [s, b, i]
            demand = st.QA * st.dan
            if L.grouped:
                demand = demand[L.gidx]
            z = P.sourcing.deliveries(P.d_0, np.array(z), L.d_imp * st.z_imp, demand.transpose(1, 2, 0))
        return dict(
            p=np.where(L.prod, st.p, 0.0),
            y=np.where(L.prod, st.y, 0.0),
            w=w,
            factor_demand=fd,
            z=z,
            pfd=pfd,
            income=st.inc * P.income_0,
            utility=utility,
            labour_supply=st.ls.copy(),
            walras_residual=float(st.walras_excess),
        )

    def size(self) -> dict:
        """Numbers of variables and equations of the full model, and of the reduced system solved."""
        L = self.layout
        n_comp = int(L.comp.sum())
        n_pm = int(L.nest_c.sum()) if L.common else int(L.nest.sum())
        n_qm = n_pm if L.common else 0
        if L.grouped:
            from .sizenest import indices

            n_pm += len(indices(L))  # the route prices of the firm-size nest
        full = 2 * L.N + int(L.has_va.sum()) + int(L.has_int.sum()) + L.K + 2 * n_comp + n_pm + n_qm + int(L.agent_exists.sum()) + L.R + L.L + len(L.cet_regions)
        return {"variables": full, "equations": full, "reduced": L.n}
