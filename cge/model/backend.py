"""The reference backend: the Pyomo model of :func:`cge.model.build_model`, solved by Ipopt.

Ipopt runs through Pyomo's PyNumero ``cyipopt`` interface with a constant objective; the
equations are the constraints, one Pyomo constraint per block of :mod:`cge.equations`.

Writing the model as an NL problem and loading it into the AMPL solver library (a
:class:`~pyomo.contrib.pynumero.interfaces.pyomo_nlp.PyomoNLP`) costs far more than Ipopt's few
iterations (about 2 s at 10 x 10 regions x sectors). The instruments are variables held by equal
bounds (:func:`cge.model.variables.add_instrument`), so that compiled problem does not depend on the scenario:
the backend writes it once, with the model (:class:`CompiledProblem`), and every solve makes only
a new Ipopt problem on it with the instruments' current bounds and the current point as the start. Ipopt removes
variables whose bounds are equal (``fixed_variable_treatment=make_parameter``, its default, which
the backend requires). The problem solved is the one a fresh write gives, bit for bit: option
``pyomo_nlp="rebuild"`` (:data:`PYOMO_OPTIONS`) writes it at every solve instead, as the backend
did before; a test checks that both give the same bytes. The compiled problem also evaluates the
residuals of every equation (:meth:`PyomoBackend.residual_blocks`) in one call instead of a walk of
every Pyomo expression; where it cannot (an evaluation error, such as a negative number to a
fractional power), the expressions are evaluated one by one, so that a residual that is not a
number is reported as NaN for its own equation.
"""

from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pyo
from pyomo.opt import TerminationCondition

from . import build_model
from .variables import hold

CONVERGED = (TerminationCondition.optimal, TerminationCondition.locallyOptimal, TerminationCondition.feasible)

PYOMO_OPTIONS = {"pyomo_nlp": "reuse"}
"""Options of the Pyomo backend (``solver_options`` keys); every other key is an Ipopt option.

``pyomo_nlp``: ``"reuse"`` (write the NL problem once per model, when it is built) or
``"rebuild"`` (write it at every solve, through ``SolverFactory("cyipopt")``). Both solve the same
problem from the same start and give the same results; ``"rebuild"`` is slower and also evaluates
residuals by walking the Pyomo expressions.
"""

FIXED_VARIABLE_TREATMENTS = ("make_parameter", "make_parameter_nodual", "make_constraint")
"""Ipopt's ``fixed_variable_treatment`` values that keep an instrument at its level (not ``relax_bounds``)."""


