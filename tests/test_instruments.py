"""Typed policy instruments, output taxes end to end, and solves that do not depend on history.

Output taxes (GTAP's ``to``) are the instrument added through :mod:`cge.instruments`: declared
once, read by scenarios and scenario files, homotopy, both backends, the welfare decomposition
and the results. The tests:

* a uniform output subsidy in one region, financed by that region's household, with no
  intermediate inputs, no other distortions and fixed factor supplies, changes nothing real: the
  region's factor prices rise by ``1 / (1 - s)``, every price, quantity and utility stays put
  (a wedge between unit cost and price that is fully shifted to factor incomes, and a subsidy bill
  that those incomes pay). This proves that the tax enters zero profit as ``p = (1 + t) c``, that
  its revenue is charged to the right income and at the right base, and that both backends agree;
* a subsidy to one sector where there are intermediate inputs distorts: its own efficiency term is
  negative (the subsidised sector expands where its price is below its cost), the decomposition
  adds up to the EV, and the revenue reported is the rate times output at cost;
* solving the same scenario on a fresh model and again after other solves gives the same bits.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cge
from cge.instruments import NAMES, SPECS
from cge.scenario import load_spec
from cge.synthetic import random_benchmark

pytestmark = pytest.mark.solver


def value_added_only(R=3, S=2, seed=31):
    """A benchmark without intermediate inputs or tariffs: output is final sales, all value added."""
    b = random_benchmark(R, S, seed=seed, tariffs=False)
    z = np.zeros_like(b.z_0)
    output = b.f_0.sum(axis=(2, 3))
    factors = {"labour": 0.6 * output, "capital": 0.4 * output}
    return cge.Benchmark.from_arrays(b.regions, b.sectors, z, b.f_0, factors, agents=b.agents)


@pytest.mark.parametrize("backend", ["pyomo", "fast"])
def test_a_uniform_output_subsidy_without_intermediates_changes_nothing_real(backend):
    bench = value_added_only()
    closure = cge.Closure(numeraire=("factor", "R2", "labour"))
    model = cge.Model(bench, closure=closure, backend=backend)
    s = 0.1
    to = np.zeros((bench.n_regions, bench.n_sectors))
    to[0] = -s
    res = model.solve(cge.Scenario(output_tax=to, name="subsidy R1"), decompose=4)
    sol = res.solution
    np.testing.assert_allclose(sol.p, 1.0, rtol=0, atol=1e-10)
    np.testing.assert_allclose(sol.y, 1.0, rtol=0, atol=1e-10)
    np.testing.assert_allclose(sol.z, model.params.d_0, rtol=1e-10)
    np.testing.assert_allclose(sol.w[0], 1.0 / (1.0 - s), rtol=1e-10)  # every factor of R1
    np.testing.assert_allclose(sol.w[1:], 1.0, rtol=1e-10)
    w = res.welfare()
    assert np.abs(w["ev"]).max() <= 1e-8 * bench.income.max()
    assert np.abs(w["output_tax_efficiency"]).max() <= 1e-8 * bench.income.max()
    revenue = res.tidy().query("variable == 'output_tax_revenue'").set_index("region")["value"]
    np.testing.assert_allclose(revenue["R1"], -s / (1.0 - s) * bench.value_added[0].sum(), rtol=1e-9)
    assert res.metadata()["instruments_changed"] == ["output_tax"]


def test_a_sector_subsidy_distorts_and_the_decomposition_adds_up():
    bench = random_benchmark(3, 3, seed=32)
    to = np.zeros((3, 3))
    to[1, 2] = -0.2  # R2 subsidises S3
    sc = cge.Scenario(output_tax=to, name="S3 subsidy in R2")
    ref = cge.Model(bench, backend="pyomo").solve(sc, decompose=8)
    fast = cge.Model(bench, backend="fast").solve(sc, decompose=8)
    np.testing.assert_allclose(fast.solution.utility, ref.solution.utility, rtol=1e-9)
    w = fast.welfare()
    assert fast.solution.y[1, 2] > 1.01  # the subsidised sector expands
    assert w.loc["R2", "output_tax_efficiency"] < -1e-3 * abs(w.loc["R2", "ev"])  # at a price below its cost
    assert np.abs(w.loc[["R1", "R3"], "output_tax_efficiency"]).max() == 0.0
    for region in ("R1", "R2", "R3"):
        assert abs(w.loc[region, "residual"]) <= 0.01 * abs(w.loc[region, "ev"])
    pd.testing.assert_frame_equal(ref.welfare_decomposition(), fast.welfare_decomposition(), rtol=1e-7, atol=1e-7 * bench.income.max())
    sol = fast.solution
    expected = -0.2 * sol.p[1, 2] / 0.8 * sol.y[1, 2] * bench.output[1, 2]
    got = fast.tidy().query("variable == 'output_tax_revenue' and region == 'R2'")["value"].iloc[0]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # the counterfactual table carries the tax as value added and still balances
    table = fast.mrio()
    assert table.factors[-1] == "output_tax"
    np.testing.assert_allclose(table.fp_0[1, 2, -1], expected, rtol=1e-12)


def test_output_taxes_in_a_scenario_file(toy, tmp_path):
    path = tmp_path / "spec.toml"
    folder = (Path(__file__).parent / "data" / "toy").resolve()
    path.write_text(
        f'benchmark = "{folder}"\n[[scenario]]\nname = "subsidy"\ndescription = "x"\n'
        '[[scenario.shock]]\ninstrument = "output_tax"\nvalue = -0.05\nregions = "ASEAN"\nsectors = ["electronics"]\n'
        '[[scenario.shock]]\ninstrument = "output_tax"\nop = "add"\nvalue = 0.02\nregions = "all"\nnot_regions = "ASEAN"\n'
    )
    spec = load_spec(path)
    sc = spec.scenarios[0].build(toy)
    a, e = toy.regions.index("ASEAN"), toy.sectors.index("electronics")
    expected = np.where(np.arange(3)[:, None] == a, 0.0, 0.02) * np.ones((3, 3))
    expected[a, e] = -0.05
    np.testing.assert_array_equal(sc.output_tax, expected)
    np.testing.assert_array_equal(sc.tariff, toy.tariff_0)
    bad = tmp_path / "bad.toml"
    bad.write_text(path.read_text().replace('regions = "ASEAN"', 'exporters = "ASEAN"'))
    with pytest.raises(cge.ScenarioError, match="key 'exporters' does not apply to instrument 'output_tax'"):
        load_spec(bad)


def test_instruments_are_declared_once_and_checked(toy):
    inst = cge.Instruments.benchmark(toy)
    assert NAMES == ("tariff", "iceberg", "output_tax", "transfer") and [s.name for s in SPECS] == list(NAMES)
    for spec in SPECS:
        assert getattr(inst, spec.name).shape == spec.shape(toy)
    with pytest.raises(ValueError):
        inst.tariff[0, 0, 1, 0] = 0.5  # read-only
    half = inst.toward(cge.Scenario(output_tax=0.1).instruments(toy), 0.5)
    np.testing.assert_allclose(half.output_tax, 0.05)
    assert half.changed(inst) == ["output_tax"]
    with pytest.raises(cge.ScenarioError, match=r"output_tax \(China, services\) = -1.0 is not allowed"):
        to = np.zeros((3, 3))
        to[1, 2] = -1.0
        cge.Scenario(output_tax=to).instruments(toy)
    with pytest.raises(cge.ScenarioError, match=r"output_tax has shape \(2,\); expected \(3, 3\) \(region, sector\)"):
        cge.Scenario(output_tax=[0.1, 0.2]).instruments(toy)
    with pytest.raises(cge.InstrumentError, match="unknown instrument 'quota'"):
        cge.Instruments.from_arrays(toy, quota=1.0)


@pytest.mark.parametrize("backend", ["pyomo", "fast"])
def test_solves_are_bit_identical_whatever_came_before(backend):
    bench = random_benchmark(4, 3, seed=33)
    tau = np.where(np.eye(4, dtype=bool)[:, None, :, None], 1.0, 0.8) * np.ones_like(bench.tariff_0)
    target = cge.Scenario(tariff=bench.tariff_0 * 0.3, iceberg=tau, name="target")
    other = cge.Scenario(tariff=bench.tariff_0 * 2.0, name="other")
    fresh = cge.Model(bench, backend=backend).solve(target, decompose=3)
    model = cge.Model(bench, backend=backend)
    model.solve(other)
    model.solve(target)
    again = model.solve(target, decompose=3)
    pd.testing.assert_frame_equal(fresh.tidy(), again.tidy(), check_exact=True)
    pd.testing.assert_frame_equal(fresh.welfare(), again.welfare(), check_exact=True)
    assert np.array_equal(fresh.solution.z, again.solution.z)


def test_wide_tables_come_from_the_long_frame():
    from cge.tables import wide

    bench = random_benchmark(3, 2, seed=34)
    model = cge.Model(bench, backend="fast")
    runs = [model.solve(cge.Scenario(tariff=bench.tariff_0 * k, name=f"x{k}"), decompose=2) for k in (0.0, 0.5)]
    tidy = pd.concat([r.tidy() for r in runs], ignore_index=True)
    ev = wide(tidy, "welfare_ev")
    assert list(ev.columns) == ["x0.0", "x0.5"] and ev.attrs["units"]["welfare_ev"] == runs[0].unit
    for r in runs:
        np.testing.assert_array_equal(ev[r.scenario.name].to_numpy(), r.welfare()["ev"].to_numpy())
    out = wide(tidy, ["output_pct", "price"])
    assert out.index.names == ["region", "sector"]
    np.testing.assert_array_equal(out[("x0.5", "output_pct")].to_numpy(), runs[1].output()["pct_change"].to_numpy())
    with pytest.raises(ValueError, match="not in the frame"):
        wide(tidy, "gdp_nominal")
