"""From results to a paper: tables (labels, precision, LaTeX that compiles), figures (order, totals set
apart, colour scales, real text), the results notebook from its own folder, version and citation."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

import cge
from cge import figstyle, figures, tables
from cge.experiment import git_commit, run_spec

ROOT = Path(__file__).resolve().parents[1]
SPECS = Path(__file__).resolve().parent / "data" / "specs"
PDFLATEX = shutil.which("pdflatex")
NASTY = "US$ 5% R&D #1 rcep_facilitation {x} ~a ^b back\\slash <a|b>"


# ------------------------------------------------------------------------------------- LaTeX
def _unescaped(tex: str) -> list:
    """Special characters of LaTeX text mode that are not escaped (outside commands we write)."""
    bad = []
    for line in tex.splitlines():
        body = re.sub(r"\\label\{[^}]*\}", "", line)  # labels are keys, not text
        body = re.sub(r"\\(textbackslash|textasciitilde|textasciicircum|textless|textgreater|textbar)\{\}", "", body)
        body = re.sub(r"\\[%$#_&{}]", "", body)
        body = body.replace("$-$", "")
        body = re.sub(r"\\[a-zA-Z]+(\[[^\]]*\])?", "", body)  # commands such as \multicolumn, \cmidrule(lr)
        body = re.sub(r"[{}]", "", body)  # arguments of those commands
        body = body.replace(r"\\", "")
        bad += [c for c in body if c in "%$#_~^\\<>|"]
    return bad


def _balanced(tex: str) -> bool:
    depth = 0
    for m in re.finditer(r"(?<!\\)[{}]|\\\\|\\[{}]", tex):
        tok = m.group()
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _compile(tex_files: list, folder: Path) -> subprocess.CompletedProcess:
    inputs = "\n".join(rf"\input{{{Path(f).as_posix()}}}\clearpage" for f in tex_files)
    doc = folder / "doc.tex"
    doc.write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n\\usepackage{longtable}\n"
        f"\\begin{{document}}\n{inputs}\n\\end{{document}}\n"
    )
    return subprocess.run([PDFLATEX, "-draftmode", "-halt-on-error", "-interaction=nonstopmode", doc.name],
                          cwd=folder, capture_output=True, text=True, timeout=120)


@pytest.mark.unit
def test_latex_escape_and_number_format():
    assert tables.latex_escape("US$ 5% a_b & #1") == r"US\$ 5\% a\_b \& \#1"
    assert tables.latex_escape("{x}~^\\") == r"\{x\}\textasciitilde{}\textasciicircum{}\textbackslash{}"
    assert tables.format_number(-0.0004, 2) == "0.00" and tables.format_number(-0.004, 3) == "-0.004"
    assert tables.format_number(-1234567.49, 0) == "-1,234,567"
    assert tables.format_number(np.bool_(True), None) == "yes" and tables.format_number(float("nan"), 2) == ""


@pytest.mark.unit
def test_latex_of_nasty_labels_is_escaped_and_balanced(tmp_path):
    df = pd.DataFrame({(NASTY, "ev_pct"): [1.23456, -0.0001], (NASTY, "ev"): [-10226.3679, 54.982]}, index=pd.Index(["A_B", "World"], name="region"))
    df.columns.names = ["scenario", "variable"]
    df.attrs["unit"] = "US$ million"
    tex = tables.to_latex(df, caption=NASTY, label_="tab:x_y")
    assert _balanced(tex) and not _unescaped(tex), _unescaped(tex)
    assert r"US\$ million" in tex and r"rcep\_facilitation" in tex and r"5\%" in tex
    assert "$-$10,226.4" in tex and "0.00 &" in tex and "-0.00" not in tex  # precision per variable, no -0
    if PDFLATEX:
        (tmp_path / "t.tex").write_text(tex)
        proc = _compile(["t.tex"], tmp_path)
        assert proc.returncode == 0, proc.stdout[-2000:]


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("toy_run")
    done = run_spec(SPECS / "toy.toml", out, progress=False)
    return out, done


@pytest.mark.solver
def test_tables_of_a_run_have_one_header_labels_and_fixed_precision(toy_run):
    out, done = toy_run
    assert (out / "welfare.csv").read_text().splitlines()[0] == "scenario,region,ev_pct,ev"
    w = pd.read_csv(out / "welfare.csv", index_col=[0, 1])
    np.testing.assert_allclose(w.loc["asia_fta", "ev"].to_numpy(), done["welfare"]["asia_fta"]["ev"].to_numpy(), rtol=1e-12)
    md = (out / "asia_fta" / "employment.md").read_text()
    assert "persons_0" not in md and "pct_change" not in md and "Persons, benchmark" in md
    rows = [line.split("|")[1:-1] for line in md.splitlines()[4:] if line.startswith("|")]
    assert rows and all(re.fullmatch(r"-?[\d,]+", cell.strip()) for row in rows for cell in row[2:5])  # persons as integers
    assert all(re.fullmatch(r"-?\d+\.\d\d", row[5].strip()) for row in rows)  # % change, two decimals
    for f in out.rglob("*.md"):
        assert not re.search(r"(?<![\d.,])-0(\.0+)?(?![\d.,])", f.read_text()), f.name
    dec = (out / "asia_fta" / "decomposition.md").read_text().splitlines()
    decimals = {len(c.strip().split(".")[1]) for line in dec[4:] for c in line.split("|")[2:-1]}
    assert decimals == {1}  # every currency column with one decimal


@pytest.mark.solver
def test_latex_tables_of_a_run_compile(toy_run, tmp_path):
    out, _ = toy_run
    tex = sorted(out.rglob("*.tex"))
    assert len(tex) >= 4
    for f in tex:
        text = f.read_text()
        assert _balanced(text) and not _unescaped(text), (f.name, _unescaped(text))
    assert r"asia\_fta" in (out / "welfare.tex").read_text() and r"US\$ million" in (out / "welfare.tex").read_text()
    if not PDFLATEX:
        pytest.skip("pdflatex not installed (scripts/setup.sh installs texlive-latex-recommended)")
    proc = _compile(tex, tmp_path)
    assert proc.returncode == 0 and "LaTeX Error" not in proc.stdout, proc.stdout[-3000:]


# ------------------------------------------------------------------------------------- figures
def _welfare(values: dict) -> dict:
    out = {}
    for name, ev in values.items():
        s = pd.Series(ev, name="ev_pct")
        s.index.name = "region"
        out[name] = s.to_frame()
    return out


@pytest.mark.unit
def test_welfare_bars_sorted_with_world_set_apart(tmp_path):
    ev = {"VNM": 1.7, "CHN": -0.14, "JPN": 0.34, "SGP": -0.3, "World": 0.02}
    names = tables.Names(regions={"VNM": "Viet Nam", "CHN": "China", "JPN": "Japan", "SGP": "Singapore"})
    fig = figures.welfare_figure(_welfare({"rcep": ev}), names)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Viet Nam", "Japan", "China", "Singapore", "World"]  # sorted EV, World last
    bars = ax.patches
    widths = [b.get_width() for b in bars]
    assert widths == [1.7, 0.34, -0.14, -0.3, 0.02]
    ys = [b.get_y() + b.get_height() / 2 for b in bars]
    assert ys[-1] - ys[-2] > 1.5 * (ys[1] - ys[0])  # a gap before World
    assert bars[-1].get_facecolor() != bars[0].get_facecolor() and bars[-1].get_hatch()
    assert ax.get_yticklabels()[-1].get_fontweight() == "bold"
    paths = figures.welfare_bars(_welfare({"rcep": ev}), tmp_path, names=names)
    assert {p.suffix for p in paths} == {".png", ".svg", ".pdf"}
    svg = (tmp_path / "welfare.svg").read_text()
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    for region in ("Viet Nam", "Japan", "China", "Singapore", "World"):
        assert region in texts
    assert (tmp_path / "welfare.pdf").read_bytes().startswith(b"%PDF")
    w, h = fig.get_size_inches()
    assert w <= figstyle.DOUBLE and h <= figstyle.MAX_HEIGHT


@pytest.mark.unit
def test_sweeps_get_an_ordered_colour_map_and_many_scenarios_stay_compact():
    regions = {f"R{k}": float(k) for k in range(18)} | {"World": 1.0}
    sweep = {f"days[{v}]": {r: x * v for r, x in regions.items()} for v in (0.979, 0.958, 0.937, 0.916, 0.895)}
    colours = figures.scenario_colours(["other", *sweep])
    viridis = [mcolors.to_hex(c) for c in figstyle.ordered_colours(5)]
    assert [mcolors.to_hex(colours[f"days[{v}]"]) for v in (0.895, 0.916, 0.937, 0.958, 0.979)] == viridis
    assert mcolors.to_hex(colours["other"]) not in viridis
    fig = figures.welfare_figure(_welfare({"other": regions, **sweep}), tables.Names(scenarios={"other": "Other policy"}))
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[0] == "Other policy" and len(legend) == 6
    w, h = fig.get_size_inches()
    assert w <= figstyle.DOUBLE and h <= figstyle.MAX_HEIGHT


@pytest.mark.unit
def test_employment_heat_map_diverges_around_zero_with_robust_limits():
    rng = np.random.default_rng(1)
    idx = pd.MultiIndex.from_product([["CHN", "VNM", "THA"], ["agriculture", "electrical_optical", "services"]], names=["region", "sector"])
    pct = rng.normal(0.0, 1.0, len(idx))
    pct[4] = 40.0  # one outlier cell
    emp = pd.DataFrame({"pct_change": pct, "proxy": [r == "VNM" for r, _ in idx]}, index=idx)
    fig = figures.employment_figure(emp, tables.Names(sectors={"services": "Services"}))
    im = fig.axes[0].images[0]
    lo, hi = im.get_clim()
    assert lo == -hi and 0 < hi < 40.0  # symmetric, not set by the outlier
    assert hi == pytest.approx(np.percentile(np.abs(pct), figstyle.ROBUST_PERCENTILE))
    assert im.get_cmap().name == figstyle.DIVERGING
    ylabels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ylabels == ["CHN", "VNM" + figures.PROXY_MARK, "THA"]
    xlabels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert xlabels == ["Agriculture", "Electrical optical", "Services"]  # no snake_case
    assert any(figures.PROXY_MARK in t.get_text() for t in fig.texts)


@pytest.mark.unit
def test_gvc_figure_shows_changes_with_groups_set_apart():
    gvc = pd.DataFrame(
        {
            "indicator": ["gvc_participation_backward_wwyz"] * 4 + ["intra_group_trade_share"],
            "region": ["CHN", "VNM", "USA", "ASEAN", "ASEAN"],
            "benchmark": [0.20, 0.35, 0.10, 0.30, 0.25],
            "scenario": [0.207, 0.364, 0.099, 0.305, 0.26],
            "change": [0.7, 1.4, -0.1, 0.5, 1.0],
            "change_unit": ["pp"] * 5,
        }
    )
    fig = figures.gvc_change_figure(gvc, "gvc_participation_backward_wwyz")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["VNM", "CHN", "USA", "ASEAN"]
    assert [b.get_width() for b in ax.patches] == [1.4, 0.7, -0.1, 0.5]  # changes, not levels
    assert ax.patches[-1].get_facecolor() != ax.patches[0].get_facecolor()
    assert "percentage points" in ax.get_xlabel()
    two = pd.concat([gvc, gvc.iloc[[4]].assign(region="RCEP", change=2.0)])
    ax = figures.gvc_change_figure(two, "intra_group_trade_share").axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["RCEP", "ASEAN"]  # groups only: sorted


@pytest.mark.solver
def test_figures_of_a_run_have_real_text(toy_run):
    out, _ = toy_run
    for stem in ("figures/welfare", "asia_fta/figures/employment", "asia_fta/figures/gvc_participation"):
        svg = (out / f"{stem}.svg").read_text()
        texts = set(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
        assert {"ASEAN", "China"} <= texts, stem
        assert (out / f"{stem}.pdf").is_file()


# ------------------------------------------------------------------------------------- notebook, CLI, metadata
@pytest.mark.solver
def test_results_notebook_runs_from_its_own_folder(toy_run, tmp_path, monkeypatch):
    """Opened in Jupyter from experiments/, the notebook finds results/headline of the checkout."""
    import jupytext
    from nbclient import NotebookClient

    out, _ = toy_run
    (tmp_path / "experiments").mkdir()
    shutil.copy(ROOT / "experiments" / "headline.toml", tmp_path / "experiments")
    (tmp_path / "results").mkdir()
    shutil.copytree(out, tmp_path / "results" / "headline")
    nb = jupytext.read(ROOT / "experiments" / "results_notebook.py")
    monkeypatch.delenv("CGE_RESULTS", raising=False)
    NotebookClient(nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(tmp_path / "experiments")}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    text = "".join(o.get("text", "") for o in outputs)
    assert f"results: {tmp_path / 'results' / 'headline'}" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2  # figures shown inline
    assert r"\begin{table}" in (tmp_path / "results" / "headline" / "publication_welfare.tex").read_text()


@pytest.mark.unit
def test_version_and_benchmark_sources_on_the_command_line():
    out = subprocess.run([sys.executable, "-m", "cge", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"cge {cge.__version__}"
    out = subprocess.run([sys.executable, "-m", "cge", "benchmarks"], capture_output=True, text=True)
    lines = out.stdout.splitlines()
    assert lines and all(line.split("sectors", 1)[1].strip() for line in lines)
    assert "WIOD" in out.stdout


@pytest.mark.unit
def test_git_commit_notes_a_dirty_tree_where_the_run_happens(tmp_path, monkeypatch):
    if not shutil.which("git"):
        pytest.skip("git not installed")
    monkeypatch.chdir(tmp_path)
    assert git_commit() == "unknown"
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    (tmp_path / "spec.toml").write_text("a = 1\n")
    for cmd in (["git", "init", "-q"], ["git", "add", "spec.toml"], ["git", "commit", "-qm", "x"]):
        subprocess.run(cmd, cwd=tmp_path, check=True, env=env)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    assert git_commit() == head
    (tmp_path / "spec.toml").write_text("a = 2\n")
    assert git_commit() == head + "-dirty"


@pytest.mark.unit
def test_licence_citation_and_changelog():
    yaml = pytest.importorskip("yaml")
    assert "MIT License" in (ROOT / "LICENSE").read_text() and "the cge developers" in (ROOT / "LICENSE").read_text()
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["version"] == cge.__version__ and cff["license"] == "MIT"
    assert {"message", "title", "authors"} <= set(cff)  # the keys CFF 1.2.0 requires
    assert all(a.get("name") or a.get("family-names") for a in cff["authors"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", cff["date-released"])
    assert f"## [{cge.__version__}]" in (ROOT / "CHANGELOG.md").read_text()


@pytest.mark.unit
def test_documentation_builds_without_warnings(tmp_path):
    """The docs site (mkdocs-material, API reference from the docstrings) builds with --strict."""
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    api = (tmp_path / "site" / "api" / "model" / "index.html").read_text()
    assert "welfare_decomposition" in api and "Huff and Hertel" in api  # rendered from the docstrings
    assert "Unreleased" in (tmp_path / "site" / "changelog" / "index.html").read_text()
