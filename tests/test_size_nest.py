"""The firm-size nest: buyers choose between SME and large-firm supplies of one origin (issue 14, item 2).

1. identical firm types (``rule="proportional"``): the split model is the unsplit model, for any
   ``sigma_size``, both backends and both sourcing modes (EV and prices to 1e-8);
2. the fast backend's analytic Jacobian with the nest equals finite differences;
3. benchmark replication on the split ``eastasia-2011``; the backends agree on a split scenario;
4. ``sigma_size`` matters: an SME-specific trade cost moves buyers from SME to large-firm supplies
   of the same origin, more with a larger elasticity, and not at all (in quantities) at 0;
5. options: the nest's switch, its elasticity in metadata, bad input named.
"""

import numpy as np
import pytest

import cge
from cge.calibrate import CalibrationError
from cge.synthetic import random_benchmark
from test_fast_backend import AGREEMENT, _relative_gap, assert_jacobian_matches_finite_differences, common_benchmark

pytestmark = pytest.mark.solver

OTHER = dict(sigma_top=0.5, sigma_va=0.8, sigma_int=0.3, sigma_fd=0.7, sigma_dm=2.5, sigma_mm=5.0)


def _bench(sourcing, rule="stylised", seed=41):
    b = random_benchmark(3, 3, seed=seed) if sourcing == "agent" else common_benchmark(3, 3, seed=seed)
    return b, b.split_firm_size(sectors=["S1", "S2"], rule=rule)


def _tariff_scenario(bench):
    """R1 raises its tariffs on R2 by 10 points, R2 halves its tariffs on R1 (the same for every size)."""
    t = bench.tariff_0.copy()
    t[1, :, 0, :] += 0.1
    t[0, :, 1, :] *= 0.5
    return cge.Scenario(tariff=t, name="tariff change")


# ---------------------------------------------------------------- 1. identical firm types
@pytest.mark.parametrize("backend", ["fast", "pyomo"])
@pytest.mark.parametrize("sourcing", ["agent", "common"])
def test_identical_firm_types_reproduce_the_unsplit_model(backend, sourcing):
    bench, split = _bench(sourcing, rule="proportional")
    base = cge.Model(bench, sourcing=sourcing, elasticities=OTHER, backend=backend).solve(_tariff_scenario(bench))
    origin = [split.metadata["firm_size"]["sector_of"][j] for j in split.sectors]
    col = [bench.sectors.index(o) for o in origin]
    for sigma in (0.0, 1.0, 6.0):
        model = cge.Model(split, sourcing=sourcing, elasticities=dict(OTHER, sigma_size=sigma), backend=backend)
        assert model.size_nest and model.backend == backend
        res = model.solve(_tariff_scenario(split))
        np.testing.assert_allclose(res.welfare()["ev_pct"], base.welfare()["ev_pct"], rtol=0, atol=1e-8)
        # every size's price is its original sector's price
        np.testing.assert_allclose(res.solution.p, base.solution.p[:, col], rtol=0, atol=1e-8)
        assert np.abs(base.solution.p - 1).max() > 1e-3  # the scenario moved prices
        assert res.metadata()["elasticities"]["sigma_size"] == [sigma] * split.n_sectors


# ---------------------------------------------------------------- 2. derivatives
@pytest.mark.parametrize("sourcing", ["agent", "common"])
def test_jacobians_in_a_row_are_those_made_alone(sourcing):
    """The Jacobian keeps flow-size work arrays from one call to the next (SizeNestSystem._buffer): a
    Jacobian at another point in between changes neither a Jacobian nor the flows of a kept state."""
    _, split = _bench(sourcing)
    model = cge.Model(split, sourcing=sourcing, backend="fast")
    model._set_instruments(_tariff_scenario(split).instruments(split))
    engine, system = model.engine, model.engine.system
    rng = np.random.default_rng(9)
    x1, x2 = (rng.uniform(0.9, 1.1, size=engine.layout.n) for _ in range(2))
    st1 = engine.evaluate(x1)
    j1 = system.jacobian(st1).copy()
    z1 = np.array(system.deliveries(st1))
    j2 = system.jacobian(engine.evaluate(x2))
    assert np.max(np.abs(j2 - j1)) > 1e-3
    np.testing.assert_array_equal(system.jacobian(engine.evaluate(x1)), j1)
    np.testing.assert_array_equal(system.deliveries(st1), z1)


