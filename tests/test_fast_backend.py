"""The fast backend solves the reference model: same equations, same Jacobian, same equilibria.

Three levels of agreement with the Pyomo formulation (``cge/model``):

1. equations: at arbitrary points the fast backend's evaluation of every equation of the full model
   equals the Pyomo model's residual, label by label;
2. derivatives: the analytic Jacobian of the reduced system equals central finite differences;
3. equilibria: on seeded random benchmarks, under every sourcing mode, labour and capital closure
   and Leontief / Cobb-Douglas / other elasticities, prices, quantities and welfare of both backends
   agree to 1e-8 (relative) after tariff and iceberg-cost shocks.
"""

import numpy as np
import pytest

import cge
from cge.fast import FastModel, choose_backend
from cge.fast.equations import equation_residuals
from cge.synthetic import random_benchmark

pytestmark = pytest.mark.solver

AGREEMENT = 1e-8
LEONTIEF = dict(sigma_top=0.0, sigma_va=0.0, sigma_int=0.0, sigma_fd=0.0)
COBB_DOUGLAS = dict(sigma_top=1.0, sigma_va=1.0, sigma_int=1.0, sigma_fd=1.0, sigma_dm=3.0, sigma_mm=3.0)
OTHER = dict(sigma_top=0.5, sigma_va=0.8, sigma_int=0.3, sigma_fd=0.7, sigma_dm=2.5, sigma_mm=5.0)
FIXED_WAGE = cge.Closure(labour="fixed_real_wage")
FIXED_WAGE_SPECIFIC = cge.Closure(labour="fixed_real_wage", capital="sector_specific")
ELASTIC = cge.Closure(labour="elastic", labour_supply_elasticity=0.4, numeraire=("output", "R1", "S2"))


def common_benchmark(R, S, seed):
    """A random benchmark with the same tariff for both uses (final-use tariffs leave it balanced)."""
    b = random_benchmark(R, S, seed=seed)
    t = b.tariff_0.copy()
    t[..., 1] = t[..., 0]
    factors = {f: b.fp_0[..., k] for k, f in enumerate(b.factors)}
    return cge.Benchmark.from_arrays(b.regions, b.sectors, b.z_0, b.f_0, factors, tariffs=t, employment=b.employment, agents=b.agents)


def idle_sector_benchmark(seed):
    """A household-only random benchmark in which (R3, S2) produces nothing, rebalanced by capital.

    Every other sector keeps its sales and costs: capital payments take the place of inputs bought
    from (R3, S2) and give up what (R3, S2) used to buy from the sector.
    """
    b = random_benchmark(3, 3, seed=seed, agents=("household",))
    z, f, fp, t = b.z_0.copy(), b.f_0.copy(), b.fp_0.copy(), b.tariff_0
    fp[..., 1] += z[2, 1] * (1.0 + t[2, 1, :, 0])[:, None] - z[:, :, 2, 1]
    z[2, 1], f[2, 1], z[:, :, 2, 1], fp[2, 1] = 0.0, 0.0, 0.0, 0.0
    return cge.Benchmark.from_arrays(b.regions, b.sectors, z, f, {"labour": fp[..., 0], "capital": fp[..., 1]}, tariffs=t, agents=b.agents)


def tariff_cut(bench, share=0.5, importer=None):
    t = bench.tariff_0.copy()
    if importer is None:
        t *= 1.0 - share
    else:
        t[:, :, importer, :] *= 1.0 - share
    return cge.Scenario(tariff=t, name="tariff cut")


def iceberg_cut(bench, cut=0.1, use=None, tariff_to=None):
    """Trade costs of international routes fall by ``cut``, for one use (0, 1) or both (None)."""
    R = bench.n_regions
    tau = np.ones_like(bench.tariff_0)
    uses = [0, 1] if use is None else [use]
    off = ~np.eye(R, dtype=bool)
    for u in uses:
        tau[..., u] = np.where(off[:, None, :], 1.0 - cut, 1.0)
    t = None if tariff_to is None else np.where(off[:, None, :, None], tariff_to, 0.0) * np.ones_like(bench.tariff_0)
    return cge.Scenario(tariff=t, iceberg=tau, name="iceberg cut")


