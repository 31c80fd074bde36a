"""The equilibrium model: benchmark replication, homogeneity, Walras' law, closed forms, shocks."""

import numpy as np
import pytest

import cge
from cge.synthetic import random_benchmark

pytestmark = pytest.mark.solver


def _factors(bench, capital=None):
    return {"labour": bench.fp_0[..., 0], "capital": bench.fp_0[..., 1] if capital is None else capital}


def identical_sourcing(bench: cge.Benchmark) -> cge.Benchmark:
    """The benchmark with every buyer of a region sourcing each commodity in the same proportions.

    Each route's flow is shared among buyers in proportion to their total purchases of the
    commodity, so sales are unchanged; tariffs are the intermediate ones for both uses and capital
    payments absorb the change in tariffs paid, so the table stays balanced.
    """
    d = np.concatenate([bench.z_0, bench.f_0], axis=3)
    purchases = d.sum(axis=0)  # [i, s, b]
    route = d.sum(axis=3)  # [r, i, s]
    share = route / route.sum(axis=0, keepdims=True)
    d_new = share[..., None] * purchases[None]
    S = bench.n_sectors
    t = bench.tariff_0.copy()
    t[..., 1] = t[..., 0]
    z_new = d_new[..., :S]
    tariffs_paid = lambda z: np.einsum("risj,ris->sj", z, t[..., 0])  # noqa: E731
    capital = bench.fp_0[..., 1] - (tariffs_paid(z_new) - tariffs_paid(bench.z_0))
    return cge.Benchmark.from_arrays(
        bench.regions, bench.sectors, z_new, d_new[..., S:], _factors(bench, capital), tariffs=t,
        employment=bench.employment, agents=bench.agents,
    )


# ---------------------------------------------------------------- benchmark replication


def test_benchmark_replicates_before_any_iteration(toy_model):
    res = toy_model.residuals()
    assert len(res) == toy_model.size()["equations"] + 1  # plus the market left out by Walras' law
    assert res.abs().max() <= 1e-9


@pytest.mark.parametrize(
    "options",
    [
        dict(sourcing="common"),
        dict(elasticities=dict(sigma_top=1.0, sigma_va=1.0, sigma_int=1.0, sigma_dm=3.0, sigma_mm=3.0)),
        dict(elasticities=dict(sigma_top=0.5, sigma_va=0.0, sigma_int=2.0, sigma_fd=0.0)),
        dict(closure=cge.Closure(labour="fixed_real_wage", capital="sector_specific")),
        dict(closure=cge.Closure(labour="elastic", labour_supply_elasticity=0.3, numeraire=("output", "China", "services"))),
    ],
)
def test_benchmark_replicates_under_every_option(toy, options):
    bench = identical_sourcing(toy) if options.get("sourcing") == "common" else toy
    model = cge.Model(bench, **options)
    assert model.residuals().abs().max() <= 1e-9
    res = model.solve()
    np.testing.assert_allclose(res.solution.p, 1.0, atol=1e-12)
    np.testing.assert_allclose(res.solution.z, model.params.d_0, rtol=1e-12, atol=1e-12)
    assert np.abs(res.welfare(decompose=False)["ev"]).max() <= 1e-9


def test_solve_returns_the_benchmark(toy_model, toy):
    res = toy_model.solve()
    assert res.solution.stats["iterations"] == 0
    w = res.welfare(decompose=False)
    assert np.abs(w["ev"]).max() <= 1e-9
    np.testing.assert_allclose(res.mrio().z_0, toy.z_0, rtol=1e-12)
    np.testing.assert_allclose(res.mrio().fp_0, toy.fp_0, rtol=1e-12)


# ---------------------------------------------------------------- invariance and accounting


@pytest.fixture(scope="module")
def cut(toy):
    """A 10% cut of every tariff of the toy benchmark, solved."""
    model = cge.Model(toy)
    return model.solve(cge.Scenario(tariff=toy.tariff_0 * 0.9, name="cut10"))


