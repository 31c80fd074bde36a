"""The experiment library: every scenario file builds, the US tariff and facilitation files are what
their scripts make, and the headline experiment reproduces its committed welfare table."""

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cge
from cge.scenario import load_spec

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"
SHARED = Path(os.environ.get("CGE_SHARED_DATA", ROOT.parent / "shared" / "data"))
SPECS = sorted(EXPERIMENTS.glob("*.toml"))


@pytest.mark.unit
@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_every_experiment_builds_on_its_benchmark(path):
    spec = load_spec(path)
    bench = spec.load_benchmark()
    for sc in spec.scenarios:
        scenario = sc.build(bench, spec.region_groups, spec.sector_groups)
        changed = scenario.instruments(bench).changed(cge.Instruments.benchmark(bench))
        assert changed, f"{path.name}: scenario {sc.name!r} changes nothing"
        assert sc.description, f"{path.name}: scenario {sc.name!r} has no description"


def _script(name):
    import importlib.util

    mod_spec = importlib.util.spec_from_file_location(name, EXPERIMENTS / f"{name}.py")
    mod = importlib.util.module_from_spec(mod_spec)
    sys.modules.setdefault(name, mod)  # dataclasses look their module up there
    mod_spec.loader.exec_module(mod)
    return mod


@pytest.mark.unit
def test_us_tariff_file_is_what_its_script_writes(tmp_path):
    """April and August partner rates from the legal texts, net of the Annex II exemptions."""
    if not (SHARED / "us_reciprocal_tariffs_2025" / "annex_ii_and_aug2025_rates").is_dir():
        pytest.skip(f"raw data absent: {SHARED / 'us_reciprocal_tariffs_2025'}")
    mod = _script("make_us_tariffs")
    for base, file in mod.BASES.items():  # the 2022 base and the 2011 variant
        written = mod.write_spec(tmp_path / file, base=base)
        assert written.read_text() == (EXPERIMENTS / file).read_text()
        assert load_spec(written).benchmark == base
    out = mod.write_spec(tmp_path / "us.toml", base="eastasia-2011")
    april, august = mod.regional_rates("april"), mod.regional_rates("august")
    assert april.loc["CHN", "reciprocal"] + april.loc["CHN", "other"] == pytest.approx(0.54)  # 34% + 20% fentanyl
    assert april.loc["VNM", "reciprocal"] == pytest.approx(0.46) and august.loc["VNM", "reciprocal"] == pytest.approx(0.20)
    assert august.loc["TWN", "reciprocal"] == pytest.approx(0.20) and august.loc["JPN", "reciprocal"] == pytest.approx(0.15)
    assert 0.10 <= april.loc["XSE", "reciprocal"] <= 0.49  # trade-weighted mean of Brunei, Cambodia, Lao PDR, Myanmar
    assert august.loc["EU", "all_in"] > 0.8  # EU members of 2025 under the 15% all-in rate; the UK at 10%
    # Annex II: energy mining almost wholly exempt, textiles and vehicles not at all; added duty = (1 - e) x rate
    bench = cge.Benchmark.load("eastasia-2011")
    exempt = _script("annex_ii").exempt_shares(bench, bench.metadata["members"])
    assert exempt.loc["World", "mining"] > 0.9 and exempt.loc["World", "chemicals"] > 0.4
    assert exempt.loc["World", "textiles_apparel"] == 0 and exempt.loc["World", "transport_equipment"] == 0
    spec = load_spec(out)
    assert [s.name for s in spec.scenarios] == ["us_april_2025", "us_august_2025"]
    t = spec.scenarios[0].build(bench, spec.region_groups, spec.sector_groups).instruments(bench).tariff
    vnm, usa, chem = bench.regions.index("VNM"), bench.regions.index("USA"), bench.sectors.index("chemicals")
    added = t[vnm, chem, usa] - bench.tariff_0[vnm, chem, usa]
    np.testing.assert_allclose(added, round((1 - exempt.loc["VNM", "chemicals"]) * 0.46, 4), atol=1e-12)


@pytest.mark.unit
def test_facilitation_file_is_what_its_script_writes(tmp_path):
    """Days from the LPI lead times, halving the gap to East Asia's best; Hummels-Schaur cost per day."""
    if not (SHARED / "wdi_fx_lpi").is_dir():
        pytest.skip(f"raw data absent: {SHARED / 'wdi_fx_lpi'}")
    mod = _script("make_facilitation")
    out = mod.write_spec(tmp_path / "facilitation.toml")
    assert out.read_text() == (EXPERIMENTS / "facilitation.toml").read_text()
    times = mod.lead_times()
    assert times.loc["CHN", "import"] == pytest.approx((2.56 + 4) / 2)  # LPI 2010 and 2012 editions
    saved = mod.days_saved(times)
    assert (saved["import_best"] == "JPN").all() and saved.loc["JPN", "import"] == 0
    assert saved.loc["IDN", "import"] == pytest.approx((times.loc["IDN", "import"] - 1.0) / 2)
    assert saved.loc["TWN", "import"] == 0  # Taiwan is not in WDI
    for rates in mod.PER_DAY.values():  # parts never less time-sensitive; all within Hummels-Schaur's range
        assert 0.006 <= rates["other"] <= rates["parts"] <= 0.021
    headline = mod.write_headline(tmp_path / "headline.toml")
    assert headline.read_text() == (EXPERIMENTS / "headline.toml").read_text()
    sme = mod.write_sme(tmp_path / "sme.toml")
    assert sme.read_text() == (EXPERIMENTS / "sme.toml").read_text()
    spec = load_spec(out)
    bench = spec.load_benchmark()
    central = next(s for s in spec.scenarios if s.name == "asean_halve_gap_central")
    head = load_spec(headline)
    got = head.scenarios[1].build(bench, head.region_groups, head.sector_groups).instruments(bench).iceberg
    np.testing.assert_array_equal(got, central.build(bench, spec.region_groups, spec.sector_groups).instruments(bench).iceberg)
    tau = central.build(bench, spec.region_groups, spec.sector_groups).instruments(bench).iceberg
    chn, idn, mach = bench.regions.index("CHN"), bench.regions.index("IDN"), bench.sectors.index("machinery")
    assert tau[chn, mach, idn, 0] == pytest.approx(1 - 0.021 * saved.loc["IDN", "import"], abs=1e-6)
    assert tau[chn, mach, idn, 1] == pytest.approx(1 - 0.006 * saved.loc["IDN", "import"], abs=1e-6)
    assert (tau[:, [bench.sectors.index(s) for s in bench.sectors if s not in spec.sector_groups["goods"]]] == 1).all()