@pytest.mark.parametrize("sourcing", ["agent", "common"])
@pytest.mark.parametrize("sigma", [0.0, 1.0, 7.0])
def test_jacobian_with_the_size_nest_matches_finite_differences(sourcing, sigma):
    _, split = _bench(sourcing)
    model = cge.Model(split, sourcing=sourcing, elasticities=dict(OTHER, sigma_size=sigma), backend="fast")
    R, S = split.n_regions, split.n_sectors
    rng = np.random.default_rng(5)
    off = ~np.eye(R, dtype=bool)[:, None, :, None]
    both = np.ones((1, 1, 1, 2))  # the same for both uses (common sourcing needs it)
    t = np.where(off, rng.uniform(0.0, 0.3, size=(R, S, R, 1)), 0.0) * both  # tariffs differ by firm size
    tau = np.where(off, rng.uniform(0.8, 1.2, size=(R, S, R, 1)), 1.0) * both
    model._set_instruments(cge.Instruments(tariff=t, iceberg=tau, output_tax=rng.uniform(-0.2, 0.2, size=(R, S)),
                                           transfer=split.net_transfer, numeraire_value=1.1))
    engine = model.engine
    x = rng.uniform(0.8, 1.2, size=engine.layout.n)
    analytic = assert_jacobian_matches_finite_differences(engine, x)
    # the size term: an SME price moves the demand for the large firms of its own region
    N = engine.layout.N
    sme, large = split.sectors.index("S1_sme"), split.sectors.index("S1_large")
    row, col = engine.layout.row_mk + large, engine.layout.col_p + sme  # region R1: positions equal sector indices
    assert sigma == 0.0 or abs(analytic[row, col]) > 1e-6
    assert N == R * S


# ---------------------------------------------------------------- 3. replication and agreement
@pytest.fixture(scope="module")
def eastasia_split():
    return cge.Benchmark.load("eastasia-2011").split_firm_size()


@pytest.mark.parametrize("sourcing", ["agent", "common"])
def test_split_eastasia_replicates_with_the_size_nest(eastasia_split, sourcing):
    model = cge.Model(eastasia_split, sourcing=sourcing, backend="fast")
    assert model.size_nest
    res = model.residuals()
    assert "size_price" in {b for b in model.residual_blocks()[0]}
    assert res.abs().max() <= 1e-9
    assert np.abs(model.engine.reduced_residuals()).max() <= 1e-9


@pytest.mark.parametrize("sourcing", ["agent", "common"])
def test_backends_agree_on_a_split_scenario(sourcing):
    _, split = _bench(sourcing)
    el = dict(OTHER, sigma_size=4.0)
    t = split.tariff_0.copy()
    t[:, split.sectors.index("S1_sme")] *= 0.2  # a cut for SMEs' goods only
    sc = cge.Scenario(tariff=t, name="SME tariff cut")
    ref = cge.Model(split, sourcing=sourcing, elasticities=el, backend="pyomo").solve(sc)
    fast = cge.Model(split, sourcing=sourcing, elasticities=el, backend="fast").solve(sc)
    a, b = ref.solution, fast.solution
    assert b.max_residual <= AGREEMENT and abs(b.walras_residual) <= AGREEMENT
    for field in ("p", "y", "w", "factor_demand", "z", "pfd", "income", "utility"):
        assert _relative_gap(getattr(a, field), getattr(b, field)) <= AGREEMENT, field
    assert np.max(np.abs(a.y - 1.0)) > 1e-4
    wa, wb = ref.welfare(decompose=False), fast.welfare(decompose=False)
    assert np.abs(wa["ev"] - wb["ev"]).max() <= AGREEMENT * wa["income_0"].max()


def test_backends_agree_with_a_duty_exemption_under_the_size_nest():
    """A sector's duty exemption (processing regimes) lowers the prices it pays for every firm size of an
    import route; both backends agree, and the fast Jacobian still matches finite differences."""
    _, split = _bench("agent")
    el = dict(OTHER, sigma_size=4.0)
    e = np.zeros((split.n_regions, split.n_sectors))
    e[1, split.sectors.index("S1_large")] = 1.0
    sc = cge.Scenario(duty_exemption=e, name="S1 large firms of R2 exempt")
    ref = cge.Model(split, elasticities=el, backend="pyomo").solve(sc)
    model = cge.Model(split, elasticities=el, backend="fast")
    fast = model.solve(sc)
    a, b = ref.solution, fast.solution
    for field in ("p", "y", "w", "z", "income", "utility"):
        assert _relative_gap(getattr(a, field), getattr(b, field)) <= AGREEMENT, field
    j = split.sectors.index("S1_large")
    imports = lambda z: z[[0, 2], :, 1, j].sum() / z[:, :, 1, j].sum()
    assert imports(b.z) > imports(fast.params.d_0) * 1.01  # the exempted buyer imports more
    engine = model.engine
    x = np.random.default_rng(3).uniform(0.9, 1.1, size=engine.layout.n)
    assert_jacobian_matches_finite_differences(engine, x)


