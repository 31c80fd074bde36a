"""The base-year update (cge.sources.update), its back-test on WIOD, and the updated built-in benchmarks.

Tests that need the raw data in ../shared/data skip when it is absent; the committed benchmarks load
without it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cge
from cge.sources import ENV_VAR, has_shared_data, shared_data_dir
from cge.sources.hybrid import Table
from cge.sources.update import growth_factors, update_table

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

UPDATED = ("eastasia-2019", "eastasia-2022")
WIOD_RAW = [("wiod2013", "npz", f"wiot_{y}.npz") for y in (2005, 2008, 2011)] + [
    ("icio2023_trade_tariffs", "original_mat", f"WIOD{y}.mat") for y in (2005, 2008, 2011)
]
ICIO_RAW = [
    ("wiod2013", "npz", "wiot_2011.npz"),
    ("wiod2013_sea", "wiod_sea_2013release_wide.csv.gz"),
    *[("icio2023_trade_tariffs", "original_mat", f"ICIO{y}.mat") for y in (2011, 2019, 2022)],
]


def _skip_without(parts):
    return pytest.mark.skipif(
        not all(has_shared_data(*p) for p in parts),
        reason=f"raw data not found under {shared_data_dir()}; set ${ENV_VAR}",
    )


def _toy(seed: int = 0) -> tuple[Table, np.ndarray]:
    """A balanced 3-region x 4-sector table and its sector -> group matrix (2 groups)."""
    rng = np.random.default_rng(seed)
    R, S, A = 3, 4, 3
    Z = rng.uniform(1, 10, (R, S, R, S))
    F = rng.uniform(5, 20, (R, S, R, A))
    x = Z.sum(axis=(2, 3)) + F.sum(axis=(2, 3))
    va = x - Z.sum(axis=(0, 1))
    assert (va > 0).all()
    groups = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=float)
    return Table(["a", "b", "c"], ["s1", "s2", "s3", "s4"], ["household", "government", "investment"], Z, F, va), groups


def _routes(table: Table, groups: np.ndarray) -> np.ndarray:
    return np.einsum("ris,ig->rgs", table.Z.sum(axis=3) + table.F.sum(axis=3), groups)


@pytest.mark.unit
def test_update_with_no_growth_returns_the_base_table():
    table, groups = _toy()
    cube = _routes(table, groups) * 1.7  # another vintage: other levels, no growth
    new, report = update_table(table, cube, cube, groups)
    np.testing.assert_allclose(new.Z, table.Z, rtol=1e-11)
    np.testing.assert_allclose(new.F, table.F, rtol=1e-11)
    np.testing.assert_allclose(new.va, table.va, rtol=1e-11)
    assert report.fallback_routes == 0


@pytest.mark.unit
def test_update_meets_the_cube_growth_and_keeps_value_added_shares():
    """Sales of each route grow with the cube; output = sales = costs; va / x and the agents' shares kept."""
    table, groups = _toy(1)
    base = _routes(table, groups)
    growth = np.random.default_rng(2).uniform(0.8, 1.6, base.shape)
    new, report = update_table(table, base, base * growth, groups, 2011, 2022)
    sales0 = table.Z.sum(axis=3) + table.F.sum(axis=3)
    expected = sales0 * np.einsum("rgs,ig->ris", growth, groups)
    np.testing.assert_allclose(new.Z.sum(axis=3) + new.F.sum(axis=3), expected, rtol=1e-12)
    assert new.balance_residual() < 1e-12 and report.cost_error < 1e-12
    np.testing.assert_allclose(new.va / new.sales, table.va / table.sales, rtol=1e-9)
    fd0, fd = table.F.sum(axis=(0, 1)), new.F.sum(axis=(0, 1))
    np.testing.assert_allclose(fd / fd.sum(axis=1, keepdims=True), fd0 / fd0.sum(axis=1, keepdims=True), rtol=1e-9)
    assert (new.Z >= 0).all() and (new.F >= 0).all()


@pytest.mark.unit
def test_growth_falls_back_to_the_exporters_output_where_the_cube_is_silent_or_tiny():
    base = np.array([[[10.0, 0.0, 0.5]], [[4.0, 6.0, 2.0]]])  # (2 exporters, 1 group, 3 importers)
    target = np.array([[[20.0, 5.0, 50.0]], [[4.0, 12.0, 2.0]]])
    table = np.array([[[10.0, 3.0, 10.0]], [[4.0, 6.0, 2.0]]])
    g, fb = growth_factors(base, target, table)
    assert fb[0, 0].tolist() == [False, True, True]  # no cube flow; a cube flow of 5% of the table's
    assert g[0, 0, 0] == 2.0 and g[0, 0, 1] == g[0, 0, 2] == pytest.approx(75.0 / 10.5)
    assert g[1, 0].tolist() == [1.0, 2.0, 1.0]


