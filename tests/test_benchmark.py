"""The benchmark data object: exact round trips and a clear error for every malformed input."""

import shutil

import numpy as np
import pandas as pd
import pytest

import cge
from cge.benchmark import BALANCE_TOLERANCE
from cge.synthetic import random_benchmark

pytestmark = pytest.mark.unit

ARRAYS = ("z_0", "f_0", "fp_0", "tariff_0", "employment")


def _copy(toy, tmp_path):
    path = tmp_path / "bench"
    toy.write(path)
    return path


def _edit(path, name, fn):
    file = path / name
    df = pd.read_csv(file, dtype=str, keep_default_na=False)
    fn(df).to_csv(file, index=False)


@pytest.mark.parametrize("compress", [False, True])
def test_round_trip_is_exact(toy, tmp_path, compress):
    toy.write(tmp_path / "b", compress=compress)
    back = cge.Benchmark.read(tmp_path / "b")
    for name in ARRAYS:
        assert np.array_equal(getattr(toy, name), getattr(back, name)), name
    assert back.regions == toy.regions and back.sectors == toy.sectors and back.agents == toy.agents
    assert back.groups == toy.groups and back.metadata == toy.metadata
    for k, v in toy.elasticities.items():
        assert np.array_equal(v, back.elasticities[k])
    assert back.hash() == toy.hash()


def test_toy_is_balanced_and_consistent(toy):
    gap = np.abs(toy.output - toy.costs) / np.maximum(1.0, toy.output)
    assert gap.max() <= BALANCE_TOLERANCE
    # the net transfers (trade deficits) add up to zero over the world
    assert abs(toy.net_transfer.sum()) <= 1e-9 * toy.income.sum()
    # the net transfer is each region's trade deficit: imports - exports at basic prices
    off = ~np.eye(toy.n_regions, dtype=bool)
    flows = toy.z_0.sum(axis=3) + toy.f_0.sum(axis=3)
    deficit = np.einsum("ris,rs->s", flows, off) - np.einsum("ris,rs->r", flows, off)
    np.testing.assert_allclose(toy.net_transfer, deficit, rtol=1e-10, atol=1e-9)


def test_from_arrays_with_one_final_agent():
    b = random_benchmark(2, 2, seed=1, agents=("household",))
    c = cge.Benchmark.from_arrays(b.regions, b.sectors, b.z_0, b.f_0[..., 0], {"labour": b.fp_0[..., 0], "capital": b.fp_0[..., 1]}, tariffs=b.tariff_0)
    assert c.agents == ["household"] and c.f_0.shape == (2, 2, 2, 1)
    assert np.array_equal(c.f_0, b.f_0)


def test_tariffs_by_use_broadcast():
    b = random_benchmark(2, 2, seed=1, tariffs=False)
    t = np.zeros((2, 2, 2))
    t[0, 1, 1] = 0.1
    c = cge.Benchmark.from_arrays(b.regions, b.sectors, b.z_0, b.f_0, {"labour": b.fp_0[..., 0], "capital": b.fp_0[..., 1] - np.einsum("risj,ris->sj", b.z_0, t)}, tariffs=t)
    assert c.tariff_0[0, 1, 1, 0] == 0.1 and c.tariff_0[0, 1, 1, 1] == 0.1


# ---------------------------------------------------------------- malformed inputs, each named


def test_negative_flow_is_named(toy):
    z = toy.z_0.copy()
    z[1, 2, 0, 1] = -5.0
    with pytest.raises(cge.BenchmarkError, match=r"intermediate: negative values at \(China, services, ASEAN, electronics\)"):
        cge.Benchmark.from_arrays(toy.regions, toy.sectors, z, toy.f_0, {"labour": toy.fp_0[..., 0], "capital": toy.fp_0[..., 1]}, tariffs=toy.tariff_0)