def test_every_sector_exempted_leaves_a_price_class_without_buyers():
    """Every sector of every region exempt from duties: the intermediate-use class has no buyer left
    (each sector is a class of its own). The class arrays reach the buyers without it (its values are
    read by nobody), the check of the full model holds at the solution and the fast Jacobian
    matches finite differences."""
    _, split = _bench("agent")
    el = dict(OTHER, sigma_size=4.0)
    e = np.full((split.n_regions, split.n_sectors), 0.5)
    model = cge.Model(split, elasticities=el, backend="fast")
    res = model.solve(cge.Scenario(duty_exemption=e, name="every sector half exempt"))
    inst = model.engine._inst
    assert 0 not in {u for u, _ in inst.groups}  # no buyer of the intermediate-use class
    assert model.engine.system.by_class and res.solution.max_residual < 1e-9
    x = np.random.default_rng(4).uniform(0.9, 1.1, size=model.engine.layout.n)
    assert_jacobian_matches_finite_differences(model.engine, x)


def _uneven(split):
    """``split`` with two buying sectors of R2 that mix R2's S1 sizes differently: ``S2_large`` takes more
    from SMEs and ``S3`` less, by the same amounts (domestic, untaxed flows: every row and column
    sums as before)."""
    import dataclasses

    z = split.z_0.copy()
    sme, large = split.sectors.index("S1_sme"), split.sectors.index("S1_large")
    j1, j2 = split.sectors.index("S2_large"), split.sectors.index("S3")
    d = 0.4 * min(z[1, large, 1, j1], z[1, sme, 1, j2])
    z[1, sme, 1, j1] += d
    z[1, large, 1, j1] -= d
    z[1, sme, 1, j2] -= d
    z[1, large, 1, j2] += d
    return dataclasses.replace(split, z_0=z)


def test_evaluations_by_price_class_and_by_buyer_agree():
    """With sourcing by agent the fast backend runs the nest by price class when every buyer of a use
    mixes the sizes of a route alike (the split's rule), by buyer otherwise: the two give the same
    equilibrium and Jacobian, and the by-buyer path agrees with the reference backend."""
    _, split = _bench("agent")
    el = dict(OTHER, sigma_size=4.0)
    sc = _tariff_scenario(split)
    by_class = cge.Model(split, elasticities=el, backend="fast")
    assert by_class.engine.system.by_class
    by_buyer = cge.Model(split, elasticities=el, backend="fast")
    by_buyer.engine.system.by_class = False  # the same layout, evaluated buyer by buyer
    a, b = by_class.solve(sc).solution, by_buyer.solve(sc).solution
    assert np.abs(a.p - 1.0).max() > 1e-3
    for field in ("p", "y", "w", "z", "income"):
        assert _relative_gap(getattr(a, field), getattr(b, field)) <= 1e-12, field
    x = np.random.default_rng(7).uniform(0.9, 1.1, size=by_class.engine.layout.n)
    ja = by_class.engine.system.jacobian(by_class.engine.evaluate(x))
    jb = by_buyer.engine.system.jacobian(by_buyer.engine.evaluate(x))
    assert np.abs(ja - jb).max() <= 1e-12 * np.abs(jb).max()
    # buyers of one use that mix sizes differently: by buyer, replicating, agreeing with pyomo
    uneven = _uneven(split)
    model = cge.Model(uneven, elasticities=el, backend="fast")
    assert model.engine.layout.class_shares is None and not model.engine.system.by_class
    assert np.abs(model.engine.reduced_residuals()).max() <= 1e-12
    fast = model.solve(sc).solution
    ref = cge.Model(uneven, elasticities=el, backend="pyomo").solve(sc).solution
    for field in ("p", "y", "z", "income"):
        assert _relative_gap(getattr(ref, field), getattr(fast, field)) <= AGREEMENT, field
    assert _relative_gap(fast.p, a.p) > 1e-6  # the uneven mix is another economy
    assert_jacobian_matches_finite_differences(model.engine, x)


