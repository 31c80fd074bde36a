"""The Pyomo backend writes its NL problem once per model and reuses it for every solve.

The instruments are variables held by equal bounds, so a new scenario changes bounds, not the
compiled problem. Reusing it must give the bytes that writing the problem anew gives (option
``pyomo_nlp="rebuild"``, the backend's former path), whatever was solved before, and the residual
check must read the instruments of the scenario being solved.
"""

import numpy as np
import pyomo.environ as pyo
import pytest

import cge
from cge.model.backend import CompiledProblem
from cge.synthetic import random_benchmark

pytestmark = pytest.mark.solver


def _tariff_rise(bench, importer=0, rise=0.1):
    t = bench.tariff_0.copy()
    partners = np.arange(bench.n_regions) != importer
    t[partners, :, importer, :] += rise
    return cge.Scenario(tariff=t, name=f"{bench.regions[importer]} +{rise:g}")


@pytest.fixture(scope="module")
def bench():
    return random_benchmark(4, 3, seed=7)


@pytest.fixture(scope="module")
def models(bench):
    return {mode: cge.Model(bench, backend="pyomo", solver_options={"pyomo_nlp": mode}) for mode in ("reuse", "rebuild")}


def test_reused_problem_gives_the_bytes_of_a_fresh_write(bench, models):
    scenario = _tariff_rise(bench)
    res = {mode: m.solve(scenario, decompose=4) for mode, m in models.items()}
    new, old = res["reuse"], res["rebuild"]
    assert new.solution.stats["nlp"] == "reused" and old.solution.stats["nlp"] == "rebuilt"
    assert new.metadata()["solver"]["nlp"] == "reused"  # recorded with the results
    assert new.solution.stats["iterations"] == old.solution.stats["iterations"] > 0
    for name in ("p", "y", "w", "z", "income", "utility", "values"):
        np.testing.assert_array_equal(getattr(new.solution, name), getattr(old.solution, name), err_msg=name)
    # the tariff rise moved prices, and every point of the decomposition's path is the same
    assert np.abs(new.solution.p - 1.0).max() > 1e-3
    for a, b in zip(new.path, old.path):
        np.testing.assert_array_equal(a.values, b.values)
    wn, wo = new.welfare(), old.welfare()
    assert list(wn.columns) == list(wo.columns) and "residual" in wn.columns
    np.testing.assert_allclose(wn.to_numpy(), wo.to_numpy(), rtol=1e-9, atol=1e-9 * wo["income_0"].max())
    # the decomposition adds up: terms sum to EV within the path's quadrature error
    assert np.abs(wn["residual"]).max() <= 1e-3 * np.abs(wn["ev"]).max()
    # the residual check evaluated the compiled problem: the same equations, to rounding
    assert abs(new.solution.max_residual - old.solution.max_residual) <= 1e-14


def test_every_solve_starts_from_the_benchmark_whatever_was_solved_before(bench, models):
    model = models["reuse"]
    a, b = _tariff_rise(bench, 0), _tariff_rise(bench, 2, 0.3)
    first = model.solve(a).solution
    model.solve(b)
    again = model.solve(a).solution
    assert again.stats["nlp"] == "reused"
    np.testing.assert_array_equal(first.values, again.values)
    np.testing.assert_array_equal(first.p, again.p)
    # a fresh model, whose problem is written anew, lands on the same bytes
    fresh = cge.Model(bench, backend="pyomo").solve(a).solution
    np.testing.assert_array_equal(first.values, fresh.values)