@pytest.mark.unit
@_skip_without(WIOD_RAW)
def test_backtest_errors_stay_below_the_recorded_figures():
    """WIOD 2008 and 2005 updated to 2011 with the WIOD 2016 cube, against the true WIOD 2011 table."""
    from calibration import backtest

    df = backtest.run()
    rec = pd.read_csv(backtest.EXPECTED, comment="#")
    for row in rec.itertuples():
        assert df.loc[row.error, (row.base_year, "update")] <= row.bound, (row.base_year, row.error)
    # the method itself, given margins of the same release, beats carrying the base structure over
    for y in backtest.BASE_YEARS:
        for k in ("input_coefficients", "bilateral_shares", "output_structure", "gvc_participation_mean"):
            assert df.loc[k, (y, "own margins")] < df.loc[k, (y, "unchanged")], (y, k)
        assert df.loc["output_structure", (y, "update")] < df.loc["output_structure", (y, "unchanged")]


# ------------------------------------------------------------------------------------------ updated benchmarks
@pytest.mark.unit
@pytest.mark.parametrize("name", UPDATED)
def test_updated_benchmarks_load_validate_and_replicate(name):
    bench = cge.Benchmark.load(name)
    base = cge.Benchmark.load("eastasia-2011")
    assert (bench.regions, bench.sectors, bench.factors, bench.agents) == (base.regions, base.sectors, base.factors, base.agents)
    assert bench.groups == base.groups and bench.metadata["base_year"] == int(name[-4:])
    assert bench.employment_proxy == bench.regions  # 2011 persons carried over, flagged
    np.testing.assert_allclose(bench.employment, base.employment)
    bench.validate()
    assert float(cge.Model(bench, backend="fast").residuals().abs().max()) <= 1e-9


@pytest.mark.unit
def test_2011_to_2022_headline_changes():
    """US imports from Viet Nam grew about sixfold; world output by about 43%."""
    b11, b22 = cge.Benchmark.load("eastasia-2011"), cge.Benchmark.load("eastasia-2022")

    def us_imports(b, exporter):
        e, u = b.regions.index(exporter), b.regions.index("USA")
        return b.z_0[e, :, u].sum() + b.f_0[e, :, u].sum()

    assert 4.5 < us_imports(b22, "VNM") / us_imports(b11, "VNM") < 7.5
    assert 1.3 < b22.output.sum() / b11.output.sum() < 1.6


@pytest.fixture(scope="module")
def updated():
    from calibration import recipes
    from cge.sources import build, update

    inputs = build.load_inputs(io_proxies=recipes.io_proxies())
    return inputs, {y: update.updated_inputs(inputs, y) for y in (2019, 2022)}


@pytest.mark.unit
@_skip_without(ICIO_RAW)
@pytest.mark.parametrize("year", (2019, 2022))
def test_updated_tables_match_the_cube_margins(updated, year):
    """Output and trade by (region, group, region) grow exactly as in the ICIO cube; the table balances."""
    from cge.sources.update import cube_on_table, group_matrix, growth_factors

    inputs, tables = updated
    later, report = tables[year]
    h0, h = inputs.hybrid, later.hybrid
    _, groups, _ = group_matrix(inputs.cube, h0.sectors)
    base = cube_on_table(inputs.cube, h0.regions, inputs.split.members, h0.sectors)
    target = cube_on_table(later.cube, h0.regions, inputs.split.members, h0.sectors)
    routes0 = np.einsum("ris,ig->rgs", h0.Z.sum(axis=3) + h0.F.sum(axis=3), groups)
    routes = np.einsum("ris,ig->rgs", h.Z.sum(axis=3) + h.F.sum(axis=3), groups)
    g, fb = growth_factors(base, target, routes0)
    np.testing.assert_allclose(routes, routes0 * g, rtol=1e-6, atol=1e-6)
    exact = ~fb & (routes0 > 0)
    np.testing.assert_allclose(routes[exact] / routes0[exact], target[exact] / base[exact], rtol=1e-6)
    assert h.balance_residual() < 1e-9 and report.sales_error < 1e-9
    assert report.fallback_value < 0.005 * h.sales.sum()  # fallbacks are a small part of output


@pytest.mark.slow
@_skip_without(ICIO_RAW + WIOD_RAW)
def test_update_notebook_executes(run_notebook):
    outputs = run_notebook(ROOT / "calibration" / "eastasia_update.py")
    assert outputs.count("committed benchmark: identical") == 2
    assert "GVC participation (Borin-Mancini), VNM" in outputs
