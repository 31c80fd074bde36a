"""Melitz-Pareto sectors (issue 15): checks from theory, without and with intermediate inputs.

1. benchmark replication: every residual is zero at the benchmark, and the solve stays there;
2. the analytic Jacobian equals central finite differences (several sectors, tariffs, fixed costs);
3. Arkolakis, Costinot and Rodriguez-Clare (2012): with one sector, balanced trade and no tariffs,
   the welfare change is the change in the domestic share to the power -1/theta (to 1e-8);
4. the limit theta -> sigma - 1: the model converges, at rate O(theta - sigma + 1), to the package's
   Armington model with elasticity sigma (fast backend; a tariff and iceberg shock);
5. fixed costs of exporting: lowering them raises the number of exporters and pushes the least
   productive firms out; the welfare decomposition adds up; bad input is named;
7. input-output linkages: replication of the input-output eastasia-2011, the Jacobian with
   intermediates, the one-sector closed form with roundabout production and the multi-sector
   formula from domestic shares (to 1e-8), benchmarks without intermediates solved by the same
   equations as before (no spending unknowns); tariffs: the elasticity theta sigma / (sigma - 1),
   the Krugman limit with intermediates, RCEP with lower fixed costs on eastasia-2011.
"""

import numpy as np
import pytest

import cge
from cge.benchmark import Benchmark
from cge.instruments import Instruments
from cge.melitz import MelitzError, MelitzModel, calibrate_melitz

pytestmark = pytest.mark.solver


def _bench(S=1, R=3, tariffs=False, seed=1, deficit=False, capital=False):
    """A benchmark without intermediates: labour only (and sector-specific capital when ``capital``),
    one household; trade balanced unless ``deficit``."""
    rng = np.random.default_rng(seed)
    A = rng.uniform(1.0, 5.0, size=(R, S, R))
    A = A + A.transpose(2, 1, 0)  # sales of each region equal its purchases, sector by sector
    A[np.arange(R), :, np.arange(R)] += rng.uniform(20.0, 60.0, size=(R, S))
    if deficit:
        A[0, :, 1] *= 1.5
    t = None
    if tariffs:
        t = rng.uniform(0.0, 0.12, size=(R, S, R))
        t[np.arange(R), :, np.arange(R)] = 0.0
    va = A.sum(axis=2)
    lab = rng.uniform(0.4, 0.8, size=(R, S)) if capital else np.ones((R, S))
    factors = {"labour": va * lab, "capital": va * (1.0 - lab)} if capital else {"labour": va}
    return Benchmark.from_arrays([f"R{k + 1}" for k in range(R)], [f"S{k + 1}" for k in range(S)], np.zeros((R, S, R, S)),
                                 A[..., None], factors, tariffs=t, agents=["household"])


def _domestic_share(params, V):
    v = params.v_0 * V
    idx = np.arange(params.n_regions)
    return v[idx, :, idx] / v.sum(axis=0).T


# ---------------------------------------------------------------- 1. benchmark replication
@pytest.mark.parametrize("S,tariffs,deficit,capital", [(1, False, False, False), (3, True, True, False), (3, True, True, True)])
def test_benchmark_replication(S, tariffs, deficit, capital):
    m = MelitzModel(_bench(S=S, tariffs=tariffs, deficit=deficit, capital=capital))
    st = m.system.evaluate(m.system.benchmark_point(), m.instruments())
    assert np.abs(st.residual).max() < 1e-12
    assert abs(st.walras_excess) < 1e-12
    res = m.solve()
    np.testing.assert_allclose(res.utility, 1.0, atol=1e-12)
    assert res.stats["steps"] == 0
    f = res.firms()
    np.testing.assert_allclose(f["exporter_share_0"], 0.18, rtol=1e-12)  # the calibration target
    np.testing.assert_allclose(f["exit"], 0.0, atol=1e-12)