def test_non_finite_value_is_named(toy):
    f = toy.f_0.copy()
    f[2, 0, 1, 2] = np.nan
    with pytest.raises(cge.BenchmarkError, match=r"final: non-finite values at \(RoW, primary, China, investment\)"):
        cge.Benchmark.from_arrays(toy.regions, toy.sectors, toy.z_0, f, {"labour": toy.fp_0[..., 0], "capital": toy.fp_0[..., 1]}, tariffs=toy.tariff_0)


def test_imbalance_is_named(toy):
    fp = toy.fp_0.copy()
    fp[0, 1, 1] *= 1.01
    with pytest.raises(cge.BenchmarkError, match=r"balance: .*\(ASEAN, electronics\)"):
        cge.Benchmark.from_arrays(toy.regions, toy.sectors, toy.z_0, toy.f_0, {"labour": fp[..., 0], "capital": fp[..., 1]}, tariffs=toy.tariff_0)


def test_domestic_tariff_is_rejected(toy):
    t = toy.tariff_0.copy()
    t[1, 0, 1, 1] = 0.05
    with pytest.raises(cge.BenchmarkError, match=r"domestic flows carry no tariff.*\(China, primary, China, final\)"):
        cge.Benchmark.from_arrays(toy.regions, toy.sectors, toy.z_0, toy.f_0, {"labour": toy.fp_0[..., 0], "capital": toy.fp_0[..., 1]}, tariffs=t, agents=toy.agents)


def test_tariff_below_minus_one_is_rejected(toy):
    t = toy.tariff_0.copy()
    t[0, 0, 2, 1] = -1.5
    with pytest.raises(cge.BenchmarkError, match=r"tariffs: rates must exceed -1.*\(ASEAN, primary, RoW, final\)"):
        cge.Benchmark.from_arrays(toy.regions, toy.sectors, toy.z_0, toy.f_0, {"labour": toy.fp_0[..., 0], "capital": toy.fp_0[..., 1]}, tariffs=t)


def test_shape_mismatch_is_named(toy):
    with pytest.raises(cge.BenchmarkError, match=r"z_0 \(intermediate\): shape \(3, 3, 3, 2\), expected \(3, 3, 3, 3\)"):
        cge.Benchmark.from_arrays(toy.regions, toy.sectors, toy.z_0[..., :2], toy.f_0, {"labour": toy.fp_0[..., 0]})


def test_duplicate_labels_are_rejected(toy):
    with pytest.raises(cge.BenchmarkError, match=r"regions: duplicate labels \['ASEAN'\]"):
        cge.Benchmark.from_arrays(["ASEAN", "ASEAN", "RoW"], toy.sectors, toy.z_0, toy.f_0, {"labour": toy.fp_0[..., 0], "capital": toy.fp_0[..., 1]}, tariffs=toy.tariff_0)


def test_unknown_group_member_is_named(toy):
    with pytest.raises(cge.BenchmarkError, match=r"group 'RCEP' names unknown regions \['Japan'\]"):
        cge.Benchmark.from_arrays(toy.regions, toy.sectors, toy.z_0, toy.f_0, {"labour": toy.fp_0[..., 0], "capital": toy.fp_0[..., 1]}, tariffs=toy.tariff_0, groups={"RCEP": ["China", "Japan"]})


def test_bad_elasticity_is_named(toy):
    with pytest.raises(cge.BenchmarkError, match=r"elasticities: sigma_mm must be finite and >= 0, found \(electronics\)=-2"):
        cge.Benchmark.from_arrays(toy.regions, toy.sectors, toy.z_0, toy.f_0, {"labour": toy.fp_0[..., 0], "capital": toy.fp_0[..., 1]}, tariffs=toy.tariff_0, elasticities={"sigma_mm": [4.0, -2.0, 4.0]})
    with pytest.raises(cge.BenchmarkError, match=r"unknown parameter 'sigma_xx'"):
        cge.Benchmark.from_arrays(toy.regions, toy.sectors, toy.z_0, toy.f_0, {"labour": toy.fp_0[..., 0], "capital": toy.fp_0[..., 1]}, tariffs=toy.tariff_0, elasticities={"sigma_xx": 1.0})