class PyomoBackend:
    """Backend interface of :class:`cge.solve.Model` on the Pyomo model."""

    name = "pyomo"

    def __init__(self, params, closure, solver_options: dict):
        from ..solve import IPOPT_OPTIONS

        self.params = params
        own = {k: v for k, v in solver_options.items() if k in PYOMO_OPTIONS}
        self.backend_options = dict(PYOMO_OPTIONS, **own)
        if self.backend_options["pyomo_nlp"] not in ("reuse", "rebuild"):
            raise ValueError(f"solver_options pyomo_nlp={self.backend_options['pyomo_nlp']!r}; allowed: 'reuse', 'rebuild'")
        self.options = dict(IPOPT_OPTIONS, **{k: v for k, v in solver_options.items() if k not in PYOMO_OPTIONS})
        treatment = self.options.get("fixed_variable_treatment", "make_parameter")
        if treatment not in FIXED_VARIABLE_TREATMENTS:
            raise ValueError(
                f"solver_options fixed_variable_treatment={treatment!r} would let the instruments move; "
                f"allowed: {list(FIXED_VARIABLE_TREATMENTS)}"
            )
        start = time.perf_counter()
        self.m = build_model(params, closure)
        instruments = {id(self.m.component(name)) for name in self.m.instrument_names}
        variables = list(self.m.component_objects(pyo.Var, descend_into=True))
        self._vars = [v for var in variables if id(var) not in instruments for v in var.values()]
        self._instruments = [v for var in variables if id(var) in instruments for v in var.values()]
        self._blocks = list(self.m.component_objects(pyo.Constraint, active=True))
        self.walras_market = self.m.walras_market
        reuse = self.backend_options["pyomo_nlp"] == "reuse"
        self._nlp = CompiledProblem(self.m, self._blocks, self._instruments) if reuse else None
        self.build_seconds = time.perf_counter() - start

    # ------------------------------------------------------------------ state
    def values(self) -> np.ndarray:
        return np.array([v.value for v in self._vars], dtype=float)

    def restore(self, values) -> None:
        for v, x in zip(self._vars, values):
            v.set_value(float(x), skip_validation=True)

    def set_instruments(self, inst) -> None:
        """Hold every instrument variable at its level (value and both bounds)."""
        m = self.m
        for k in m.ROUTES:
            hold(m.tariff[k], inst.tariff[k])
            hold(m.tau[k], inst.iceberg[k])
        for k in m.PRODUCERS:
            hold(m.output_tax[k], inst.output_tax[k])
        for s in m.REGIONS:
            hold(m.transfer[s], inst.transfer[s])
        hold(m.numeraire_value, inst.numeraire_value)
        for setter in getattr(m, "instrument_setters", ()):  # instruments a block declares itself (duty exemptions)
            setter(inst)

    # ------------------------------------------------------------------ equations
    def residual_blocks(self) -> tuple[dict, float]:
        """Residual (body minus right-hand side) of every equation by block, and of the Walras market.

        Evaluated by the compiled problem at the model's point and instruments when it is current;
        by walking the Pyomo expressions otherwise (option ``pyomo_nlp="rebuild"``, an evaluation
        error, a changed mutable parameter), where a residual that is not a number is NaN.
        """
        walras = _value(self.m.goods_excess[self.walras_market])
        current = self._nlp is not None and self._nlp.current()
        compiled = self._nlp.residual_blocks(self._point()) if current else None
        if compiled is not None:
            return compiled, walras
        out = {}
        for con in self._blocks:
            out[con.local_name] = np.array([_value(c.body) - pyo.value(c.upper) for c in con.values()], dtype=float)
        return out, walras

    def residual_indices(self) -> dict:
        return {con.local_name: [k if isinstance(k, tuple) or k is None else (k,) for k in con.keys()] for con in self._blocks}

    # ------------------------------------------------------------------ solving
    def run_solver(self) -> dict:
        """One Ipopt run from the current point; statistics, ``solver_failed`` when Ipopt gave up."""
        if self.backend_options["pyomo_nlp"] == "rebuild":
            return self._run_rebuilt()
        t0 = time.perf_counter()
        built = not self._nlp.current()
        if built:  # a mutable parameter the compiled problem holds as a constant has changed
            self._nlp = CompiledProblem(self.m, self._blocks, self._instruments)
        t1 = time.perf_counter()
        x, status, iterations = self._nlp.solve(self._point(), self.options)
        for v, value in zip(self._nlp.unknowns, x[self._nlp.unknown_positions]):
            v.set_value(value, skip_validation=True)
        return {
            "method": "ipopt",
            "iterations": iterations,
            "ipopt_seconds": time.perf_counter() - t1,
            "nlp": "rewritten" if built else "reused",
            "nlp_seconds": t1 - t0,
            "termination": str(status),
            "solver_failed": status not in CONVERGED,
        }

    def _run_rebuilt(self) -> dict:
        """One Ipopt run through ``SolverFactory("cyipopt")``, which writes the NL problem anew."""
        solver = pyo.SolverFactory("cyipopt")
        solver.config.options.update(self.options)
        counted: list[int] = []
        solver.config.intermediate_callback = lambda *args: counted.append(args[2]) or True
        t0 = time.perf_counter()
        result = solver.solve(self.m, tee=False, load_solutions=True)
        status = result.solver.termination_condition
        return {
            "method": "ipopt",
            "iterations": counted[-1] if counted else 0,
            "ipopt_seconds": time.perf_counter() - t0,
            "nlp": "rebuilt",
            "termination": str(status),
            "solver_failed": status not in CONVERGED,
        }

    def _point(self) -> np.ndarray:
        """Values of the compiled problem's variables (unknowns and instruments) in its order."""
        return np.array([v.value for v in self._nlp.variables], dtype=float)

    # ------------------------------------------------------------------ extraction
    def solution_arrays(self) -> dict:
        m, p = self.m, self.params
        R, S, F = p.fp_0.shape
        B = len(p.buyers)
        price, y = np.zeros((R, S)), np.zeros((R, S))
        for k in m.PRODUCERS:
            price[k] = m.p[k].value
            y[k] = m.Y[k].value
        z = np.zeros((R, S, R, B))
        for k in m.FLOWS:
            z[k] = p.d_0[k] * pyo.value(m.z[k])
        if p.sourcing.shared_import_mix:  # the model's route flows and each buyer's import demand
            route = np.zeros((R, S, R))
            for k in m.IMPORT_ROUTES:
                route[k] = m.route_0[k] * pyo.value(m.z_import[k])
            demand = np.zeros((R, B, S))
            if p.size_nest:  # composites are commodity groups
                from .sizenest import import_demand

                demand = import_demand(m, p)
            for s, b, i in ([] if p.size_nest else m.COMPOSITES):
                if p.m_0[s, b, i] > 0:
                    demand[s, b, i] = m.QA[s, b, i].value * (m.PA[s, b, i].value / m.PM[s, i].value) ** p.sigma["sigma_dm"][i]
            z = p.sourcing.deliveries(p.d_0, z, route, demand)
        fd, w = np.zeros((R, S, F)), np.zeros((R, S, F))
        for k in m.FACTOR_USES:
            fd[k] = pyo.value(m.factor_demand[k])
            w[k] = m.w[m.factor_market[k]].value
        pfd = np.ones((R, len(p.agents)))
        for k in m.AGENTS:
            pfd[k] = m.PFD[k].value
        ls = np.ones(R)
        for s in m.LABOUR_REGIONS:
            ls[s] = m.LS[s].value
        return dict(
            p=price,
            y=y,
            w=w,
            factor_demand=fd,
            z=z,
            pfd=pfd,
            income=np.array([m.INC[s].value for s in m.REGIONS]) * p.income_0,
            utility=np.array([pyo.value(m.utility[s]) for s in m.REGIONS]),
            labour_supply=ls,
            walras_residual=_value(m.goods_excess[m.walras_market]),
        )

    def size(self) -> dict:
        """Unknowns and equations (the instruments, variables held by their bounds, are not unknowns)."""
        nc = sum(1 for _ in self.m.component_data_objects(pyo.Constraint, active=True))
        return {"variables": len(self._vars), "equations": nc}