# ---------------------------------------------------------------- 2. Jacobian
def _assert_jacobian_matches_finite_differences(m):
    """The analytic Jacobian of ``m``'s system equals central differences (step 1e-6, tolerance 1e-7
    of its largest entry) at a random point, under random iceberg costs, fixed costs and tariffs;
    returns those instruments."""
    rng = np.random.default_rng(0)
    shape = m.params.x_0.shape
    inst = m.instruments(iceberg=rng.uniform(0.8, 1.1, shape), fixed_cost=rng.uniform(0.6, 1.3, shape),
                         tariff=m.params.tariff_0 * rng.uniform(0.0, 2.0, shape))
    x = rng.uniform(0.8, 1.2, m.system.n)
    J = m.system.jacobian(m.system.evaluate(x, inst))
    h = 1e-6
    num = np.empty_like(J)
    for k in range(len(x)):
        e = np.zeros(len(x))
        e[k] = h
        num[:, k] = (m.system.evaluate(x + e, inst).residual - m.system.evaluate(x - e, inst).residual) / (2 * h)
    assert np.abs(J - num).max() < 1e-7 * max(1.0, np.abs(J).max())
    return inst


@pytest.mark.parametrize("heterogeneous,capital", [(None, False), (["S2"], False), (None, True), (["S1"], True)])
def test_jacobian_matches_finite_differences(heterogeneous, capital):
    b = _bench(S=2, tariffs=True, deficit=True, seed=4, capital=capital)
    m = MelitzModel(b, theta=[4.0, 6.0], sigma=[3.0, 4.5], heterogeneous=heterogeneous)
    _assert_jacobian_matches_finite_differences(m)


# ---------------------------------------------------------------- 3. ACR
@pytest.mark.parametrize("theta,sigma", [(4.58, 3.8), (4.0, 2.0), (8.0, 5.0)])
def test_acr_gains_from_trade(theta, sigma):
    """U_hat = lambda_hat_ss ** (-1 / theta) for a change in iceberg and fixed costs (ACR 2012, eq. 3 with epsilon = theta)."""
    b = _bench(S=1, seed=7)
    m = MelitzModel(b, theta=theta, sigma=sigma)
    ice = np.ones(m.params.x_0.shape)
    ice[0, 0, 1], ice[2, 0, 0], ice[1, 0, 2] = 0.7, 0.85, 1.2
    fc = np.ones_like(ice)
    fc[0, 0, 2], fc[1, 0, 0] = 0.5, 1.5
    res = m.solve(m.instruments(iceberg=ice, fixed_cost=fc))
    lam_hat = res.domestic_share[:, 0] / _domestic_share(m.params, np.ones_like(ice))[:, 0]
    assert np.abs(res.utility - 1.0).max() > 1e-3  # the shock matters
    np.testing.assert_allclose(res.utility, lam_hat ** (-1.0 / theta), rtol=1e-8, atol=0)
    np.testing.assert_allclose(res.welfare()["ev_pct"], 100.0 * (lam_hat ** (-1.0 / theta) - 1.0), rtol=1e-7)
    # autarky-like: the welfare cost of the domestic share rising means a smaller utility
    assert np.all(np.sign(res.utility - 1.0) == -np.sign(lam_hat - 1.0))


# ---------------------------------------------------------------- 4. the Krugman/Armington limit
def test_limit_is_armington_with_elasticity_sigma():
    """As theta falls to sigma - 1 the selection of firms into routes stops mattering (the cut-off's
    exponent theta - sigma + 1 and the route fixed costs' share of revenue vanish) and, with one
    sector and a fixed mass of firms, the model is Armington with elasticity sigma: the gap to the
    package's Armington model (fast backend) shrinks in proportion to theta - sigma + 1."""
    b = _bench(S=1, tariffs=True, seed=3)
    sigma = 3.0
    base = Instruments.benchmark(b)
    ice = np.ones(base.iceberg.shape)
    ice[0, 0, 1] = 0.8
    tar = np.array(base.tariff)
    tar[1, 0, 0], tar[2, 0, 1] = 0.0, 0.2
    arm = cge.Model(b, elasticities={"sigma_dm": sigma, "sigma_mm": sigma}, backend="fast")
    u_arm = arm.solve(cge.Scenario.from_instruments(Instruments.from_arrays(b, iceberg=ice, tariff=tar))).solution.utility
    gaps = []
    for eps in (1e-2, 1e-3, 1e-4):
        m = MelitzModel(b, theta=sigma - 1.0 + eps, sigma=sigma)
        u = m.solve(m.instruments(iceberg=ice[..., 1], tariff=tar[..., 1])).utility
        gaps.append(np.abs(u - u_arm).max())
    assert gaps[0] > 1e-6  # away from the limit the models differ
    np.testing.assert_allclose(gaps[1] / gaps[0], 0.1, rtol=0.02)
    np.testing.assert_allclose(gaps[2] / gaps[1], 0.1, rtol=0.02)
    assert gaps[2] < 1e-6