# ---------------------------------------------------------------- 4. the elasticity matters
def test_an_sme_trade_cost_shifts_buyers_to_large_firms_of_the_same_origin():
    _, split = _bench("agent", seed=43)
    sme, large = split.sectors.index("S1_sme"), split.sectors.index("S1_large")
    tau = np.ones_like(split.tariff_0)
    tau[0, sme, 1:, :] = 1.2  # R1's SMEs face an extra 20% trade cost on their exports
    sc = cge.Scenario(iceberg=tau, name="SME trade cost")
    d_0 = np.concatenate([split.z_0, split.f_0], axis=3)
    ratio, share, price = {}, {}, {}
    for sigma in (0.0, 2.0, 10.0):
        sol = cge.Model(split, elasticities={"sigma_size": sigma}, backend="fast").solve(sc).solution
        price[sigma] = sol.p[0, large] / (1.2 * sol.p[0, sme])  # delivered large : SME price abroad
        both = (d_0[0, sme, 1:] > 0) & (d_0[0, large, 1:] > 0)
        rel_sme = sol.z[0, sme, 1:][both] / d_0[0, sme, 1:][both]
        rel_large = sol.z[0, large, 1:][both] / d_0[0, large, 1:][both]
        ratio[sigma] = rel_sme / rel_large  # change in the SME : large quantity ratio of each foreign buyer's route from R1
        share[sigma] = sol.z[0, sme, 1:].sum() / (sol.z[0, sme, 1:].sum() + sol.z[0, large, 1:].sum())
    # Leontief within the route: size proportions of every buyer's purchases from R1 stay fixed
    np.testing.assert_allclose(ratio[0.0], 1.0, rtol=0, atol=1e-9)
    # within the route the SME : large quantity ratio moves with the delivered price ratio to the power sigma_size
    for sigma in (2.0, 10.0):
        np.testing.assert_allclose(ratio[sigma], price[sigma] ** sigma, rtol=1e-9)
        assert ratio[sigma].max() < 1.0
    base = d_0[0, sme, 1:].sum() / (d_0[0, sme, 1:].sum() + d_0[0, large, 1:].sum())
    assert share[10.0] < share[2.0] < share[0.0] <= base + 1e-12


# ---------------------------------------------------------------- 5. options
def test_the_nest_switch_and_bad_input():
    bench, split = _bench("agent")
    off = cge.Model(split, size_nest=False, backend="fast")
    assert not off.size_nest and "sigma_size" not in off.params.sigma
    on = cge.Model(split, backend="fast")
    # default: twice sigma_mm (the rule of two one level down)
    np.testing.assert_array_equal(on.params.sigma["sigma_size"], 2.0 * on.params.sigma["sigma_mm"])
    other = on.with_elasticities({"sigma_size": 3.0})
    assert other.size_nest and (other.params.sigma["sigma_size"] == 3.0).all()
    res = other.solve(_tariff_scenario(split))
    assert res.metadata()["size_nest"] is True and res.metadata()["elasticities"]["sigma_size"][0] == 3.0
    assert "size_nest" not in cge.Model(bench, backend="fast").solve(_tariff_scenario(bench)).metadata()
    with pytest.raises(CalibrationError, match="sigma_size is the elasticity of the firm-size nest, which is off"):
        cge.Model(bench, elasticities={"sigma_size": 3.0})
    with pytest.raises(CalibrationError, match="size_nest=True needs a benchmark split by firm size"):
        cge.Model(bench, size_nest=True)
    per_sector = [3.0, 4.0, 3.0, 3.0, 3.0]  # S1_sme and S1_large differ
    with pytest.raises(CalibrationError, match="sigma_size differs between the firm sizes of 'S1'"):
        cge.Model(split, elasticities={"sigma_size": per_sector})
    with pytest.raises(CalibrationError, match="sigma_dm differs between the firm sizes of 'S2'"):
        cge.Model(split, elasticities={"sigma_dm": [2.0, 2.0, 2.0, 3.0, 2.0]})