class CompiledProblem:
    """The NL problem of a Pyomo model, written and loaded once, solved by Ipopt as often as needed.

    ``m`` the model, ``blocks`` its equation blocks (indexed constraints, all equalities for the
    residuals to come from here), ``instruments`` its instrument variables (held by equal bounds).
    The bounds of the instruments are read from the model at every solve; everything else the
    problem holds (structure, constants, other bounds) is the model's when it was written, and
    :meth:`current` tells whether a mutable parameter has changed since.
    """

    def __init__(self, m, blocks, instruments):
        from pyomo.contrib.pynumero.interfaces.pyomo_nlp import PyomoNLP

        self.nlp = PyomoNLP(m)
        self.variables = self.nlp.get_pyomo_variables()
        position = {id(v): i for i, v in enumerate(self.variables)}
        held = {id(v) for v in instruments}
        self.instruments = [v for v in self.variables if id(v) in held]
        self.instrument_positions = np.array([position[id(v)] for v in self.instruments], dtype=np.intp)
        self.unknowns = [v for v in self.variables if id(v) not in held]
        self.unknown_positions = np.array([position[id(v)] for v in self.unknowns], dtype=np.intp)
        self.lb, self.ub = self.nlp.primals_lb().copy(), self.nlp.primals_ub().copy()
        self.g_lb, self.g_ub = self.nlp.constraints_lb().copy(), self.nlp.constraints_ub().copy()
        self.jac = self.nlp.evaluate_jacobian()  # structures, and buffers of the evaluations
        self.hess = self.nlp.evaluate_hessian_lag()
        self.hess_lower = self.hess.row >= self.hess.col
        self.params = [p for p in m.component_data_objects(pyo.Param, descend_into=True) if p.parent_component().mutable]
        self.signature = self._signature()
        self.rows = None  # positions of each block's equations among the problem's constraints
        if all(c.equality for con in blocks for c in con.values()):
            index = self.nlp.get_constraint_indices
            self.rows = {con.local_name: np.array(index(list(con.values())), dtype=np.intp) for con in blocks}

    def _signature(self) -> tuple:
        return tuple(pyo.value(p) for p in self.params)

    def current(self) -> bool:
        """Whether the problem still holds the model's mutable parameters at their present values."""
        return not self.params or self._signature() == self.signature

    def solve(self, x0: np.ndarray, options: dict) -> tuple[np.ndarray, TerminationCondition, int]:
        """Ipopt from ``x0`` with the instruments at their bounds in the model; the point, the status
        (as ``SolverFactory("cyipopt")`` reports it) and the number of iterations."""
        from pyomo.common.tee import capture_output
        from pyomo.contrib.pynumero.algorithms.solvers.cyipopt_solver import _cyipopt_status_enum, _ipopt_term_cond

        lb, ub = self.lb.copy(), self.ub.copy()
        low = np.array([v.lb for v in self.instruments], dtype=float)
        high = np.array([v.ub for v in self.instruments], dtype=float)
        loose = np.flatnonzero((low != high) | (low != x0[self.instrument_positions]))
        if len(loose):
            v = self.instruments[loose[0]]
            raise ValueError(f"instrument {v.name} = {v.value!r} is not held by its bounds ({v.lb!r}, {v.ub!r}); set instruments with PyomoBackend.set_instruments")
        lb[self.instrument_positions] = low
        ub[self.instrument_positions] = high
        iterations: list[int] = []
        problem = _problem_class()(self, lb, ub, iterations)
        try:
            for k, v in options.items():
                problem.add_option(k, v)
            with capture_output(None, capture_fd=True):  # Ipopt's banner, as SolverFactory("cyipopt") does
                x, info = problem.solve(x0)
        finally:
            problem.close()
        status = _ipopt_term_cond[_cyipopt_status_enum[info["status_msg"]]]
        return np.asarray(x, dtype=float), status, iterations[-1] if iterations else 0

    def residual_blocks(self, x: np.ndarray) -> dict | None:
        """Residual (body minus right-hand side) of each block at ``x``; None when it cannot be evaluated here."""
        from pyomo.contrib.pynumero.exceptions import PyNumeroEvaluationError

        if self.rows is None:
            return None
        try:
            self.nlp.set_primals(x)
            g = self.nlp.evaluate_constraints() - self.g_ub
        except PyNumeroEvaluationError:
            return None
        return {name: g[rows] for name, rows in self.rows.items()}