def test_armington_sectors_are_the_armington_model():
    """Sectors without heterogeneous firms are Armington sectors: with none, the economy is the
    package's Armington model (one CES level of elasticity sigma, Cobb-Douglas final demand), to 1e-9."""
    b = _bench(S=2, tariffs=True, deficit=True, seed=8)
    sigma = [3.0, 5.0]
    base = Instruments.benchmark(b)
    ice = np.ones(base.iceberg.shape)
    ice[0, :, 1] = 0.85
    tar = np.array(base.tariff) * 0.5
    arm = cge.Model(b, elasticities={"sigma_dm": sigma, "sigma_mm": sigma}, backend="fast")
    u_arm = arm.solve(cge.Scenario.from_instruments(Instruments.from_arrays(b, iceberg=ice, tariff=tar))).solution.utility
    m = MelitzModel(b, sigma=sigma, heterogeneous=[])
    res = m.solve(m.instruments(iceberg=ice[..., 1], tariff=tar[..., 1]))
    assert np.abs(u_arm - 1.0).max() > 1e-3
    np.testing.assert_allclose(res.utility, u_arm, rtol=1e-9)
    assert res.firms().empty


# ---------------------------------------------------------------- 5. fixed costs, decomposition, input
def test_lower_export_fixed_costs_create_exporters_and_exit():
    b = _bench(S=2, tariffs=True, seed=5)
    m = MelitzModel(b)
    fc = np.ones(m.params.x_0.shape)
    R = m.params.n_regions
    off = ~np.eye(R, dtype=bool)[:, None, :]
    res = m.solve(m.instruments(fixed_cost=np.where(off, 0.8, 1.0)))
    f = res.firms()
    assert (f["new_exporters"] > 0).all()
    assert (f["exporter_share"] > f["exporter_share_0"]).all()
    assert (f["exit"] > 0).all()  # tougher competition at home: the least productive firms exit (Melitz 2003)
    # the same fall in fixed costs on one route only moves that route's exporters
    fc[0, 0, 1] = 0.8
    one = m.solve(m.instruments(fixed_cost=fc)).firms()
    assert one.loc[("R1", "S1"), "new_exporters"] >= 0.0
    long = res.tidy("fixed costs -20%")
    assert list(long.columns) == ["scenario", "variable", "region", "sector", "value", "unit"]
    pick = long[(long["variable"] == "new_exporters")].set_index(["region", "sector"])["value"]
    np.testing.assert_array_equal(pick.to_numpy(), f["new_exporters"].to_numpy())
    dec = res.welfare_decomposition()
    np.testing.assert_allclose(dec[["income", "prices", "variety_selection"]].sum(axis=1), dec["log_utility"], atol=1e-14)
    assert (dec["variety_selection"] > 0).all()  # lower fixed costs: more varieties imported, better selection


def test_bad_input_is_named():
    b = _bench(S=2)
    with pytest.raises(MelitzError, match=r"theta \(S2\)"):
        calibrate_melitz(b, theta=[4.0, 1.5], sigma=3.0)
    with pytest.raises(MelitzError, match="sigma \\(S1\\)"):
        calibrate_melitz(b, sigma=[1.0, 3.0])
    with pytest.raises(MelitzError, match="exporter_share"):
        calibrate_melitz(b, exporter_share=1.2)
    from cge.synthetic import random_benchmark

    rb = random_benchmark(2, 2, seed=1)
    waived = 0.5 * np.einsum("risj,ris->sj", rb.z_0, rb.tariff_0[..., 0])  # half the duty on inputs, paid to labour instead
    fac = {f: rb.fp_0[..., k] + (waived if f == "labour" else 0.0) for k, f in enumerate(rb.factors)}
    exempt = Benchmark.from_arrays(rb.regions, rb.sectors, rb.z_0, rb.f_0, fac, tariffs=rb.tariff_0, agents=rb.agents, duty_exemption=np.full((2, 2), 0.5))
    with pytest.raises(MelitzError, match=r"duty_exemption_0 \(R1, S1\)"):
        calibrate_melitz(exempt)
    m = MelitzModel(b)
    with pytest.raises(MelitzError, match=r"fixed_cost \(R1, S1, R2\)"):
        m.instruments(fixed_cost=np.where(np.arange(3)[None, None, :] == 1, -1.0, 1.0) * np.ones(m.params.x_0.shape))