def test_instruments_are_held_by_their_bounds_and_read_by_the_residuals(bench, models):
    model = models["reuse"]
    scenario = _tariff_rise(bench, 1, 0.2)
    res = model.solve(scenario)
    m = model.engine.m
    moved = [k for k in m.ROUTES if res.solution.tariff[k] != bench.tariff_0[k]]
    assert moved
    for k in moved:
        var = m.tariff[k]
        assert var.lb == var.ub == var.value == res.solution.tariff[k] and not var.fixed
    # residuals from the compiled problem and from Pyomo's expressions agree at the solution ...
    compiled, walras = model.engine.residual_blocks()
    walked = {c.local_name: np.array([pyo.value(d.body) - pyo.value(d.upper) for d in c.values()]) for c in model.engine._blocks}
    assert list(compiled) == list(walked)
    for name in walked:
        np.testing.assert_allclose(compiled[name], walked[name], rtol=0, atol=1e-13, err_msg=name)
    assert max(np.abs(v).max() for v in compiled.values()) <= 1e-8
    # ... and at the solution with the benchmark's instruments the equations fail: the residuals
    # read the instruments held in the model, not those the problem was written with
    model._set_instruments(cge.Instruments.benchmark(bench))
    blocks, _ = model.engine.residual_blocks()
    assert model.worst_residual(blocks, walras) > 1e-4
    model.reset()


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_a_point_outside_the_domain_reports_nan_for_its_own_equations(bench, models):
    model = models["reuse"]
    model.reset()
    engine = model.engine
    x = engine.values()
    names = [v.name for v in engine._vars]
    x[names.index(next(n for n in names if n.startswith("p[")))] = -1.0  # a negative producer price
    engine.restore(x)
    blocks, walras = engine.residual_blocks()
    nan = {name: np.flatnonzero(np.isnan(v)).tolist() for name, v in blocks.items() if np.isnan(v).any()}
    # one equation: the import price index, a negative price to the power 1 - sigma of the import nest
    assert list(nan) == ["import_price"] and len(nan["import_price"]) == 1
    with np.errstate(invalid="ignore"):
        con = list(engine.m.import_price.values())[nan["import_price"][0]]
        assert np.isnan(pyo.value(con.body))
    assert model.worst_residual(blocks, walras) == np.inf
    model.reset()
    assert model.residuals().abs().max() <= 1e-9


def test_a_changed_mutable_parameter_makes_the_problem_be_written_again(bench):
    model = cge.Model(bench, backend="pyomo")
    engine = model.engine
    m = engine.m
    m.probe = pyo.Param(mutable=True, initialize=1.0)
    engine._nlp = CompiledProblem(m, engine._blocks, engine._instruments)
    assert engine._nlp.current()
    assert engine.run_solver()["nlp"] == "reused"
    m.probe = 2.0
    assert not engine._nlp.current()
    assert engine.run_solver()["nlp"] == "rewritten" and engine._nlp.current()


def test_an_instrument_not_held_by_its_bounds_is_refused(bench):
    model = cge.Model(bench, backend="pyomo")
    k = next(iter(model.engine.m.ROUTES))
    model.engine.m.tariff[k].set_value(0.3)  # the value alone: the bounds still hold the old level
    with pytest.raises(ValueError, match=r"instrument tariff\[.*\] = 0.3 is not held by its bounds"):
        model.engine.run_solver()


def test_a_failed_solve_still_raises(bench):
    model = cge.Model(bench, backend="pyomo", solver_options={"max_iter": 1})
    with pytest.raises(cge.SolveError, match="no equilibrium within tolerance"):
        model.solve(_tariff_rise(bench, 0, 0.5), homotopy=False)
    np.testing.assert_array_equal(model._values(), model._benchmark_values)  # the start is restored


def test_options_that_would_break_the_instruments_are_refused(bench):
    with pytest.raises(ValueError, match="fixed_variable_treatment='relax_bounds'"):
        cge.Model(bench, backend="pyomo", solver_options={"fixed_variable_treatment": "relax_bounds"})
    with pytest.raises(ValueError, match="pyomo_nlp='sometimes'"):
        cge.Model(bench, backend="pyomo", solver_options={"pyomo_nlp": "sometimes"})


def test_unknowns_exclude_the_instruments(bench, models):
    size = models["reuse"].size()
    assert size["variables"] == size["equations"] == len(models["reuse"]._benchmark_values)