CASES = {
    "3x3 agent defaults tariff cut": (lambda: random_benchmark(3, 3, seed=1), "agent", None, cge.Closure(), lambda b: tariff_cut(b)),
    # (with sector-specific capital and Leontief value added, output could not move)
    "4x3 agent Leontief fixed wage, one importer's cut": (
        lambda: random_benchmark(4, 3, seed=2), "agent", LEONTIEF, FIXED_WAGE, lambda b: tariff_cut(b, 1.0, importer=1),
    ),
    "4x3 agent Cobb-Douglas one-level nests elastic labour, intermediate iceberg cut": (
        lambda: random_benchmark(4, 3, seed=3), "agent", COBB_DOUGLAS, ELASTIC, lambda b: iceberg_cut(b, 0.15, use=0),
    ),
    "3x3 agent other elasticities specific capital, final iceberg cut and new tariffs": (
        lambda: random_benchmark(3, 3, seed=4), "agent", OTHER, cge.Closure(capital="sector_specific"), lambda b: iceberg_cut(b, 0.2, use=1, tariff_to=0.05),
    ),
    "3x3 agent Cobb-Douglas Armington top nest (sigma_dm = 1, sigma_mm = 2), tariff cut": (
        lambda: random_benchmark(3, 3, seed=14), "agent", dict(OTHER, sigma_dm=1.0, sigma_mm=2.0), cge.Closure(), lambda b: tariff_cut(b, 0.7),
    ),
    "3x3 agent Cobb-Douglas import nest (sigma_mm = 1, sigma_dm = 0.5), iceberg cut": (
        lambda: random_benchmark(3, 3, seed=15), "agent", dict(OTHER, sigma_dm=0.5, sigma_mm=1.0), FIXED_WAGE, lambda b: iceberg_cut(b, 0.15),
    ),
    "3x3 agent idle sector, household only, fixed wage, iceberg and tariff cut": (
        lambda: idle_sector_benchmark(10), "agent", None, FIXED_WAGE, lambda b: iceberg_cut(b, 0.1, tariff_to=0.02),
    ),
    "4x3 common defaults fixed wage, specific capital, tariff cut": (
        lambda: common_benchmark(4, 3, seed=5), "common", None, FIXED_WAGE_SPECIFIC, lambda b: tariff_cut(b, 0.8),
    ),
    "3x3 common other elasticities elastic labour, iceberg cut": (
        lambda: common_benchmark(3, 3, seed=6), "common", OTHER, ELASTIC, lambda b: iceberg_cut(b, 0.1),
    ),
    "3x3 agent other elasticities labour CET, tariff cut": (
        lambda: random_benchmark(3, 3, seed=12), "agent", OTHER, cge.Closure(labour_market="cet", labour_cet_elasticity=0.8), lambda b: tariff_cut(b, 0.9),
    ),
    "3x3 agent fixed wage premia, iceberg cut": (
        lambda: random_benchmark(3, 3, seed=13), "agent", None, cge.Closure(labour_market="premia"), lambda b: iceberg_cut(b, 0.2),
    ),
    "3x3 agent transfers a share of world income, tariff rise": (
        lambda: random_benchmark(3, 3, seed=14), "agent", OTHER, cge.Closure(transfer="world_income_share"), lambda b: tariff_cut(b, -2.0),
    ),
    "3x3 common Leontief, tariffs raised": (
        lambda: random_benchmark(3, 3, seed=7, tariffs=False), "common", LEONTIEF, cge.Closure(), lambda b: iceberg_cut(b, 0.0, tariff_to=0.2),
    ),
}


def _relative_gap(a, b):
    scale = np.maximum(np.abs(a), np.abs(b))
    keep = scale > 0
    return float(np.max(np.abs(a - b)[keep] / scale[keep])) if keep.any() else 0.0


