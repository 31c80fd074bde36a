"""Sensitivity analysis: exact quadrature, agreement with Monte Carlo, the same tables on any number of workers."""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cge
from cge import sensitivity as sens
from cge.scenario import ScenarioError, load_spec

SPECS = Path(__file__).resolve().parent / "data" / "specs"
ROOT = Path(__file__).resolve().parents[1]


def _tariff_cut(bench, level=0.0):
    """Tariffs between ASEAN and China set to ``level`` (both uses)."""
    t = bench.tariff_0.copy()
    a, c = bench.regions.index("ASEAN"), bench.regions.index("China")
    t[a, :, c, :] = level
    t[c, :, a, :] = level
    return cge.Scenario(tariff=t, name="cut")


@pytest.mark.unit
@pytest.mark.parametrize("n", [1, 2, 3, 6, 7])
def test_stroud_points_reproduce_moments_up_to_order_three(n):
    x = sens.stroud3(n)
    assert x.shape == (2 * n, n)
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-14)
    np.testing.assert_allclose(x.T @ x / (2 * n), np.eye(n), atol=1e-14)
    third = np.einsum("ki,kj,kl->ijl", x, x, x) / (2 * n)
    np.testing.assert_allclose(third, 0.0, atol=1e-14)


@pytest.mark.unit
@pytest.mark.parametrize("distribution", ["uniform", "triangular"])
def test_quadrature_gives_the_exact_mean_of_a_cubic_in_the_elasticities(toy, distribution):
    """E f(sigma) for a cubic f of independent symmetric elasticities, in closed form (Arndt 1996)."""
    rule = sens.Vary(elasticities=("sigma_dm",), distribution=distribution, spread=0.6, by_sector=True)
    spec = sens.Specification(design="quadrature", vary=(rule,))
    mu = np.array([2.0, 3.0, 5.0])
    sigma = {k: np.full(3, 1.0) for k in cge.benchmark.ELASTICITIES} | {"sigma_dm": mu}
    points, design = spec.points(toy, sigma)
    assert len(points) == 6 and design["draw"].nunique() == 6
    s = np.array([p["sigma_dm"] for p in points])

    def f(x):
        return 1.5 + x @ [0.3, -2.0, 0.7] + 0.4 * x[:, 0] * x[:, 1] - 0.9 * x[:, 1] * x[:, 2] + 0.25 * x[:, 2] ** 2 + 0.05 * x[:, 0] ** 3

    var = (0.6 * mu) ** 2 * (1 / 3 if distribution == "uniform" else 1 / 6)
    exact = 1.5 + mu @ [0.3, -2.0, 0.7] + 0.4 * mu[0] * mu[1] - 0.9 * mu[1] * mu[2] + 0.25 * (mu[2] ** 2 + var[2]) + 0.05 * (mu[0] ** 3 + 3 * mu[0] * var[0])
    assert f(s).mean() == pytest.approx(exact, rel=1e-13)
    # a Monte Carlo design of the same rule is only close
    mc = sens.Specification(design="monte_carlo", draws=20000, seed=3, vary=(rule,))
    draws, _ = mc.points(toy, sigma)
    m = np.array([p["sigma_dm"] for p in draws])
    assert m.min() >= 0.4 * mu.min() and f(m).mean() == pytest.approx(exact, rel=2e-2)
    np.testing.assert_allclose(m.var(axis=0), var, rtol=0.05)


@pytest.mark.unit
def test_designs_move_groups_together_and_keep_the_other_elasticities(toy):
    sigma = {k: np.full(3, 2.0) for k in cge.benchmark.ELASTICITIES} | {"sigma_mm": np.full(3, 4.0)}
    spec = sens.Specification(draws=50, seed=7, vary=(sens.Vary(distribution="normal", spread=2.0),))
    points, _ = spec.points(toy, sigma)
    again, _ = spec.points(toy, sigma)
    for p, q in zip(points, again):
        np.testing.assert_array_equal(p["sigma_dm"], q["sigma_dm"])
        np.testing.assert_allclose(p["sigma_mm"], 2.0 * p["sigma_dm"])  # one deviation for the group
        assert np.ptp(p["sigma_dm"]) == 0.0 and p["sigma_dm"][0] >= 0.0  # truncated at zero
        assert "sigma_va" not in p
    other, _ = sens.Specification(draws=50, seed=8).points(toy, sigma)
    assert not np.array_equal(points[0]["sigma_dm"], other[0]["sigma_dm"])