def test_metadata_records_defaults():
    res = MelitzModel(_bench()).solve()
    assert res.metadata["theta"] == [4.58] and res.metadata["sigma"] == [3.8]
    assert res.metadata["fixed_costs_paid_in"].startswith("exporter")


# ---------------------------------------------------------------- 6. eastasia-2011 and firm size
MANUFACTURING = ["food", "textiles_apparel", "chemicals", "metals", "machinery", "electrical_optical", "transport_equipment", "other_manufacturing"]


def test_eastasia_value_added_benchmark_replicates():
    from cge.datasets import load
    from cge.melitz import value_added_benchmark

    bench = load("eastasia-2011")
    vb = value_added_benchmark(bench)
    np.testing.assert_allclose(vb.fp_0.sum(axis=2), bench.fp_0.sum(axis=2), rtol=1e-9, atol=1e-6)  # value added by origin kept
    m = MelitzModel(vb, heterogeneous=MANUFACTURING)
    st = m.system.evaluate(m.system.benchmark_point(), m.instruments())
    assert np.abs(st.residual).max() < 1e-9 and abs(st.walras_excess) < 1e-9
    res = m.solve()
    np.testing.assert_allclose(res.utility, 1.0, atol=1e-9)
    assert sorted(res.firms().index.get_level_values("sector").unique()) == sorted(MANUFACTURING)
    # the typed instrument through a scenario (region group ASEAN kept) equals the arrays given directly
    sc = cge.Scenario.from_shocks(vb, [{"instrument": "fixed_cost", "exporters": "ASEAN", "sectors": MANUFACTURING, "op": "scale", "value": 0.8}],
                                  name="asean_fixed")
    asean = np.isin(vb.regions, vb.groups["ASEAN"])
    routes = asean[:, None, None] & np.isin(vb.sectors, MANUFACTURING)[None, :, None] & ~np.eye(vb.n_regions, dtype=bool)[:, None, :]
    a = m.solve(sc)
    b = m.solve(m.instruments(fixed_cost=np.where(routes, 0.8, 1.0)))
    np.testing.assert_array_equal(a.utility, b.utility)
    assert (a.utility[asean] > 1.0).all()


def test_firm_size_integrals_and_sme_target():
    """The closed-form Pareto integrals of employment and exports equal numerical quadrature, and the
    SME threshold reproduces its employment target; SMEs' export share is below their employment share
    (exporters are the most productive, largest firms)."""
    from scipy.integrate import quad

    from cge.melitz import FirmSizes, sme_shares

    m = MelitzModel(_bench(S=2, tariffs=True, seed=2, capital=True))
    fs = FirmSizes(m.params, 0, 1)
    th, sg = fs.theta, fs.sigma

    def emp(u):
        on = u >= fs.u
        return float((fs.f * ((sg - 1.0) * (u / fs.u) ** (sg - 1.0) + 1.0) * on).sum())

    def exp(u):
        on = (u >= fs.u) & fs.foreign
        return float((fs.f * sg * (u / fs.u) ** (sg - 1.0) * on).sum())

    dens = lambda u: th * u ** (-th - 1.0)  # noqa: E731
    pts = sorted(set(fs.u.tolist()))
    for lo, hi in [(1.0, 2.5), (1.2, 7.0)]:
        num_e = quad(lambda u: emp(u) * dens(u), lo, hi, points=[p for p in pts if lo < p < hi], epsabs=0, epsrel=1e-12, limit=200)[0]
        num_x = quad(lambda u: exp(u) * dens(u), lo, hi, points=[p for p in pts if lo < p < hi], epsabs=0, epsrel=1e-12, limit=200)[0]
        assert fs.employment(lo, hi) == pytest.approx(num_e, rel=1e-9)
        assert fs.exports(lo, hi) == pytest.approx(num_x, rel=1e-9)
    u_star = fs.threshold(0.6)
    assert fs.employment(1.0, u_star) / fs.employment(1.0, np.inf) == pytest.approx(0.6, abs=1e-12)
    table = sme_shares(m.params, {"R1": 0.6, "R2": 0.3})
    assert (table["export_share"] < table["employment_share"]).all()
    assert table.loc["R1", "export_share"] > table.loc["R2", "export_share"]  # a higher threshold holds more exporters


