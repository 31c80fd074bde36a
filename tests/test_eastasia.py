"""The built-in East Asia benchmarks: committed data, their rebuild from the raw sources, and the model.

Tests that need the raw data in ../shared/data skip with a clear reason when it is absent; the
committed benchmarks load on a fresh clone without it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cge
from cge.datasets import path_of
from cge.sources import ENV_VAR, has_shared_data, shared_data_dir

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = Path(__file__).resolve().parent / "data" / "calibration"
NAMES = ("eastasia-2011", "eastasia-small")
RAW = (
    ("wiod2013", "npz", "wiot_2011.npz"),
    ("wiod2013_sea", "wiod_sea_2013release_wide.csv.gz"),
    ("icio2023_trade_tariffs", "original_mat", "ICIO2011.mat"),
)
needs_raw = pytest.mark.skipif(
    not all(has_shared_data(*p) for p in RAW),
    reason=f"raw data (WIOD 2013, SEA, ICIO 2011 cube) not found under {shared_data_dir()}; set ${ENV_VAR} to rebuild",
)


@pytest.fixture(scope="module")
def inputs():
    from calibration import recipes
    from cge.sources import build

    return build.load_inputs(io_proxies=recipes.io_proxies())


@pytest.fixture(scope="module")
def built(inputs):
    from calibration import build_all

    _, out = build_all.build_all(inputs=inputs)
    return out


# ------------------------------------------------------------------------------------------ committed data
@pytest.mark.unit
@pytest.mark.parametrize("name", NAMES)
def test_builtin_loads_balanced_and_non_negative(name):
    bench = cge.Benchmark.load(name)
    expected = {"eastasia-2011": (18, 14), "eastasia-small": (8, 6)}[name]
    assert (bench.n_regions, bench.n_sectors) == expected
    assert bench.factors == ["labour", "capital"] and bench.agents == ["household", "government", "investment"]
    for arr in (bench.z_0, bench.f_0, bench.fp_0, bench.tariff_0, bench.employment):
        assert (arr >= 0).all()
    gap = np.abs(bench.costs - bench.output) / np.maximum(1.0, bench.output)
    assert gap.max() <= 1e-9
    assert bench.output.sum() / 1e6 == pytest.approx(141.7, rel=2e-3)  # world output, trillion US$
    assert {"ASEAN", "EastAsia", "ASEAN+3", "EU"} <= set(bench.groups)
    assert bench.employment_proxy and "CHN" not in bench.employment_proxy
    folder = path_of(name)
    assert (folder / "SOURCE.md").is_file()
    for f in folder.iterdir():
        assert f.stat().st_size < 1_000_000, f"{f.name} is {f.stat().st_size} bytes"


@pytest.mark.unit
def test_eastasia_2011_regions_groups_and_tariffs():
    bench = cge.Benchmark.load("eastasia-2011")
    asean = ["IDN", "MYS", "PHL", "SGP", "THA", "VNM", "XSE"]
    assert bench.group("ASEAN") == asean
    assert bench.group("EastAsia") == ["CHN", "HKG", "JPN", "KOR", "TWN"] + asean
    assert bench.group("RCEP") == ["CHN", "JPN", "KOR"] + asean + ["ANZ"]
    assert bench.metadata["members"]["XSE"] == ["BRN", "KHM", "LAO", "MMR"]
    services = [i for i, s in enumerate(bench.sectors) if set(bench.metadata["sector_members"][s]) <= {f"c{k}" for k in range(17, 36)}]
    assert len(services) == 4
    assert (bench.tariff_0[:, services] == 0).all()
    assert (bench.tariff_0[:, :, bench.regions.index("SGP")] == 0).all()  # Singapore's applied tariffs are zero
    # the same rate for both uses (collection rates scale both), as common sourcing needs
    assert bench.metadata["tariff_collection"]["treatment"] == "collection"
    assert (bench.tariff_0[..., 0] == bench.tariff_0[..., 1]).all()
    assert 0.0 < bench.tariff_0.max() < 0.6
    # employment in persons: China 2011 from the SEA
    assert bench.employment[bench.regions.index("CHN")].sum() / 1e6 == pytest.approx(808.565, rel=1e-6)
    assert bench.elasticities["sigma_dm"] == pytest.approx(bench.elasticities["sigma_mm"] / 2)


@pytest.mark.unit
def test_eastasia_small_replicates_in_the_model():
    bench = cge.Benchmark.load("eastasia-small")
    residual = cge.Model(bench).residuals().abs().max()
    print(f"eastasia-small: largest residual at the benchmark {residual:.2e}")
    assert residual <= 1e-9


# ------------------------------------------------------------------------------------------ rebuild from raw data
@pytest.mark.unit
@needs_raw
def test_committed_benchmarks_equal_the_pipeline(built):
    from calibration import build_all

    for name, (bench, _) in built.items():
        diffs = build_all.compare(bench, cge.Benchmark.load(name))
        assert not diffs, f"{name}: committed files differ from the pipeline ({diffs}); run python -m calibration.build_all"


@pytest.mark.unit
@needs_raw
def test_source_facts(inputs):
    from calibration import checks

    expected = pd.read_csv(DATA / "source_facts.csv", comment="#").set_index("fact")
    got = checks.source_facts(inputs).set_index("fact")["value"]
    for fact, row in expected.iterrows():
        print(f"{fact}: {got[fact]:.3f} {row['unit']} (expected {row['expected']})")
        assert got[fact] == pytest.approx(row["expected"], rel=row["rel_tolerance"])


@pytest.mark.unit
@needs_raw
def test_hybrid_table_row_identity_balance_and_signs(inputs):
    h, w, rep = inputs.hybrid, inputs.table, inputs.split
    P = 40
    row = w.regions.index("ROW")
    iw = [w.regions.index(r) for r in h.regions[:P]]
    assert h.regions[P:] == ["BRN", "KHM", "LAO", "MMR", "MYS", "PHL", "SGP", "THA", "VNM", "HKG", "NZL", "ROW"]
    scale = w.sales[row].max()
    # split economies + remaining RoW = WIOD's RoW rows, columns and value added
    np.testing.assert_allclose(h.Z[P:, :, :P].sum(axis=0), w.Z[row][:, iw], atol=1e-8 * scale)
    np.testing.assert_allclose(h.F[P:, :, :P].sum(axis=0), w.F[row][:, iw], atol=1e-8 * scale)
    np.testing.assert_allclose(h.Z[:P, :, P:].sum(axis=2), w.Z[iw][:, :, row], atol=1e-8 * scale)
    np.testing.assert_allclose(h.F[:P, :, P:].sum(axis=2), w.F[iw][:, :, row], atol=1e-8 * scale)
    np.testing.assert_allclose(h.Z[P:, :, P:].sum(axis=(0, 2)), w.Z[row, :, row], atol=1e-8 * scale)
    np.testing.assert_allclose(h.va[P:].sum(axis=0), w.va[row], atol=1e-8 * scale)
    # the 40 WIOD countries are untouched
    np.testing.assert_array_equal(h.Z[:P, :, :P], w.Z[np.ix_(iw, range(35), iw, range(35))])
    assert max(rep.identity_error.values()) < 1e-9
    assert max(rep.icio_share_error.values()) < 1e-9
    assert (h.Z >= 0).all() and (h.F >= 0).all() and (h.va >= 0).all()
    assert h.balance_residual() < 1e-12
    print(f"split: balance before {rep.balance_before:.3g}, after {rep.balance_after:.1e}; {rep.fit.iterations} IPF sweeps")
    print(rep.largest_adjustments.head(5).to_string())


@pytest.mark.unit
@needs_raw
def test_report_trade_shares(inputs, built):
    from calibration import checks

    bench, _ = built["eastasia-2011"]
    table = checks.trade_share_table(inputs, bench)
    print()
    print(table.to_string(index=False))
    assert table["value"].between(0.0, 1.0).all()  # reported, not asserted against a target


# ------------------------------------------------------------------------------------------ the model
def _intra_group_free(bench: cge.Benchmark, group: str) -> np.ndarray:
    t = bench.tariff_0.copy()
    idx = [bench.regions.index(r) for r in bench.group(group)]
    for r in idx:
        for s in idx:
            t[r, :, s, :] = 0.0
    return t


@pytest.mark.solver
def test_eastasia_small_solves_east_asian_free_trade():
    bench = cge.Benchmark.load("eastasia-small")
    model = cge.Model(bench)
    res = model.solve(cge.Scenario(tariff=_intra_group_free(bench, "EastAsia"), name="east-asia-fta"))
    sol = res.solution
    assert sol.max_residual <= 1e-8
    ea = [bench.regions.index(r) for r in bench.group("EastAsia")]
    # trade among East Asian economies rises when their tariffs go
    z0 = model.params.d_0[np.ix_(ea, range(bench.n_sectors), ea)].sum()
    z1 = sol.z[np.ix_(ea, range(bench.n_sectors), ea)].sum()
    assert z1 > z0


@pytest.mark.solver
@pytest.mark.slow
def test_eastasia_2011_replicates_and_solves_asean_free_trade():
    bench = cge.Benchmark.load("eastasia-2011")
    start = time.perf_counter()
    model = cge.Model(bench)
    residual = model.residuals().abs().max()
    print(f"eastasia-2011: model built in {time.perf_counter() - start:.1f} s; largest residual {residual:.2e}")
    assert residual <= 1e-9
    res = model.solve(cge.Scenario(tariff=_intra_group_free(bench, "ASEAN"), name="asean-zero-tariffs"))
    stats = res.solution.stats
    print(f"ASEAN zero tariffs: solved in {stats['solve_seconds']:.1f} s, peak memory {stats['peak_memory_mb']:.0f} MB")
    assert res.solution.max_residual <= 1e-8


@pytest.mark.slow
@needs_raw
def test_calibration_notebook_executes(run_notebook):
    outputs = run_notebook(ROOT / "calibration" / "eastasia_2011.py")
    assert "committed benchmark: identical" in outputs
    assert "largest residual" in outputs


@pytest.mark.unit
def test_published_elasticity_sets_are_stored_and_selectable():
    """The eight published sets travel with the benchmark; the default set is the benchmark's own."""
    bench = cge.Benchmark.load("eastasia-2011")
    sets = bench.metadata["elasticity_sets"]
    assert sorted(sets) == ["BSY", "CP", "FGO", "GYY", "IS", "LL", "Shap", "U4"]
    np.testing.assert_array_equal(sets["FGO"]["sigma_mm"], bench.elasticities["sigma_mm"])
    np.testing.assert_array_equal(sets["FGO"]["sigma_dm"], bench.elasticities["sigma_dm"])
    np.testing.assert_allclose(sets["U4"]["sigma_mm"], 5.0)  # a uniform trade elasticity of 4
    params = cge.calibrate.calibrate(bench, elasticities={"set": "CP", "sigma_va": 0.5})
    np.testing.assert_array_equal(params.sigma["sigma_mm"], sets["CP"]["sigma_mm"])
    np.testing.assert_array_equal(params.sigma["sigma_dm"], np.asarray(sets["CP"]["sigma_mm"]) / 2)
    assert (params.sigma["sigma_va"] == 0.5).all()
    with pytest.raises(cge.CalibrationError, match=r"elasticity set 'XYZ' is not stored with this benchmark; available: \['BSY'"):
        cge.calibrate.calibrate(bench, elasticities="XYZ")