# ---------------------------------------------------------------- 6. results by firm size
def test_results_by_firm_size_add_up_in_the_counterfactual():
    from cge.firms import by_firm_size
    from cge.gvc import tiva

    split = cge.Benchmark.load("eastasia-small").split_firm_size()
    tau = np.ones_like(split.tariff_0)
    sme = [j for j in split.sectors if j.endswith("_sme")]
    for j in sme:  # SMEs' exports get 10% cheaper to deliver, tariffs fall by half
        tau[:, split.sectors.index(j)] = np.where(~np.eye(split.n_regions, dtype=bool)[:, None, :], 0.9, 1.0)[..., 0][..., None]
    res = cge.Model(split, backend="fast").solve(cge.Scenario(tariff=split.tariff_0 * 0.5, iceberg=tau, name="SME facilitation"))
    df = res.by_firm_size()
    assert set(df["variable"]) == {"output", "value_added", "employment", "exports", "va_exports_direct", "va_exports_indirect", "va_exports", "va_exports_share"}
    wide = df.set_index(["region", "sector", "size", "variable"])
    for table in ("benchmark", "counterfactual"):
        v = wide[table].unstack("variable")
        # direct plus indirect exports of value added are the row's value added in exports, for SMEs too
        np.testing.assert_allclose(v["va_exports_direct"] + v["va_exports_indirect"], v["va_exports"], rtol=1e-12)
        s = v.xs("sme", level="size")
        np.testing.assert_allclose((s["va_exports_direct"] + s["va_exports_indirect"]).groupby(level="region").sum(),
                                   s["va_exports"].groupby(level="region").sum(), rtol=1e-12)
        # summed over an economy's rows: TiVA's domestic value added in exports of the same table
        table_bench = split if table == "benchmark" else res.mrio()
        dva = tiva(table_bench.to_mrio())["EXGR_DVA"]
        np.testing.assert_allclose(v["va_exports"].groupby(level="region").sum().reindex(split.regions).values, dva.values, rtol=1e-9)
        # the SME rows' shares are the SME share of the economy's value added in exports
        shares = res.sme_shares()
        np.testing.assert_allclose(s["va_exports_share"].groupby(level="region").sum().reindex(split.regions).values,
                                   shares[("va_in_exports", table)].values, rtol=1e-12)
    np.testing.assert_allclose(wide["benchmark"].unstack("variable")["exports"].values,
                               by_firm_size(split)["exports"].reindex(wide["benchmark"].unstack("variable").index).values, rtol=1e-12)
    # the counterfactual moved the SME share of value added in exports
    moved = wide.xs(("sme", "va_exports_share"), level=("size", "variable"))["change"]
    assert moved.abs().max() > 1e-4
    assert df["change"].abs().max() > 0


# ---------------------------------------------------------------- 7. scenario files
def test_a_scenario_file_asks_for_the_split_and_sigma_size(tmp_path):
    from cge.scenario import ScenarioError, load_spec

    body = '\n[model]\nelasticities = { sigma_size = 5.0 }\n[[scenario]]\nname = "x"\ndescription = "d"\n[[scenario.shock]]\ninstrument = "iceberg"\nop = "scale"\nsectors = ["S1_sme"]\nvalue = 0.9\n'
    path = tmp_path / "s.toml"
    bench_dir = tmp_path / "bench"
    random_benchmark(3, 2, seed=44).write(bench_dir)
    path.write_text('[benchmark]\npath = "bench"\nsplit_firm_size = ["S1"]\nfirm_size_rule = "proportional"\n' + body)
    spec = load_spec(path)
    bench = spec.load_benchmark()
    assert bench.sectors == ["S1_sme", "S1_large", "S2"] and bench.metadata["firm_size"]["rule"] == "proportional"
    model = cge.Model(bench, elasticities=spec.model["elasticities"], backend="fast")
    assert model.size_nest and (model.params.sigma["sigma_size"] == 5.0).all()
    res = model.solve(spec.scenarios[0].build(bench, spec.region_groups, spec.sector_groups))
    assert res.solution.tau[:, 0][~np.eye(3, dtype=bool)].min() == pytest.approx(0.9)
    for bad, msg in (('split_firm_size = "S1"', "split_firm_size = 'S1'; must be true"),
                     ('split_firm_size = true\nfirm_size_rule = "even"', "firm_size_rule = 'even'"),
                     ('firm_size_rule = "stylised"', "given without split_firm_size"),
                     ('split_firm_size = true\nsplit_stages = true', "split_stages and split_firm_size cannot be combined")):
        path.write_text(f'[benchmark]\npath = "bench"\n{bad}\n' + body)
        with pytest.raises(ScenarioError, match=msg):
            load_spec(path)
