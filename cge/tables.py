"""Publication tables: display labels and number formats (the one place for both) and writers for
CSV, Markdown and LaTeX.

Result frames keep their variable names (``ev_pct``, ``persons_0``); labels and precision are applied
only when a table is written. The CSV file keeps the names and full precision, with one header row;
the Markdown and LaTeX files show display labels, a fixed number of decimals per variable, no
negative zero, and LaTeX with every special character escaped. The LaTeX tables need
``\\usepackage{booktabs}`` and, for tables longer than :data:`LONGTABLE_ROWS` rows,
``\\usepackage{longtable}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate


@dataclass(frozen=True)
class Variable:
    """How a result variable is shown: its label (``{unit}`` is the benchmark's currency unit) and
    its number of decimals (``None`` for flags and text)."""

    label: str
    decimals: int | None = 2


VARIABLES = {
    "ev": Variable("Welfare (EV, {unit})", 1),
    "ev_pct": Variable("Welfare (EV, % of income)", 2),
    "terms_of_trade": Variable("Terms of trade", 1),
    "tariff_efficiency": Variable("Tariff efficiency", 1),
    "output_tax_efficiency": Variable("Output-tax efficiency", 1),
    "trade_costs": Variable("Trade-cost savings", 1),
    "employment": Variable("Employment", 1),
    "labour_reallocation": Variable("Labour reallocation", 1),
    "transfer": Variable("Transfer", 1),
    "residual": Variable("Residual", 1),
    "sum_of_terms": Variable("Sum of the terms", 1),
    "income_0": Variable("Benchmark income", 1),
    "income": Variable("Income", 1),
    "utility_index": Variable("Utility index", 4),
    "real_gdp_pct": Variable("Real GDP (%)", 2),
    "persons_0": Variable("Persons, benchmark", 0),
    "persons": Variable("Persons, scenario", 0),
    "change": Variable("Change (persons)", 0),
    "pct_change": Variable("Change (%)", 2),
    "jobs_moved": Variable("Jobs moved between sectors", 0),
    "wage": Variable("Wage (index)", 4),
    "real_wage": Variable("Real wage (index)", 4),
    "proxy": Variable("Proxy data", None),
}

GVC_VARIABLES = {
    "gross_exports": Variable("Gross exports", 1),
    "dva_share_exports": Variable("Domestic value added in exports (share)", 3),
    "fva_share_exports": Variable("Foreign value added in exports (share)", 3),
    "vax_ratio": Variable("VAX ratio", 3),
    "gvc_participation_forward_wwyz": Variable("GVC participation, forward (WWYZ)", 3),
    "gvc_participation_backward_wwyz": Variable("GVC participation, backward (WWYZ)", 3),
    "gvc_participation_forward_tiva": Variable("GVC participation, forward (TiVA)", 3),
    "gvc_participation_backward_tiva": Variable("GVC participation, backward (TiVA)", 3),
    "upstreamness": Variable("Upstreamness", 3),
    "border_crossings": Variable("Border crossings", 3),
    "intermediate_share_exports": Variable("Intermediates in exports (share)", 3),
    "intra_group_trade_share": Variable("Intra-group trade share", 3),
}

INDEX_LABELS = {
    "region": "Region",
    "sector": "Sector",
    "scenario": "Scenario",
    "indicator": "Indicator",
    "exporter": "Exporter",
    "importer": "Importer",
    "commodity": "Commodity",
    "factor": "Factor",
    "agent": "Agent",
}

LONGTABLE_ROWS = 40
"""Tables with more rows are written as ``longtable`` (breaking across pages)."""

# kept for callers of the first version
LABELS = {k: v.label for k, v in VARIABLES.items()}
GVC_LABELS = {k: v.label for k, v in GVC_VARIABLES.items()}


def variable(column: str) -> Variable | None:
    """The display description of a result column, or ``None`` if it has none."""
    return VARIABLES.get(column, GVC_VARIABLES.get(column))


def label(column: str, unit: str = "") -> str:
    """Display label of a result column (the column name itself when it has none)."""
    v = variable(column)
    return v.label.format(unit=unit) if v is not None else str(column)


def humanise(name: str) -> str:
    """An identifier as words: ``textiles_apparel`` -> ``Textiles apparel``; codes stay as they are."""
    name = str(name)
    if "_" not in name and not name.islower():
        return name
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


@dataclass(frozen=True)
class Names:
    """Display names of a benchmark's regions and sectors, its regions with proxy employment, and
    of scenarios.

    Regions keep their codes unless the benchmark's metadata has ``region_labels``; sectors use
    ``sector_labels`` or their identifiers written as words; scenarios keep their names unless
    ``scenarios`` maps them to labels.
    """

    regions: dict = field(default_factory=dict)
    sectors: dict = field(default_factory=dict)
    proxy: frozenset = frozenset()
    scenarios: dict = field(default_factory=dict)

    @classmethod
    def from_benchmark(cls, bench) -> Names:
        meta = bench.metadata
        return cls(
            regions=dict(meta.get("region_labels", {})),
            sectors=dict(meta.get("sector_labels", {})),
            proxy=frozenset(getattr(bench, "employment_proxy", []) or []),
        )

    def region(self, code: str) -> str:
        return str(self.regions.get(code, code))

    def sector(self, code: str) -> str:
        return str(self.sectors.get(code, humanise(code)))

    def scenario(self, name: str) -> str:
        return str(self.scenarios.get(name, name))

    def of(self, level: str | None, code) -> str:
        """Display name of ``code`` on an index level (``region``, ``sector``, or other)."""
        if level in ("region", "exporter", "importer"):
            return self.region(code)
        if level in ("sector", "commodity"):
            return self.sector(code)
        if level == "scenario":
            return self.scenario(code)
        return str(code)


# ---------------------------------------------------------------------------------- formatting
def format_number(value, decimals: int | None, thousands: bool = True) -> str:
    """``value`` with a fixed number of decimals and thousands separators; never ``-0``.

    Missing values are empty; booleans are ``yes`` or empty; ``decimals=None`` leaves text as is.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else ""
    if decimals is None or isinstance(value, str):
        return str(value)
    text = f"{float(value):{',' if thousands else ''}.{decimals}f}"
    if text.startswith("-") and float(text[1:].replace(",", "")) == 0.0:
        text = text[1:]
    return text


LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "\u2014": "---",
    "\u2013": "--",
    "\u2212": "$-$",
}


