"""Processing trade (cge.processing): a duty-free export-processing activity split from the normal one.

Without the exemption the split is a pure transformation of the table (merging gives the original
to 1e-9), and with identical structures (``rule="proportional"``) the split model is the unsplit
model written with more goods, on both backends. With the exemption the processing inputs pay no
duty, the region's tariffs are re-derived so that its revenue (the duties customs collected) is
unchanged, and merging gives the original flows with the re-derived rates, each sector's value
added plus duty paid unchanged. The split ``eastasia-2011`` replicates its benchmark.
"""

import numpy as np
import pytest

import cge
from cge.processing import PROCESSING_SHARES, SUFFIX, merge_processing, processing_exports, split_processing
from cge.synthetic import random_benchmark


@pytest.fixture(scope="module")
def eastasia():
    return cge.Benchmark.load("eastasia-2011")


def _close(merged, bench, tol=1e-9):
    for name in ("z_0", "f_0", "fp_0", "tariff_0", "employment", "duty_exemption_0"):
        a, b = getattr(merged, name), getattr(bench, name)
        assert np.abs(a - b).max() <= tol * max(1.0, np.abs(b).max()), name
    np.testing.assert_allclose(merged.tariff_revenue, bench.tariff_revenue, rtol=1e-9)


@pytest.mark.unit
@pytest.mark.parametrize("rule", ["import_intensive", "proportional"])
def test_split_without_exemption_then_merge_gives_back_the_benchmark(eastasia, rule):
    split = split_processing(eastasia, rule=rule, exempt=False)
    assert split.n_sectors == eastasia.n_sectors + len(PROCESSING_SHARES)
    np.testing.assert_allclose(split.costs, split.output, rtol=1e-12, atol=1e-9)
    assert split.metadata["sector_labels"]["electrical_optical" + SUFFIX] == eastasia.metadata["sector_labels"]["electrical_optical"] + " (processing)"
    merged = merge_processing(split)
    assert merged.sectors == eastasia.sectors
    _close(merged, eastasia)


@pytest.mark.unit
def test_processing_exports_all_it_makes_duty_free_and_imports_more(eastasia):
    split = split_processing(eastasia)
    c = split.regions.index("CHN")
    off = np.arange(split.n_regions) != c
    for j, share in PROCESSING_SHARES.items():
        n, k = split.sectors.index(j + SUFFIX), split.sectors.index(j)
        sales = split.z_0[c, n].sum(axis=1) + split.f_0[c, n].sum(axis=1)  # [s]
        assert sales[c] == 0.0 and sales[off].sum() > 0  # sold abroad only
        exports = eastasia.z_0[c, eastasia.sectors.index(j)][off].sum() + eastasia.f_0[c, eastasia.sectors.index(j)][off].sum()
        np.testing.assert_allclose(sales.sum(), share * exports, rtol=1e-12)
        assert split.duty_exemption_0[c, n] == 1.0 and split.duty_exemption_0[c, k] == 0.0
        # imported inputs per unit of output: five times the normal activity's (import_ratio)
        imp = [(split.z_0[off][:, :, c, m] * (1 + split.intermediate_tariff[off][:, :, c, m])).sum() / split.output[c, m] for m in (n, k)]
        assert imp[0] > 4.0 * imp[1]
    np.testing.assert_array_equal(split.duty_exemption_0[off], 0.0)
    # the region collects what it collected (customs' collected duties); rates rise by the re-derived scale
    np.testing.assert_allclose(split.tariff_revenue, eastasia.tariff_revenue, rtol=1e-12)
    info = split.metadata["processing"]["revenue"]["CHN"]
    assert info["rate_scale"] == pytest.approx(info["revenue"] / (info["revenue"] - info["exempted_duty"]), rel=1e-12)
    assert 1.05 < info["rate_scale"] < 1.5
    np.testing.assert_allclose(split.tariff_0[:, [split.sectors.index(j) for j in eastasia.sectors], c],
                               eastasia.tariff_0[:, :, c] * info["rate_scale"], rtol=1e-12)
    # the assumed shares imply about 44% of China's goods exports in processing (customs, 2011)
    pe = processing_exports(split)
    goods = eastasia.sectors[:10]
    k = [eastasia.sectors.index(j) for j in goods]
    all_goods = eastasia.z_0[c, k][:, off].sum() + eastasia.f_0[c, k][:, off].sum()
    assert pe.xs("processing", level="activity")["value_0"].sum() / all_goods == pytest.approx(0.446, abs=0.005)
    # merging the exempted split: the original flows, the re-derived rates, value added + duty kept by sector
    merged = merge_processing(split)
    for name in ("z_0", "f_0"):
        assert np.abs(getattr(merged, name) - getattr(eastasia, name)).max() <= 1e-9 * np.abs(getattr(eastasia, name)).max()
    t = eastasia.tariff_0.copy()
    t[:, :, c] *= info["rate_scale"]
    np.testing.assert_allclose(merged.tariff_0, t, rtol=1e-12)
    duty = [(b.z_0 * b.intermediate_tariff).sum(axis=(0, 1)) for b in (merged, eastasia)]
    np.testing.assert_allclose(merged.value_added + duty[0], eastasia.value_added + duty[1], rtol=1e-12, atol=1e-8)