@pytest.mark.solver
def test_headline_reproduces_its_committed_welfare_table(tmp_path):
    got = _script("regenerate_expected").headline_welfare(tmp_path)
    expected = pd.read_csv(ROOT / "tests" / "data" / "headline_welfare.csv")
    assert list(got["scenario"]) == list(expected["scenario"]) and list(got["region"]) == list(expected["region"])
    np.testing.assert_allclose(got["ev"], expected["ev"], rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(got["ev_pct"], expected["ev_pct"], rtol=1e-6, atol=1e-9)
    for name in ("welfare.md", "welfare.tex", "figures/welfare.png", "metadata.json", "manifest.json", "report.html",
                 "results.parquet", "rcep/decomposition.csv", "rcep_facilitation/figures/employment.svg"):
        assert (tmp_path / name).is_file()
    tidy = pd.read_csv(tmp_path / "results.csv", keep_default_na=False, na_values={"value": [""]})
    variables = set(tidy["variable"])
    for prefix in ("welfare_ev", "welfare_terms_of_trade", "welfare_trade_costs", "employment", "wage", "real_wage", "output_pct",
                   "price", "exports_value", "tariff_revenue_route", "va_exports_value", "va_exports_pct",
                   "gvc_participation_backward_wwyz_change", "intra_group_trade_share"):
        assert prefix in variables, prefix
    world = tidy[(tidy.variable == "welfare_ev") & (tidy.region == "World")].set_index("scenario")["value"]
    np.testing.assert_allclose(world.loc[list(got["scenario"].unique())], got[got.region == "World"]["ev"], rtol=1e-12)


@pytest.mark.unit
def test_summarise_reruns_when_the_scenario_file_benchmark_or_version_changed(tmp_path):
    """A results folder is reused only if its stamp has the scenario file's hash and its metadata the
    current benchmark hash and package version; anything else makes summarise.py run it again."""
    import json

    summarise = _script("summarise")
    spec = tmp_path / "rcep.toml"
    spec.write_text((EXPERIMENTS / "rcep.toml").read_text())
    folder = tmp_path / "rcep"
    folder.mkdir()
    assert summarise.stale(spec, folder) == "no results"
    bench_hash = load_spec(spec).load_benchmark().hash()
    meta = {"benchmark": {"hash": bench_hash}, "scenarios": {"rcep": {"version": cge.__version__}}}
    (folder / "metadata.json").write_text(json.dumps(meta))
    assert "not run by this script" in summarise.stale(spec, folder)
    (folder / summarise.STAMP).write_text(json.dumps({"spec_sha256": summarise.sha256(spec)}))
    assert summarise.stale(spec, folder) == ""
    spec.write_text(spec.read_text().replace("value = 0.0", "value = 0.01", 1))
    assert "changed since the run" in summarise.stale(spec, folder)
    (folder / summarise.STAMP).write_text(json.dumps({"spec_sha256": summarise.sha256(spec)}))
    assert summarise.stale(spec, folder) == ""
    (folder / "metadata.json").write_text(json.dumps({**meta, "benchmark": {"hash": "0" * 16}}))
    assert "benchmark changed" in summarise.stale(spec, folder)
    (folder / "metadata.json").write_text(json.dumps({**meta, "scenarios": {"rcep": {"version": "0.0.0"}}}))
    assert "package version changed" in summarise.stale(spec, folder)


@pytest.mark.unit
def test_results_text_is_generated_from_the_run_outputs():
    """RESULTS.md and the README's result lines are what summarise.py writes: no number is typed by hand.
    Every generated sentence names its table, and each README block is filled."""
    text = (EXPERIMENTS / "RESULTS.md").read_text()
    readme = (EXPERIMENTS / "README.md").read_text()
    summarise = _script("summarise")
    for name in summarise.ORDER:
        assert f"experiments/{name}.toml" in text
        block = readme.split(f"<!-- results:{name} -->\n", 1)[1].split("<!-- /results -->", 1)[0]
        assert block.startswith("*Results:* ") and block.strip().endswith("(RESULTS.md)")
    bullets = [line for line in text.splitlines() if line.startswith("- `") or line.startswith("- ")]
    assert bullets and all("*" in line for line in bullets), [line for line in bullets if "*" not in line][:3]
    assert "twice as much" not in text and "twice as much" not in readme
