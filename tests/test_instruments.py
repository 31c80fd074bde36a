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

Duty exemptions (the share of the intermediate-use tariff a sector does not pay on its imported
inputs, as in export-processing regimes):

* an exemption of 1 for every sector of a region is exactly a zero intermediate-use tariff of that
  region, and an exemption of one half a halved one (the limit and the linear case, both backends);
* an exemption of one sector changes that buyer's tariff only: the revenue the results report is the
  sum over flows of the tariff each buyer pays, the exempted sector's import share rises and the
  other sectors of the region pay their full rate; both backends agree, Walras' law holds and the
  welfare decomposition, whose tariff term uses the tariff each buyer pays, adds up to the EV;
* a benchmark with exemptions (a table field written and read back exactly) replicates, and taking
  the exemption away is a tariff rise on the processing sector's inputs;
* the fast backend's equations equal the Pyomo model's at any point and its Jacobian equals finite
  differences with exemptions; common sourcing refuses a non-zero exemption with a clear error.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cge
from cge.instruments import NAMES, SPECS
from cge.scenario import load_spec
from cge.synthetic import random_benchmark
from test_fast_backend import assert_equations_match_reference, assert_jacobian_matches_finite_differences, common_benchmark

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
    assert NAMES == ("tariff", "iceberg", "output_tax", "transfer", "duty_exemption", "fixed_cost") and [s.name for s in SPECS] == list(NAMES)
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


# ---------------------------------------------------------------------- duty exemptions


def exempt_benchmark(seed=41, region=1, sector=2, share=1.0):
    """A random benchmark whose sector ``(region, sector)`` imports its inputs with ``share`` of the
    intermediate-use tariff waived; the tariff no longer paid becomes capital payments, so the table balances."""
    b = random_benchmark(3, 3, seed=seed)
    e = np.zeros((3, 3))
    e[region, sector] = share
    waived = (b.z_0[:, :, region, sector] * b.tariff_0[:, :, region, 0]).sum() * share
    fp = b.fp_0.copy()
    fp[region, sector, 1] += waived
    factors = {f: fp[..., k] for k, f in enumerate(b.factors)}
    return cge.Benchmark.from_arrays(b.regions, b.sectors, b.z_0, b.f_0, factors, tariffs=b.tariff_0, employment=b.employment,
                                     agents=b.agents, duty_exemption=e)


@pytest.mark.parametrize("backend", ["pyomo", "fast"])
def test_a_full_exemption_of_every_sector_is_a_zero_intermediate_tariff(backend):
    bench = random_benchmark(3, 3, seed=40)
    model = cge.Model(bench, backend=backend)
    for share in (1.0, 0.5):
        e = np.zeros((3, 3))
        e[1] = share  # every sector of R2
        t = bench.tariff_0.copy()
        t[:, :, 1, 0] *= 1.0 - share
        exempt = model.solve(cge.Scenario(duty_exemption=e, name="exempt"))
        cut = model.solve(cge.Scenario(tariff=t, name="cut"))
        for name in ("p", "y", "w", "z", "utility", "income"):
            np.testing.assert_allclose(getattr(exempt.solution, name), getattr(cut.solution, name), rtol=1e-9, atol=1e-12)
        revenue = exempt.tidy().query("variable == 'tariff_revenue'")["value"].to_numpy()
        np.testing.assert_allclose(revenue, cut.tidy().query("variable == 'tariff_revenue'")["value"].to_numpy(), rtol=1e-9)
        assert exempt.solution.utility[1] != pytest.approx(1.0, abs=1e-6)  # the exemption does something