@pytest.mark.unit
def test_bad_options_name_the_item(eastasia):
    with pytest.raises(cge.BenchmarkError, match=r"shares\['machinery'\] = 1.5"):
        split_processing(eastasia, ["machinery"], shares={"machinery": 1.5})
    with pytest.raises(cge.BenchmarkError, match="unknown: \\['Atlantis'\\]"):
        split_processing(eastasia, regions=["Atlantis"])
    with pytest.raises(cge.BenchmarkError, match="no processing share for sectors \\['mining'\\]"):
        split_processing(eastasia, ["mining"])
    with pytest.raises(cge.BenchmarkError, match="split already"):
        split_processing(split_processing(eastasia, ["machinery"]), ["metals"])


@pytest.mark.solver
def test_split_eastasia_replicates_and_removing_the_exemption_cuts_processing_exports(eastasia):
    split = split_processing(eastasia)
    model = cge.Model(split, backend="fast")
    assert model.residuals().abs().max() <= 1e-9
    e = split.duty_exemption_0.copy()
    e[split.regions.index("CHN")] = 0.0
    res = model.solve(cge.Scenario(duty_exemption=e, name="no exemption"), decompose=2)
    pe = processing_exports(res)
    assert (pe.xs("processing", level="activity")["pct_change"] < 0).all()
    assert (pe.xs("normal", level="activity")["pct_change"] > 0).all()
    assert res.solution.walras_residual <= 1e-8 * split.output.max()
    revenue = res.tidy().query("variable == 'tariff_revenue' and region == 'CHN'")["value"].iloc[0]
    assert revenue > eastasia.tariff_revenue[0] * 1.1  # the processing inputs pay duty again
    meta = res.metadata()
    assert meta["benchmark_splits"]["processing"]["import_ratio"] == 5.0 and meta["instruments_changed"] == ["duty_exemption"]


@pytest.mark.solver
@pytest.mark.parametrize("backend", ["pyomo", "fast"])
def test_identical_structures_reproduce_the_unsplit_model(backend):
    """``rule="proportional"`` without the exemption: both activities of R1's S2 and S3 have the sector's
    structure and tariffs, buyers outside R1 split each composite into two copies; the equilibrium of a
    tariff shock is the unsplit one (1e-8)."""
    bench = random_benchmark(3, 3, seed=51)
    split = split_processing(bench, ["S2", "S3"], regions=["R1"], shares={"S2": 0.6, "S3": 0.3}, rule="proportional", exempt=False)
    origin = [bench.sectors.index(split.metadata["processing"]["sector_of"][j]) for j in split.sectors]
    t = bench.tariff_0.copy()
    t[:, :, 0, :] *= 0.3
    t[0, 1, 2, 0] += 0.1
    runs = [cge.Model(b, backend=backend).solve(cge.Scenario(tariff=tt), decompose=2) for b, tt in ((bench, t), (split, t[:, origin]))]
    np.testing.assert_allclose(runs[1].welfare()["ev"].to_numpy(), runs[0].welfare()["ev"].to_numpy(), rtol=1e-8, atol=1e-8)
    sol0, sol1 = runs[0].solution, runs[1].solution
    np.testing.assert_allclose(sol1.p, sol0.p[:, origin], rtol=0, atol=1e-8)
    q0, q1 = sol0.y * bench.output, sol1.y * split.output
    merged = np.zeros_like(q0)
    np.add.at(merged, (slice(None), origin), q1)
    np.testing.assert_allclose(merged, q0, rtol=1e-8)