def pyomo_values(model, layout) -> dict:
    """The Pyomo model's variable values on the fast backend's array layouts."""
    m = model.m
    R, S, A, B = layout.R, layout.S, layout.A, layout.B
    p, Y = np.ones((R, S)), np.zeros((R, S))
    for k in m.PRODUCERS:
        p[k], Y[k] = m.p[k].value, m.Y[k].value
    PVA, PINT = np.ones((R, S)), np.ones((R, S))
    for k in m.VA_PRODUCERS:
        PVA[k] = m.PVA[k].value
    for k in m.INT_PRODUCERS:
        PINT[k] = m.PINT[k].value
    S = layout.comp.shape[0]  # commodities, or commodity groups with the firm-size nest
    QA, PA = np.zeros((S, R, B)), np.ones((S, R, B))
    for s, b, i in m.COMPOSITES:
        QA[i, s, b], PA[i, s, b] = m.QA[s, b, i].value, m.PA[s, b, i].value
    out = {}
    if layout.grouped:  # route prices of the firm-size nest
        PR = np.ones((R, S, R, B))
        PRc = np.ones((R, S, R))
        for r, g, s, b in m.SIZE_ROUTES:
            if b < 0:
                PRc[r, g, s] = m.PR[r, g, s, b].value
            else:
                PR[r, g, s, b] = m.PR[r, g, s, b].value
        out["PR"] = PR
        if layout.common:
            out["PRc"] = PRc
    if layout.common:
        PM, QM = np.ones((S, R)), np.ones((S, R))
        for s, i in m.IMPORT_COMPOSITES:
            PM[i, s], QM[i, s] = m.PM[s, i].value, m.QM[s, i].value
        out["QM"] = QM
    else:
        PM = np.ones((S, R, B))
        for s, b, i in m.IMPORT_COMPOSITES:
            PM[i, s, b] = m.PM[s, b, i].value
    PFD = np.ones((R, A))
    for k in m.AGENTS:
        PFD[k] = m.PFD[k].value
    LS = np.ones(R)
    for s in m.LABOUR_REGIONS:
        LS[s] = m.LS[s].value
    w = np.array([m.w[k].value for k in layout.markets])
    WL = np.ones(R)
    for s in m.CET_REGIONS:
        WL[s] = m.WL[s].value
    INC = np.array([m.INC[s].value for s in range(R)])
    return out | dict(p=p, Y=Y, PVA=PVA, PINT=PINT, w=w, QA=QA, PA=PA, PM=PM, PFD=PFD, INC=INC, LS=LS, WL=WL)


# ---------------------------------------------------------------- 1. the same equations


@pytest.mark.parametrize("name", ["4x3 agent Leontief fixed wage, one importer's cut",
                                  "3x3 agent other elasticities specific capital, final iceberg cut and new tariffs",
                                  "3x3 agent idle sector, household only, fixed wage, iceberg and tariff cut",
                                  "3x3 common other elasticities elastic labour, iceberg cut"])
def test_every_equation_matches_the_reference_at_any_point(name):
    make, sourcing, el, closure, scenario = CASES[name]
    bench = make()
    ref = cge.Model(bench, closure=closure, sourcing=sourcing, elasticities=el)
    fast = FastModel(bench, closure=closure, sourcing=sourcing, elasticities=el)
    inst = scenario(bench).instruments(bench)
    inst = cge.Instruments(tariff=inst.tariff, iceberg=inst.iceberg, output_tax=inst.output_tax, transfer=inst.transfer, numeraire_value=1.2)
    assert_equations_match_reference(ref, fast, inst)
    assert list(fast.residuals().index) == list(ref.residuals().index)
    assert fast.size()["equations"] == ref.size()["equations"] and fast.size()["variables"] == ref.size()["variables"]


# ---------------------------------------------------------------- 2. the exact Jacobian


def assert_equations_match_reference(ref, fast, inst) -> None:
    """Every equation of the fast backend's full-model check equals the reference (Pyomo) model's residual
    to 1e-12, with the instruments ``inst``, at a random point far from equilibrium (the reference's
    variables drawn from U(0.7, 1.3), the fast backend evaluated at those values)."""
    ref._set_instruments(inst)
    fast._set_instruments(inst)
    rng = np.random.default_rng(0)
    for v in ref.engine._vars:
        v.set_value(float(rng.uniform(0.7, 1.3)))
    expected = ref.residuals()
    blocks, walras = equation_residuals(fast.engine.layout, fast.engine._inst, pyomo_values(ref.engine, fast.engine.layout))
    got = np.concatenate([*blocks.values(), [walras]])
    assert np.abs(expected).max() > 1e-3  # a point far from equilibrium
    np.testing.assert_allclose(got, expected.to_numpy(), rtol=0, atol=1e-12)


def assert_jacobian_matches_finite_differences(engine, x) -> np.ndarray:
    """The fast backend's analytic Jacobian at ``x`` equals central differences of its residuals
    (relative step 1e-6, tolerance 1e-7 of the largest entry); returns the analytic Jacobian."""
    analytic = engine.system.jacobian(engine.evaluate(x))
    numeric = np.empty_like(analytic)
    for k in range(len(x)):
        h = 1e-6 * x[k]
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        numeric[:, k] = (engine.evaluate(up).residual - engine.evaluate(down).residual) / (2 * h)
    assert np.abs(analytic - numeric).max() <= 1e-7 * max(1.0, np.abs(numeric).max())
    return analytic


