"""A results folder of ``cge run`` on one self-contained HTML page (``cge report DIR``).

The page is built from the folder's files alone (``metadata.json``, ``results.csv``, the tables
and the SVG figures), so it can be rebuilt at any time and opened anywhere: no server, no network,
no other file. It holds

- the welfare of every region in every scenario (a sortable table and the welfare figure);
- one section per scenario: its description, a welfare decomposition viewer (a region chosen from
  a list, its EV split into the terms of the decomposition as bars), sortable tables of the
  decomposition, real GDP and revenue, employment and GVC indicators, and its figures;
- the run's metadata (package version, git commit, benchmark hash, closure, options, residuals)
  and the list of the folder's files.

Figures are embedded as SVG data, tables as HTML with display labels and the precision of
:mod:`cge.tables`; a small inline script sorts a table when its header is clicked and draws the
decomposition viewer. The page records what its script did: ``data-ready`` on ``<body>``,
``data-sorted-by``/``data-sort-dir`` on a sorted table and ``data-region`` on each viewer. It
leaves out solver timings, so that reruns write the same page.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import tables
from .benchmark import WORLD
from .files import write_text

TERMS = ("terms_of_trade", "tariff_efficiency", "output_tax_efficiency", "trade_costs", "employment", "labour_reallocation", "transfer", "residual")
"""Terms of the welfare decomposition shown by the viewer, in order (``welfare_<term>`` in ``results.csv``)."""

VOLATILE = re.compile(r"(_seconds|peak_memory_mb)$")
"""Metadata keys left out of the page: they change from one run to the next."""


class ReportError(ValueError):
    """The folder is not the results folder of a ``cge run``."""


def write_report(folder, out=None) -> Path:
    """Write the report of results folder ``folder`` to ``out`` (default ``folder/report.html``).

    The file is written beside its target and renamed into place, so a reader never sees half a
    page. If ``folder`` holds a ``manifest.json`` listing the report, its entry gets the new size.
    """
    folder = Path(folder)
    out = Path(out) if out is not None else folder / "report.html"
    text = build_report(folder)
    write_text(out, text)
    manifest = folder / "manifest.json"
    if manifest.is_file() and out.parent.resolve() == folder.resolve():
        doc = json.loads(manifest.read_text())
        for entry in doc.get("files", []):
            if entry.get("path") == out.name:
                entry["size"] = out.stat().st_size
        manifest.write_text(json.dumps(doc, indent=2) + "\n")
    return out


def build_report(folder) -> str:
    """The HTML text of the report of results folder ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such folder")
    if not (folder / "metadata.json").is_file() or not (folder / "results.csv").is_file():
        raise ReportError(f"{folder}: not a results folder of `cge run` (it needs metadata.json and results.csv)")
    meta = json.loads((folder / "metadata.json").read_text())
    tidy = pd.read_csv(folder / "results.csv", keep_default_na=False, na_values={"value": [""]})  # labels stay text ("NA" too)
    bench_meta = meta.get("benchmark", {}).get("metadata", {})
    unit = str(bench_meta.get("unit", bench_meta.get("currency", "")))
    scenarios = meta.get("scenarios", {})
    names = tables.Names(
        regions=dict(bench_meta.get("region_labels", {})),
        sectors=dict(bench_meta.get("sector_labels", {})),
        scenarios={n: s.get("label", n) for n, s in scenarios.items()},
    )
    page = _Page(folder, unit, names)
    nav = [("welfare", "Welfare")] + [(f"sc-{s.get('folder', n)}", names.scenario(n)) for n, s in scenarios.items()]
    nav += [("metadata", "Metadata"), ("files", "Files")]
    body = [
        f"<header><h1>{_e(meta.get('title', folder.name))}</h1>",
        f"<p class='lead'>{_e(meta.get('description', '').strip())}</p>" if meta.get("description", "").strip() else "",
        f"<p class='facts'>Benchmark <b>{_e(meta.get('benchmark', {}).get('name', ''))}</b> · {len(scenarios)} scenario(s) · "
        f"values in {_e(unit)} · cge {_e(_first(scenarios, 'version'))} · commit <code>{_e(str(meta.get('git_commit', ''))[:12])}</code></p>",
        "<nav><ul>" + "".join(f"<li><a href='#{_e(i)}'>{_e(t)}</a></li>" for i, t in nav) + "</ul></nav></header>",
        "<main>",
        page.welfare(tidy, list(scenarios)),
        *(page.scenario(tidy, n, s) for n, s in scenarios.items()),
        page.metadata(meta),
        page.files(),
        "</main>",
    ]
    title = _e(meta.get("title", folder.name))
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<meta name='generator' content='cge {_e(_first(scenarios, 'version'))}'>\n"
        f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(b for b in body if b)
        + f"\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


