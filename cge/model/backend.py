"""The reference backend: the Pyomo model of :func:`cge.model.build_model`, solved by Ipopt.

Ipopt runs through Pyomo's PyNumero ``cyipopt`` interface with a constant objective; the
equations are the constraints, one Pyomo constraint per block of :mod:`cge.equations`.
"""

from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pyo
from pyomo.opt import TerminationCondition

from . import build_model

CONVERGED = (TerminationCondition.optimal, TerminationCondition.locallyOptimal, TerminationCondition.feasible)


class PyomoBackend:
    """Backend interface of :class:`cge.solve.Model` on the Pyomo model."""

    name = "pyomo"

    def __init__(self, params, closure, solver_options: dict):
        from ..solve import IPOPT_OPTIONS

        self.params = params
        self.options = dict(IPOPT_OPTIONS, **solver_options)
        start = time.perf_counter()
        self.m = build_model(params, closure)
        self.build_seconds = time.perf_counter() - start
        self._vars = list(self.m.component_data_objects(pyo.Var, descend_into=True))
        self._blocks = list(self.m.component_objects(pyo.Constraint, active=True))
        self.walras_market = self.m.walras_market

    # ------------------------------------------------------------------ state
    def values(self) -> np.ndarray:
        return np.array([v.value for v in self._vars], dtype=float)

    def restore(self, values) -> None:
        for v, x in zip(self._vars, values):
            v.set_value(float(x), skip_validation=True)

    def set_instruments(self, inst) -> None:
        m = self.m
        for k in m.ROUTES:
            m.tariff[k] = float(inst.tariff[k])
            m.tau[k] = float(inst.iceberg[k])
        for k in m.PRODUCERS:
            m.output_tax[k] = float(inst.output_tax[k])
        for s in m.REGIONS:
            m.transfer[s] = float(inst.transfer[s])
        m.numeraire_value = inst.numeraire_value

    # ------------------------------------------------------------------ equations
    def residual_blocks(self) -> tuple[dict, float]:
        out = {}
        for con in self._blocks:
            out[con.local_name] = np.array([_value(c.body) - pyo.value(c.upper) for c in con.values()], dtype=float)
        return out, _value(self.m.goods_excess[self.walras_market])

    def residual_indices(self) -> dict:
        return {con.local_name: [k if isinstance(k, tuple) or k is None else (k,) for k in con.keys()] for con in self._blocks}

    # ------------------------------------------------------------------ solving
    def run_solver(self) -> dict:
        """One Ipopt run from the current point; statistics, ``solver_failed`` when Ipopt gave up."""
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
            "termination": str(status),
            "solver_failed": status not in CONVERGED,
        }

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
        nv = sum(1 for _ in self.m.component_data_objects(pyo.Var))
        nc = sum(1 for _ in self.m.component_data_objects(pyo.Constraint, active=True))
        return {"variables": nv, "equations": nc}


def _value(expr) -> float:
    """Value of an expression; NaN where it cannot be evaluated (a domain error is not an equilibrium)."""
    try:
        return float(pyo.value(expr))
    except (ValueError, ZeroDivisionError, OverflowError):
        return float("nan")