@pytest.mark.unit
def test_summary_statistics():
    values = pd.DataFrame({"draw": range(5), "scenario": "s", "variable": "v", "region": "A", "sector": "", "partner": "", "unit": "u",
                           "value": [-1.0, 1.0, 2.0, 3.0, 5.0]})
    central = values.iloc[[0]].drop(columns="draw").assign(value=2.0)
    row = sens.summarise(values, central).iloc[0]
    assert row["mean"] == 2.0 and row["sd"] == pytest.approx(2.0) and row["central"] == 2.0
    assert row["p05"] == pytest.approx(-0.6) and row["p95"] == pytest.approx(4.6)
    assert row["share_positive"] == 0.8 and row["same_sign"] == 0.8 and row["draws"] == 5
    normal = sens.summarise(values, central, band="normal").iloc[0]
    assert normal["p95"] == pytest.approx(2.0 + sens.Z95 * 2.0)


@pytest.mark.solver
def test_with_elasticities_matches_a_model_built_with_them(toy):
    model = cge.Model(toy, backend="fast")
    sc = _tariff_cut(toy)
    new = {"sigma_dm": np.array([1.5, 4.0, 2.5]), "sigma_mm": np.array([3.0, 4.0, 5.0])}  # electronics single-level
    changed = model.with_elasticities(new)
    fresh = cge.Model(toy, backend="fast", elasticities=new)
    assert not changed.engine.layout.nest[1].any() and model.engine.layout.nest[1].any()
    a, b = changed.solve(sc), fresh.solve(sc)
    np.testing.assert_array_equal(a.solution.values, b.solution.values)
    pd.testing.assert_frame_equal(a.welfare(), b.welfare())
    # the original model is untouched, and a Pyomo model is rebuilt
    np.testing.assert_array_equal(model.solve(sc).solution.values, cge.Model(toy, backend="fast").solve(sc).solution.values)
    pyomo = cge.Model(toy, backend="pyomo").with_elasticities(new).solve(sc)
    assert pyomo.welfare()["ev"].to_numpy() == pytest.approx(a.welfare()["ev"].to_numpy(), rel=1e-6, abs=1e-6)


@pytest.mark.solver
def test_quadrature_agrees_with_a_large_monte_carlo_run(toy):
    sc = _tariff_cut(toy)
    rule = sens.Vary(spread=0.5, by_sector=True)
    quad = sens.analyse(sens.Specification(design="quadrature", vary=(rule,)), toy, [sc], backend="fast")
    mc = sens.analyse(sens.Specification(draws=400, seed=11, vary=(rule,)), toy, [sc], backend="fast")
    assert len(quad.failures) == 0 and len(mc.failures) == 0
    q = quad.summary().set_index(["variable", "region"])
    m = mc.summary().set_index(["variable", "region"])
    for region in toy.regions + ["World"]:
        qm, mm, sd = q.loc[("welfare_ev", region), "mean"], m.loc[("welfare_ev", region), "mean"], m.loc[("welfare_ev", region), "sd"]
        assert abs(qm - mm) <= 3.5 * sd / np.sqrt(400), region  # within the sampling error of the Monte Carlo mean
        assert q.loc[("welfare_ev", region), "sd"] == pytest.approx(sd, rel=0.3)  # order 3: variances are approximate


@pytest.mark.solver
def test_tables_are_identical_on_dask_and_thread_workers_and_failures_are_recorded(toy):
    sc = [_tariff_cut(toy), _tariff_cut(toy, 0.01).__class__(tariff=_tariff_cut(toy, 0.01).tariff, name="cut_to_1pct")]
    spec = sens.Specification(draws=12, seed=5, vary=(sens.Vary(distribution="triangular", by_sector=True),),
                              variables=("welfare_ev", "welfare_ev_pct", "real_gdp_pct"))
    sequential = sens.analyse(spec, toy, sc, backend="fast")
    assert sequential.values["draw"].nunique() == 12 and set(sequential.values["scenario"]) == {"cut", "cut_to_1pct"}
    with sens.dask_client(2, processes=False) as client:
        dask = sens.analyse(spec, toy, sc, backend="fast", executor=client)
    assert dask.sweep.workers == 2
    pd.testing.assert_frame_equal(sequential.values, dask.values, check_exact=True)
    pd.testing.assert_frame_equal(sequential.summary(), dask.summary(), check_exact=True)
    with ThreadPoolExecutor(3) as pool:
        threads = sens.analyse(spec, toy, sc, backend="fast", executor=pool, chunks=5)
    pd.testing.assert_frame_equal(sequential.values, threads.values, check_exact=True)
    again = sens.analyse(spec, toy, sc, backend="fast")
    pd.testing.assert_frame_equal(sequential.summary(), again.summary(), check_exact=True)

    draws = [{"sigma_dm": 3.0}, {"sigma_dm": -1.0}, {"sigma_mm": 6.0}]
    out = sens.sweep(toy, sc[:1], draws, backend="fast")
    assert list(out.failures["draw"]) == [1] and "CalibrationError" in out.failures["error"].iloc[0]
    assert sorted(out.values["draw"].unique()) == [0, 2]
    with pytest.raises(sens.SensitivityError, match="welfare_evv"):
        sens.sweep(toy, sc[:1], draws, backend="fast", variables=["welfare_evv"])