def test_missing_household_is_rejected(toy):
    with pytest.raises(cge.BenchmarkError, match=r"'household' agent is required"):
        cge.Benchmark.from_arrays(toy.regions, toy.sectors, toy.z_0, toy.f_0, {"labour": toy.fp_0[..., 0], "capital": toy.fp_0[..., 1]}, tariffs=toy.tariff_0, agents=["consumer", "government", "investment"])


def test_unknown_label_in_file_is_named(toy, tmp_path):
    path = _copy(toy, tmp_path)
    _edit(path, "final.csv", lambda df: df.assign(importer=df["importer"].replace("China", "Chna")))
    with pytest.raises(cge.BenchmarkError, match=r"final.csv: column 'importer' has labels not in metadata.toml: \['Chna'\]"):
        cge.Benchmark.read(path)


def test_non_numeric_value_is_named(toy, tmp_path):
    path = _copy(toy, tmp_path)

    def corrupt(df):
        df.loc[3, "value"] = "12,5"
        return df

    _edit(path, "factors.csv", corrupt)
    with pytest.raises(cge.BenchmarkError, match=r"factors.csv: column 'value' row 5 is not a number: '12,5'"):
        cge.Benchmark.read(path)


def test_missing_column_is_named(toy, tmp_path):
    path = _copy(toy, tmp_path)
    _edit(path, "intermediate.csv", lambda df: df.drop(columns=["sector"]))
    with pytest.raises(cge.BenchmarkError, match=r"intermediate.csv: missing columns \['sector'\]"):
        cge.Benchmark.read(path)


def test_duplicate_rows_are_named(toy, tmp_path):
    path = _copy(toy, tmp_path)
    _edit(path, "tariffs.csv", lambda df: pd.concat([df, df.iloc[[0]]]))
    with pytest.raises(cge.BenchmarkError, match=r"tariffs.csv: duplicate rows"):
        cge.Benchmark.read(path)


def test_missing_file_is_named(toy, tmp_path):
    path = _copy(toy, tmp_path)
    (path / "final.csv").unlink()
    with pytest.raises(cge.BenchmarkError, match=r"final.csv: missing file"):
        cge.Benchmark.read(path)
    shutil.rmtree(path)
    with pytest.raises(cge.BenchmarkError, match=r"metadata.toml: missing metadata file"):
        cge.Benchmark.read(path)


def test_imbalance_in_file_is_named(toy, tmp_path):
    path = _copy(toy, tmp_path)

    def bump(df):
        row = df.index[(df["exporter"] == "RoW") & (df["commodity"] == "services") & (df["importer"] == "China") & (df["agent"] == "household")][0]
        df.loc[row, "value"] = repr(float(df.loc[row, "value"]) + 1.0)
        return df

    _edit(path, "final.csv", bump)
    with pytest.raises(cge.BenchmarkError, match=r"balance: .*\(RoW, services\)"):
        cge.Benchmark.read(path)


def test_summary_and_mrio_views(toy):
    s = toy.summary()
    # income side (value added + tariffs) equals expenditure side (final demand + exports - imports)
    np.testing.assert_allclose(s["gdp"], toy.income + s["exports"] - s["imports"], rtol=1e-12)
    mr = toy.to_mrio()
    np.testing.assert_allclose(mr.Z.sum(axis=1) + mr.Y.sum(axis=1), mr.x, rtol=1e-12)


def test_world_is_reserved_for_totals(toy):
    with pytest.raises(cge.BenchmarkError, match=r"'World' is reserved for world totals"):
        cge.Benchmark.from_arrays(["ASEAN", "China", "World"], toy.sectors, toy.z_0, toy.f_0, {"labour": toy.fp_0[..., 0], "capital": toy.fp_0[..., 1]}, tariffs=toy.tariff_0)