def test_one_sector_exemption_applies_to_that_buyer_only():
    bench = random_benchmark(3, 3, seed=42)
    e = np.zeros((3, 3))
    e[1, 2] = 1.0  # S3 in R2 imports its inputs duty-free
    sc = cge.Scenario(duty_exemption=e, name="S3 in R2 exempt")
    ref = cge.Model(bench, backend="pyomo").solve(sc, decompose=8)
    fast = cge.Model(bench, backend="fast").solve(sc, decompose=8)
    for name in ("p", "y", "w", "z", "utility"):
        np.testing.assert_allclose(getattr(fast.solution, name), getattr(ref.solution, name), rtol=1e-8, atol=1e-10)
    assert fast.solution.walras_residual <= 1e-9 and ref.solution.walras_residual <= 1e-9
    sol, par = fast.solution, fast.params
    # revenue: each buyer pays its use's rate, S3 in R2 nothing on its inputs
    off = ~np.eye(3, dtype=bool)[:, None, :, None]
    t = sol.tariff[..., par.use_of_buyer].copy()
    t[:, :, 1, 2] = 0.0
    expected = (t * sol.p[:, :, None, None] * sol.tau[..., par.use_of_buyer] * sol.z * off).sum(axis=(0, 1, 3))
    got = fast.tidy().query("variable == 'tariff_revenue'")["value"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # the exempted sector shifts toward imports; the region's other sectors pay full rates and import relatively less
    def import_share(res, j):
        z = res.solution.z[:, :, 1, j]
        return z[[0, 2]].sum() / z.sum()

    def import_share_0(j):
        z = par.d_0[:, :, 1, j]
        return z[[0, 2]].sum() / z.sum()

    assert import_share(fast, 2) > import_share_0(2) * 1.01
    for j in (0, 1):
        assert import_share(fast, j) < import_share_0(j)
    # the decomposition's tariff term counts the tariff each buyer pays; it adds up to the EV
    w = fast.welfare()
    for region in ("R1", "R2", "R3"):
        assert abs(w.loc[region, "residual"]) <= 0.02 * abs(w.loc[region, "ev"]) + 1e-6 * bench.income.max()
    pd.testing.assert_frame_equal(ref.welfare_decomposition(), fast.welfare_decomposition(), rtol=1e-7, atol=1e-7 * bench.income.max())
    assert fast.metadata()["instruments_changed"] == ["duty_exemption"]
    # counting the exempted inputs at the full rate would not add up: the term differs
    path = fast.path
    full = sum(
        (0.5 * (a.tariff[..., par.use_of_buyer] * a.p[:, :, None, None] + b.tariff[..., par.use_of_buyer] * b.p[:, :, None, None])
         * (b.z - a.z) * off).sum(axis=(0, 1, 3))[1] for a, b in zip(path[:-1], path[1:]))
    assert abs(full - w.loc["R2", "tariff_efficiency"]) > 10 * abs(w.loc["R2", "residual"])


def test_a_benchmark_with_exemptions_round_trips_replicates_and_the_exemption_can_be_removed(tmp_path):
    bench = exempt_benchmark()
    assert bench.duty_exemption_0[1, 2] == 1.0
    # tariffs paid count the exemption: the region collects nothing on S3's inputs
    plain = random_benchmark(3, 3, seed=41)
    paid = (plain.z_0[:, :, 1, 2] * plain.tariff_0[:, :, 1, 0]).sum()
    np.testing.assert_allclose(plain.tariff_revenue[1] - bench.tariff_revenue[1], paid, rtol=1e-12)
    # written and read back exactly; a table without exemptions writes no file
    bench.write(tmp_path / "b")
    back = cge.Benchmark.read(tmp_path / "b")
    np.testing.assert_array_equal(back.duty_exemption_0, bench.duty_exemption_0)
    assert back.hash() == bench.hash() != plain.hash()
    plain.write(tmp_path / "p")
    assert not (tmp_path / "p" / "duty_exemption.csv").exists()
    assert cge.Benchmark.read(tmp_path / "p").duty_exemption_0.sum() == 0.0
    # replication, then removing the exemption: a tariff rise on S3's inputs in R2
    e0 = np.zeros((3, 3))
    for backend in ("pyomo", "fast"):
        model = cge.Model(bench, backend=backend)
        base = model.solve()
        assert base.solution.max_residual <= 1e-9
        np.testing.assert_allclose(base.solution.z, model.params.d_0, rtol=1e-9, atol=1e-9)
        res = model.solve(cge.Scenario(duty_exemption=e0, name="no exemption"), decompose=6)
        assert res.tidy().query("variable == 'tariff_revenue' and region == 'R2'")["value"].iloc[0] > bench.tariff_revenue[1]
        z = res.solution.z[:, :, 1, 2]
        assert z[[0, 2]].sum() / z.sum() < model.params.d_0[[0, 2], :, 1, 2].sum() / model.params.d_0[:, :, 1, 2].sum()
        w = res.welfare()
        assert abs(w.loc["R2", "residual"]) <= 0.02 * abs(w.loc["R2", "ev"]) + 1e-6 * bench.income.max()
        if backend == "pyomo":
            ref = res
    np.testing.assert_allclose(res.solution.utility, ref.solution.utility, rtol=1e-9)
    # the counterfactual table keeps the exemption and balances
    table = res.mrio()
    np.testing.assert_array_equal(table.duty_exemption_0, e0)
    bad = bench.duty_exemption_0.copy()
    bad[0, 0] = 1.5
    with pytest.raises(cge.BenchmarkError, match=r"duty_exemption: shares of the tariff waived must be finite shares in \[0, 1\], found \(R1, S1\)=1.5"):
        cge.Benchmark.from_arrays(bench.regions, bench.sectors, bench.z_0, bench.f_0, {f: bench.fp_0[..., k] for k, f in enumerate(bench.factors)},
                                  tariffs=bench.tariff_0, agents=bench.agents, duty_exemption=bad)


def test_exemptions_are_checked_and_common_sourcing_refuses_them(toy, tmp_path):
    e = np.zeros((3, 3))
    e[1, 1] = 1.2
    with pytest.raises(cge.ScenarioError, match=r"duty_exemption \(China, electronics\) = 1.2 is not allowed \(must be finite and >= 0 and <= 1\)"):
        cge.Scenario(duty_exemption=e).instruments(toy)
    e[1, 1] = 1.0
    common = common_benchmark(3, 3, seed=44)
    for backend in ("pyomo", "fast"):
        model = cge.Model(common, sourcing="common", backend=backend)
        with pytest.raises(cge.CalibrationError, match=r"sourcing='common' cannot take a duty exemption \(\(R2, S2\) has 1\)"):
            model.solve(cge.Scenario(duty_exemption=e, name="exempt"))
    exempt = cge.Benchmark.from_arrays(common.regions, common.sectors, common.z_0, common.f_0,
                                       {f: common.fp_0[..., k] + (k == 1) * np.where(e > 0, (common.z_0 * common.tariff_0[..., :1]).sum(axis=(0, 1)), 0)
                                        for k, f in enumerate(common.factors)},
                                       tariffs=common.tariff_0, agents=common.agents, duty_exemption=e)
    with pytest.raises(cge.CalibrationError, match="sourcing='common' cannot take a duty exemption"):
        cge.Model(exempt, sourcing="common")
    path = tmp_path / "spec.toml"
    folder = (Path(__file__).parent / "data" / "toy").resolve()
    path.write_text(f'benchmark = "{folder}"\n[[scenario]]\nname = "x"\n'
                    '[[scenario.shock]]\ninstrument = "duty_exemption"\nvalue = 1.0\nregions = "China"\nsectors = ["electronics"]\n')
    sc = load_spec(path).scenarios[0].build(toy)
    np.testing.assert_array_equal(sc.duty_exemption, e)


def test_fast_equations_and_jacobian_with_exemptions():
    from cge.fast import FastModel

    bench = exempt_benchmark(seed=43, region=0, sector=1, share=0.7)
    el = dict(sigma_top=0.5, sigma_va=0.8, sigma_int=0.3, sigma_fd=0.7, sigma_dm=2.5, sigma_mm=5.0)
    e = bench.duty_exemption_0.copy()
    e[2, 0] = 0.4  # a second exempted sector, and the first's share changed
    e[0, 1] = 0.2
    inst = cge.Scenario(duty_exemption=e, tariff=bench.tariff_0 * 1.3).instruments(bench)
    ref = cge.Model(bench, backend="pyomo", elasticities=el)
    fast = FastModel(bench, elasticities=el)
    assert_equations_match_reference(ref, fast, inst)
    engine = fast.engine
    x = np.random.default_rng(1).uniform(0.8, 1.2, size=engine.layout.n)
    assert_jacobian_matches_finite_differences(engine, x)
    # the residuals of the reduced system vanish at the benchmark with the benchmark's exemptions
    fast._set_instruments(cge.Instruments.benchmark(bench))
    assert np.abs(engine.evaluate(engine.system.benchmark_point()).residual).max() <= 1e-12


@pytest.mark.parametrize("backend", ["pyomo", "fast"])
def test_fixed_cost_acts_on_heterogeneous_firms_only(backend):
    """``fixed_cost`` is declared like every instrument (shape, benchmark 1, scenario files) but acts on
    the heterogeneous-firm sectors of ``cge.melitz`` only: ``cge.Model`` (both backends) refuses a value
    other than 1 naming the instrument and the route, and solves the benchmark value as before;
    ``MelitzModel`` reads the same typed instruments (a fixed-cost cut creates exporters)."""
    from cge.melitz import MelitzModel

    bench = value_added_only()
    fc = np.ones((3, 2, 3))
    fc[0, 1, 2] = 0.8
    model = cge.Model(bench, backend=backend)
    with pytest.raises(cge.InstrumentError, match=rf"fixed_cost \(R1, S2, R3\) = 0.8: .*backend '{backend}'.*cge.melitz.MelitzModel"):
        model.solve(cge.Scenario(fixed_cost=fc, name="lower fixed costs"))
    same = cge.Model(bench, backend=backend).solve(cge.Scenario(fixed_cost=np.ones((3, 2, 3)), iceberg=0.9, name="ones"))
    ref = cge.Model(bench, backend=backend).solve(cge.Scenario(iceberg=0.9, name="ones"))
    np.testing.assert_array_equal(same.solution.utility, ref.solution.utility)
    mel = MelitzModel(bench)
    fc[0, 1, 1] = 0.8  # every export route of (R1, S2)
    res = mel.solve(cge.Scenario(fixed_cost=fc, name="lower fixed costs"))
    assert res.firms().loc[("R1", "S2"), "new_exporters"] > 0
    # scenario shocks select routes (no use axis); the use key does not apply
    sc = cge.Scenario.from_shocks(bench, [{"instrument": "fixed_cost", "exporters": "R1", "op": "scale", "value": 0.8}], name="fc")
    expected = np.where((np.arange(3)[:, None, None] == 0) & ~np.eye(3, dtype=bool)[:, None, :], 0.8, 1.0) * np.ones((3, 2, 3))
    np.testing.assert_array_equal(sc.instruments(bench).fixed_cost, expected)
    with pytest.raises(cge.ScenarioError, match="key 'use' does not apply to instrument 'fixed_cost'"):
        cge.Scenario.from_shocks(bench, [{"instrument": "fixed_cost", "use": "final", "value": 0.8}], name="fc")
