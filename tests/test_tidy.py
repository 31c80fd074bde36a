"""Tidy results: one long frame holding every reported variable, equal to the API's numbers; the
counterfactual table as a pymrio IOSystem."""

import numpy as np
import pandas as pd
import pytest

import cge
from cge.gvc import vax

VARIABLES = {
    "welfare_ev", "welfare_ev_pct", "welfare_terms_of_trade", "welfare_tariff_efficiency", "welfare_output_tax_efficiency",
    "welfare_trade_costs", "welfare_employment", "welfare_labour_reallocation", "welfare_transfer", "welfare_residual",
    "output_pct", "price", "factor_price_labour", "factor_price_capital", "employment", "employment_pct", "wage", "real_wage",
    "real_gdp_pct", "tariff_revenue", "tariff_revenue_route", "output_tax_revenue", "exports_value", "exports_pct",
    "va_exports_value", "va_exports_pct", "gvc_participation_backward_wwyz", "gvc_participation_backward_wwyz_benchmark",
    "gvc_participation_backward_wwyz_change", "intra_group_trade_share", "vax_ratio_change",
}


@pytest.fixture(scope="module")
def cut(toy):
    half = toy.tariff_0 * 0.5
    return cge.Model(toy, backend="fast").solve(cge.Scenario(tariff=half, name="half"), decompose=2)


def _value(df, variable, region, sector="", partner=""):
    row = df[(df.variable == variable) & (df.region == region) & (df.sector == sector) & (df.partner == partner)]
    assert len(row) == 1, (variable, region, sector, partner, len(row))
    return row["value"].iloc[0]


@pytest.mark.solver
def test_tidy_holds_every_variable_with_units(cut):
    df = cut.tidy(gvc=True)
    assert tuple(df.columns) == cge.Results.TIDY_COLUMNS
    assert VARIABLES <= set(df["variable"])
    assert not df["unit"].isna().any() and (df["unit"] != "").all()
    units = df.groupby("variable")["unit"].first()
    assert units["welfare_ev"] == units["va_exports_value"] == units["tariff_revenue_route"] == cut.unit
    assert units["welfare_ev_pct"] == "% of income" and units["employment"] == "persons" and units["wage"] == "index"
    assert units["gvc_participation_backward_wwyz_change"] == "pp"
    assert not df.duplicated(["variable", "region", "sector", "partner"]).any()


@pytest.mark.solver
def test_tidy_values_equal_the_api(cut, toy):
    df = cut.tidy(gvc=True)
    w = cut.welfare()
    assert _value(df, "welfare_ev", "World") == w.loc["World", "ev"]
    assert _value(df, "welfare_terms_of_trade", "ASEAN") == w.loc["ASEAN", "terms_of_trade"]
    e = cut.employment()
    assert _value(df, "wage", "China", "electronics") == e.loc[("China", "electronics"), "wage"]
    assert _value(df, "employment", "ASEAN", "primary") == e.loc[("ASEAN", "primary"), "persons"]
    tr = cut.trade()
    assert _value(df, "exports_value", "China", "electronics", "ASEAN") == tr.loc[("China", "electronics", "ASEAN"), "value"]
    # tariff revenue by route adds up to each importer's revenue
    route = df[df.variable == "tariff_revenue_route"].groupby("partner")["value"].sum()
    total = df[df.variable == "tariff_revenue"].set_index("region")["value"]
    np.testing.assert_allclose(route.reindex(total.index, fill_value=0.0), total, rtol=1e-12)
    # value added absorbed abroad, by route: Johnson-Noguera bilateral VAX of the two tables
    for table, variable in ((cut.mrio(), "va_exports_value"),):
        bil = vax(table.to_mrio(), "bilateral")["VAX"]
        got = df[df.variable == variable].groupby(["region", "partner"])["value"].sum()
        np.testing.assert_allclose(got.to_numpy(), bil.loc[got.index].to_numpy(), rtol=1e-10)
    before = vax(toy.to_mrio(), "bilateral")["VAX"].loc[("ASEAN", "China")]
    after = vax(cut.mrio().to_mrio(), "bilateral")["VAX"].loc[("ASEAN", "China")]
    va = df[(df.variable == "va_exports_value") & (df.region == "ASEAN") & (df.partner == "China")]["value"].sum()
    assert va == pytest.approx(after, rel=1e-10) and va != pytest.approx(before, rel=1e-6)
    g = cut.gvc()
    row = g[(g.indicator == "gvc_participation_backward_wwyz") & (g.region == "ASEAN")].iloc[0]
    assert _value(df, "gvc_participation_backward_wwyz_change", "ASEAN") == row["change"]
    assert _value(df, "gvc_participation_backward_wwyz_benchmark", "ASEAN") == row["benchmark"]


@pytest.mark.solver
def test_to_pymrio_is_the_counterfactual_table(cut):
    io = cut.to_pymrio()
    table = cut.mrio().to_mrio()
    np.testing.assert_allclose(io.Z.to_numpy(), table.Z, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(io.Y.T.groupby(level="region", sort=False).sum().T.to_numpy(), table.Y, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(io.x.to_numpy().ravel(), table.x, rtol=1e-12)
    assert list(io.Z.index.names) == ["region", "sector"] and list(io.Y.columns.names) == ["region", "category"]
    payments = io.factor_inputs.F
    np.testing.assert_allclose(payments.sum(axis=0).to_numpy(), cut.mrio().fp_0.sum(axis=2).reshape(-1), rtol=1e-12)
    io.calc_all()  # pymrio's own algebra works on it: output from the Leontief inverse
    np.testing.assert_allclose((io.L.to_numpy() @ io.Y.sum(axis=1).to_numpy()), table.x, rtol=1e-8)
    assert isinstance(io.Z, pd.DataFrame)