# ------------------------------------------------------------------------------------------ tariff revenue vs customs
needs_customs = pytest.mark.skipif(
    not (has_shared_data("customs_duty_revenue") and has_shared_data("wdi_fx_lpi")),
    reason=f"customs duties (customs_duty_revenue/) or exchange rates (wdi_fx_lpi/) not found under {shared_data_dir()}",
)


@pytest.mark.unit
@needs_customs
@pytest.mark.parametrize("name", NAMES)
def test_committed_tariff_revenue_matches_customs_duties_collected(name):
    """Each region with customs data for all its members collects within 25% of the duties collected in 2011.

    Recomputed from the raw WDI files (duties in local currency / official exchange rate), not from the build.
    """
    bench = cge.Benchmark.load(name)
    raw = Path(shared_data_dir())
    duties = pd.read_csv(raw / "customs_duty_revenue" / "customs_duties_indexmundi_long.csv")
    duties = duties[(duties["indicator"] == "GC.TAX.IMPT.CN") & (duties["year"] == 2011)].set_index("iso3")["value"]
    fx = pd.read_csv(raw / "wdi_fx_lpi" / "wdi_target_economies_long.csv")
    fx = fx[(fx["indicator"] == "PA.NUS.FCRF") & (fx["year"] == 2011)].set_index("iso3")["value"]
    usd = (duties / fx).dropna() / 1e6
    assert usd["CHN"] == pytest.approx(40066.5, rel=1e-4)  # CNY 258.9bn at 6.4615 CNY/US$ (the data's PROVENANCE check)
    members = bench.metadata["members"]
    revenue = pd.Series(bench.tariff_revenue, index=bench.regions)
    compared = [r for r in bench.regions if all(m in usd.index for m in members[r])]
    assert {"CHN", "USA"} <= set(compared)
    table = bench.metadata["tariff_collection"]["regions"]
    assert sorted(table) == sorted(compared)
    for r in compared:
        ratio = revenue[r] / usd[members[r]].sum()
        print(f"{name} {r}: revenue {revenue[r]:,.0f}, collected {usd[members[r]].sum():,.0f}, ratio {ratio:.3f}")
        assert abs(ratio - 1) <= 0.25, f"{r}: benchmark tariff revenue is {ratio:.2f} x the duties collected"
        assert ratio == pytest.approx(table[r]["ratio_after"], abs=1e-3)
    assert table["CHN"]["ratio_before"] > 2  # applied tariffs x imports: about 2.4 x what China collected