def latex_escape(text) -> str:
    """Text safe for LaTeX: every special character of the text (``& % $ # _ { } ~ ^ \\``) escaped."""
    return "".join(LATEX_SPECIALS.get(c, c) for c in str(text))


def _latex_number(text: str) -> str:
    """A formatted number for LaTeX: a proper minus sign, commas kept."""
    return "$-$" + text[1:] if text.startswith("-") else latex_escape(text)


# ---------------------------------------------------------------------------------- tables
def wide(tidy: pd.DataFrame, variables, columns: str = "scenario") -> pd.DataFrame:
    """A wide table from the long results frame (``Results.tidy`` or a run's ``results.csv``).

    Rows are the identifiers the variables have (``region``, then ``sector`` and ``partner`` where
    any row has them), columns ``columns`` (default: scenarios) and, for several ``variables``, the
    variable; values as in the long frame, the unit of each variable in ``attrs["units"]``.
    """
    names = [variables] if isinstance(variables, str) else list(variables)
    rows = tidy[tidy["variable"].isin(names)]
    missing = sorted(set(names) - set(rows["variable"]))
    if missing:
        raise ValueError(f"variables {missing} are not in the frame; it has {sorted(set(tidy['variable']))[:12]} ...")
    keys = [k for k in ("region", "sector", "partner") if k in rows and (rows[k].fillna("") != "").any()]
    pivot_columns = [columns] if len(names) == 1 else [columns, "variable"]
    out = rows.pivot_table(index=keys, columns=pivot_columns, values="value", sort=False, aggfunc="first")
    out.attrs["units"] = rows.groupby("variable")["unit"].first().to_dict()
    return out


def welfare_table(results: dict, unit: str) -> pd.DataFrame:
    """Regions x (scenario, variable): EV in % of income and in currency units.

    ``results`` is ``{scenario name: welfare frame}``; the unit is kept in ``attrs["unit"]`` for the
    labels.
    """
    df = pd.concat({name: w[["ev_pct", "ev"]] for name, w in results.items()}, axis=1, names=["scenario", "variable"])
    df.attrs["unit"] = unit
    return df


def decomposition_table(welfare: pd.DataFrame, unit: str) -> pd.DataFrame:
    """One scenario's EV and its parts by region (the unit in ``attrs["unit"]``)."""
    cols = ["ev", "terms_of_trade", "tariff_efficiency", "output_tax_efficiency", "trade_costs", "employment",
            "labour_reallocation", "transfer", "residual"]
    # terms that are zero everywhere in this run (no output taxes, no wage premia) are left out
    optional = {"output_tax_efficiency", "labour_reallocation"}
    df = welfare[[c for c in cols if c in welfare.columns and not (c in optional and (welfare[c] == 0).all())]].copy()
    df.attrs["unit"] = unit
    return df


def csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The frame as written to CSV: one header row; columns grouped by a first level (such as
    scenario) become an index level in front of the rows."""
    if not isinstance(df.columns, pd.MultiIndex):
        return df
    level = df.columns.names[0] or "group"
    groups = list(dict.fromkeys(df.columns.get_level_values(0)))
    long = pd.concat({g: df[g] for g in groups}, names=[level])
    long.columns = pd.Index([str(c) for c in long.columns])
    return long


@dataclass
class _Cells:
    """A table as text cells: index columns, header rows and body, ready for Markdown or LaTeX."""

    index_names: list
    groups: list  # [(group label, number of columns)] or [] for one header row
    headers: list
    rows: list  # [(index cells, value cells)]
    numeric: list  # per value column: right-aligned number or not


def _cells(df: pd.DataFrame, digits: int, names: Names | None) -> _Cells:
    names = names or Names()
    if "proxy" in df.columns and not df["proxy"].any():
        df = df.drop(columns="proxy")  # a column of blanks says nothing
    unit = df.attrs.get("unit", "")
    index_levels = list(df.index.names)
    index_names = [INDEX_LABELS.get(n, humanise(n) if n else "") for n in index_levels]
    columns = list(df.columns)
    if isinstance(df.columns, pd.MultiIndex):
        keys = [c[-1] for c in columns]
        groups = []
        for g in dict.fromkeys(c[0] for c in columns):
            groups.append((names.of(df.columns.names[0], g), sum(1 for c in columns if c[0] == g)))
    else:
        keys, groups = columns, []
    specs = [variable(str(k)) for k in keys]
    decimals = [s.decimals if s is not None else digits for s in specs]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in columns]
    headers = [label(str(k), unit) for k in keys]
    rows = []
    for idx, values in zip(df.index, df.itertuples(index=False)):
        idx = idx if isinstance(idx, tuple) else (idx,)
        cells = [names.of(level, v) for level, v in zip(index_levels, idx)]
        vals = [format_number(v, d if n else None) for v, d, n in zip(values, decimals, numeric)]
        rows.append((cells, vals))
    return _Cells(index_names, groups, headers, rows, numeric)


def to_markdown(df: pd.DataFrame, caption: str = "", digits: int = 3, names: Names | None = None) -> str:
    """A pipe table with display labels and fixed precision, with the caption in bold above it."""
    t = _cells(df, digits, names)
    if t.groups:
        owners = [g for g, n in t.groups for _ in range(n)]
        headers = [f"{g}: {h}" for g, h in zip(owners, t.headers)]
    else:
        headers = t.headers
    body = [cells + vals for cells, vals in t.rows]
    align = ["left"] * len(t.index_names) + ["right" if n else "left" for n in t.numeric]
    table = tabulate(body, headers=t.index_names + headers, tablefmt="pipe", colalign=align, disable_numparse=True)
    return (f"**{caption}**\n\n" if caption else "") + table + "\n"


def to_latex(df: pd.DataFrame, caption: str = "", label_: str = "", digits: int = 3, names: Names | None = None) -> str:
    """A booktabs table (``longtable`` beyond :data:`LONGTABLE_ROWS` rows) with escaped text."""
    t = _cells(df, digits, names)
    n_index = len(t.index_names)
    spec = "l" * n_index + "".join("r" if n else "c" for n in t.numeric)
    head = []
    if t.groups:
        line, rules, col = [""] * n_index, [], n_index + 1
        for g, n in t.groups:
            line.append(rf"\multicolumn{{{n}}}{{c}}{{{latex_escape(g)}}}")
            rules.append(rf"\cmidrule(lr){{{col}-{col + n - 1}}}")
            col += n
        head += [" & ".join(line) + r" \\", "".join(rules)]
    head.append(" & ".join(latex_escape(h) for h in t.index_names + t.headers) + r" \\")
    body, previous = [], None
    for cells, vals in t.rows:
        shown = list(cells)
        if n_index > 1 and previous is not None:
            # print an outer index value only where it changes
            for k in range(n_index - 1):
                if cells[: k + 1] == previous[: k + 1]:
                    shown[k] = ""
            if cells[0] != previous[0]:
                body.append(r"\addlinespace")
        previous = cells
        out = [latex_escape(c) for c in shown] + [_latex_number(v) if n else latex_escape(v) for v, n in zip(vals, t.numeric)]
        body.append(" & ".join(out) + r" \\")
    cap = latex_escape(caption)
    lab = rf"\label{{{label_}}}" if label_ else ""
    if len(t.rows) > LONGTABLE_ROWS:
        lines = [rf"\begin{{longtable}}{{{spec}}}", rf"\caption{{{cap}}}{lab} \\", r"\toprule", *head, r"\midrule", r"\endfirsthead",
                 r"\toprule", *head, r"\midrule", r"\endhead", r"\bottomrule", r"\endlastfoot", *body, r"\end{longtable}"]
    else:
        lines = [r"\begin{table}[htbp]", r"\centering", rf"\caption{{{cap}}}" + lab, rf"\begin{{tabular}}{{{spec}}}", r"\toprule", *head,
                 r"\midrule", *body, r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def write_table(df: pd.DataFrame, folder: Path, stem: str, caption: str, digits: int = 3, names: Names | None = None) -> list[Path]:
    """Write ``df`` as ``stem.csv`` (variable names, full precision, one header row), ``stem.md`` and
    ``stem.tex`` (display labels, precision of each variable, ``digits`` for variables without one).

    ``names`` gives display names of regions and sectors (:meth:`Names.from_benchmark`).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv, md, tex = (folder / f"{stem}.{ext}" for ext in ("csv", "md", "tex"))
    csv_frame(df).to_csv(csv)
    md.write_text(to_markdown(df, caption, digits, names))
    tex.write_text(to_latex(df, caption, f"tab:{stem}", digits, names))
    return [csv, md, tex]