def test_homogeneity_and_sme_transitions():
    """Doubling the numeraire doubles nominal values and leaves real ones unchanged; lower export fixed
    costs make SMEs start exporting (none stop), higher ones make them stop (none start)."""
    from cge.melitz import sme_transitions

    m = MelitzModel(_bench(S=2, tariffs=True, deficit=True, seed=6, capital=True))
    off = ~np.eye(3, dtype=bool)[:, None, :]
    lower = m.instruments(fixed_cost=np.where(off, 0.7, 1.0))
    a = m.solve(lower)
    b = m.solve(type(lower)(**{**lower.__dict__, "transfer": 2.0 * lower.transfer, "numeraire_value": 2.0}))
    np.testing.assert_allclose(b.utility, a.utility, rtol=1e-10)
    np.testing.assert_allclose(b.state.w, 2.0 * a.state.w, rtol=1e-10)
    targets = {"R1": 0.6, "R2": 0.7, "R3": 0.5}
    down = sme_transitions(a, targets)
    up = sme_transitions(m.solve(m.instruments(fixed_cost=np.where(off, 1.4, 1.0))), targets)
    assert (down["start_exporting"] > 0).all() and (down["stop_exporting"] == 0).all()
    assert (up["stop_exporting"] > 0).all() and (up["start_exporting"] == 0).all()
    assert (down["exporter_share"] > down["exporter_share_0"]).all()
    assert (up["exporter_share"] < up["exporter_share_0"]).all()


# ---------------------------------------------------------------- 7. input-output linkages
def _io_bench(mu=(0.3, 0.5, 0.6), seed=7):
    """One sector, labour only, balanced trade, no tariffs; region s spends the share ``mu[s]`` of its
    purchases on intermediates, so its value-added share in costs is ``1 - mu[s]``."""
    rng = np.random.default_rng(seed)
    R = len(mu)
    T = rng.uniform(1.0, 5.0, (R, R))
    T = T + T.T
    T[np.arange(R), np.arange(R)] += rng.uniform(20.0, 60.0, R)
    mu = np.asarray(mu)
    z = (T * mu[None, :])[:, None, :, None]
    f = (T * (1.0 - mu)[None, :])[:, None, :, None]
    va = (T.sum(axis=1) * (1.0 - mu))[:, None]
    return Benchmark.from_arrays([f"R{k + 1}" for k in range(R)], ["S1"], z, f, {"labour": va}, agents=["household"]), 1.0 - mu


@pytest.mark.parametrize("theta,sigma", [(4.58, 3.8), (6.0, 3.0)])
def test_closed_form_with_roundabout_production(theta, sigma):
    r"""One Melitz-Pareto sector whose input bundle is Cobb-Douglas in labour (share beta) and the
    sector's own composite, fixed and entry costs paid in the bundle, balanced trade, no tariffs.
    Zero cut-off profit, free entry (N = w / c) and c = w^beta P^(1 - beta) in the domestic share
    give ln lambda_hat = -(theta / a) (sigma beta - 1) ln(w_hat / P_hat), so
    U_hat = lambda_hat ** (-(sigma - 1) / (theta (sigma beta - 1))) (ACR's -1/theta at beta = 1; the
    input-output multiplier with the scale effect of entry, cf. Costinot and Rodriguez-Clare 2014,
    section 4; the equilibrium needs sigma beta > 1, the no-black-hole condition of Krugman and Venables)."""
    b, beta = _io_bench()
    m = MelitzModel(b, theta=theta, sigma=sigma)
    assert m.system.io
    R = 3
    ice = np.ones(m.params.x_0.shape)
    ice[0, 0, 1], ice[2, 0, 0], ice[1, 0, 2] = 0.7, 0.85, 1.2
    fc = np.ones_like(ice)
    fc[0, 0, 2] = 0.5
    res = m.solve(m.instruments(iceberg=ice, fixed_cost=fc))
    lam0 = _domestic_share(m.params, np.ones_like(ice))[:, 0]
    lam_hat = res.domestic_share[:, 0] / lam0
    assert np.abs(res.utility - 1.0).max() > 1e-3
    expo = -(sigma - 1.0) / (theta * (sigma * beta - 1.0))
    np.testing.assert_allclose(res.utility, lam_hat ** expo, rtol=1e-8, atol=0)
    assert not np.allclose(res.utility, lam_hat ** (-1.0 / theta), rtol=1e-3)  # the intermediates matter