@pytest.mark.unit
@needs_raw
@needs_customs
def test_tariff_collection_treatment_switches_off_to_applied_tariffs(inputs, built):
    """``tariff_collection = "applied"`` gives back the applied (Teti) rates; the treatment only lowers rates."""
    import dataclasses

    from calibration import recipes
    from cge.aggregate import country_groups
    from cge.sources import build

    recipe = recipes.recipe("eastasia-2011")
    applied, report = build.build_benchmark(dataclasses.replace(recipe, tariff_collection="applied"), inputs)
    treated = built["eastasia-2011"][0]
    rmap = {h: m for m, hs in applied.metadata["members"].items() for h in hs}
    MK = build.icio_to_model(inputs.cube, inputs.hybrid.sectors, {w: s for s, ws in applied.metadata["sector_members"].items() for w in ws}, applied.sectors)
    unions = {"EU": country_groups(2011)["EU"]}
    teti, _ = build.model_tariffs(inputs, rmap, applied.regions, MK, unions, recipe.cap_tariff_sectors)
    np.testing.assert_array_equal(applied.tariff_0[..., 0], teti)
    np.testing.assert_array_equal(applied.tariff_0[..., 1], teti)
    assert report.collection.table["collection_rate"].eq(1).all() and report.collection.table["drawback"].eq(0).all()
    # the duty-drawback variant exempts exporters' inputs first: intermediate rates fall below final ones
    drawback, dreport = build.build_benchmark(dataclasses.replace(recipe, tariff_collection="drawback"), inputs)
    assert (drawback.tariff_0[..., 0] <= drawback.tariff_0[..., 1] + 1e-15).all()
    assert (drawback.tariff_0[..., 0] < drawback.tariff_0[..., 1] - 1e-6).any()
    assert dreport.collection.table.loc["CHN", "drawback"] > 5000  # US$ m of duty exempted on China's exporters' inputs
    assert (dreport.collection.table["ratio_after"] - 1).abs().max() <= 0.25
    # treated rates never exceed the applied ones; regions without data keep them exactly
    assert (treated.tariff_0 <= applied.tariff_0 + 1e-15).all()
    untouched = [k for k, r in enumerate(treated.regions) if r not in treated.metadata["tariff_collection"]["regions"]]
    np.testing.assert_array_equal(treated.tariff_0[:, :, untouched], applied.tariff_0[:, :, untouched])
    # costs still equal output: the duty no longer paid on intermediates returns to the buyers' factor payments
    paid = [np.einsum("risj,ris->sj", b.z_0, b.tariff_0[..., 0]) for b in (applied, treated)]
    np.testing.assert_allclose(treated.fp_0.sum(axis=2) - applied.fp_0.sum(axis=2), paid[0] - paid[1], atol=1e-6)