@pytest.mark.parametrize("name", ["4x3 agent Leontief fixed wage, one importer's cut",
                                  "3x3 agent other elasticities specific capital, final iceberg cut and new tariffs",
                                  "4x3 agent Cobb-Douglas one-level nests elastic labour, intermediate iceberg cut",
                                  "3x3 common other elasticities elastic labour, iceberg cut",
                                  "4x3 common defaults fixed wage, specific capital, tariff cut",
                                  "3x3 agent other elasticities labour CET, tariff cut",
                                  "3x3 agent transfers a share of world income, tariff rise",
                                  "3x3 agent Cobb-Douglas Armington top nest (sigma_dm = 1, sigma_mm = 2), tariff cut",
                                  "3x3 agent Cobb-Douglas import nest (sigma_mm = 1, sigma_dm = 0.5), iceberg cut"])
def test_jacobian_matches_finite_differences(name):
    make, sourcing, el, closure, scenario = CASES[name]
    bench = make()
    model = FastModel(bench, closure=closure, sourcing=sourcing, elasticities=el)
    inst = scenario(bench).instruments(bench)
    to = np.random.default_rng(2).uniform(-0.2, 0.3, size=inst.output_tax.shape)  # output taxes and subsidies
    shifted = inst.transfer + np.random.default_rng(3).normal(0, 0.05, size=inst.transfer.shape) * bench.income.mean()
    shifted -= shifted.mean() - inst.transfer.mean()  # keep the world total
    model._set_instruments(cge.Instruments(tariff=inst.tariff, iceberg=inst.iceberg, output_tax=to, transfer=shifted, numeraire_value=1.1))
    engine = model.engine
    x = np.random.default_rng(1).uniform(0.8, 1.2, size=engine.layout.n)
    analytic = assert_jacobian_matches_finite_differences(engine, x)
    assert np.count_nonzero(analytic) > 2 * len(x)  # not a trivial matrix


# ---------------------------------------------------------------- 3. the same equilibria


@pytest.mark.parametrize("options", [dict(), dict(sourcing="common"), dict(elasticities=OTHER, closure=ELASTIC)])
def test_benchmark_replicates(toy, options):
    bench = toy
    if options.get("sourcing") == "common":
        bench = common_benchmark(3, 4, seed=8)
    if "closure" in options:
        bench = random_benchmark(3, 3, seed=8)
    model = FastModel(bench, **options)
    res = model.residuals()
    assert len(res) == model.size()["equations"] + 1
    assert res.abs().max() <= 1e-9
    assert np.abs(model.engine.reduced_residuals()).max() <= 1e-9
    sol = model.solve().solution
    assert sol.stats["iterations"] == 0 and sol.max_residual <= 1e-9


@pytest.mark.parametrize("name", list(CASES))
def test_backends_agree(name):
    make, sourcing, el, closure, scenario = CASES[name]
    bench = make()
    sc = scenario(bench)
    ref = cge.Model(bench, closure=closure, sourcing=sourcing, elasticities=el).solve(sc)
    fast = FastModel(bench, closure=closure, sourcing=sourcing, elasticities=el).solve(sc)
    a, b = ref.solution, fast.solution
    assert b.max_residual <= AGREEMENT and abs(b.walras_residual) <= AGREEMENT
    for field in ("p", "y", "w", "factor_demand", "z", "pfd", "income", "utility", "labour_supply"):
        assert _relative_gap(getattr(a, field), getattr(b, field)) <= AGREEMENT, field
    assert np.array_equal(a.tariff, b.tariff) and np.array_equal(a.tau, b.tau)
    assert np.max(np.abs(a.y - 1.0)) > 1e-4  # the shock moved the economy
    wa, wb = ref.welfare(decompose=False), fast.welfare(decompose=False)
    assert np.abs(wa["ev"] - wb["ev"]).max() <= AGREEMENT * wa["income_0"].max()
    assert _relative_gap(wa["utility_index"].dropna().to_numpy(), wb["utility_index"].dropna().to_numpy()) <= AGREEMENT
    assert fast.metadata()["backend"] == "fast"


def test_warm_start_path_and_reset_follow_the_reference():
    bench = random_benchmark(3, 3, seed=9)
    sc = iceberg_cut(bench, 0.3, tariff_to=0.0)
    ref, fast = cge.Model(bench), FastModel(bench)
    first = fast.solve(sc)
    again = fast.solve(sc, start=first)  # warm start from the equilibrium just found
    assert first.solution.stats["iterations"] > 0 and again.solution.stats["iterations"] == 0
    assert np.array_equal(fast.solve(sc).solution.z, first.solution.z)  # a cold start again: the same bits
    path_ref, path_fast = ref.path(sc, 3), fast.path(sc, 3)
    for a, b in zip(path_ref, path_fast):
        assert _relative_gap(a.utility, b.utility) <= AGREEMENT and _relative_gap(a.z, b.z) <= AGREEMENT
    dec_ref = ref.solve(sc, decompose=3).welfare_decomposition()
    dec_fast = fast.solve(sc, decompose=3).welfare_decomposition()
    np.testing.assert_allclose(dec_fast.to_numpy(), dec_ref.to_numpy(), rtol=1e-7, atol=1e-7 * bench.income.max())
    fast.reset()
    assert np.array_equal(fast._values(), np.ones(fast.engine.layout.n))
    assert fast.residuals().abs().max() <= 1e-12


