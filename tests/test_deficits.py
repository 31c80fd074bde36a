"""Trade imbalances as a modelling choice: the transfer instrument, its closures, balanced baselines.

* :func:`cge.purge_deficits` returns a table whose every region's trade balances and which
  replicates as a benchmark; any scenario solved on it is the same equilibrium as the scenario
  solved on the original benchmark with transfers set to zero (same real quantities, same relative
  prices), on both backends.
* Through the package alone (purge, then prohibitive trade costs reached by warm-started solves),
  the welfare loss of autarky in a one-sector Armington economy equals the closed form of
  Arkolakis, Costinot and Rodriguez-Clare (2012), ``1 - lambda_jj^(1/epsilon)``.
* The decomposition's transfer term is the change in the transfer the closure implies: zero when
  transfers are a share of world income and world income does not move (an iceberg shock with no
  tariffs under full employment and a factor-price numeraire), non-zero when it does, and the terms
  still add up to the EV.
"""

import numpy as np
import pytest

import cge
from cge import gvc
from cge.synthetic import random_benchmark

pytestmark = pytest.mark.solver


def one_sector(seed=51):
    """One sector, labour only, final demand only, unbalanced trade."""
    rng = np.random.default_rng(seed)
    R = 3
    f = rng.uniform(20.0, 100.0, size=(R, 1, R)) + np.eye(R)[:, None, :] * 400.0
    z = np.zeros((R, 1, R, 1))
    output = f.sum(axis=2)
    return cge.Benchmark.from_arrays(["A", "B", "C"], ["goods"], z, f, {"labour": output})


@pytest.mark.parametrize("backend", ["pyomo", "fast"])
def test_purged_table_balances_replicates_and_is_the_zero_transfer_equilibrium(backend):
    bench = random_benchmark(3, 3, seed=52)
    assert np.abs(bench.net_transfer).max() > 0.01 * bench.income.max()  # unbalanced to start with
    purged = cge.purge_deficits(bench, backend=backend)
    assert np.abs(purged.net_transfer).max() <= 1e-9 * purged.income.max()
    assert purged.metadata["purged_deficits"]["from_hash"] == bench.hash()
    # the GVC functions run on the balanced table; their gross exports are the model's, and balance imports
    summary = gvc.summary(purged.to_mrio())
    exports = summary[summary.indicator == "gross_exports"].set_index("region")["value"].loc[list(purged.regions)]
    tb = cge.Model(purged, backend=backend).solve().trade_balance()
    np.testing.assert_allclose(exports.to_numpy(), tb["exports"].to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(tb["balance"], 0.0, atol=1e-9 * purged.income.max())
    model = cge.Model(purged, backend=backend)
    assert model.residuals().abs().max() <= 1e-9
    # a tariff cut from the balanced baseline = the same cut with transfers set to zero on the original
    t = bench.tariff_0 * 0.3
    a = cge.Model(bench, backend=backend).solve(cge.Scenario(tariff=t, transfer=np.zeros(3))).solution
    zero = cge.Model(bench, backend=backend).solve(cge.Scenario(transfer=np.zeros(3))).solution
    b = model.solve(cge.Scenario(tariff=t)).solution
    quantity_b = b.z * np.divide(zero.z, cge.Model(purged, backend=backend).params.d_0, out=np.zeros_like(zero.z), where=zero.z > 0)
    np.testing.assert_allclose(quantity_b, a.z * (zero.z > 0), rtol=1e-8, atol=1e-10 * a.z.max())
    np.testing.assert_allclose(b.y * zero.y, a.y, rtol=1e-8)
    ratio = a.p / (zero.p * b.p)  # prices agree up to the choice of units (each table's numeraire)
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-8)
    np.testing.assert_allclose(b.utility * zero.utility, a.utility, rtol=1e-8)