# ------------------------------------------------------------------------------------------ proxied employment
@pytest.mark.unit
def test_proxy_premia_rule_caps_at_the_bound_and_keeps_persons():
    """A premium above its bound is brought to it; the region's persons and average wage are kept."""
    from cge.sources import premia

    labour = np.array([[10.0, 50.0, 40.0], [10.0, 50.0, 40.0]])
    persons = np.array([[40.0, 2.0, 58.0], [40.0, 2.0, 58.0]])  # sector b pays 25 per person, the average 1
    bounds = pd.DataFrame({"bound": [5.0, 5.0, 5.0], "economy": ["X", "X", "X"]}, index=["a", "b", "c"])
    out, audit = premia.apply_rule(labour, persons, ["R", "S"], ["a", "b", "c"], ["R"], bounds)
    rho = premia.premia(labour, out)
    assert rho[0].max() == pytest.approx(5.0) and rho[0, 1] == pytest.approx(5.0)
    assert out[0].sum() == pytest.approx(100.0)
    np.testing.assert_array_equal(out[1], persons[1])  # regions without proxies are untouched
    assert list(audit.flagged().index) == [("R", "b")]
    kept, _ = premia.apply_rule(labour, persons, ["R", "S"], ["a", "b", "c"], ["R"], bounds, rule="keep")
    np.testing.assert_array_equal(kept, persons)