class _Page:
    """The sections of the page, with the folder, unit and display names they share."""

    def __init__(self, folder: Path, unit: str, names: tables.Names):
        self.folder, self.unit, self.names = folder, unit, names

    # ------------------------------------------------------------------ sections
    def welfare(self, tidy: pd.DataFrame, scenarios: list) -> str:
        cols = []
        for var in ("welfare_ev_pct", "welfare_ev"):
            wide = tidy[tidy.variable == var].pivot(index="region", columns="scenario", values="value")
            for sc in scenarios:
                if sc in wide.columns:
                    cols.append((f"{self.names.scenario(sc)}: {_label(var[8:], self.unit)}", wide[sc], var[8:]))
        regions = _regions(tidy[tidy.variable == "welfare_ev"]["region"])
        table = self.table("welfare-table", "Welfare by region and scenario", ["Region"], [[self.names.region(r)] for r in regions],
                           [(h, v.reindex(regions), k) for h, v, k in cols])
        return (f"<section id='welfare'><h2>Welfare</h2>{table}"
                f"{self.figures(self.folder / 'figures', 'welfare')}</section>")

    def scenario(self, tidy: pd.DataFrame, name: str, info: dict) -> str:
        stem = info.get("folder", name)
        sid = f"sc-{stem}"
        rows = tidy[tidy.scenario == name]
        parts = [f"<section id='{_e(sid)}' class='scenario'><h2>{_e(self.names.scenario(name))}</h2>"]
        if info.get("description"):
            parts.append(f"<p>{_e(info['description'])}</p>")
        changed = ", ".join(info.get("instruments_changed", [])) or "none"
        parts.append(f"<p class='facts'>Instruments changed: {_e(changed)} · closure {_e(_closure(info.get('closure', {})))} · "
                     f"sourcing {_e(info.get('sourcing', ''))} · backend {_e(info.get('backend', ''))} · "
                     f"largest residual {_e(_num(info.get('max_residual')))}</p>")
        links = [("decomposition", "Welfare decomposition"), ("gdp", "Real GDP and revenue")]
        sections = [self.decomposition(rows, sid), self.gdp(rows, sid)]
        emp = self.folder / stem / "employment_regions.csv"
        if emp.is_file():
            links.append(("employment", "Employment"))
            sections.append(self.employment(pd.read_csv(emp, index_col=0), sid))
        gvc = self.folder / stem / "gvc.csv"
        if gvc.is_file():
            links.append(("gvc", "Value chains"))
            sections.append(self.gvc(pd.read_csv(gvc), sid))
        figs = self.figures(self.folder / stem / "figures", f"{stem}-figure")
        if figs:
            links.append(("figures", "Figures"))
            sections.append(f"<div id='{_e(sid)}-figures'><h3>Figures</h3>{figs}</div>")
        parts.append("<p class='toc'>" + " · ".join(f"<a href='#{_e(sid)}-{k}'>{_e(t)}</a>" for k, t in links) + "</p>")
        parts += sections
        parts.append("<p class='top'><a href='#welfare'>Back to welfare</a></p></section>")
        return "\n".join(parts)

    def decomposition(self, rows: pd.DataFrame, sid: str) -> str:
        w = rows[rows.variable.str.startswith("welfare_")].pivot(index="region", columns="variable", values="value")
        w.columns = [c[len("welfare_"):] for c in w.columns]
        regions = _regions(rows.loc[rows.variable == "welfare_ev", "region"])  # the benchmark's order, World last
        w = w.reindex(regions)
        terms = [t for t in TERMS if t in w.columns]
        head = (f"<div id='{_e(sid)}-decomposition'><h3>Welfare decomposition</h3>")
        if not terms:
            return head + "<p>The run stored no decomposition path for this scenario.</p></div>"
        data = {
            "unit": self.unit,
            "terms": [_label(t, self.unit) for t in terms],
            "regions": [self.names.region(r) for r in regions],
            "ev": [_finite(w.loc[r, "ev"]) for r in regions],
            "ev_pct": [_finite(w.loc[r, "ev_pct"]) for r in regions],
            "values": [[_finite(w.loc[r, t]) for t in terms] for r in regions],
        }
        options = "".join(f"<option value='{k}'>{_e(self.names.region(r))}</option>" for k, r in enumerate(regions))
        viewer = (f"<div class='decomp' id='{_e(sid)}-viewer'><label>Region <select>{options}</select></label>"
                  f"<p class='decomp-total'></p><div class='bars'></div>"
                  f"<script type='application/json' class='decomp-data'>{_json(data)}</script></div>")
        cols = [(_label(c, self.unit), w[c], c if tables.variable(c) else "ev") for c in ["ev", "ev_pct", *terms] if c in w.columns]
        table = self.table(f"{sid}-decomposition-table", f"EV and its decomposition ({self.unit})", ["Region"],
                           [[self.names.region(r)] for r in regions], cols)
        return head + viewer + table + "</div>"

    def gdp(self, rows: pd.DataFrame, sid: str) -> str:
        keep = ["real_gdp_pct", "tariff_revenue", "output_tax_revenue"]
        w = rows[rows.variable.isin(keep) & (rows.sector == "")].pivot(index="region", columns="variable", values="value")
        regions = [r for r in _regions(rows.loc[rows.variable == "welfare_ev", "region"]) if r in w.index]
        labels = {"real_gdp_pct": _label("real_gdp_pct", self.unit), "tariff_revenue": f"Tariff revenue ({self.unit})",
                  "output_tax_revenue": f"Output-tax revenue ({self.unit})"}
        cols = [(labels[c], w[c].reindex(regions), c if c == "real_gdp_pct" else "ev") for c in keep if c in w.columns]
        table = self.table(f"{sid}-gdp-table", "Real GDP and revenue by region", ["Region"], [[self.names.region(r)] for r in regions], cols)
        return f"<div id='{_e(sid)}-gdp'><h3>Real GDP and revenue</h3>{table}</div>"

    def employment(self, df: pd.DataFrame, sid: str) -> str:
        if "proxy" in df.columns and not df["proxy"].astype(bool).any():
            df = df.drop(columns="proxy")
        cols = [(_label(c, self.unit), df[c], "persons" if c == "jobs_moved" else c) for c in df.columns]
        table = self.table(f"{sid}-employment-table", "Employment by region (persons)", ["Region"], [[self.names.region(r)] for r in df.index], cols)
        return f"<div id='{_e(sid)}-employment'><h3>Employment</h3>{table}</div>"

    def gvc(self, df: pd.DataFrame, sid: str) -> str:
        index = [[_label(i, self.unit), self.names.region(r)] for i, r in zip(df["indicator"], df["region"])]
        decimals = [tables.variable(i).decimals if tables.variable(i) else 3 for i in df["indicator"]]
        cols = [("Benchmark", df["benchmark"], decimals), ("Scenario", df["scenario"], decimals), ("Change", df["change"], 3),
                ("Unit of change", df["change_unit"], None)]
        table = self.table(f"{sid}-gvc-table", "GVC indicators, benchmark and scenario", ["Indicator", "Region"], index, cols)
        return f"<div id='{_e(sid)}-gvc'><h3>Value chains</h3>{table}</div>"

    def metadata(self, meta: dict) -> str:
        rows = [("Scenario file", meta.get("spec", "")), ("Title", meta.get("title", "")), ("Git commit", meta.get("git_commit", "")),
                ("Benchmark", meta.get("benchmark", {}).get("name", "")), ("Benchmark hash", meta.get("benchmark", {}).get("hash", "")),
                ("Decomposition steps", meta.get("decomposition_steps", ""))]
        facts = "".join(f"<tr><th scope='row'>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
        per = []
        for name, s in meta.get("scenarios", {}).items():
            per.append([self.names.scenario(name), _closure(s.get("closure", {})), s.get("sourcing", ""), s.get("backend", ""),
                        ", ".join(s.get("instruments_changed", [])), _num(s.get("max_residual")), _num(s.get("walras_residual")),
                        str(s.get("solver", {}).get("iterations", ""))])
        heads = ["Scenario", "Closure", "Sourcing", "Backend", "Instruments changed", "Largest residual", "Walras residual", "Iterations"]
        table = ("<table class='sortable' id='metadata-table'><caption>Options and solver statistics by scenario</caption><thead><tr>"
                 + "".join(f"<th scope='col'>{_e(h)}</th>" for h in heads) + "</tr></thead><tbody>"
                 + "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in per) + "</tbody></table>")
        stable = _drop_volatile(meta)
        return (f"<section id='metadata'><h2>Metadata</h2><table class='facts'>{facts}</table>{table}"
                f"<details><summary>metadata.json (solver timings left out)</summary><pre>{_e(json.dumps(stable, indent=2))}</pre></details></section>")

    def files(self) -> str:
        items = []
        for f in sorted(p for p in self.folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
            rel = f.relative_to(self.folder).as_posix()
            if rel not in ("report.html", "manifest.json"):
                items.append(f"<li><a href='{_e(rel)}'>{_e(rel)}</a></li>")
        items.append("<li><a href='manifest.json'>manifest.json</a> (every file with its kind and size)</li>")
        return f"<section id='files'><h2>Files</h2><ul class='files'>{''.join(items)}</ul></section>"

    # ------------------------------------------------------------------ pieces
    def figures(self, folder: Path, prefix: str) -> str:
        """Every SVG of ``folder`` as an embedded image with its title as caption."""
        out = []
        for svg in sorted(folder.glob("*.svg")) if folder.is_dir() else []:
            text = svg.read_text(encoding="utf-8")
            m = re.search(r"<dc:title>(.*?)</dc:title>", text, re.S)
            caption = html.unescape(m.group(1)) if m else tables.humanise(svg.stem)
            data = base64.b64encode(text.encode("utf-8")).decode("ascii")
            out.append(f"<figure id='{_e(prefix)}-{_e(svg.stem)}'><img src='data:image/svg+xml;base64,{data}' alt='{_e(caption)}'>"
                       f"<figcaption>{_e(caption)}</figcaption></figure>")
        return "".join(out)

    def table(self, tid: str, caption: str, index_headers: list, index: list, columns: list) -> str:
        """A sortable table: ``index`` rows of text cells, ``columns`` of ``(header, values, variable or decimals)``.

        Numbers are shown with the precision of their variable (:mod:`cge.tables`) and keep their
        full value in ``data-value`` for sorting.
        """
        head = "".join(f"<th scope='col'>{_e(h)}</th>" for h in index_headers)
        head += "".join(f"<th scope='col' class='num'>{_e(h)}</th>" for h, _, _ in columns)
        cells = []
        for h, values, how in columns:
            values = list(values)
            if isinstance(how, list):
                decimals = how
            elif how is None or isinstance(how, int):
                decimals = [how] * len(values)
            else:
                v = tables.variable(how)
                decimals = [v.decimals if v is not None else 3] * len(values)
            cells.append([_cell(x, d) for x, d in zip(values, decimals)])
        body = []
        for k, idx in enumerate(index):
            world = " class='total'" if idx and idx[0] == WORLD else ""
            row = "".join(f"<td>{_e(c)}</td>" for c in idx) + "".join(col[k] for col in cells)
            body.append(f"<tr{world}>{row}</tr>")
        return (f"<table class='sortable' id='{_e(tid)}'><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table>")


def _cell(x, decimals) -> str:
    if isinstance(x, (bool, np.bool_)) or decimals is None or not isinstance(x, (int, float, np.integer, np.floating)):
        return f"<td>{_e('yes' if x is True or x is np.True_ else '' if x is False or x is np.False_ else x)}</td>"
    if not np.isfinite(x):
        return "<td class='num' data-value=''></td>"
    return f"<td class='num' data-value='{float(x)!r}'>{_e(tables.format_number(x, decimals))}</td>"


def _finite(x) -> float:
    """A number for the page's data (0 where the results have none)."""
    return float(x) if np.isfinite(x) else 0.0


def _label(name: str, unit: str) -> str:
    return tables.label(name, unit) if tables.variable(name) is not None else tables.humanise(name)


def _regions(values) -> list:
    """Regions in their order, World last."""
    regions = list(dict.fromkeys(values))
    return [r for r in regions if r != WORLD] + ([WORLD] if WORLD in regions else [])


def _closure(closure: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in closure.items() if v is not None) if isinstance(closure, dict) else str(closure)


def _num(x) -> str:
    return f"{x:.1e}" if isinstance(x, (int, float)) and x is not None else ""


def _first(scenarios: dict, key: str) -> str:
    return str(next(iter(scenarios.values()), {}).get(key, ""))


def _drop_volatile(obj):
    if isinstance(obj, dict):
        return {k: _drop_volatile(v) for k, v in obj.items() if not VOLATILE.search(str(k))}
    if isinstance(obj, list):
        return [_drop_volatile(v) for v in obj]
    return obj


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _json(data) -> str:
    """JSON safe inside a ``<script>`` element."""
    return json.dumps(data, allow_nan=False).replace("</", "<\\/")


CSS = """
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:72rem;padding:0 1.5rem 4rem;color:#222}
h1{font-size:1.6rem;margin:1.5rem 0 .3rem}h2{border-bottom:2px solid #0072B2;padding-bottom:.2rem;margin-top:2.5rem}
h3{margin:1.6rem 0 .5rem}.lead{max-width:50rem}.facts{color:#555;font-size:.9rem}
nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1rem}nav a,.toc a,.top a{color:#0072B2}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.88rem}caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.sortable th{cursor:pointer;user-select:none;background:#f4f6f8}table.sortable th[aria-sort=ascending]::after{content:' \\25B2'}
table.sortable th[aria-sort=descending]::after{content:' \\25BC'}tr.total td{font-weight:600;border-top:2px solid #999}
figure{margin:1rem 0}figure img{max-width:100%;height:auto}figcaption{font-size:.85rem;color:#555}
.decomp{border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;max-width:44rem}.bars{margin-top:.5rem}
.bar-row{display:grid;grid-template-columns:13rem 1fr 7rem;align-items:center;gap:.5rem;font-size:.85rem;margin:.15rem 0}
.track{position:relative;height:.9rem;background:#f4f6f8}.track::before{content:'';position:absolute;left:50%;top:0;bottom:0;border-left:1px solid #888}
.bar{position:absolute;top:0;bottom:0}.bar.pos{background:#0072B2}.bar.neg{background:#D55E00}.bar-value{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f4f6f8;padding:.8rem;overflow:auto;font-size:.8rem}ul.files{columns:2;font-size:.85rem}
"""

SCRIPT = r"""
(function () {
  function key(cell) {
    var v = cell.getAttribute('data-value');
    return v === null ? null : (v === '' ? NaN : parseFloat(v));
  }
  function sortBy(table, col, dir) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = rows.some(function (r) { return key(r.cells[col]) !== null; });
    rows.sort(function (a, b) {
      var x, y;
      if (numeric) {
        x = key(a.cells[col]); y = key(b.cells[col]);
        if (isNaN(x)) return 1; if (isNaN(y)) return -1;
        return dir * (x - y);
      }
      x = a.cells[col].textContent; y = b.cells[col].textContent;
      return dir * x.localeCompare(y);
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, k) {
      if (k === col) th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending'); else th.removeAttribute('aria-sort');
    });
    table.setAttribute('data-sorted-by', String(col));
    table.setAttribute('data-sort-dir', dir > 0 ? 'ascending' : 'descending');
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.setAttribute('tabindex', '0');
      th.addEventListener('click', function () {
        var same = table.getAttribute('data-sorted-by') === String(col);
        var dir = same && table.getAttribute('data-sort-dir') === 'descending' ? 1 : -1;
        sortBy(table, col, same ? dir : (key(table.tBodies[0].rows[0].cells[col]) !== null ? -1 : 1));
      });
      th.addEventListener('keydown', function (e) { if (e.key === 'Enter') th.click(); });
    });
  });
  function fmt(x) {
    var s = x.toLocaleString('en-US', {minimumFractionDigits: 1, maximumFractionDigits: 1});
    return /^-0(\.0+)?$/.test(s) ? s.slice(1) : s;
  }
  document.querySelectorAll('.decomp').forEach(function (box) {
    var data = JSON.parse(box.querySelector('.decomp-data').textContent);
    var select = box.querySelector('select');
    var bars = box.querySelector('.bars');
    function draw(k) {
      var values = data.values[k];
      var top = Math.max.apply(null, values.map(Math.abs).concat([1e-12]));
      bars.innerHTML = '';
      values.forEach(function (v, t) {
        var row = document.createElement('div'); row.className = 'bar-row';
        var name = document.createElement('span'); name.textContent = data.terms[t];
        var track = document.createElement('div'); track.className = 'track';
        var bar = document.createElement('div'); bar.className = 'bar ' + (v < 0 ? 'neg' : 'pos');
        var width = 50 * Math.abs(v) / top;
        bar.style.width = width + '%'; bar.style.left = (v < 0 ? 50 - width : 50) + '%';
        bar.setAttribute('data-value', String(v));
        track.appendChild(bar);
        var value = document.createElement('span'); value.className = 'bar-value'; value.textContent = fmt(v);
        row.appendChild(name); row.appendChild(track); row.appendChild(value);
        bars.appendChild(row);
      });
      box.querySelector('.decomp-total').textContent = data.regions[k] + ': EV ' + fmt(data.ev[k]) + ' ' + data.unit +
        ' (' + data.ev_pct[k].toFixed(2) + '% of income)';
      box.setAttribute('data-region', data.regions[k]);
    }
    select.addEventListener('change', function () { draw(parseInt(select.value, 10)); });
    draw(parseInt(select.value, 10));
  });
  document.body.setAttribute('data-ready', 'true');
})();
"""