@pytest.mark.parametrize("heterogeneous", [None, ["S2"]])
def test_jacobian_with_intermediates(heterogeneous):
    from cge.synthetic import random_benchmark

    b = random_benchmark(3, 3, seed=1)
    m = MelitzModel(b, theta=[4.0, 6.0, 5.0], sigma=[3.0, 4.5, 3.5], heterogeneous=heterogeneous)
    assert m.system.io and m.system.nE == m.system.nP
    st0 = m.system.evaluate(m.system.benchmark_point(), m.instruments())
    assert np.abs(st0.residual).max() < 1e-12 and abs(st0.walras_excess) < 1e-12
    inst = _assert_jacobian_matches_finite_differences(m)
    res = m.solve(inst)
    assert res.stats["max_residual"] < 1e-10


def test_without_intermediates_the_system_is_unchanged():
    """A benchmark without intermediate use has no spending unknowns (spending is income), the input
    bundle is value added alone, and the route tariff is the final-use rate."""
    b = _bench(S=2, tariffs=True, capital=True)
    m = MelitzModel(b)
    assert not m.system.io and m.system.nE == 0
    assert m.system.n == b.n_regions * (2 + 2 * b.n_sectors) + b.n_regions * b.n_sectors  # w, I, N, P, k
    np.testing.assert_allclose(m.params.labour_share + m.params.specific_share, 1.0, rtol=1e-14)
    np.testing.assert_array_equal(m.params.tariff_0, b.tariff_0[..., 1])
    assert not m.params.input_share.any()


def test_eastasia_input_output_benchmark_replicates():
    """The done item of issue 15: eastasia-2011 itself (bilateral intermediate and final flows by
    sector, its tariffs), manufacturing sectors heterogeneous, is an equilibrium to 1e-9."""
    from cge.datasets import load

    bench = load("eastasia-2011")
    m = MelitzModel(bench, heterogeneous=MANUFACTURING)
    assert m.system.io and m.params.options["intermediate_inputs"]
    P = m.params
    # the calibration reads the benchmark: sales, tariff revenue, income and input-output cost shares
    np.testing.assert_allclose(P.x_0.sum(axis=2), bench.output, rtol=1e-12)
    np.testing.assert_allclose((P.tariff_0 * P.x_0).sum(axis=(0, 1)), bench.tariff_revenue, rtol=1e-12)
    np.testing.assert_allclose(P.input_share.sum(axis=1) + P.labour_share + P.specific_share, 1.0, atol=1e-12)
    st = m.system.evaluate(m.system.benchmark_point(), m.instruments())
    assert np.abs(st.residual).max() < 1e-9 and abs(st.walras_excess) < 1e-9
    res = m.solve()
    assert res.stats["steps"] == 0
    np.testing.assert_allclose(res.utility, 1.0, atol=1e-9)
    np.testing.assert_allclose(res.firms()["exporter_share_0"], 0.18, rtol=1e-12)


