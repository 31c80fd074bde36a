"""Agreements as data (cge/data/agreements) and the MFN tariffs and preference margins derived from the cube.

Tests that read raw data skip with a clear reason when ../shared/data is absent.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from cge import datasets
from cge import agreements as A
from cge.sources import ENV_VAR, has_shared_data, shared_data_dir

ASEAN_PLUS_ONE = {"ACFTA": "CHN", "AKFTA": "KOR", "AJCEP": "JPN", "AIFTA": "IND"}


def needs(*parts: str):
    return pytest.mark.skipif(
        not has_shared_data(*parts),
        reason=f"raw data {'/'.join(parts)} not found under {shared_data_dir()} (set ${ENV_VAR} to the shared data folder)",
    )


needs_cube = needs("icio2023_trade_tariffs", "original_mat", "ICIO2011.mat")
needs_rta = needs(A.RTA_FOLDER, "wto_rta_allrtas.csv")


@pytest.fixture(scope="module")
def margins_2011():
    if not (has_shared_data("icio2023_trade_tariffs", "original_mat", "ICIO2011.mat") and has_shared_data(A.RTA_FOLDER, "wto_rta_allrtas.csv")):
        pytest.skip(f"raw data not found under {shared_data_dir()}")
    bench = datasets.load("eastasia-2011")
    return bench, A.preference_margins(bench)


# ------------------------------------------------------------------------------------------ the tables
@pytest.mark.unit
def test_shipped_rules_of_origin_are_those_of_the_legal_texts():
    r = A.rules().set_index("agreement")
    for a in ("ATIGA", "ACFTA", "AKFTA", "AJCEP", "AANZFTA", "RCEP"):
        assert r.loc[a, "rvc_pct"] == 40
        assert not r.loc[a, "ctsh_required"]
        assert r.loc[a, "cth_alternative"]
        assert r.loc[a, "cumulation"] == "agreement"
        assert r.loc[a, "roo_source"]
    assert r.loc["AIFTA", "rvc_pct"] == 35
    assert r.loc["AIFTA", "ctsh_required"] and not r.loc["AIFTA", "cth_alternative"]


@pytest.mark.unit
def test_members_and_entry_into_force():
    df = A.load()
    eif = df.set_index(["agreement", "member"])["entry_into_force"]
    assert eif["ATIGA", "THA"] == pd.Timestamp("2010-05-17")
    assert eif["ACFTA", "CHN"] == pd.Timestamp("2005-01-01")
    assert eif["AJCEP", "THA"] == pd.Timestamp("2009-06-01")  # member-specific date of the WTO data
    assert eif["AANZFTA", "IDN"] == pd.Timestamp("2012-01-10")
    assert eif["JPN-THA", "JPN"] == pd.Timestamp("2007-11-01")
    rcep = df[df["agreement"] == "RCEP"].set_index("member")["entry_into_force"]
    assert len(rcep) == 14 and "MMR" not in rcep.index
    assert rcep["CHN"] == pd.Timestamp("2022-01-01") and rcep["KOR"] == pd.Timestamp("2022-02-01")
    assert rcep["MYS"] == pd.Timestamp("2022-03-18") and rcep["IDN"] == pd.Timestamp("2023-01-02")
    assert rcep["PHL"] == pd.Timestamp("2023-06-02")
    assert df["source"].str.len().min() > 0
    # every ASEAN+1 agreement: the ten ASEAN members and its partner(s)
    for a, partner in ASEAN_PLUS_ONE.items():
        assert set(df.loc[df["agreement"] == a, "member"]) == set(A.ASEAN) | {partner}


@pytest.mark.unit
def test_in_force_by_year():
    y2011 = A.in_force(2011)
    assert "RCEP" not in set(y2011["agreement"])
    assert "IDN" not in set(y2011.loc[y2011["agreement"] == "AANZFTA", "member"])
    assert set(A.in_force(2022).loc[lambda d: d["agreement"] == "RCEP", "member"]) == {
        "AUS", "BRN", "CHN", "JPN", "KHM", "LAO", "NZL", "SGP", "THA", "VNM", "KOR", "MYS"
    }
    assert "AFTA-CEPT" not in set(A.in_force(2011)["agreement"])


@pytest.mark.unit
@pytest.mark.parametrize(
    "file, column, value, message",
    [
        ("agreements.csv", "rvc_pct", "140", "row 2 (ATIGA), column 'rvc_pct'"),
        ("agreements.csv", "cumulation", "diagonal", "row 2 (ATIGA), column 'cumulation'"),
        ("agreements.csv", "roo_source", "", "row 2 (ATIGA), column 'roo_source'"),
        ("members.csv", "entry_into_force", "2010-13-01", "row 2 (ATIGA), column 'entry_into_force'"),
        ("members.csv", "member", "Thailand", "row 2 (ATIGA), column 'member'"),
        ("members.csv", "agreement", "NOPE", "row 2 (NOPE), column 'agreement'"),
    ],
)
def test_errors_name_the_row_and_column(tmp_path, file, column, value, message):
    for f in ("agreements.csv", "members.csv"):
        shutil.copy(A.DATA / f, tmp_path / f)
    df = pd.read_csv(tmp_path / file, dtype=str, keep_default_na=False)
    df.loc[0, column] = value
    df.to_csv(tmp_path / file, index=False)
    with pytest.raises(A.AgreementDataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        A.load(tmp_path)


@pytest.mark.unit
def test_specific_dates_are_parsed():
    assert A._specific_dates("01-Jun-2009 - ") == ("2009-06-01", "")
    assert A._specific_dates("01-Jan-9999 - ") == ("", "")
    assert A._specific_dates("") == ("", "")


@pytest.mark.unit
@needs(A.RTA_FOLDER, "rta_members_target.csv")
def test_shipped_members_are_what_the_wto_data_give():
    shipped = pd.read_csv(A.DATA / "members.csv", dtype=str, keep_default_na=False)
    wto = shipped[shipped["source"].str.startswith("WTO")].reset_index(drop=True)
    derived = A.derive_members().fillna("")
    pd.testing.assert_frame_equal(wto, derived.astype(str))


@pytest.mark.unit
@needs_rta
def test_pairs_in_force_2011():
    pairs = A.pairs_in_force(2011)
    assert frozenset(("THA", "JPN")) in pairs and frozenset(("CHN", "IDN")) in pairs
    assert frozenset(("KOR", "DEU")) in pairs  # EU-Korea, in force 1 July 2011, the EU expanded
    assert frozenset(("CHN", "USA")) not in pairs and frozenset(("JPN", "USA")) not in pairs
    assert frozenset(("KOR", "USA")) not in pairs  # KORUS: 15 March 2012
    assert frozenset(("CHN", "JPN")) not in A.pairs_in_force(2021)
    assert frozenset(("CHN", "JPN")) in A.pairs_in_force(2022)  # RCEP, from members.csv


# ------------------------------------------------------------------------------------------ MFN and margins
@pytest.mark.unit
def test_applied_equals_the_benchmark_tariffs(margins_2011):
    """The route averages use the benchmark's own weights: applied = tariff_0 up to each importer's collection rate."""
    bench, m = margins_2011
    t = bench.tariff_0[..., 0]
    ri, si = {r: k for k, r in enumerate(bench.regions)}, {s: k for k, s in enumerate(bench.sectors)}
    bt = t[m["exporter"].map(ri), m["commodity"].map(si), m["importer"].map(ri)]
    pos = m["applied"] > 0
    ratio = pd.Series(bt[pos] / m["applied"][pos].to_numpy()).groupby(m["importer"][pos].to_numpy())
    spread = ratio.max() - ratio.min()
    assert spread.max() < 1e-12  # one factor per importer
    scaled = set(ratio.mean()[(ratio.mean() - 1).abs() > 1e-9].index)
    assert scaled == {"CHN", "IDN", "THA", "USA"}  # the importers with collected duties below applied revenue (section 3b)


@pytest.mark.unit
def test_margins_are_mfn_minus_applied_floored(margins_2011):
    _, m = margins_2011
    assert (m["margin"] >= 0).all()
    assert (m["margin"] >= m["mfn"] - m["applied"] - 1e-12).all()
    services = m["commodity"].isin(["utilities_construction", "trade_transport", "business_finance", "public_other_services"])
    assert (m.loc[services, ["applied", "mfn", "margin"]] == 0).all().all()
    # no agreement: no margin worth the name (China -> USA, Japan -> USA in 2011)
    for r in ("CHN", "JPN"):
        route = m[(m["exporter"] == r) & (m["importer"] == "USA")]
        assert route["agreements"].eq("").all()
        assert (route["margin"] < 1e-6).all()
    ea = m[(m["exporter"] == "THA") & (m["importer"] == "CHN") & (m["commodity"] == "electrical_optical")].iloc[0]
    assert "ACFTA" in ea["agreements"].split() and ea["margin"] > 0.01


@pytest.mark.unit
@needs_cube
@needs_rta
def test_mfn_is_the_common_rate_on_non_partners():
    """Every non-partner exporter of an importer-sector faces one rate in the cube: the mode is the MFN rate."""
    b, cube, T, MC, MK, unions, year = A._cube_and_benchmark("eastasia-2011")
    tab = A.country_mfn(cube, T, A.pairs_in_force(year), unions)
    east = tab[tab["importer"].isin(["CHN", "JPN", "KOR", "THA", "IDN", "MYS", "PHL", "VNM", "IND", "USA"]) & (tab["sector"] != cube.services_sector)]
    assert (east["method"] == "mode").all()
    assert east["share_at_mode"].median() > 0.9
    mfn = tab.set_index(["importer", "sector"])["mfn"]
    assert mfn["USA", "C26"] == pytest.approx(0.02067, abs=5e-6)
    assert mfn["CHN", "C26"] == pytest.approx(0.09493, abs=5e-6)
    assert mfn["THA", "C13T15"] == pytest.approx(0.19871, abs=5e-6)


@pytest.mark.unit
@needs_cube
@needs_rta
def test_margins_by_agreement_2011():
    out = A.margins_by_agreement("eastasia-2011", ["ATIGA", "ACFTA", "AIFTA", "RCEP"]).set_index(["agreement", "direction"])
    assert "RCEP" not in out.index.get_level_values(0)  # not in force in 2011
    assert out.loc[("ATIGA", "all"), "pairs"] == 90
    assert out.loc[("ACFTA", "all"), "pairs"] == 20  # ASEAN <-> China only
    assert (out["margin"] > 0).all() and (out["margin"] <= out["mfn"]).all()
    assert np.isclose(out.loc[("ACFTA", "all"), "trade"], out.loc[("ACFTA", "from ASEAN"), "trade"] + out.loc[("ACFTA", "to ASEAN"), "trade"])


@pytest.mark.unit
def test_stored_margins_need_no_raw_data():
    m = A.stored_margins("eastasia-2011")
    assert m.attrs["tariff_year"] == 2011 and A.stored_margins("eastasia-2022").attrs["tariff_year"] == 2021
    assert list(m.columns) == ["exporter", "commodity", "importer", "applied", "mfn", "margin", "trade", "agreements"]
    assert (m["margin"] >= 0).all() and (m["exporter"] != m["importer"]).all()
    with pytest.raises(FileNotFoundError, match="stored"):
        A.stored_margins("eastasia-small")


@pytest.mark.unit
def test_stored_margins_are_what_the_raw_data_give(margins_2011):
    _, m = margins_2011
    m = m[(m["mfn"] > 0) | (m["applied"] > 0)].reset_index(drop=True)
    s = A.stored_margins("eastasia-2011")
    assert (s[["exporter", "commodity", "importer", "agreements"]] == m[["exporter", "commodity", "importer", "agreements"]]).all().all()
    for c in ("applied", "mfn", "margin", "trade"):
        np.testing.assert_allclose(s[c], m[c], rtol=1e-9, atol=1e-12)
