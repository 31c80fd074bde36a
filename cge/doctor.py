"""``cge doctor``: versions and a check of the solver chain (Pyomo -> PyNumero ASL -> cyipopt -> Ipopt)."""

from __future__ import annotations

import importlib
import platform
import sys
from dataclasses import dataclass

FIX = "run `make setup` (or `bash scripts/setup.sh`) from the repository root"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _version(module: str) -> Check:
    try:
        mod = importlib.import_module(module)
    except Exception as exc:  # any import failure is a finding, not a crash
        return Check(module, False, f"not importable: {exc}", f"pip install it; {FIX}")
    return Check(module, True, str(getattr(mod, "__version__", "installed")))


def checks() -> list[Check]:
    """Every check, in the order the solver chain needs them."""
    out = [Check("python", sys.version_info >= (3, 11), platform.python_version(), "Python 3.11 or newer is needed")]
    for module in ("numpy", "scipy", "pandas", "pyomo", "cyipopt", "h5py", "pymrio", "matplotlib"):
        out.append(_version(module))
    try:
        import cyipopt

        out.append(Check("ipopt", True, f"Ipopt {'.'.join(str(v) for v in cyipopt.IPOPT_VERSION)}"))
    except Exception as exc:
        out.append(Check("ipopt", False, f"cyipopt cannot load Ipopt: {exc}", f"pip install cyipopt-wheels; {FIX}"))
    try:
        from pyomo.common.envvar import PYOMO_CONFIG_DIR
        from pyomo.contrib.pynumero.asl import AmplInterface

        ok = AmplInterface.available()
        out.append(
            Check(
                "pynumero_asl",
                ok,
                "libpynumero_ASL found" if ok else f"libpynumero_ASL.so not found in {PYOMO_CONFIG_DIR}/lib",
                "" if ok else f"needs Debian packages libamplsolver-dev cmake g++; {FIX}",
            )
        )
    except Exception as exc:
        out.append(Check("pynumero_asl", False, f"cannot check: {exc}", FIX))
    out.append(_solve_check())
    return out


def _solve_check() -> Check:
    """Solve a 2 x 2 tariff cut end to end."""
    try:
        import pyomo.environ as pyo

        if not pyo.SolverFactory("cyipopt").available(exception_flag=False):
            return Check("cyipopt_solver", False, "Pyomo's cyipopt solver is not available", FIX)
        from .scenario import Scenario
        from .solve import Model
        from .synthetic import random_benchmark

        bench = random_benchmark(2, 2, seed=0)
        res = Model(bench, backend="pyomo").solve(Scenario(tariff=bench.tariff_0 * 0.5))
        return Check("test_solve", True, f"2x2 tariff cut solved, max residual {res.solution.max_residual:.1e}")
    except Exception as exc:
        return Check("test_solve", False, f"{type(exc).__name__}: {exc}", FIX)


def report() -> tuple[str, bool]:
    """A printable report and whether everything is ready."""
    rows = checks()
    width = max(len(c.name) for c in rows)
    lines = []
    for c in rows:
        mark = "ok " if c.ok else "MISSING"
        lines.append(f"{mark:8} {c.name:<{width}}  {c.detail}")
        if not c.ok and c.fix:
            lines.append(f"{'':8} {'':<{width}}  fix: {c.fix}")
    ready = all(c.ok for c in rows)
    lines.append("solver chain ready" if ready else "solver chain NOT ready")
    return "\n".join(lines), ready