@pytest.mark.unit
def test_sensitivity_tables_in_scenario_files(tmp_path):
    (tmp_path / "toy").symlink_to(SPECS.parent / "toy")
    base = 'benchmark = "toy"\n[[scenario]]\nname = "cut"\n[[scenario.shock]]\ninstrument = "tariff"\nvalue = 0.0\n'
    path = tmp_path / "s.toml"
    path.write_text(base + '[sensitivity]\ndesign = "quadrature"\nvariables = ["welfare_ev"]\n'
                    '[[sensitivity.vary]]\nelasticities = ["sigma_dm", "sigma_mm"]\ndistribution = "triangular"\nspread = 0.4\nby_sector = true\n')
    spec = load_spec(path).sensitivity
    assert spec.design == "quadrature" and spec.vary[0] == sens.Vary(("sigma_dm", "sigma_mm"), "triangular", 0.4, "all", True)
    assert load_spec(SPECS / "toy.toml").sensitivity is None
    for table, message in [
        ('design = "latin"', "design = 'latin'"),
        ("draw = 5", "unknown key 'draw'"),
        ('[[sensitivity.vary]]\ndistribution = "beta"', "distribution = 'beta'"),
        ('[[sensitivity.vary]]\nspread = 1.5', "at most 1"),
        ('[[sensitivity.vary]]\nelasticities = ["sigma_xx"]', "sigma_xx"),
        ('scenarios = ["nope"]', "'nope' is not a scenario"),
    ]:
        path.write_text(base + "[sensitivity]\n" + table + "\n")
        with pytest.raises(ScenarioError, match="sensitivity"):
            load_spec(path)
        with pytest.raises(ScenarioError, match=message):
            load_spec(path)


@pytest.mark.solver
def test_cli_writes_summary_draws_and_figure(tmp_path):
    (tmp_path / "toy").symlink_to(SPECS.parent / "toy")
    path = tmp_path / "s.toml"
    path.write_text('benchmark = "toy"\n[model]\nbackend = "fast"\n[[scenario]]\nname = "cut"\n[[scenario.shock]]\ninstrument = "tariff"\nvalue = 0.0\n'
                    '[sensitivity]\ndraws = 6\nseed = 2\n[[sensitivity.vary]]\nspread = 0.3\n')
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "cge", "sensitivity", str(path), "--out", str(out), "--draws"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "6 draws" in run.stdout and "world EV" in run.stdout
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False)
    draws = pd.read_csv(out / "draws.csv", keep_default_na=False)
    world = summary[(summary["variable"] == "welfare_ev") & (summary["region"] == "World")].iloc[0]
    values = draws.loc[(draws["variable"] == "welfare_ev") & (draws["region"] == "World"), "value"]
    assert len(values) == 6 and world["mean"] == pytest.approx(values.mean(), rel=1e-12)
    assert (out / "figures" / "welfare_bands.svg").is_file() and (out / "metadata.json").is_file()
    again = subprocess.run([sys.executable, "-m", "cge", "sensitivity", str(path), "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert again.returncode == 2 and "--overwrite" in again.stderr


@pytest.mark.slow
def test_headline_quadrature_agrees_with_monte_carlo():
    """On the headline (eastasia-2011, rcep) the 28 quadrature points and 300 draws agree on the mean world EV."""
    spec = load_spec(ROOT / "experiments" / "headline.toml")
    bench = spec.load_benchmark()
    rcep = [sc.build(bench, spec.region_groups, spec.sector_groups) for sc in spec.scenarios if sc.name == "rcep"]
    rule = sens.Vary(spread=0.5, by_sector=True)
    quad = sens.analyse(sens.Specification(design="quadrature", vary=(rule,)), bench, rcep).summary()
    mc = sens.analyse(sens.Specification(draws=300, seed=4, vary=(rule,)), bench, rcep).summary()
    q, m = (s[(s["variable"] == "welfare_ev") & (s["region"] == "World")].iloc[0] for s in (quad, mc))
    assert abs(q["mean"] - m["mean"]) <= 3.5 * m["sd"] / np.sqrt(300)
    assert q["sd"] == pytest.approx(m["sd"], rel=0.25) and m["same_sign"] == 1.0
