"""Run folders (one folder per scenario, a manifest, tidy results as CSV and Parquet, progress over
every phase) and the HTML report, checked in a real browser (headless Chromium)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cge
from cge import report
from cge.experiment import RunProgress, run_spec
from cge.scenario import load_spec

DATA = Path(__file__).resolve().parent / "data"
SPECS = DATA / "specs"
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None)
CHROMEDRIVER = shutil.which("chromedriver")

SWEEP = f"""title = "Toy: faster borders"
benchmark = "{DATA / 'toy'}"
[model]
backend = "fast"
[output]
decomposition_steps = 2
[sector_groups]
goods = ["primary", "electronics"]
[[scenario]]
name = "borders"
description = "Imports of goods by ASEAN cost less, by days saved at the border."
sweep = {{ values = [0.979, 0.958], labels = [1, 2], label = "days" }}
[[scenario.shock]]
instrument = "iceberg"
importers = "ASEAN"
sectors = "goods"
op = "scale"
value = 1.0
"""


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "toy"
    done = run_spec(SPECS / "toy.toml", out, progress=RunProgress(show=False))
    return out, done


@pytest.fixture(scope="module")
def sweep_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    spec = folder / "borders.toml"
    spec.write_text(SWEEP)
    return folder / "out", run_spec(spec, folder / "out", progress=False)


# ------------------------------------------------------------------------------------- run folders
@pytest.mark.solver
def test_run_folder_has_a_folder_per_scenario_and_a_manifest(toy_run):
    out, done = toy_run
    top = sorted(p.name for p in out.iterdir())
    assert top == ["asia_fta", "asia_fta_fixed_wage", "facilitation", "figures", "manifest.json", "metadata.json", "report.html",
                   "results.csv", "results.parquet", "welfare.csv", "welfare.md", "welfare.tex"]
    assert sorted(p.name for p in (out / "asia_fta").iterdir()) == [
        "decomposition.csv", "decomposition.md", "decomposition.tex", "employment.csv", "employment.md", "employment.tex",
        "employment_regions.csv", "employment_regions.md", "employment_regions.tex", "figures", "gvc.csv"]
    manifest = json.loads((out / "manifest.json").read_text())
    files = {e["path"]: e for e in manifest["files"]}
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(files) == on_disk == {p.relative_to(out).as_posix() for p in done["files"]} - {"manifest.json"}
    assert all(e["size"] == (out / e["path"]).stat().st_size for e in files.values())
    assert files["report.html"]["kind"] == "report" and files["results.parquet"]["kind"] == "data"
    assert files["results.csv"]["kind"] == "data" and files["metadata.json"]["kind"] == "metadata"
    assert files["asia_fta/figures/employment.svg"] == {"path": "asia_fta/figures/employment.svg", "kind": "figure", "format": "svg",
                                                         "scenario": "asia_fta", "size": files["asia_fta/figures/employment.svg"]["size"]}
    assert files["welfare.tex"]["scenario"] == "" and files["facilitation/gvc.csv"]["scenario"] == "facilitation"


@pytest.mark.solver
def test_progress_covers_every_phase(toy_run):
    _, done = toy_run
    events = done["progress"].events
    phases = list(dict.fromkeys(p for p, _ in events))
    assert phases == ["solve", "decompose", "gvc", "tables", "figures", "report"]
    names = ["asia_fta", "facilitation", "asia_fta_fixed_wage"]
    for phase in ("solve", "decompose", "gvc"):
        assert [item for p, item in events if p == phase] == names
    assert [item for p, item in events if p == "figures"] == ["welfare"] + [f"{n}: employment" for n in names] + [f"{n}: gvc" for n in names]


@pytest.mark.solver
def test_results_csv_holds_every_variable_and_equals_the_api(toy_run):
    out, done = toy_run
    tidy = pd.read_csv(out / "results.csv", keep_default_na=False, na_values={"value": [""]})  # empty sector: "" (not NaN)
    assert list(tidy.columns) == list(cge.Results.TIDY_COLUMNS)
    variables = set(tidy["variable"])
    expected = {
        "welfare_ev", "welfare_ev_pct", "welfare_terms_of_trade", "welfare_tariff_efficiency", "welfare_trade_costs",
        "welfare_employment", "welfare_transfer", "welfare_residual", "employment", "employment_pct", "wage", "real_wage",
        "factor_price_labour", "output_pct", "price", "exports_value", "exports_pct", "tariff_revenue", "tariff_revenue_route",
        "output_tax_revenue", "real_gdp_pct", "va_exports_value", "va_exports_pct", "gvc_participation_backward_wwyz",
        "gvc_participation_backward_wwyz_change", "dva_share_exports", "intra_group_trade_share_change",
    }
    assert expected <= variables, expected - variables
    assert not tidy["unit"].isna().any()
    assert set(tidy["scenario"]) == {"asia_fta", "facilitation", "asia_fta_fixed_wage"}
    parquet = pd.read_parquet(out / "results.parquet")
    pd.testing.assert_frame_equal(parquet, tidy, check_exact=False, rtol=1e-15)
    for name, res in done["results"].items():
        rows = tidy[tidy.scenario == name]

        def value(variable, region, sector="", partner=""):
            hit = rows[(rows.variable == variable) & (rows.region == region) & (rows.sector == sector) & (rows.partner == partner)]
            assert len(hit) == 1, (name, variable, region)
            return hit["value"].iloc[0]

        w = res.welfare()
        assert value("welfare_ev", "World") == pytest.approx(w.loc["World", "ev"], rel=1e-14)
        assert value("welfare_ev_pct", "ASEAN") == pytest.approx(w.loc["ASEAN", "ev_pct"], rel=1e-14)
        assert value("welfare_terms_of_trade", "China") == pytest.approx(w.loc["China", "terms_of_trade"], rel=1e-14)
        assert value("employment", "ASEAN", "electronics") == pytest.approx(res.employment().loc[("ASEAN", "electronics"), "persons"], rel=1e-14)
        assert value("exports_value", "China", "electronics", "ASEAN") == pytest.approx(
            res.trade().loc[("China", "electronics", "ASEAN"), "value"], rel=1e-14)
        g = res.gvc().set_index(["indicator", "region"])
        assert value("gvc_participation_backward_wwyz_change", "ASEAN") == pytest.approx(
            g.loc[("gvc_participation_backward_wwyz", "ASEAN"), "change"], rel=1e-14)
        api = res.tidy(gvc=True)
        assert len(rows) == len(api)


@pytest.mark.solver
def test_sweep_files_are_named_by_the_swept_quantity(sweep_run):
    out, done = sweep_run
    assert {p.name for p in out.iterdir() if p.is_dir()} == {"borders_1_days", "borders_2_days", "figures"}
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["scenarios"]["borders[2]"]["label"] == "borders: 2 days" and meta["scenarios"]["borders[2]"]["folder"] == "borders_2_days"
    assert "borders: 2 days" in (out / "welfare.md").read_text()
    assert "borders: 1 days: EV decomposition" in (out / "borders_1_days" / "decomposition.md").read_text()
    tidy = pd.read_csv(out / "results.csv")
    assert set(tidy["scenario"]) == {"borders[1]", "borders[2]"}


# ------------------------------------------------------------------------------------- the report
@pytest.mark.solver
def test_report_is_one_self_contained_file(toy_run, tmp_path):
    out, _ = toy_run
    text = (out / "report.html").read_text()
    assert "src='data:image/svg+xml;base64," in text and text.count("<figure") == 1 + 3 * 3
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text  # nothing fetched
    assert "<script src" not in text and "<link" not in text
    assert text.count("<table class='sortable'") == 1 + 3 * 4 + 1
    assert "solve_seconds" not in text and "&quot;max_residual&quot;" in text  # metadata.json, timings left out
    # rebuilt from the folder's files alone, in a copy elsewhere: the same page
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    proc = subprocess.run([sys.executable, "-m", "cge", "report", str(copy)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(str(copy / "report.html"))
    assert (copy / "report.html").read_text() == text
    manifest = {e["path"]: e for e in json.loads((copy / "manifest.json").read_text())["files"]}
    assert manifest["report.html"]["size"] == (copy / "report.html").stat().st_size


@pytest.mark.unit
def test_report_of_a_folder_that_is_not_a_run_is_one_error_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "cge", "report", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.strip() == f"error: {tmp_path}: not a results folder of `cge run` (it needs metadata.json and results.csv)"
    with pytest.raises(report.ReportError, match="no such folder"):
        report.build_report(tmp_path / "nowhere")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("headless Chromium not installed (scripts/setup.sh installs Debian's chromium and chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (test extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.mark.solver
def test_report_renders_sorts_and_links_in_a_browser(toy_run, browser):
    """Chromium loads report.html; its script ran, figures decoded, a click sorts a table, the viewer
    redraws for another region, and every intra-page link lands on its target."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    out, done = toy_run
    browser.get((out / "report.html").as_uri())
    body = browser.find_element(By.TAG_NAME, "body")
    assert body.get_attribute("data-ready") == "true", browser.get_log("browser") if hasattr(browser, "get_log") else ""
    # figures: every embedded SVG decoded to an image with a size
    images = browser.find_elements(By.CSS_SELECTOR, "figure img")
    assert len(images) == 10
    for img in images:
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 100, img.get_attribute("alt")
    # tables: the welfare table shows every region, World last; a click on a header sorts by it
    table = browser.find_element(By.ID, "welfare-table")
    regions = [r.find_elements(By.TAG_NAME, "td")[0].text for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert regions == ["ASEAN", "China", "RoW", "World"]
    header = table.find_elements(By.CSS_SELECTOR, "thead th")[1]  # first scenario's EV %
    header.click()
    ev = done["welfare"]["asia_fta"]["ev_pct"]
    assert table.get_attribute("data-sorted-by") == "1" and table.get_attribute("data-sort-dir") == "descending"
    assert header.get_attribute("aria-sort") == "descending"
    shown = [r.find_elements(By.TAG_NAME, "td")[0].text for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert shown == list(ev.sort_values(ascending=False).index)
    header.click()
    shown = [r.find_elements(By.TAG_NAME, "td")[0].text for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert shown == list(ev.sort_values(ascending=True).index) and table.get_attribute("data-sort-dir") == "ascending"
    # the decomposition viewer: bars for every term, redrawn for the region chosen
    viewer = browser.find_element(By.ID, "sc-asia_fta-viewer")
    assert viewer.get_attribute("data-region") == "ASEAN"
    w = done["results"]["asia_fta"].welfare()
    bars = viewer.find_elements(By.CSS_SELECTOR, ".bar")
    assert len(bars) == len(report.TERMS)
    Select(viewer.find_element(By.TAG_NAME, "select")).select_by_visible_text("China")
    assert viewer.get_attribute("data-region") == "China"
    values = [float(b.get_attribute("data-value")) for b in viewer.find_elements(By.CSS_SELECTOR, ".bar")]
    np.testing.assert_allclose(values, w.loc["China", list(report.TERMS)].to_numpy(dtype=float), rtol=1e-12, atol=1e-12)
    widths = [b.size["width"] for b in viewer.find_elements(By.CSS_SELECTOR, ".bar")]
    assert widths[int(np.argmax(np.abs(values)))] == max(widths) > 50
    assert "China: EV" in viewer.find_element(By.CSS_SELECTOR, ".decomp-total").text
    # intra-page links: each has its target, and following it brings the target to the top of the window
    links = browser.find_elements(By.CSS_SELECTOR, "a[href^='#']")
    targets = [a.get_attribute("href").split("#", 1)[1] for a in links]
    assert len(targets) >= 4 + 3 * 6
    missing = [t for t in targets if not browser.find_elements(By.ID, t)]
    assert missing == []
    for link_text, target in (("facilitation", "sc-facilitation"), ("Metadata", "metadata")):
        browser.execute_script("window.scrollTo(0, 0)")
        browser.find_element(By.CSS_SELECTOR, f"nav a[href='#{target}']").click()
        assert browser.execute_script("return location.hash") == f"#{target}"
        top = browser.execute_script("return document.getElementById(arguments[0]).getBoundingClientRect().top", target)
        assert abs(top) < 5, (link_text, top)
    # metadata shown, with the run's numbers
    meta = browser.find_element(By.ID, "metadata").text
    assert load_spec(SPECS / "toy.toml").title in browser.title and done["benchmark"].hash() in meta