@pytest.mark.solver
def test_identical_structures_reproduce_eastasia():
    bench = cge.Benchmark.load("eastasia-2011")
    split = split_processing(bench, rule="proportional", exempt=False)
    origin = [bench.sectors.index(split.metadata["processing"]["sector_of"][j]) for j in split.sectors]
    t = bench.tariff_0 * 0.5
    runs = [cge.Model(b, backend="fast").solve(cge.Scenario(tariff=tt)) for b, tt in ((bench, t), (split, t[:, origin]))]
    np.testing.assert_allclose(runs[1].solution.utility, runs[0].solution.utility, rtol=1e-8)
    np.testing.assert_allclose(runs[1].solution.p, runs[0].solution.p[:, origin], rtol=1e-8)


@pytest.mark.solver
def test_the_exemption_on_a_split_table_agrees_across_backends():
    bench = random_benchmark(3, 3, seed=52)
    split = split_processing(bench, ["S2"], regions=["R2"], shares={"S2": 0.5})
    assert split.duty_exemption_0[1, split.sectors.index("S2" + SUFFIX)] == 1.0
    np.testing.assert_allclose(split.tariff_revenue, bench.tariff_revenue, rtol=1e-12)
    e = np.zeros_like(split.duty_exemption_0)
    runs = [cge.Model(split, backend=b).solve(cge.Scenario(duty_exemption=e, name="none"), decompose=4) for b in ("pyomo", "fast")]
    np.testing.assert_allclose(runs[1].solution.utility, runs[0].solution.utility, rtol=1e-9)
    w = runs[1].welfare()
    assert np.abs(w["residual"]).max() <= 0.02 * np.abs(w["ev"]).max()


@pytest.mark.solver
def test_processing_trade_table_and_figure_are_what_the_script_writes(tmp_path):
    """experiments/processing_trade.md is generated (no number typed by hand); the figure shows the
    numbers of the tables: EV in % of income by region and China's export changes by activity."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "experiments" / "processing_trade.py"
    spec = importlib.util.spec_from_file_location("processing_trade", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("processing_trade", mod)
    spec.loader.exec_module(mod)
    written = mod.main(tmp_path / "processing_trade.md")
    assert written.read_text() == (path.parent / "processing_trade.md").read_text()
    assert {p.name for p in tmp_path.iterdir()} >= {"processing.png", "processing.svg", "processing.pdf"}
    bench, info, split, welfare, exports, results = mod.tables()
    from cge.figures import processing_figure

    fig = processing_figure(welfare, exports)
    left, right = fig.axes[:2]
    first = list(welfare)[0]
    widths = sorted(round(b.get_width(), 12) for b in left.patches[: len(welfare[first])])
    assert widths == sorted(round(v, 12) for v in welfare[first]["ev_pct"])
    proc = exports[first].xs("processing", level="activity")["pct_change"]
    assert sorted(round(b.get_width(), 12) for b in right.patches[: len(proc)]) == sorted(round(v, 12) for v in proc)


@pytest.mark.unit
def test_tariff_measures_use_the_rate_each_buyer_pays(eastasia):
    """A fully exempted processing activity pays no tariff on its inputs: no upstream tariff of its own
    inputs' first stage, and its input-tariff content in the effective rate of protection is zero."""
    from cge.gvc.tariffs import effective_protection, upstream_tariff_content

    split = split_processing(eastasia, ["electrical_optical"], shares={"electrical_optical": 0.8})
    erp = effective_protection(split)
    assert erp.loc[("CHN", "electrical_optical_processing"), "input_tariffs"] == 0.0
    assert erp.loc[("CHN", "electrical_optical"), "input_tariffs"] > 0.0
    plain = split_processing(eastasia, ["electrical_optical"], shares={"electrical_optical": 0.8}, exempt=False)
    up = [upstream_tariff_content(b)[0, b.sectors.index("electrical_optical_processing")] for b in (split, plain)]
    assert up[0] < up[1]
