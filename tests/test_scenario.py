"""Scenario files: parsing valid files, clear errors for invalid ones, and end-to-end CLI runs."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cge
from cge.experiment import run_spec
from cge.scenario import ScenarioError, load_spec

SPECS = Path(__file__).resolve().parent / "data" / "specs"


def _write(tmp_path, text, name="spec.toml"):
    (tmp_path / "toy").symlink_to(SPECS.parent / "toy")
    path = tmp_path / name
    path.write_text(text)
    return path


HEADER = 'benchmark = "toy"\n'


@pytest.mark.unit
def test_valid_file_builds_the_intended_instruments(toy):
    spec = load_spec(SPECS / "toy.toml")
    assert [s.name for s in spec.scenarios] == ["asia_fta", "facilitation", "asia_fta_fixed_wage"]
    fta = spec.scenarios[0].build(toy, spec.region_groups, spec.sector_groups)
    t = fta.tariff
    a, c, w = (toy.regions.index(x) for x in ("ASEAN", "China", "RoW"))
    assert (t[a, :, c] == 0).all() and (t[c, :, a] == 0).all()
    np.testing.assert_array_equal(t[w], toy.tariff_0[w])  # RoW's exports keep their tariffs
    np.testing.assert_array_equal(t[:, :, w], toy.tariff_0[:, :, w])
    fac = spec.scenarios[1].build(toy, spec.region_groups, spec.sector_groups)
    tau = fac.iceberg
    goods = [toy.sectors.index("primary"), toy.sectors.index("electronics")]
    services = toy.sectors.index("services")
    assert np.allclose(tau[c][goods][:, a, 0], 0.97) and np.allclose(tau[w][goods][:, a, 0], 0.97)
    assert (tau[:, :, a, 1] == 1).all()  # final use untouched
    assert (tau[:, services] == 1).all() and tau[a, :, a].max() == 1  # services and domestic routes untouched
    assert (tau[:, :, [c, w]] == 1).all()
    assert spec.scenarios[2].closure == {"labour": "fixed_real_wage"}


@pytest.mark.unit
def test_sweep_and_operations(tmp_path, toy):
    path = _write(tmp_path, HEADER + """
[[scenario]]
name = "cut"
sweep = { shock = 1, values = [0.5, 0.0] }
[[scenario.shock]]
instrument = "tariff"
op = "scale"
value = 1.0
[[scenario.shock]]
instrument = "tariff"
exporters = "RoW"
importers = ["ASEAN"]
op = "add"
value = 0.05
""")
    spec = load_spec(path)
    assert [s.name for s in spec.scenarios] == ["cut[0.5]", "cut[0]"]
    t = spec.scenarios[0].build(toy).tariff
    w, a = toy.regions.index("RoW"), toy.regions.index("ASEAN")
    np.testing.assert_allclose(t[w, :, a], 0.5 * toy.tariff_0[w, :, a] + 0.05)
    np.testing.assert_allclose(t[0, :, 1], 0.5 * toy.tariff_0[0, :, 1])
    assert (spec.scenarios[1].build(toy).tariff[0, :, 1] == 0).all()


@pytest.mark.unit
def test_sweep_labels_name_scenarios_by_the_swept_quantity(tmp_path, toy):
    path = _write(tmp_path, HEADER + """
