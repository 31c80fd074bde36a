"""The experiment library: every scenario file builds, the US tariff file is what its script makes,
and the headline experiment reproduces its committed welfare table."""

import os
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


@pytest.mark.unit
def test_us_tariff_file_is_what_its_script_writes(tmp_path):
    if not (SHARED / "us_reciprocal_tariffs_2025").is_dir():
        pytest.skip(f"raw data absent: {SHARED / 'us_reciprocal_tariffs_2025'}")
    import importlib.util

    mod_spec = importlib.util.spec_from_file_location("make_us_tariffs", EXPERIMENTS / "make_us_tariffs.py")
    mod = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(mod)
    out = mod.write_spec(tmp_path / "us.toml")
    assert out.read_text() == (EXPERIMENTS / "us_tariffs_2025.toml").read_text()
    rates = mod.regional_rates()
    assert rates["CHN"] == pytest.approx(0.54) and rates["VNM"] == pytest.approx(0.46)
    assert 0.10 <= rates["XSE"] <= 0.49  # trade-weighted mean of Brunei, Cambodia, Lao PDR, Myanmar


@pytest.mark.solver
def test_headline_reproduces_its_committed_welfare_table(tmp_path):
    import importlib.util

    mod_spec = importlib.util.spec_from_file_location("regenerate_expected", EXPERIMENTS / "regenerate_expected.py")
    mod = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(mod)
    got = mod.headline_welfare(tmp_path)
    expected = pd.read_csv(ROOT / "tests" / "data" / "headline_welfare.csv")
    assert list(got["scenario"]) == list(expected["scenario"]) and list(got["region"]) == list(expected["region"])
    np.testing.assert_allclose(got["ev"], expected["ev"], rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(got["ev_pct"], expected["ev_pct"], rtol=1e-6, atol=1e-9)
    for name in ("welfare.md", "welfare.tex", "figures/welfare.png", "metadata.json"):
        assert (tmp_path / name).is_file()