def test_autarky_loss_equals_the_acr_closed_form_from_a_purged_baseline():
    sigma = 5.0
    epsilon = sigma - 1.0
    bench = one_sector()
    assert np.abs(bench.net_transfer).max() > 10.0
    base = cge.purge_deficits(bench, elasticities=dict(sigma_dm=sigma, sigma_mm=sigma))
    domestic = np.diagonal(base.f_0[:, 0, :, 0]) / base.f_0[:, 0, :, 0].sum(axis=0)
    model = cge.Model(base, elasticities=dict(sigma_dm=sigma, sigma_mm=sigma))
    res = None
    for tau in (2.0, 5.0, 20.0, 100.0, 1e3, 1e4):
        cost = np.where(np.eye(3, dtype=bool)[:, None, :], 1.0, tau)
        res = model.solve(cge.Scenario(iceberg=cost, name=f"tau {tau:g}"), start=res)
    got = res.welfare(decompose=False)["ev_pct"].iloc[:3].to_numpy()
    expected = 100.0 * (domestic ** (1.0 / epsilon) - 1.0)
    assert (expected < -1.0).all()  # losses of more than 1% of income
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_transfer_closures_and_their_welfare_term():
    bench = random_benchmark(3, 3, seed=53, tariffs=False)
    share = cge.Closure(transfer="world_income_share")
    tau = np.where(np.eye(3, dtype=bool)[:, None, :, None], 1.0, 0.85) * np.ones_like(bench.tariff_0)
    res = cge.Model(bench, closure=share, backend="fast").solve(cge.Scenario(iceberg=tau), decompose=8)
    w = res.welfare()
    # full employment, factor-price numeraire, no tariffs: world income, and so every transfer, is unchanged
    np.testing.assert_allclose(res.solution.income.sum(), bench.income.sum(), rtol=1e-12)
    assert np.abs(w["transfer"]).max() <= 1e-9 * bench.income.max()
    np.testing.assert_allclose(res.trade_balance()["transfer"], bench.net_transfer, rtol=1e-10)
    assert (w["residual"].iloc[:3].abs() <= 0.01 * w["ev"].iloc[:3].abs()).all()
    # with tariffs world income moves: transfers move with it, and the term says by how much
    taxed = random_benchmark(3, 3, seed=53)
    res = cge.Model(taxed, closure=share, backend="fast").solve(cge.Scenario(tariff=taxed.tariff_0 * 3.0), decompose=8)
    w = res.welfare()
    paid = res.trade_balance()["transfer"].to_numpy()
    np.testing.assert_allclose(paid, taxed.net_transfer * res.solution.income.sum() / taxed.income.sum(), rtol=1e-12)
    assert np.abs(w["transfer"].iloc[:3]).min() > 1e-6 * taxed.income.max()
    assert np.sign(w["transfer"].iloc[:3]).tolist() == np.sign(paid - taxed.net_transfer).tolist()
    assert (w["residual"].iloc[:3].abs() <= 0.01 * w["ev"].iloc[:3].abs()).all()
    fixed = cge.Model(taxed, backend="fast").solve(cge.Scenario(tariff=taxed.tariff_0 * 3.0), decompose=8).welfare()
    assert (fixed["transfer"] == 0).all()  # fixed in numeraire units, and the numeraire did not move
    assert res.metadata()["closure"]["transfer"] == "world_income_share"


def test_transfers_must_keep_the_world_total(toy):
    with pytest.raises(cge.ScenarioError, match="transfer adds up to .* transfers between regions must keep the world total"):
        cge.Scenario(transfer=np.ones(3)).instruments(toy)
    with pytest.raises(cge.ClosureError, match="transfer='own_income_share'"):
        cge.Closure(transfer="own_income_share")


def test_balanced_trade_in_a_scenario_file(toy, tmp_path):
    from pathlib import Path

    from cge.scenario import load_spec

    folder = (Path(__file__).parent / "data" / "toy").resolve()
    path = tmp_path / "spec.toml"
    path.write_text(
        f'benchmark = "{folder}"\n[model]\nclosure = {{ transfer = "world_income_share" }}\n'
        '[[scenario]]\nname = "balanced"\ndescription = "x"\n[[scenario.shock]]\ninstrument = "transfer"\nvalue = 0.0\n'
    )
    spec = load_spec(path)
    assert spec.model["closure"] == {"transfer": "world_income_share"}
    sc = spec.scenarios[0].build(toy)
    np.testing.assert_array_equal(sc.transfer, 0.0)
    bad = tmp_path / "bad.toml"
    bad.write_text(path.read_text().replace("value = 0.0", 'value = 0.0\nsectors = "primary"'))
    with pytest.raises(cge.ScenarioError, match="key 'sectors' does not apply to instrument 'transfer'"):
        load_spec(bad)
