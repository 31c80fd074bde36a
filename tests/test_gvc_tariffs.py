"""Tariffs along the value chain (cge.gvc.tariffs) on a three-country chain computed by hand.

A makes parts with value added only and sells 60 of its 100 to B (B's tariff 10%); B assembles
them into a sub-assembly and sells 120 of its 200 to C (C's tariff 5%); C makes the final good and
sells 90 of its 300 to A (A's tariff 8%). Upstream tariff content per unit of output: A 0; B
0.3 x 10% = 3%; C 0.4 x (5% + 3%) = 3.2%. So C's final good reaches A with 8% direct and 11.2%
cumulative tariffs (Rouzet and Miroudot 2013); with no intermediate trade the cumulative tariff is
the direct one; with the same tariff on a sector's inputs and output the effective rate of
protection equals the nominal one (Corden 1966).
"""

import numpy as np
import pytest

import cge
from cge.gvc import tariffs

pytestmark = pytest.mark.unit


def chain():
    R = 3
    z = np.zeros((R, 1, R, 1))
    f = np.zeros((R, 1, R))
    z[0, 0, 1, 0], f[0, 0, 0] = 60.0, 40.0  # A: parts to B, rest to its household
    z[1, 0, 2, 0], f[1, 0, 1] = 120.0, 80.0  # B: sub-assemblies to C
    f[2, 0, 0], f[2, 0, 2] = 90.0, 210.0  # C: final goods to A and its own household
    t = np.zeros((R, 1, R, 2))
    t[0, 0, 1, :], t[1, 0, 2, :], t[2, 0, 0, :] = 0.10, 0.05, 0.08
    va = np.array([[100.0], [200.0 - 66.0], [300.0 - 126.0]])
    return cge.Benchmark.from_arrays(["A", "B", "C"], ["goods"], z, f, {"labour": va}, tariffs=t)


def test_cumulative_tariffs_on_a_three_country_chain():
    bench = chain()
    np.testing.assert_allclose(tariffs.upstream_tariff_content(bench)[:, 0], [0.0, 0.03, 0.032], rtol=1e-12)
    ct = tariffs.cumulative_tariffs(bench).set_index(["exporter", "importer", "use"])
    np.testing.assert_allclose(ct.loc[("C", "A", "final"), ["direct", "upstream", "cumulative"]].to_numpy(dtype=float), [0.08, 0.032, 0.112], rtol=1e-12)
    np.testing.assert_allclose(ct.loc[("B", "C", "intermediate"), "cumulative"], 0.08, rtol=1e-12)
    np.testing.assert_allclose(ct.loc[("A", "B", "intermediate"), "cumulative"], 0.10, rtol=1e-12)
    burden = tariffs.final_goods_burden(bench)
    assert list(burden.index) == ["A"]  # the only importer of final goods
    np.testing.assert_allclose(burden.loc["A"].to_numpy(), [0.08, 0.032, 0.112], rtol=1e-12)


def test_without_intermediate_trade_the_cumulative_tariff_is_the_direct_one(toy):
    z = np.zeros_like(toy.z_0)
    output = toy.f_0.sum(axis=(2, 3))
    bench = cge.Benchmark.from_arrays(toy.regions, toy.sectors, z, toy.f_0, {"labour": output}, tariffs=toy.tariff_0, agents=toy.agents)
    ct = tariffs.cumulative_tariffs(bench)
    assert (ct["upstream"] == 0).all() and len(ct) > 0
    np.testing.assert_array_equal(ct["cumulative"], ct["direct"])


def test_effective_protection():
    erp = tariffs.effective_protection(chain()).xs("goods", level="sector")
    np.testing.assert_allclose(erp["input_share"], [0.0, 0.3, 0.4], rtol=1e-12)
    # a single good: the same tariff on inputs and output, so the effective rate equals the nominal one
    np.testing.assert_allclose(erp["nominal"], [0.08, 0.10, 0.05], rtol=1e-12)
    np.testing.assert_allclose(erp["effective"], erp["nominal"], rtol=1e-12)


def test_tariffs_embodied_before_and_after_a_shock(toy):
    res = cge.Model(toy).solve(cge.Scenario(tariff=toy.tariff_0 * 0.0))
    after = tariffs.final_goods_burden(res.mrio())
    assert np.abs(after.to_numpy()).max() == 0.0  # free trade leaves nothing to cumulate
    before = tariffs.final_goods_burden(toy)
    assert (before["cumulative"] > before["direct"]).all() and (before["upstream"] > 0).all()
