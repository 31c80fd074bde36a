"""The counterfactual table under common sourcing: the benchmark's own table when nothing moves.

With ``sourcing="common"`` the model determines imports by route; :mod:`cge.sourcing` shares them
among buyers by their benchmark purchases times their import-composite demand. With no shock every
cell of the benchmark table comes back (no cell moves between buyers, no new non-zero cell) and
every GVC indicator is unchanged; after a shock the buyers' purchases add up to the route flows the
model solved for. Both backends, on a random table whose buyers source differently and on
``eastasia-2011``.
"""

import numpy as np
import pytest

import cge

from test_fast_backend import common_benchmark

pytestmark = pytest.mark.solver


def _tables_equal(table, bench):
    for name in ("z_0", "f_0", "fp_0"):
        a, b = getattr(table, name), getattr(bench, name)
        assert not ((a != 0) & (b == 0)).any(), f"{name}: new non-zero cells"
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * np.abs(b).max(), err_msg=name)


@pytest.mark.parametrize("backend", ["pyomo", "fast"])
def test_no_shock_reproduces_the_table_and_a_shock_keeps_route_totals(backend):
    bench = common_benchmark(4, 3, seed=41)
    d = np.concatenate([bench.z_0, bench.f_0], axis=3)
    mix = d / d.sum(axis=0, keepdims=True).clip(1e-300)
    assert np.ptp(mix[:, 0, 1, :], axis=1).max() > 0.05  # buyers of a region source differently
    model = cge.Model(bench, sourcing="common", backend=backend)
    base = model.solve()
    _tables_equal(base.mrio(), bench)
    assert np.abs(base.gvc()["change"]).max() <= 1e-9
    t = bench.tariff_0 * 0.2
    res = model.solve(cge.Scenario(tariff=t))
    z = res.solution.z
    off = np.broadcast_to(~np.eye(4, dtype=bool)[:, None, :], z.shape[:3])
    # buyers' purchases from each route add up to the route flow, which moved
    if backend == "fast":
        eng = model.engine
        route = eng.layout.d_imp * eng.state.z_imp
    else:
        m = model.engine.m
        route = np.zeros(z.shape[:3])
        for k in m.IMPORT_ROUTES:
            route[k] = m.route_0[k] * m.z_import[k].expr()
    np.testing.assert_allclose(z.sum(axis=3)[off], route[off], rtol=1e-12)
    assert np.abs(route[off] / d.sum(axis=3)[off] - 1).max() > 0.01
    assert not ((z != 0) & (d == 0)).any()


@pytest.mark.parametrize("sourcing", ["common", "agent"])
def test_eastasia_no_shock_gvc_change_is_zero(sourcing):
    bench = cge.Benchmark.load("eastasia-2011")
    res = cge.Model(bench, sourcing=sourcing, backend="fast").solve()
    _tables_equal(res.mrio(), bench)
    g = res.gvc()
    assert np.abs(g["change"]).max() <= 1e-9
