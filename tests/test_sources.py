"""Readers of the raw sources, balancing, concordance, mappings and aggregation (cge.sources, cge.aggregate).

Tests marked ``unit`` that read raw data skip with a clear reason when ../shared/data is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cge.aggregate import aggregate, country_groups, groups_on, mapping_from_spec, read_mapping, to_iso3
from cge.sources import ENV_VAR, SourceDataMissing, concordance, has_shared_data, shared_data_dir, source_file
from cge.sources.hybrid import prepare_table
from cge.sources.ras import Margin, gras, ipf, ras
from cge.synthetic import random_benchmark

DATA = Path(__file__).resolve().parent / "data" / "calibration"


def needs(*parts: str):
    return pytest.mark.skipif(
        not has_shared_data(*parts),
        reason=f"raw data {'/'.join(parts)} not found under {shared_data_dir()} (set ${ENV_VAR} to the shared data folder)",
    )


def facts(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, comment="#").set_index("fact")


# ------------------------------------------------------------------------------------------ locating data
@pytest.mark.unit
def test_shared_data_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert shared_data_dir() == tmp_path.resolve()
    monkeypatch.delenv(ENV_VAR)
    assert shared_data_dir().parts[-2:] == ("shared", "data")


@pytest.mark.unit
def test_missing_raw_file_names_the_fix(tmp_path):
    with pytest.raises(SourceDataMissing, match=ENV_VAR):
        source_file("wiod2013", "npz", "wiot_2011.npz", root=tmp_path)


# ------------------------------------------------------------------------------------------ balancing
@pytest.mark.unit
def test_ras_meets_margins_biproportionally():
    rng = np.random.default_rng(1)
    A = rng.uniform(0.1, 1, (6, 5))
    A[2, 3] = 0.0
    u = A.sum(axis=1) * rng.uniform(0.5, 1.5, 6)
    v = A.sum(axis=0)
    v = v / v.sum() * u.sum()
    X, info = ras(A, u, v)
    assert info.converged
    np.testing.assert_allclose(X.sum(axis=1), u, rtol=1e-10)
    np.testing.assert_allclose(X.sum(axis=0), v, rtol=1e-10)
    assert X[2, 3] == 0.0
    ratio = np.where(A > 0, X / np.where(A > 0, A, 1.0), np.nan)
    # X = diag(r) A diag(s): the ratios X/A have rank one
    cross = ratio * ratio[0, 0] - ratio[:, :1] * ratio[:1, :]
    assert np.nanmax(np.abs(cross)) < 1e-10


@pytest.mark.unit
def test_gras_reproduces_published_example():
    ex = pd.read_csv(DATA / "gras_example.csv", comment="#")
    A = np.zeros((3, 4))
    A[ex["row"], ex["col"]] = ex["prior"]
    X, info = gras(A, [15, 26, -1], [9, 16, 17, -2])
    assert info.converged
    np.testing.assert_allclose(X[ex["row"], ex["col"]], ex["balanced"], atol=2e-3)
    np.testing.assert_allclose(X.sum(axis=1), [15, 26, -1], atol=1e-9)
    assert ((X < 0) == (A < 0)).all()


@pytest.mark.unit
def test_ipf_with_row_and_column_margins_is_ras():
    rng = np.random.default_rng(2)
    A = rng.uniform(0.1, 1, (4, 3))
    u, v = np.array([1.0, 2.0, 3.0, 4.0]), np.array([5.0, 2.0, 3.0])
    arrays = {"X": A.copy()}

    def rows(ar, f):
        ar["X"] *= f[:, None]

    def cols(ar, f):
        ar["X"] *= f[None, :]

    info = ipf(arrays, [Margin("rows", u, lambda ar: ar["X"].sum(axis=1), rows), Margin("cols", v, lambda ar: ar["X"].sum(axis=0), cols)])
    X, _ = ras(A, u, v)
    assert info.converged
    np.testing.assert_allclose(arrays["X"], X, rtol=1e-9)


# ------------------------------------------------------------------------------------------ concordance
@pytest.mark.unit
def test_bridge_groups_partition_both_classifications():
    df = concordance.wiod_icio_concordance()
    assert sorted(set(df["wiod_sector"]), key=lambda s: int(s[1:])) == [f"c{k}" for k in range(1, 36)]
    assert df["icio_sector"].nunique() == 28
    assert df.groupby("wiod_sector")["bridge"].nunique().max() == 1
    assert df.groupby("icio_sector")["bridge"].nunique().max() == 1
    assert len(concordance.GROUPS) == 16
    G = concordance.indicator([f"c{k}" for k in range(1, 36)], concordance.bridge_of_wiod())
    assert (G.sum(axis=1) == 1).all() and G[:, -1].sum() == 19


# ------------------------------------------------------------------------------------------ mappings, groups
@pytest.mark.unit
def test_country_groups_of_2011():
    g = country_groups(2011)
    assert len(g["ASEAN"]) == 10 and len(g["EastAsia"]) == 15 and len(g["RCEP"]) == 15 and len(g["ASEAN+3"]) == 13
    assert len(g["EU"]) == 27 and "GBR" in g["EU"] and "HRV" not in g["EU"]
    later = country_groups(2021)["EU"]
    assert "GBR" not in later and "HRV" in later
    assert to_iso3(["ROM", "Viet Nam", "Korea, Republic of"]) == ["ROU", "VNM", "KOR"]


@pytest.mark.unit
def test_mapping_files_toml_and_csv(tmp_path):
    toml = tmp_path / "m.toml"
    toml.write_text('[regions]\nCHN = ["CHN"]\nASEAN = ["@ASEAN"]\nROW = ["*"]\n[sectors]\ngoods = ["a"]\n')
    sources = ["CHN", "THA", "VNM", "USA", "DEU"]
    m = read_mapping(toml, table="regions", sources=sources)
    assert m == {"CHN": "CHN", "THA": "ASEAN", "VNM": "ASEAN", "USA": "ROW", "DEU": "ROW"}
    assert m.targets == ["CHN", "ASEAN", "ROW"]
    csv = tmp_path / "m.csv"
    csv.write_text("source,target\nc1,primary\nc2,primary\nc3,manufacturing\n")
    s = read_mapping(csv)
    assert s == {"c1": "primary", "c2": "primary", "c3": "manufacturing"} and s.targets == ["primary", "manufacturing"]
    with pytest.raises(ValueError, match="mapped to both"):
        mapping_from_spec({"A": ["THA"], "B": ["@ASEAN"]})
    with pytest.raises(ValueError, match="without a target"):
        mapping_from_spec({"A": ["THA"]}, sources=["THA", "USA"])


@pytest.mark.unit
def test_groups_on_aggregated_regions_flag_partial_members():
    mapping = mapping_from_spec({"XEA": ["HKG", "TWN", "KOR"], "ASEAN": ["@ASEAN"], "ROW": ["*"]}, sources=["HKG", "TWN", "KOR", "THA", "AUS", "USA"])
    groups, partial = groups_on(mapping, country_groups(2011))
    assert groups["EastAsia"] == ["XEA", "ASEAN"]
    assert groups["ASEAN"] == ["ASEAN"]
    assert "RCEP" not in groups and partial["RCEP"] == ["XEA", "ROW"]  # KOR and AUS are RCEP, HKG, TWN, USA not


# ------------------------------------------------------------------------------------------ aggregation
@pytest.mark.unit
def test_aggregate_keeps_balance_totals_and_cross_border_tariffs():
    b = random_benchmark(5, 4, seed=3)
    b.groups = {"G": ["R1", "R2"], "H": ["R2", "R3"]}
    regions = {"R1": "A", "R2": "A", "R3": "B", "R4": "C", "R5": "C"}
    sectors = {"S1": "X", "S2": "X", "S3": "Y", "S4": "Y"}
    a = aggregate(b, regions, sectors)
    assert (a.n_regions, a.n_sectors) == (3, 2)
    assert np.abs(a.costs - a.output).max() <= 1e-9 * a.output.max()
    assert a.output.sum() == pytest.approx(b.output.sum(), rel=1e-12)
    assert a.f_0.sum() == pytest.approx(b.f_0.sum(), rel=1e-12)
    # costs are unchanged region by region: inputs + tariffs + factor payments
    for tgt in ("A", "B", "C"):
        members = [k for k, r in enumerate(b.regions) if regions[r] == tgt]
        assert a.costs[a.regions.index(tgt)].sum() == pytest.approx(b.costs[members].sum(), rel=1e-12)
    # tariff revenue on flows that stay international is unchanged
    R = b.n_regions
    cross = np.array([[regions[b.regions[r]] != regions[b.regions[s]] for s in range(R)] for r in range(R)])
    rev_b = (np.einsum("risj,ris->rs", b.z_0, b.tariff_0[..., 0]) + np.einsum("risa,ris->rs", b.f_0, b.tariff_0[..., 1]))[cross].sum()
    assert a.tariff_revenue.sum() == pytest.approx(rev_b, rel=1e-10)
    assert a.groups == {"G": ["A"]}  # G = {R1, R2} is exactly A; H = {R2, R3} is split by A, so dropped
    assert a.employment.sum() == pytest.approx(b.employment.sum(), rel=1e-12)


# ------------------------------------------------------------------------------------------ table preparation, pymrio
@pytest.mark.unit
def test_prepare_table_removes_negative_inventories_without_changing_output():
    rng = np.random.default_rng(4)
    R, S = 2, 3
    Z = rng.uniform(0, 10, (R, S, R, S))
    F = rng.uniform(5, 20, (R, S, R, 2))
    F[0, 1, 1, 1] = -12.0  # an inventory drawdown
    table = prepare_table(["A", "B"], ["s1", "s2", "s3"], Z, F, ["CONS_h", "INVEN"], {"CONS_h": "household", "INVEN": "investment"})
    assert (table.F >= 0).all() and (table.va >= 0).all()
    np.testing.assert_allclose(table.sales, Z.sum(axis=(2, 3)) + F.sum(axis=(2, 3)), rtol=1e-12)
    assert table.balance_residual() < 1e-12
    assert any("negative final demand" in n for n in table.notes)


@pytest.mark.unit
def test_from_pymrio_with_explicit_final_demand_map():
    pymrio = pytest.importorskip("pymrio")
    from cge.sources.pymrio_io import default_final_demand_map, from_pymrio

    io = pymrio.load_test()
    categories = list(dict.fromkeys(io.Y.columns.get_level_values(1)))
    with pytest.raises(ValueError, match="Export"):
        default_final_demand_map(categories)
    fmap = {c: a for c, a in default_final_demand_map([c for c in categories if c != "Export"]).items()}
    fmap["Export"] = None
    bench = from_pymrio(io, fmap, labour_share=0.6, name="pymrio-test")
    assert (bench.n_regions, bench.n_sectors) == (6, 8)
    assert bench.agents == ["household", "government", "investment"]
    kept = [(r, c) for r in io.get_regions() for c in categories if c != "Export"]
    expected = io.Z.to_numpy().sum() + io.Y.loc[:, kept].to_numpy().sum()
    assert bench.output.sum() == pytest.approx(expected, rel=1e-12)
    assert bench.fp_0[..., 0].sum() == pytest.approx(0.6 * bench.fp_0.sum(), rel=1e-12)
    assert bench.metadata["final_demand_map"]["Export"] == "dropped"


# ------------------------------------------------------------------------------------------ raw sources
@pytest.mark.unit
@needs("wiod2013", "npz", "wiot_2011.npz")
def test_wiod_2011_reproduces_published_totals():
    from cge.sources.wiod import read_wiot

    w = read_wiot(2011)
    f = facts("source_facts.csv")
    assert w.Z.shape == (41, 35, 41, 35) and w.F.shape == (41, 35, 41, 5)
    assert w.regions[-1] == "ROW" and "ROU" in w.regions
    values = {
        "wiod_world_output_2011": w.x.sum() / 1e6,
        "wiod_world_value_added_2011": w.value_added.sum() / 1e6,
        "wiod_chn_output_2011": w.x[w.region_index("CHN")].sum() / 1e6,
        "wiod_jpn_output_2011": w.x[w.region_index("JPN")].sum() / 1e6,
        "wiod_idn_output_2011": w.x[w.region_index("IDN")].sum() / 1e6,
    }
    for k, v in values.items():
        print(f"{k}: {v:.3f} (published {f.loc[k, 'expected']})")
        assert v == pytest.approx(f.loc[k, "expected"], rel=f.loc[k, "rel_tolerance"])


@pytest.mark.unit
@needs("wiod2013_sea", "wiod_sea_2013release_wide.csv.gz")
def test_sea_employment_and_labour_shares():
    from cge.sources.sea import employment, labour_shares, read_sea

    s = read_sea()
    f = facts("source_facts.csv")
    chn = s.total("EMP", 2009)[s.countries.index("CHN")] / 1e3
    usa = s.total("EMP", 2009)[s.countries.index("USA")] / 1e3
    print(f"China 2009 employment: {chn:.2f} million persons")
    assert chn == pytest.approx(f.loc["sea_chn_employment_2009", "expected"], rel=1e-4)
    assert usa == pytest.approx(f.loc["sea_usa_employment_2009", "expected"], rel=1e-4)
    # sector rows add up to total industries where all sectors are reported
    emp = s.get("EMP", 2009)[s.countries.index("USA")]
    assert np.nansum(emp) == pytest.approx(usa * 1e3, rel=1e-3)
    ls = labour_shares(s, 2011)
    assert ls["share"].between(0, 1).all()
    assert set(ls.groupby("country")["year"].first()) == {2009, 2011}
    e = employment(s, 2011)
    assert e["persons"].isna().sum() == 4  # CHN c19, c35, IDN c19, KOR c35


@pytest.mark.unit
@needs("icio2023_trade_tariffs", "original_mat", "ICIO2022.mat")
def test_icio_cube_layout_and_published_checks():
    from cge.sources.icio_cubes import ELASTICITY_SOURCES, read_cube

    c = read_cube(2022)
    f = facts("icio_facts.csv")
    usa, chn, vnm, tha, jpn = (c.index(x) for x in ("USA", "CHN", "VNM", "THA", "JPN"))
    goods = slice(0, 27)

    def tariff(e, m):
        x = c.trade[e, goods, m]
        return 100 * (x * c.tariff[e, goods, m]).sum() / x.sum()

    values = {
        "world_total_2022": c.trade.sum() / 1e6,
        "usa_goods_purchases_from_chn_2022": c.trade[chn, goods, usa].sum() / 1e3,
        "chn_goods_purchases_from_usa_2022": c.trade[usa, goods, chn].sum() / 1e3,
        "usa_tariff_on_chn_goods_2022": tariff(chn, usa),
        "vnm_tariff_on_chn_goods_2022": tariff(chn, vnm),
        "tha_tariff_on_jpn_goods_2022": tariff(jpn, tha),
    }
    for k, v in values.items():
        assert v == pytest.approx(f.loc[k, "expected"], rel=f.loc[k, "rel_tolerance"]), k
    assert (c.tariff[:, c.sectors.index(c.services_sector), :] == 0).all()
    assert (np.einsum("eke->ek", c.tariff) == 0).all()
    assert sorted(c.sigma) == sorted(ELASTICITY_SOURCES)
    for src in c.sigma:
        np.testing.assert_allclose(c.sigma[src], c.epsilon[src] + 1.0, rtol=1e-6)
    assert all(ASEAN in c.countries for ASEAN in country_groups()["ASEAN"])


@pytest.mark.unit
@needs("icio2023_trade_tariffs", "original_mat", "WIOD2011.mat")
def test_wiod_cube_reads():
    from cge.sources.icio_cubes import read_cube

    c = read_cube(2011, "WIOD")
    assert len(c.countries) == 44 and len(c.sectors) == 16
    assert c.trade.shape == (44, 16, 44)
    # world gross output of the WIOD 2016 release in 2011 is of the same order as the 2013 release's
    assert 120 < c.trade.sum() / 1e6 < 160
