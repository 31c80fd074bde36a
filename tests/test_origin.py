"""Rules of origin with endogenous preference use (cge.origin): limits, closed forms, calibration, replication.

Solves use the fast backend on ``eastasia-2011`` (a few seconds each).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import cge
from cge import agreements as A
from cge import datasets
from cge import origin as O
from cge.gvc import leontief
from cge.sources import ENV_VAR, has_shared_data, shared_data_dir

pytestmark = pytest.mark.solver


@pytest.fixture(scope="module")
def bench():
    return datasets.load("eastasia-2011")


@pytest.fixture(scope="module")
def model(bench):
    return cge.Model(bench, backend="fast")


@pytest.fixture(scope="module")
def origin(bench):
    return O.Origin(bench)


@pytest.fixture(scope="module")
def rcep(bench):
    members = bench.groups["RCEP"]
    return cge.Scenario.from_shocks(bench, [{"instrument": "tariff", "exporters": members, "importers": members, "value": 0.0}], name="rcep")


@pytest.fixture(scope="module")
def rcep_runs(origin, model, rcep):
    with_cum = origin.solve(model, rcep, agreements=["RCEP"])
    bilateral = origin.solve(model, rcep, agreements=["RCEP"], rules={"RCEP": {"cumulation": "bilateral"}})
    return with_cum, bilateral


# ------------------------------------------------------------------------------------------ closed forms
@pytest.mark.unit
def test_claim_share_and_expected_cost_are_the_lognormal_closed_forms():
    median, sigma = 0.02, 0.8
    dist = stats.lognorm(s=sigma, scale=median)
    for m in (0.005, 0.02, 0.07):
        assert O.claim_share(m, median, sigma) == pytest.approx(dist.cdf(m), abs=1e-12)
        numeric, _ = integrate.quad(lambda c: c * dist.pdf(c), 0.0, m, epsabs=1e-14, epsrel=1e-12)
        assert O.expected_cost(m, median, sigma) == pytest.approx(numeric, rel=1e-8)
    # free proof: everyone with a margin claims at no cost; prohibitive: nobody claims
    assert O.claim_share([0.0, 0.01], 0.0, sigma).tolist() == [0.0, 1.0]
    assert O.expected_cost(0.01, 0.0, sigma) == 0.0
    assert O.claim_share(0.5, np.inf, sigma) == 0.0


@pytest.mark.unit
def test_utilisation_rises_with_the_margin_and_falls_with_the_cost_on_a_grid():
    margins = np.linspace(0.001, 0.2, 40)
    medians = np.geomspace(1e-4, 1.0, 30)
    q = O.qualifying_share(0.55, 0.40, 0.10)
    u = q * O.claim_share(margins[:, None], medians[None, :], 1.0)
    assert np.all(np.diff(u, axis=0) > 0)  # up the margin
    assert np.all(np.diff(u, axis=1) < 0)  # up the cost
    # and with the regional value content against the threshold
    rvc = np.linspace(0.2, 0.8, 25)
    assert np.all(np.diff(O.qualifying_share(rvc, 0.40, 0.10)) > 0)
    assert O.qualifying_share(0.40, 0.40, 0.10) == pytest.approx(0.5)
    assert O.qualifying_share(0.1, 0.0, 0.10) == 1.0  # no threshold: every product qualifies


@pytest.mark.unit
def test_value_added_origin_is_the_leontief_decomposition_of_output(bench):
    vao = O.va_origin(bench)
    live = bench.output > 0
    np.testing.assert_allclose(vao.sum(axis=0)[live], 1.0, atol=1e-10)
    assert np.all(vao.sum(axis=0)[~live] == 0.0)  # no output (Singapore's mining): no content, never qualifies
    lt = leontief(bench.to_mrio(), post="output")  # value added of each origin row in the output of each column
    by_region = lt.groupby(level="origin", sort=False).sum().reindex(bench.regions)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = by_region.to_numpy() / bench.output.reshape(-1)[None, :]
    np.testing.assert_allclose(vao.reshape(bench.n_regions, -1)[:, live.ravel()], ref[:, live.ravel()], atol=1e-10)


# ------------------------------------------------------------------------------------------ calibration
def test_calibrated_utilisation_matches_the_targets_used(origin):
    tab = origin.calibration_table()
    matched = tab[tab["matched"]]
    assert set(matched["target"]) == {"ATIGA", "ACFTA", "JTEPA", "TAFTA", "AIFTA"}
    np.testing.assert_allclose(matched["model"], matched["observed"], atol=1e-9)
    # the agreements without a rate of their own keep the common scale, set by the all-FTA rate
    assert "AKFTA" not in origin.medians and origin.medians["*"] > 0
    agg = O.Origin(origin.bench, O.OriginParams(calibration="aggregate"))
    row = agg.calibration_table().set_index("target").loc["all FTAs"]
    assert row["matched"] and row["model"] == pytest.approx(0.7817, abs=1e-9)
    assert set(agg.medians) == {"*"}


def test_calibration_target_above_what_qualification_allows_is_an_error(bench):
    high = (O.Target("impossible", "THA", ("CHN",), "ACFTA", 0.99999, "test"),)
    with pytest.raises(O.OriginError, match="impossible.*above the largest utilisation"):
        O.Origin(bench, O.OriginParams(targets=high, rvc_dispersion=0.3))


needs_targets = pytest.mark.skipif(
    not has_shared_data(O.UTILISATION_FOLDER, "fta_utilisation_published.csv"),
    reason=f"raw data {O.UTILISATION_FOLDER} not found under {shared_data_dir()} (set ${ENV_VAR})",
)


@needs_targets
@pytest.mark.unit
def test_targets_are_the_published_rates():
    pub = O.published_targets().set_index("label")["rate"]
    for t in O.THAI_TARGETS:
        assert t.rate == pytest.approx(pub[t.label], abs=1e-12), t.label


# ------------------------------------------------------------------------------------------ equilibrium
def test_benchmark_replicates_with_calibrated_utilisation(origin, model, bench):
    res = origin.solve(model)
    sol = res.results.solution
    assert res.iterations == 1 and res.history[-1] < 1e-12
    np.testing.assert_allclose(sol.tariff, bench.tariff_0, atol=1e-12)
    np.testing.assert_allclose(sol.tau, 1.0, atol=1e-12)
    live = bench.output > 0
    assert np.max(np.abs(sol.y - 1.0)[live]) < 1e-9 and np.max(np.abs(sol.p - 1.0)[live]) < 1e-9
    w = res.welfare()
    assert abs(w.loc["World", "ev"]) < 1e-9 * w.loc["World", "income_0"]
    # benchmark utilisation is partial: between the prohibitive and the free limits
    st = origin.state_0
    eligible = st["covered"] & (st["margin"] > O.MIN_MARGIN)
    assert 0.2 < st["utilisation"][eligible].mean() < 0.95


def test_zero_costs_and_every_product_qualifying_reproduce_todays_results(bench, model, rcep):
    rules = A.rules()
    rules.loc[rules["rvc_pct"].notna(), "rvc_pct"] = 0.0
    free = O.Origin(bench, O.OriginParams(calibration="none", cost_median=0.0), rules=rules)
    st = free.state_0
    eligible = st["covered"] & (st["margin"] > O.MIN_MARGIN)
    assert np.all(st["utilisation"][eligible] == 1.0) and np.all(st["compliance"] == 0.0)
    res = free.solve(model, rcep, agreements=["RCEP"])
    today = model.solve(rcep)
    np.testing.assert_allclose(res.results.solution.tariff, today.solution.tariff, atol=1e-12)
    np.testing.assert_array_equal(res.results.solution.tau, today.solution.tau)
    np.testing.assert_allclose(res.welfare()["ev_pct"], today.welfare()["ev_pct"], rtol=0, atol=1e-8)  # % of income
    np.testing.assert_allclose(res.results.solution.z, today.solution.z, rtol=1e-8, atol=1e-8)


def test_prohibitive_costs_make_every_route_pay_mfn(bench, model, rcep):
    shut = O.Origin(bench, O.OriginParams(calibration="none", cost_median=np.inf))
    st = shut.state_0
    assert np.all(st["utilisation"] == 0.0)
    np.testing.assert_array_equal(st["effective"], shut.regime_0.fallback)  # effective = MFN
    res = shut.solve(model, rcep, agreements=["RCEP"])
    rt = res.routes()
    np.testing.assert_array_equal(rt["effective"], rt["mfn"])
    assert (rt["utilisation"] == 0).all()
    # nobody claims RCEP's preference: cutting it changes nothing
    np.testing.assert_allclose(res.results.solution.tariff, bench.tariff_0, atol=1e-12)
    assert abs(res.welfare().loc["World", "ev"]) < 1e-9 * res.welfare().loc["World", "income_0"]


def test_rcep_is_a_fixed_point_of_utilisation_and_the_equilibrium(origin, rcep_runs):
    res, _ = rcep_runs
    assert res.history[-1] < origin.params.tol
    implied = res.regime.evaluate(O.va_origin(res.results.mrio()), origin.params)
    assert np.max(np.abs(implied["utilisation"] - res.state["utilisation"])) < origin.params.tol
    # the instruments are the benchmark's times the change in the effective tariff and compliance cost
    expect = origin.instruments(res.scenario.instruments(origin.bench), res.regime, res.state)
    np.testing.assert_array_equal(res.results.solution.tariff, expect.tariff)
    np.testing.assert_array_equal(res.results.solution.tau, expect.iceberg)
    by = res.by_agreement().set_index(["agreement", "case"])
    # RCEP's zero rate raises the margin: utilisation of RCEP routes and a fall in effective tariffs
    assert by.loc[("RCEP", "scenario"), "preferential"] == 0.0
    assert by.loc[("RCEP", "scenario"), "effective"] < by.loc[("RCEP", "scenario"), "mfn"]
    meta = res.metadata()["origin"]
    assert meta["agreements_named"] == ["RCEP"] and meta["iterations"] == res.iterations


def test_cumulation_raises_rvc_and_utilisation_and_best_agreement_is_chosen(origin, rcep_runs):
    cum, bil = rcep_runs
    a, b = cum.routes().set_index(["exporter", "commodity", "importer"]), bil.routes().set_index(["exporter", "commodity", "importer"])
    both = a.index[(a["agreement"] == "RCEP") & (b.loc[a.index, "agreement"] == "RCEP")]
    assert (a.loc[both, "rvc"] >= b.loc[both, "rvc"] - 1e-12).all() and (a.loc[both, "rvc"] > b.loc[both, "rvc"] + 1e-6).any()
    # where RCEP's rules are bilateral some ASEAN routes go back to ATIGA, whose zone is all of ASEAN
    atiga = b[b["agreement"] == "ATIGA"]
    assert len(atiga) > 0
    reg, st = bil.regime, bil.state
    k_atiga, k_rcep = reg.names.index("ATIGA"), reg.names.index("RCEP")
    for r, i, s in atiga.index:
        ri, ii, si = origin.bench.regions.index(r), origin.bench.sectors.index(i), origin.bench.regions.index(s)
        assert reg.cover[k_rcep, ri, si] and st["choice"][ri, ii, si, 0] == k_atiga
    # everywhere, the chosen agreement has the largest expected net gain of those covering the route
    for res in (cum, bil):
        st = res.state
        best = st["gains"].max(axis=0)
        chosen = np.take_along_axis(st["gains"], np.maximum(st["choice"], 0)[None], axis=0)[0]
        np.testing.assert_array_equal(chosen[st["covered"]], best[st["covered"]])
    div = O.cumulation_diversion(cum, bil, origin.bench.groups["RCEP"])
    assert div["change_value"].sum() > 0  # cumulation pulls intermediate imports towards members


def test_bad_input_names_the_item(origin, model, rcep):
    with pytest.raises(ValueError, match="'XYZ' is not in the agreements table"):
        origin.solve(model, rcep, agreements=["XYZ"])
    with pytest.raises(ValueError, match="rules\\['RCEP'\\]: key 'threshold' unknown"):
        origin.solve(model, rcep, agreements=["RCEP"], rules={"RCEP": {"threshold": 30}})
    with pytest.raises(ValueError, match="cost_sigma"):
        O.OriginParams(cost_sigma=0.0)


def test_no_convergence_within_max_iterations_names_the_worst_routes(bench, model, rcep, origin):
    few = O.Origin(bench, O.OriginParams(max_iter=1, damping=0.5, cost_median=origin.medians, calibration="none"))
    with pytest.raises(O.OriginError, match=r"did not converge in 1 iterations.*\n  \("):
        few.solve(model, rcep, agreements=["RCEP"])


# ------------------------------------------------------------------------------------------ firm size
@pytest.mark.skipif(not has_shared_data(*cge.firms.DATA), reason="needs ../shared/data/sme_shares")
def test_smes_face_higher_compliance_costs_and_halving_them_raises_their_use(bench):
    split = cge.split_firm_size(bench)
    params = O.OriginParams(sme_cost_factor=2.0)
    o = O.Origin(split, params)
    tab = o.calibration_table()
    np.testing.assert_allclose(tab.loc[tab["matched"], "model"], tab.loc[tab["matched"], "observed"], atol=1e-9)
    sme = [k for k, j in enumerate(split.sectors) if j.endswith("_sme")]
    large = [split.sectors.index(split.sectors[k].removesuffix("_sme") + "_large") for k in sme]
    # both sizes of a commodity get its margin (model units), SMEs claim less of it
    np.testing.assert_array_equal(o._margin_data[:, sme], o._margin_data[:, large])
    st, reg = o.state_0, o.regime_0
    np.testing.assert_allclose(reg.median[:, sme], 2.0 * reg.median[:, large], rtol=1e-15)
    pos = st["margin"][:, sme] > O.MIN_MARGIN
    assert np.all(st["claim"][:, sme][pos] < st["claim"][:, large][pos])
    # SMEs' costs cut to large firms' level: the same claiming share on the same margin
    model = cge.Model(split, backend="fast")
    res = o.solve(model, sme_cost=0.5)
    np.testing.assert_allclose(res.state["claim"][:, sme][pos], res.state["claim"][:, large][pos], rtol=1e-12)
    rt = res.routes()
    smes = rt[rt["commodity"].str.endswith("_sme") & (rt["margin"] > O.MIN_MARGIN)]
    assert (smes["utilisation"] >= smes["utilisation_0"] - 1e-12).all() and (smes["utilisation"] > smes["utilisation_0"]).any()
    assert res.metadata()["origin"]["sme_cost"] == 0.5 and res.metadata()["origin"]["firm_size_split"]


# ------------------------------------------------------------------------------------------ the experiment
@pytest.mark.slow
@pytest.mark.skipif(not has_shared_data(*cge.firms.DATA), reason="needs ../shared/data/sme_shares")
def test_experiment_reproduces_the_committed_results(tmp_path):
    """experiments/origin_rules.py gives the numbers committed in origin_rules.csv."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "experiments" / "origin_rules.py"
    spec = importlib.util.spec_from_file_location("origin_rules", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    fresh = mod._long(mod.tables(mod.run()))
    kept = pd.read_csv(mod.CSV, keep_default_na=False)
    assert list(fresh.columns) == list(kept.columns) and len(fresh) == len(kept)
    np.testing.assert_allclose(fresh["value"].to_numpy(dtype=float), kept["value"].to_numpy(dtype=float), rtol=1e-7, atol=1e-6)
    w = kept[(kept["table"] == "welfare") & (kept["key"] == "World")].set_index("scenario")["value"]
    assert w["rcep_cumulation"] < w["rcep_full_use"]  # claiming costs real resources; today's model claims for free


@pytest.mark.unit
def test_bad_parameters_and_targets_are_named(toy):
    with pytest.raises(ValueError, match="cost_median.*ATIGA = -0.1"):
        O.OriginParams(cost_median={"ATIGA": -0.1})
    with pytest.raises(ValueError, match="rate strictly between 0 and 1"):
        O.OriginParams(targets=(O.Target("x", "THA", None, None, 1.5, "test"),))
    margins = pd.DataFrame({"exporter": [toy.regions[0]], "commodity": [toy.sectors[0]], "importer": [toy.regions[1]], "margin": [0.02]})
    with pytest.raises(O.OriginError, match="no target's exporter is a region of the benchmark"):
        O.Origin(toy, margins=margins, year=2011)
    bad = margins.assign(margin=[-0.01])
    with pytest.raises(ValueError, match=r"margin of \(.*\) = -0.01"):
        O.Origin(toy, O.OriginParams(calibration="none", cost_median=0.01), margins=bad, year=2011)


def test_route_utilisation_rises_with_rceps_cut_and_falls_with_the_cost_on_a_grid(origin, bench):
    """On the benchmark table: RCEP's preferential rate at shares k of the benchmark tariff, costs scaled by f."""
    rcep = [bench.regions.index(r) for r in bench.groups["RCEP"]]
    inside = np.zeros(bench.tariff_0.shape, dtype=bool)
    inside[np.ix_(rcep, range(bench.n_sectors), rcep, range(2))] = True
    inside[np.arange(bench.n_regions), :, np.arange(bench.n_regions)] = False

    def use(k, f):
        tariff = np.where(inside, k * bench.tariff_0, bench.tariff_0)
        regime = origin._regime(tariff, origin.in_force + ["RCEP"], ["RCEP"], {}, {}, f)
        st = regime.evaluate(origin.vao_0, origin.params)
        w = origin.weights_0 * inside
        return float((st["utilisation"] * w).sum() / w.sum()), st

    shares = [0.9, 0.6, 0.3, 0.0]
    u_cut = [use(k, 1.0)[0] for k in shares]
    assert np.all(np.diff(u_cut) > 0)  # a deeper cut, a larger margin, more use
    u_cost = [use(0.0, f)[0] for f in (0.25, 0.5, 1.0, 2.0, 4.0)]
    assert np.all(np.diff(u_cost) < 0)  # dearer proof, less use
    # route by route, too: where RCEP is chosen at both cuts, use never falls with the deeper cut
    _, a = use(0.6, 1.0)
    _, b = use(0.0, 1.0)
    both = (a["choice"] == b["choice"]) & a["covered"] & (a["margin"] > O.MIN_MARGIN)
    assert np.all(b["utilisation"][both] >= a["utilisation"][both] - 1e-15)


def test_compliance_costs_show_in_the_trade_cost_term_of_the_decomposition(origin, model, rcep):
    res = origin.solve(model, rcep, agreements=["RCEP"], decompose=4)
    dec = res.results.welfare_decomposition().sum()
    assert res.results.path is not None and len(res.results.path) == 5
    assert dec["trade_costs"] < 0 < dec["tariff_efficiency"]  # claiming costs real resources, lower tariffs gain
    assert abs(dec["residual"]) < 0.01 * abs(dec["ev"])
    plain = origin.solve(model, rcep, agreements=["RCEP"])
    np.testing.assert_array_equal(res.results.solution.tariff, plain.results.solution.tariff)