@pytest.mark.unit
@needs_raw
@pytest.mark.parametrize("name", NAMES)
def test_proxied_wage_premia_within_the_sea_bound_and_rule_switches_off(name, inputs, built):
    """No proxied region-sector of the committed benchmark pays more than its sector's bound (the largest
    premium of the sector among the SEA economies, recomputed here); ``proxy_premia = "keep"`` gives back
    the persons as built, and the rule keeps every region's persons."""
    import dataclasses

    from calibration import recipes
    from cge.sources import build, premia

    bench = cge.Benchmark.load(name)
    recipe = recipes.recipe(name)
    sat = build.detailed_satellites(inputs, recipe)
    h = inputs.hybrid
    members = bench.metadata["sector_members"]
    MS = np.array([[w in members[s] for s in bench.sectors] for w in h.sectors], dtype=float)
    measured = [r for r in h.regions if not sat["source"][r].startswith("proxy")]
    assert len(measured) == 40 and "VNM" not in measured
    bounds = premia.observed_bounds(sat["labour"] @ MS, sat["persons"] @ MS, list(h.regions), measured, bench.sectors)
    labour = bench.fp_0[..., bench.factors.index("labour")]
    rho = pd.DataFrame(premia.premia(labour, bench.employment), index=bench.regions, columns=bench.sectors)
    excess = rho.loc[bench.employment_proxy] / bounds["bound"]
    assert np.nanmax(excess.to_numpy()) <= 1 + 1e-9, excess.stack().idxmax()
    meta = bench.metadata["employment_proxy_premia"]
    assert meta["rule"] == "cap"
    assert {j: v["bound"] for j, v in meta["bounds"].items()} == pytest.approx(bounds["bound"].round(4).to_dict())
    kept, report = build.build_benchmark(dataclasses.replace(recipe, proxy_premia="keep"), inputs)
    MR = np.array([[r in bench.metadata["members"][m] for m in bench.regions] for r in h.regions], dtype=float)
    np.testing.assert_allclose(kept.employment, MR.T @ sat["persons"] @ MS, rtol=1e-12)
    np.testing.assert_allclose(kept.employment.sum(axis=1), bench.employment.sum(axis=1), rtol=1e-12)
    others = [k for k, r in enumerate(bench.regions) if r not in bench.employment_proxy]
    np.testing.assert_array_equal(kept.employment[others], bench.employment[others])
    if name == "eastasia-2011":  # Viet Nam's machinery paid 8.6 times Viet Nam's average wage as built
        assert report.premia.table.loc[("VNM", "machinery"), "premium_before"] == pytest.approx(8.59, abs=0.01)
        assert rho.loc["VNM", "machinery"] == pytest.approx(bounds.loc["machinery", "bound"])