def test_tariff_elasticity_is_theta_sigma_over_sigma_minus_one():
    r"""Tariffs are ad valorem on the value at the border and firms' sales net of the tariff decide the
    cut-off, so at given spending, price indices, entry and costs the partial elasticity of a route's
    sales at basic prices is -theta with respect to iceberg costs and -theta sigma / (sigma - 1) with
    respect to 1 + t (Felbermayr, Jung and Larch 2015, J. Int. Econ. 97(2); Costinot and
    Rodriguez-Clare 2014, section 4); an Armington sector's is -sigma with respect to both."""
    from cge.synthetic import random_benchmark

    b = random_benchmark(3, 2, seed=3)
    theta, sigma = 5.0, 3.5
    m = MelitzModel(b, theta=theta, sigma=sigma, heterogeneous=["S1"])
    base = m.instruments()
    x = np.random.default_rng(1).uniform(0.9, 1.1, m.system.n)
    X0 = m.system.evaluate(x, base).X
    h = 1e-4
    tar = np.array(base.tariff)
    tar[0, :, 1] = (1.0 + tar[0, :, 1]) * np.exp(h) - 1.0
    ice = np.ones_like(tar)
    ice[0, :, 1] = np.exp(h)
    d_tar = np.log(m.system.evaluate(x, m.instruments(tariff=tar)).X[0, :, 1] / X0[0, :, 1]) / h
    d_ice = np.log(m.system.evaluate(x, m.instruments(iceberg=ice)).X[0, :, 1] / X0[0, :, 1]) / h
    np.testing.assert_allclose(d_ice, [-theta, -(sigma - 1.0)], rtol=1e-9)
    np.testing.assert_allclose(d_tar, [-theta * sigma / (sigma - 1.0), -sigma], rtol=1e-9)


def test_eastasia_rcep_with_lower_fixed_costs():
    """RCEP on the input-output eastasia-2011 (sigma 5, as experiments/melitz_rcep.py): tariffs among
    members are read from the typed instrument (revenue on members' routes vanishes), and cutting
    members' fixed costs of serving each other on top brings in more exporters in every member."""
    from cge.datasets import load

    bench = load("eastasia-2011")
    rcep = ["IDN", "MYS", "PHL", "SGP", "THA", "VNM", "XSE", "CHN", "JPN", "KOR", "ANZ"]
    m = MelitzModel(bench, heterogeneous=MANUFACTURING, sigma=5.0)
    tariffs = [{"instrument": "tariff", "exporters": rcep, "importers": rcep, "value": 0.0}]
    fixed = [{"instrument": "fixed_cost", "exporters": rcep, "importers": rcep, "sectors": MANUFACTURING, "op": "scale", "value": 0.8}]
    a = m.solve(cge.Scenario.from_shocks(bench, tariffs, name="rcep"))
    b = m.solve(cge.Scenario.from_shocks(bench, tariffs + fixed, name="rcep_fixed"))
    member = np.isin(bench.regions, rcep)
    on = member[:, None, None] & member[None, None, :]
    assert not (a.instruments.tariff * on).any() and (m.params.tariff_0 * on).any()
    assert a.stats["max_residual"] < 1e-10 and b.stats["max_residual"] < 1e-10
    fa, fb = a.firms(), b.firms()
    gain = (fb["new_exporters"] - fa["new_exporters"]).groupby(level="region").sum()
    assert (gain[rcep] > 0).all()
    # and the variety/selection term of the welfare decomposition rises in every member
    assert (b.welfare_decomposition()["variety_selection"][member] > a.welfare_decomposition()["variety_selection"][member]).all()