[[scenario]]
name = "parts"
sweep = { shock = 1, values = [0.979, 0.958], labels = [1, 2.5], label = "days" }
[[scenario.shock]]
instrument = "iceberg"
sectors = "goods"
op = "scale"
value = 1.0
[[scenario]]
name = "cut"
sweep = { values = [0.5, 0.25] }
[[scenario.shock]]
instrument = "tariff"
op = "scale"
value = 1.0
[sector_groups]
goods = ["primary", "electronics"]
""")
    spec = load_spec(path)
    assert [s.name for s in spec.scenarios] == ["parts[1]", "parts[2.5]", "cut[0.5]", "cut[0.25]"]
    assert [s.display for s in spec.scenarios] == ["parts: 1 days", "parts: 2.5 days", "cut[0.5]", "cut[0.25]"]
    assert [s.folder for s in spec.scenarios] == ["parts_1_days", "parts_2.5_days", "cut_0.5", "cut_0.25"]
    tau = spec.scenarios[1].build(toy, spec.region_groups, spec.sector_groups).iceberg
    assert tau[0, toy.sectors.index("electronics"), 1, 0] == pytest.approx(0.958)


@pytest.mark.unit
@pytest.mark.parametrize("sweep,message", [
    ("{ values = [0.9, 0.8], labels = [1] }", r"sweep.labels = \[1\]; must be a list of 2 labels"),
    ("{ values = [0.9, 0.8], labels = [1, 1.0] }", r"each value needs its own label"),
    ("{ values = [0.9, 0.8], labels = ['a', true] }", r"sweep.labels = \['a', True\]"),
    ("{ values = [0.9, 0.8], label = 3 }", r"sweep.label = 3; must be a non-empty string naming the swept quantity"),
    ("{ values = [0.9], unit = 'days' }", r"sweep must be a table .* optional labels"),
])
def test_bad_sweep_labels_are_named(tmp_path, sweep, message):
    path = _write(tmp_path, HEADER + f'[[scenario]]\nname = "x"\nsweep = {sweep}\n[[scenario.shock]]\ninstrument = "iceberg"\nvalue = 1\n')
    with pytest.raises(ScenarioError, match=message):
        load_spec(path)


@pytest.mark.unit
def test_scenario_folders_must_differ(tmp_path):
    path = _write(tmp_path, HEADER + '[[scenario]]\nname = "a b"\n[[scenario]]\nname = "a_b"\n')
    with pytest.raises(ScenarioError, match=r"scenario 'a_b' would write its results into folder 'a_b', as scenario 'a b' does"):
        load_spec(path)
    path.write_text(HEADER + '[[scenario]]\nname = "figures"\n')
    with pytest.raises(ScenarioError, match=r"folder 'figures', as the run's own files do"):
        load_spec(path)


@pytest.mark.unit
def test_from_shocks_is_the_scenario_file_selector(tmp_path, toy):
    """The Python API builds the same instruments as the TOML file, and rejects what it rejects."""
    import tomli_w

    shocks = [
        {"instrument": "tariff", "exporters": "Asia", "importers": ["Asia"], "not_sectors": "primary", "value": 0.0},
        {"instrument": "iceberg", "importers": "ASEAN", "sectors": "goods", "use": "intermediate", "op": "scale", "value": 0.97},
        {"instrument": "output_tax", "regions": "China", "value": -0.02},
    ]
    doc = {"benchmark": "toy", "sector_groups": {"goods": ["primary", "electronics"]}, "scenario": [{"name": "both", "shock": shocks}]}
    spec = load_spec(_write(tmp_path, tomli_w.dumps(doc)))
    from_file = spec.scenarios[0].build(toy, spec.region_groups, spec.sector_groups)
    api = cge.Scenario.from_shocks(toy, shocks, name="both", sector_groups={"goods": ["primary", "electronics"]})
    assert api.name == "both" and api.instruments(toy) == from_file.instruments(toy)
    assert api.output_tax[toy.regions.index("China")].tolist() == [-0.02] * toy.n_sectors
    for bad, message in [
        ([{"instrument": "quota", "value": 1}], r"scenario 'x' shock 1: instrument = 'quota'; allowed"),
        ([{"instrument": "tariff", "value": 0, "exporter": "China"}], r"shock 1: unknown key 'exporter'"),
        ([{"instrument": "output_tax", "value": 0, "importers": "China"}], r"key 'importers' does not apply to instrument 'output_tax'"),
        ([{"instrument": "tariff", "value": 0, "exporters": "Nowhere"}], r"'Nowhere' is neither a label nor a group"),
        ([{"instrument": "iceberg", "value": 0}], r"iceberg must exceed 0"),
        ("tariff", r"shocks = 'tariff'; must be a list of shock dicts"),
        ([("tariff", 0.0)], r"shock 1: must be a dict"),
    ]:
        with pytest.raises(ScenarioError, match=message):
            cge.Scenario.from_shocks(toy, bad, name="x")
    with pytest.raises(ScenarioError, match=r"sector_groups.goods = 'primary'; must be a non-empty list"):
        cge.Scenario.from_shocks(toy, shocks[:1], sector_groups={"goods": "primary"})


BAD = [
    ('[[scenario]]\nname = "x"\n[[scenario.shock]]\ninstrument = "quota"\nvalue = 1\n', r"shock 1: instrument = 'quota'; allowed: \['tariff', 'iceberg', 'output_tax', 'transfer', 'duty_exemption', 'fixed_cost'\]"),
    ('[[scenario]]\nname = "x"\n[[scenario.shock]]\ninstrument = "tariff"\nop = "multiply"\nvalue = 1\n', r"op = 'multiply'; allowed: \['set', 'scale', 'add'\]"),
    ('[[scenario]]\nname = "x"\n[[scenario.shock]]\ninstrument = "tariff"\nvalue = "zero"\n', r"value = 'zero'; must be a finite number"),
    ('[[scenario]]\nname = "x"\n[[scenario.shock]]\ninstrument = "tariff"\nuse = "both"\nvalue = 0\n', r"use = 'both'; allowed: \['all', 'intermediate', 'final'\]"),
    ('[[scenario]]\nname = "x"\n[[scenario.shock]]\ninstrument = "tariff"\nvalue = 0\nexporter = "China"\n', r"unknown key 'exporter'"),
    ('[[scenario]]\nname = "x"\nclosure = { labour = "flexible" }\n', r"scenario 'x': Closure\(labour='flexible'\)"),
    ('[model]\nsourcing = "regional"\n[[scenario]]\nname = "x"\n', r"\[model\]: sourcing = 'regional'; allowed: \['agent', 'common'\]"),
    ('[model]\nelasticities = { sigma_armington = 2 }\n[[scenario]]\nname = "x"\n', r"elasticities key 'sigma_armington' unknown"),
    ('[[scenario]]\nname = "x"\n[[scenario]]\nname = "x"\n', r"scenario names must be unique, repeated: \['x'\]"),
    ('[[scenario]]\nname = "x"\nsweep = { shock = 2, values = [1] }\n[[scenario.shock]]\ninstrument = "tariff"\nvalue = 0\n', r"sweep.shock = 2; must be a shock number from 1 to 1"),
    ('title = "no scenarios"\n', r"at least one \[\[scenario\]\] table is needed"),
    ('[[scenario]]\nname = "x"\nelasticities = { set = 4 }\n', r"elasticities.set = 4; must name an elasticity set"),
    ('[[scenario]]\nname = "x"\n[[scenario.shock]]\ninstrument = "iceberg"\nvalue = -1\n', r"iceberg must exceed 0"),
]


@pytest.mark.unit
@pytest.mark.parametrize("text,message", BAD)
def test_invalid_files_name_the_key_and_what_is_allowed(tmp_path, text, message):
    path = _write(tmp_path, HEADER + text)
    with pytest.raises(ScenarioError, match=message):
        load_spec(path)


@pytest.mark.unit
def test_elasticity_set_by_name(tmp_path):
    path = _write(tmp_path, HEADER + '[model]\nelasticities = "U4"\n[[scenario]]\nname = "x"\nelasticities = { set = "CP", sigma_va = 0.5 }\n')
    spec = load_spec(path)
    assert spec.model["elasticities"] == {"set": "U4"}
    assert spec.scenarios[0].elasticities == {"set": "CP", "sigma_va": 0.5}


@pytest.mark.unit
def test_unknown_region_or_group_is_named(tmp_path, toy):
    path = _write(tmp_path, HEADER + '[[scenario]]\nname = "x"\n[[scenario.shock]]\ninstrument = "tariff"\nexporters = "Japan"\nvalue = 0\n')
    spec = load_spec(path)
    with pytest.raises(ScenarioError, match=r"scenario 'x' shock 1.exporters: 'Japan' is neither a label nor a group"):
        spec.scenarios[0].build(toy)


@pytest.mark.unit
def test_unknown_benchmark_is_named(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('benchmark = "nowhere"\n[[scenario]]\nname = "x"\n')
    with pytest.raises(ScenarioError, match=r"benchmark 'nowhere' is neither a built-in benchmark"):
        load_spec(path).load_benchmark()


@pytest.mark.unit
def test_not_toml_is_reported(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("benchmark = \n")
    with pytest.raises(ScenarioError, match=r"not valid TOML"):
        load_spec(path)


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    proc = subprocess.run(
        [sys.executable, "-m", "cge", "run", str(SPECS / "toy.toml"), "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.solver
def test_cli_run_writes_tables_figures_and_metadata(cli_run, toy):
    out = cli_run
    for name in ("welfare.csv", "welfare.md", "welfare.tex", "results.csv", "results.parquet", "metadata.json", "manifest.json",
                 "report.html", "asia_fta/employment.csv", "facilitation/decomposition.tex", "asia_fta/gvc.csv",
                 "figures/welfare.png", "figures/welfare.svg", "asia_fta/figures/employment.png",
                 "asia_fta/figures/gvc_participation.svg", "asia_fta/figures/intra_group_trade.png"):
        assert (out / name).is_file(), name
    assert "\\toprule" in (out / "welfare.tex").read_text()
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["benchmark"]["hash"] == toy.hash()
    assert meta["scenarios"]["asia_fta_fixed_wage"]["closure"]["labour"] == "fixed_real_wage"
    assert meta["scenarios"]["asia_fta"]["max_residual"] <= 1e-8
    assert meta["scenarios"]["asia_fta"]["version"] == cge.__version__


@pytest.mark.solver
def test_cli_numbers_match_the_api(cli_run, toy):
    spec = load_spec(SPECS / "toy.toml")
    sc = spec.scenarios[1].build(toy, spec.region_groups, spec.sector_groups)
    res = cge.Model(toy).solve(sc)
    api = res.welfare(decompose=False)
    table = pd.read_csv(cli_run / "welfare.csv", index_col=[0, 1])
    np.testing.assert_allclose(table.loc["facilitation", "ev"].to_numpy(), api["ev"].to_numpy(), rtol=1e-9)
    emp = pd.read_csv(cli_run / "asia_fta_fixed_wage" / "employment.csv", index_col=[0, 1])
    fixed = cge.Model(toy, closure=cge.Closure(labour="fixed_real_wage")).solve(spec.scenarios[2].build(toy, spec.region_groups))
    np.testing.assert_allclose(emp["persons"].to_numpy(), fixed.employment()["persons"].to_numpy(), rtol=1e-9)
    gvc = pd.read_csv(cli_run / "asia_fta" / "gvc.csv")
    share = gvc[(gvc.indicator == "intra_group_trade_share") & (gvc.region == "Asia")]
    assert len(share) == 1 and 0 < share["benchmark"].iloc[0] < 1


@pytest.mark.solver
def test_rerun_reproduces_the_numbers(cli_run, tmp_path):
    run_spec(SPECS / "toy.toml", tmp_path, progress=False)
    a = pd.read_csv(cli_run / "results.csv")
    b = pd.read_csv(tmp_path / "results.csv")
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.solver
def test_results_notebook_executes_on_cli_outputs(cli_run, monkeypatch):
    """The jupytext results notebook runs top to bottom on a `cge run` folder."""
    import jupytext
    from nbclient import NotebookClient

    nb = jupytext.read(Path(__file__).resolve().parents[1] / "experiments" / "results_notebook.py")
    monkeypatch.setenv("CGE_RESULTS", str(cli_run))
    NotebookClient(nb, kernel_name="python3", timeout=300).execute()
    assert (cli_run / "publication_welfare.tex").is_file()
    assert (cli_run / "publication_welfare_gvc.png").stat().st_size > 10_000
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "EV % — asia_fta" in outputs