_PROBLEM = None


def _problem_class():
    """The cyipopt problem class on a :class:`CompiledProblem` (made once, on first use)."""
    global _PROBLEM
    if _PROBLEM is None:
        import cyipopt
        from pyomo.contrib.pynumero.exceptions import PyNumeroEvaluationError

        class IpoptProblem(cyipopt.Problem):
            """One Ipopt problem on a compiled NLP: its start and bounds, the NLP's evaluations.

            The evaluations are those of PyNumero's ``CyIpoptNLP`` (which ``SolverFactory("cyipopt")``
            uses), with the Jacobian and Hessian structures taken from the compiled problem rather
            than evaluated again; an evaluation error is Ipopt's signal to shorten the step.
            """

            def __init__(self, compiled, lb, ub, iterations: list):
                self._c, self._nlp, self._iterations = compiled, compiled.nlp, iterations
                self._x = self._y = self._factor = None
                super().__init__(n=len(lb), m=len(compiled.g_lb), lb=lb, ub=ub, cl=compiled.g_lb, cu=compiled.g_ub)

            def _primals(self, x):
                if self._x is None or not np.array_equal(x, self._x):
                    self._nlp.set_primals(x)
                    self._x = x.copy()

            def _evaluate(self, f, x, *args):
                try:
                    self._primals(x)
                    return f(*args)
                except PyNumeroEvaluationError as err:
                    raise cyipopt.CyIpoptEvaluationError(str(err)) from err

            def objective(self, x):
                return self._evaluate(self._nlp.evaluate_objective, x)

            def gradient(self, x):
                return self._evaluate(self._nlp.evaluate_grad_objective, x)

            def constraints(self, x):
                return self._evaluate(self._nlp.evaluate_constraints, x)

            def jacobianstructure(self):
                return self._c.jac.row, self._c.jac.col

            def jacobian(self, x):
                self._evaluate(self._nlp.evaluate_jacobian, x, self._c.jac)
                return self._c.jac.data

            def hessianstructure(self):
                lower = self._c.hess_lower
                return np.compress(lower, self._c.hess.row), np.compress(lower, self._c.hess.col)

            def hessian(self, x, y, obj_factor):
                if self._y is None or not np.array_equal(y, self._y):
                    self._nlp.set_duals(y)
                    self._y = y.copy()
                if obj_factor != self._factor:
                    self._nlp.set_obj_factor(obj_factor)
                    self._factor = obj_factor
                self._evaluate(self._nlp.evaluate_hessian_lag, x, self._c.hess)
                return np.compress(self._c.hess_lower, self._c.hess.data)

            def intermediate(self, alg_mod, iter_count, *args):
                self._iterations.append(iter_count)
                return True

        _PROBLEM = IpoptProblem
    return _PROBLEM


def _value(expr) -> float:
    """Value of an expression; NaN where it cannot be evaluated (a domain error is not an equilibrium)."""
    try:
        return float(pyo.value(expr))
    except (ValueError, ZeroDivisionError, OverflowError):
        return float("nan")