def test_multi_sector_formula_with_input_output():
    r"""Several sectors with input-output links, labour only, no tariffs (Costinot and Rodriguez-Clare
    2014, section 4: the gains from domestic shares, sector sizes and the input-output matrix). The
    domestic route of a Melitz sector (zero cut-off profit and free entry, :math:`\hat N = \hat Y/\hat c`)
    gives :math:`\ln\hat P_k = \ln\hat\lambda_k/\theta_k - (1/a_k - 1/\theta_k)\ln\hat E_k - \ln\hat Y_k/\theta_k
    + (\sigma_k/a_k)\ln\hat c_k` and an Armington sector's :math:`\ln\hat P_k = \ln\hat\lambda_k/a_k + \ln\hat c_k`,
    with :math:`\ln\hat c_k = \beta_k\ln\hat w + \sum_j\gamma_{jk}\ln\hat P_j`: a linear system for the price
    indices, hence welfare :math:`\hat I/\prod_k\hat P_k^{\alpha_k}`, from observables (domestic shares,
    spending and sales by sector, the wage) alone; it equals the solved welfare to 1e-8."""
    from cge.synthetic import random_benchmark

    rb = random_benchmark(3, 3, seed=2, tariffs=False)
    b = Benchmark.from_arrays(rb.regions, rb.sectors, rb.z_0, rb.f_0, {"labour": rb.fp_0.sum(axis=2)}, agents=rb.agents)
    theta, sigma = np.array([4.0, 6.0, 5.0]), np.array([3.0, 4.5, 3.5])
    m = MelitzModel(b, theta=theta, sigma=sigma, heterogeneous=["S1", "S3"])
    P = m.params
    R, S = P.n_regions, P.n_sectors
    rng = np.random.default_rng(3)
    off = ~np.eye(R, dtype=bool)[:, None, :]
    # moderate shocks: with labour as the only factor larger ones drive whole sectors out (specialisation)
    res = m.solve(m.instruments(iceberg=np.where(off, rng.uniform(0.9, 1.05, P.x_0.shape), 1.0),
                                fixed_cost=np.where(off, rng.uniform(0.8, 1.2, P.x_0.shape), 1.0)))
    st = res.state
    assert np.abs(res.utility - 1.0).max() > 1e-3
    assert 0.3 < st.N.min() and st.N.max() < 3.0  # no sector driven out
    a = sigma - 1.0
    het = m.system.het
    lam_hat = res.domestic_share / _domestic_share(P, np.ones_like(P.x_0))  # [s, k]
    Y_hat = (m.system.omega * st.X).sum(axis=2)  # [s, k] sales
    E_hat = st.E.T  # [s, k]
    for s in range(R):
        # ln P = d + D (beta ln w + Gamma' ln P): solve (I - D Gamma') ln P = d + D beta ln w
        D = np.where(het, sigma / a, 1.0)
        d = np.where(het, np.log(lam_hat[s]) / theta - (1.0 / a - 1.0 / theta) * np.log(E_hat[s]) - np.log(Y_hat[s]) / theta,
                     np.log(lam_hat[s]) / a)
        gam = P.input_share[s]  # [j, k]
        lnP = np.linalg.solve(np.eye(S) - D[:, None] * gam.T, d + D * P.labour_share[s] * np.log(st.w[s]))
        u = st.inc[s] * np.exp(-(P.alpha[s] * lnP).sum())
        np.testing.assert_allclose(lnP, np.log(st.P[:, s]), rtol=0, atol=1e-10)
        assert u == pytest.approx(res.utility[s], rel=1e-8)


def test_tariff_limit_with_input_output_is_krugman():
    r"""With intermediates and tariffs, as theta falls to sigma - 1 the tariff response converges at
    rate O(theta - sigma + 1) to the Krugman economy's (free entry, no selection: the same equations at
    theta = sigma - 1, where the cut-offs and the fixed costs of serving routes drop out and the tariff
    elasticity is sigma); with one sector and value added alone it is Armington's (the limit test above)."""
    import dataclasses

    from cge.fast.melitz import MelitzSystem
    from cge.synthetic import random_benchmark

    b = random_benchmark(3, 2, seed=4)
    sigma = np.array([3.0, 4.0])
    m0 = MelitzModel(b, sigma=sigma, theta=sigma - 1.0 + 1e-2)
    tar = np.array(m0.params.tariff_0)
    tar[0, :, 1], tar[2, :, 0] = 0.0, tar[2, :, 0] + 0.1
    fc = np.ones_like(tar)
    fc[1, :, 2] = 0.5  # a fixed-cost shock: irrelevant in the limit
    krugman = MelitzModel(b, sigma=sigma, theta=sigma - 1.0 + 1e-2)
    krugman.params = dataclasses.replace(krugman.params, theta=sigma - 1.0)
    krugman.system = MelitzSystem(krugman.params)
    u_k = krugman.solve(krugman.instruments(tariff=tar, fixed_cost=fc)).utility
    assert np.array_equal(u_k, krugman.solve(krugman.instruments(tariff=tar)).utility)  # fixed costs drop out
    gaps = []
    for eps in (1e-2, 1e-3, 1e-4):
        m = m0 if eps == 1e-2 else MelitzModel(b, sigma=sigma, theta=sigma - 1.0 + eps)
        gaps.append(np.abs(m.solve(m.instruments(tariff=tar, fixed_cost=fc)).utility - u_k).max())
    assert np.abs(u_k - 1.0).max() > 1e-3 and gaps[0] > 1e-6
    np.testing.assert_allclose(gaps[1] / gaps[0], 0.1, rtol=0.05)
    np.testing.assert_allclose(gaps[2] / gaps[1], 0.1, rtol=0.05)