def test_homogeneity_in_the_numeraire(toy, cut):
    doubled = cge.Model(toy).solve(cge.Scenario(tariff=toy.tariff_0 * 0.9, numeraire_value=2.0))
    a, b = cut.solution, doubled.solution
    np.testing.assert_allclose(b.p, 2.0 * a.p, rtol=1e-8)
    np.testing.assert_allclose(b.w, 2.0 * a.w, rtol=1e-8)
    np.testing.assert_allclose(b.income, 2.0 * a.income, rtol=1e-8)
    np.testing.assert_allclose(b.z, a.z, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(b.y, a.y, rtol=1e-8)
    np.testing.assert_allclose(b.utility, a.utility, rtol=1e-8)
    np.testing.assert_allclose(doubled.welfare(decompose=False)["ev"], cut.welfare(decompose=False)["ev"], rtol=1e-8, atol=1e-9)


def test_walras_law_the_dropped_market_clears(cut):
    assert abs(cut.solution.walras_residual) <= 1e-8
    # the shock moved that market: its price is not the benchmark's
    r, i = cut.model.engine.walras_market
    assert abs(cut.solution.p[r, i] - 1.0) > 1e-6


def test_trade_balance_stays_at_its_fixed_value(toy, cut):
    tb = cut.trade_balance()
    np.testing.assert_allclose(tb["imports"] - tb["exports"], toy.net_transfer, rtol=1e-8, atol=1e-8 * toy.income.max())
    assert np.abs(toy.net_transfer).min() > 1.0  # the toy has real imbalances


def test_numeraire_is_the_world_factor_price_index(toy, cut):
    sol = cut.solution
    index = (sol.w * toy.fp_0).sum() / toy.fp_0.sum()
    assert abs(index - 1.0) <= 1e-9


def test_value_accounting_of_the_counterfactual(cut):
    """Income = factor income + tariff revenue + transfer = final expenditure, region by region."""
    sol, par = cut.solution, cut.params
    S = par.n_sectors
    use = par.use_of_buyer
    buyer_price = sol.p[:, :, None, None] * sol.tau[..., use] * (1.0 + sol.tariff[..., use])
    spending = (buyer_price[..., S:] * sol.z[..., S:]).sum(axis=(0, 1, 3))
    np.testing.assert_allclose(spending, sol.income, rtol=1e-8)
    mr = cut.mrio()  # balanced like a benchmark
    np.testing.assert_allclose(mr.output, mr.costs, rtol=1e-8)


# ---------------------------------------------------------------- economics of shocks


def test_bilateral_tariff_cut_raises_those_imports(toy):
    t = toy.tariff_0.copy()
    r, i, s = toy.regions.index("RoW"), toy.sectors.index("electronics"), toy.regions.index("ASEAN")
    assert t[r, i, s].min() > 0.01
    t[r, i, s] = 0.0
    res = cge.Model(toy).solve(cge.Scenario(tariff=t))
    trade = res.trade()
    assert trade.loc[("RoW", "electronics", "ASEAN"), "pct_change"] > 1.0
    # the other partner loses market share in ASEAN's electronics imports
    assert trade.loc[("China", "electronics", "ASEAN"), "pct_change"] < 0.0


def test_removing_a_single_tariff_raises_world_welfare():
    b = random_benchmark(3, 3, seed=11, tariffs=False)
    t = np.zeros((3, 3, 3, 2))
    t[1, 2, 0, :] = 0.2
    capital = b.fp_0[..., 1] - np.einsum("risj,ris->sj", b.z_0, t[..., 0])
    bench = cge.Benchmark.from_arrays(b.regions, b.sectors, b.z_0, b.f_0, _factors(b, capital), tariffs=t, agents=b.agents)
    res = cge.Model(bench).solve(cge.Scenario(tariff=np.zeros_like(t)), decompose=True)
    w = res.welfare()
    assert w.loc["World", "ev"] > 0.0
    # the importer that removed the tariff gains through efficiency and loses through its terms of trade
    assert w.loc["R1", "tariff_efficiency"] > 0 and w.loc["R1", "terms_of_trade"] < 0
    assert w.loc["R2", "terms_of_trade"] > 0


def test_ev_decomposition_adds_up(cut):
    w = cut.model.solve(cut.scenario, decompose=8).welfare()
    for region in ["ASEAN", "China", "RoW", "World"]:
        assert abs(w.loc[region, "residual"]) <= 0.01 * abs(w.loc[region, "ev"])
    assert abs(w.loc["ASEAN", "ev"]) > 1.0  # the shock matters
    # terms-of-trade effects net out over the world up to price-index weighting
    assert abs(w.loc["World", "terms_of_trade"]) < 0.05 * np.abs(w["terms_of_trade"].iloc[:-1]).max()


def test_fixed_real_wage_employment_responds(toy):
    model = cge.Model(toy, closure=cge.Closure(labour="fixed_real_wage"))
    res = model.solve(cge.Scenario(tariff=toy.tariff_0 * 0.5), decompose=True)
    sol = res.solution
    lab = toy.factors.index("labour")
    # the wage equals the household consumer price index
    hh = toy.agents.index("household")
    np.testing.assert_allclose(sol.w[:, 0, lab], sol.pfd[:, hh], rtol=1e-9)
    emp = res.employment_by_region()
    assert (emp["pct_change"].abs() > 0.1).all()
    w = res.welfare()
    assert (w["employment"].iloc[:-1].abs() > 0).all()
    # full employment, one market per region: total efficiency units are fixed, persons move a little
    full = cge.Model(toy).solve(cge.Scenario(tariff=toy.tariff_0 * 0.5))
    np.testing.assert_allclose(full.solution.factor_demand[..., lab].sum(axis=1), toy.fp_0[..., lab].sum(axis=1), rtol=1e-9)
    by_region = full.employment_by_region()
    assert 0 < (by_region["persons"] / by_region["persons_0"] - 1).abs().max() < 0.01
    assert (by_region["jobs_moved"] > 0).all()
    # with fixed sector wage premia, total persons are fixed instead
    premia = cge.Model(toy, closure=cge.Closure(labour_market="premia")).solve(cge.Scenario(tariff=toy.tariff_0 * 0.5))
    np.testing.assert_allclose(premia.employment_by_region()["persons"], by_region["persons_0"], rtol=1e-9)


# ---------------------------------------------------------------- closed form


def acr_benchmark(beta):
    """One sector, labour only, no tariffs, balanced trade, identical sourcing for all buyers.

    Sourcing shares ``pi[r, s]`` (columns sum to one) and value-added shares ``beta[s]``; output
    solves ``X = Pi X`` (balanced trade: each region spends its value added).
    """
    pi = np.array([[0.70, 0.20, 0.15], [0.20, 0.60, 0.25], [0.10, 0.20, 0.60]])
    vals, vecs = np.linalg.eig(pi)
    x = np.real(vecs[:, np.argmin(np.abs(vals - 1.0))])
    x = 1000.0 * x / x.sum()
    beta = np.asarray(beta, float)
    z = pi[:, None, :, None] * ((1.0 - beta) * x)[None, None, :, None]
    f = pi[:, None, :] * (beta * x)[None, None, :]
    return cge.Benchmark.from_arrays(["A", "B", "C"], ["goods"], z, f, {"labour": (beta * x)[:, None]}), pi


@pytest.mark.parametrize("beta", [[1.0, 1.0, 1.0], [0.5, 0.4, 0.6]])
def test_closed_form_gains_from_trade(beta):
    """Arkolakis, Costinot and Rodriguez-Clare (2012, AER 102(1), eq. 3) and, with intermediate
    inputs in a Cobb-Douglas nest, Costinot and Rodriguez-Clare (2014, Handbook of International
    Economics vol. 4, eq. 28): the change in real income is :math:`\\hat\\lambda_{ss}^{-1/(\\varepsilon \\beta_s)}`
    with trade elasticity :math:`\\varepsilon = \\sigma - 1` and value-added share :math:`\\beta_s`."""
    sigma = 5.0
    bench, pi = acr_benchmark(beta)
    has_inputs = min(beta) < 1.0
    model = cge.Model(bench, elasticities=dict(sigma_dm=sigma, sigma_mm=sigma, sigma_top=1.0))
    tau = np.full((3, 1, 3), 0.8)
    tau[np.arange(3), :, np.arange(3)] = 1.0
    res = model.solve(cge.Scenario(iceberg=tau))
    sol = res.solution
    hh = bench.n_sectors  # the household is the first buyer after the sectors
    # domestic share of the household's spending, after the shock
    value = sol.p[:, :, None] * sol.tau[..., 1] * sol.z[..., hh]
    lam_new = np.diag(value[:, 0, :] / value[:, 0, :].sum(axis=0))
    lam_hat = lam_new / np.diag(pi)
    expected = lam_hat ** (-1.0 / ((sigma - 1.0) * np.asarray(beta)))
    np.testing.assert_allclose(sol.utility, expected, rtol=1e-8)
    assert (sol.utility > 1.01).all()
    if has_inputs:  # intermediate buyers source like the household
        value_j = sol.p[:, :, None] * sol.tau[..., 0] * sol.z[..., 0]
        np.testing.assert_allclose(np.diag(value_j[:, 0, :] / value_j[:, 0, :].sum(axis=0)), lam_new, rtol=1e-8)


# ---------------------------------------------------------------- sourcing options


def test_common_and_agent_sourcing_agree_when_benchmark_shares_are_identical(toy):
    bench = identical_sourcing(toy)
    t = bench.tariff_0 * 0.5
    agent = cge.Model(bench, sourcing="agent").solve(cge.Scenario(tariff=t))
    common = cge.Model(bench, sourcing="common").solve(cge.Scenario(tariff=t))
    np.testing.assert_allclose(common.solution.p, agent.solution.p, rtol=1e-8)
    np.testing.assert_allclose(common.solution.utility, agent.solution.utility, rtol=1e-8)
    np.testing.assert_allclose(common.solution.z, agent.solution.z, rtol=1e-7, atol=1e-9)


def test_common_sourcing_rejects_tariffs_that_differ_by_use(toy):
    with pytest.raises(cge.CalibrationError, match=r"same tariff for both uses; \(ASEAN, primary, China\) differs"):
        cge.Model(toy, sourcing="common")


# ---------------------------------------------------------------- failures are loud


def test_a_missed_tolerance_raises_naming_the_worst_equations(toy):
    model = cge.Model(toy, solver_options={"max_iter": 1})
    with pytest.raises(cge.SolveError) as err:
        model.solve(cge.Scenario(tariff=np.zeros_like(toy.tariff_0)), homotopy=False)
    msg = str(err.value)
    assert "worst equations" in msg
    worst = err.value.residuals.abs().sort_values(ascending=False)
    assert worst.index[0] in msg and worst.iloc[0] > 1e-8
    # the model is left at its last good point, the benchmark
    assert model.residuals().abs().max() <= 1e-9


def test_homotopy_reaches_a_large_shock_in_steps(toy):
    tau = np.full(toy.tariff_0.shape, 0.6)
    for r in range(3):
        tau[r, :, r, :] = 1.0
    shock = cge.Scenario(tariff=np.zeros_like(toy.tariff_0), iceberg=tau)
    reference = cge.Model(toy).solve(shock)
    stepped = cge.Model(toy, solver_options={"max_iter": 3}).solve(shock)
    assert any("homotopy" in line for line in stepped.log)
    np.testing.assert_allclose(stepped.solution.p, reference.solution.p, rtol=1e-8)
    np.testing.assert_allclose(stepped.solution.utility, reference.solution.utility, rtol=1e-8)


def test_warm_start_from_a_previous_solution(toy):
    model = cge.Model(toy)
    shock = cge.Scenario(tariff=toy.tariff_0 * 0.5)
    first = model.solve(shock)
    again = model.solve(shock, start=first)
    assert first.solution.stats["iterations"] >= 2
    assert again.solution.stats["iterations"] == 0
    cold = model.solve(shock)  # every solve starts from the benchmark unless told otherwise
    assert cold.solution.stats["iterations"] == first.solution.stats["iterations"]
    assert np.array_equal(cold.solution.z, first.solution.z)


def test_bad_scenario_is_named(toy):
    t = toy.tariff_0.copy()
    t[0, 1, 2, 0] = np.inf
    with pytest.raises(cge.ScenarioError, match=r"tariff \(ASEAN, electronics, RoW, intermediate\)"):
        cge.Model(toy).solve(cge.Scenario(tariff=t))
    with pytest.raises(cge.ClosureError, match="labour='none'"):
        cge.Closure(labour="none")


# ---------------------------------------------------------------- value chains before and after


def test_gvc_indicators_side_by_side(toy):
    model = cge.Model(toy)
    base = model.solve().gvc()
    assert np.abs(base["change"]).max() <= 1e-7  # the benchmark's own table gives no change
    t = toy.tariff_0.copy()
    asia = [toy.regions.index(r) for r in toy.groups["Asia"]]
    for r in asia:
        for s in asia:
            t[r, :, s] = 0.0
    g = model.solve(cge.Scenario(tariff=t, name="asia_fta")).gvc()
    row = g[(g.indicator == "intra_group_trade_share") & (g.region == "Asia")].iloc[0]
    assert row["scenario"] > row["benchmark"] and row["change_unit"] == "pp"
    np.testing.assert_allclose(row["change"], 100 * (row["scenario"] - row["benchmark"]))
    exports = g[(g.indicator == "gross_exports") & (g.region == "ASEAN")].iloc[0]
    assert exports["change"] > 0 and exports["change_unit"] == "%"
    assert not g.duplicated(["indicator", "region"]).any()
    # a group of one region, named like it, adds no second set of rows
    g2 = model.solve(cge.Scenario(tariff=t, name="asia_fta")).gvc(groups={"China": ["China"], "Asia": ["ASEAN", "China"]})
    assert not g2.duplicated(["indicator", "region"]).any() and len(g2) == len(g)


def test_full_employment_holds_persons_fixed_with_sector_wage_premia():
    """With ``labour_market="premia"`` labour markets clear in persons (benchmark wage differences
    are fixed premia), so under full employment total persons stay fixed while labour moves between
    sectors, and the gain from moving workers to high-pay sectors is its own welfare term."""
    bench = cge.Benchmark.load("eastasia-small")
    lab = bench.factors.index("labour")
    wage = bench.fp_0[..., lab] / bench.employment
    assert (wage.max(axis=1) / wage.min(axis=1)).min() > 1.5  # real sector premia
    t = bench.tariff_0 * 0.0
    premia = cge.Closure(labour_market="premia")
    ref = cge.Model(bench, closure=premia, backend="pyomo").solve(cge.Scenario(tariff=t), decompose=True)
    fast = cge.Model(bench, closure=premia, backend="fast").solve(cge.Scenario(tariff=t))
    emp = ref.employment_by_region()
    np.testing.assert_allclose(emp["persons"], emp["persons_0"], rtol=1e-9)
    assert ref.employment()["pct_change"].abs().max() > 0.5  # sectors reallocate
    np.testing.assert_allclose(fast.solution.p, ref.solution.p, rtol=1e-8)
    np.testing.assert_allclose(fast.solution.utility, ref.solution.utility, rtol=1e-8)
    # income is the value of factor demand at factor prices, not endowment times a uniform wage
    sol = ref.solution
    tb = ref.trade_balance()
    np.testing.assert_allclose(tb["imports"] - tb["exports"], bench.net_transfer, rtol=1e-8, atol=1e-6)
    w = ref.welfare()
    assert (w["residual"].abs() <= 0.01 * w["ev"].abs() + 1e-6 * w["income_0"]).all()
    assert sol.max_residual <= 1e-8
    assert w["labour_reallocation"].abs().max() > 1e-3 * w["ev"].abs().max()
    # the default (one market per region in efficiency units): no reallocation term, still adds up
    single = cge.Model(bench, backend="fast").solve(cge.Scenario(tariff=t), decompose=True).welfare()
    assert (single["labour_reallocation"] == 0).all()
    assert (single["residual"].abs() <= 0.01 * single["ev"].abs() + 1e-6 * single["income_0"]).all()
    assert abs(single.loc["World", "ev"] - w.loc["World", "ev"]) > 0.01 * abs(w.loc["World", "ev"])  # the treatment matters