def test_ipopt_and_homotopy_fallbacks_reach_the_same_equilibrium():
    bench = random_benchmark(3, 3, seed=4)
    tau = np.where(np.eye(3, dtype=bool)[:, None, :, None], 1.0, 0.3) * np.ones_like(bench.tariff_0)
    sc = cge.Scenario(tariff=bench.tariff_0 * 3, iceberg=tau, name="large")
    ref = cge.Model(bench).solve(sc).solution
    by_ipopt = FastModel(bench, solver_options={"method": "ipopt"}).solve(sc)
    assert by_ipopt.solution.stats["method"] == "ipopt"
    assert _relative_gap(ref.p, by_ipopt.solution.p) <= AGREEMENT
    by_superlu = FastModel(bench, solver_options={"newton_linear_solver": "sparse"}).solve(sc)
    assert by_superlu.solution.stats["method"] == "newton"
    assert _relative_gap(ref.z, by_superlu.solution.z) <= AGREEMENT
    # two Newton steps and two Ipopt iterations cannot make it in one go: the shock is stepped
    stepped = FastModel(bench, solver_options={"newton_max_iter": 2, "max_iter": 2}).solve(sc)
    assert stepped.log[0].startswith("direct solve failed") and stepped.log[-1] == "homotopy: reached 1 of the shock"
    assert stepped.solution.max_residual <= 1e-8
    assert _relative_gap(ref.utility, stepped.solution.utility) <= 1e-6


def test_a_missed_tolerance_raises_naming_the_worst_equations():
    bench = random_benchmark(3, 3, seed=1)
    model = FastModel(bench)
    with pytest.raises(cge.SolveError, match=r"worst equations:\n  (market clearing|zero profit|income balance|factor market)") as err:
        model.solve(tariff_cut(bench), tol=1e-30, homotopy=False)
    assert len(err.value.residuals) == model.size()["equations"] + 1
    assert np.array_equal(model._values(), np.ones(model.engine.layout.n))  # left at the last good point


def test_dispatch_from_cge_model_and_choice_by_size():
    small, large = random_benchmark(3, 3, seed=1), random_benchmark(8, 8, seed=1)
    assert choose_backend(small, "agent") == "pyomo" and choose_backend(large, "agent") == "fast"
    model = cge.Model(large, backend="fast")
    assert isinstance(model, cge.Model) and model.backend == "fast" and model.build_seconds >= 0
    assert isinstance(FastModel(small), cge.Model) and FastModel(small).backend == "fast"
    assert cge.Model(small).backend == "pyomo" and cge.Model(large).backend == "fast"  # default: auto
    res = model.solve(tariff_cut(large))
    assert res.solution.max_residual <= 1e-8 and res.solution.stats["peak_memory_mb"] > 0
    assert set(res.solution.stats) >= {"iterations", "solve_seconds", "build_seconds", "evaluation_seconds", "jacobian_seconds", "factorisation_seconds"}


@pytest.mark.slow
def test_full_wiod_table_solves_a_tariff_scenario():
    """The full WIOD 2011 table (41 x 35, sourcing by agent) as built by benchmarks/bench_backends.py."""
    import importlib.util
    import time
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_backends.py"
    spec = importlib.util.spec_from_file_location("bench_backends", script)
    bench_backends = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_backends)
    if not bench_backends.WIOD.is_file():
        pytest.skip(f"WIOD table not found at {bench_backends.WIOD}")
    bench = bench_backends.wiod_benchmark()
    start = time.perf_counter()
    model = FastModel(bench)
    res = model.solve(bench_backends.tariff_rise(bench, bench.regions.index("USA")))
    seconds = time.perf_counter() - start
    sol = res.solution
    assert sol.max_residual <= 1e-8 and abs(sol.walras_residual) <= 1e-8
    assert seconds <= 60.0 and sol.stats["peak_memory_mb"] <= 4096  # goals: 30 s and 4 GB (doubled time for busy machines)
    ev = res.welfare(decompose=False)["ev_pct"]
    assert ev["USA"] > 0 > ev["CAN"] and ev["MEX"] < 0  # a large importer gains from its tariff, its neighbours lose
