"""Publication tables: display labels (the one place for them) and writers for CSV, Markdown, LaTeX."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

LABELS = {
    "ev": "Welfare (EV, {unit})",
    "ev_pct": "Welfare (EV, % of income)",
    "terms_of_trade": "Terms of trade",
    "tariff_efficiency": "Tariff efficiency",
    "trade_costs": "Trade-cost savings",
    "employment": "Employment",
    "transfer": "Transfer",
    "residual": "Residual",
    "income_0": "Benchmark income",
    "real_gdp_pct": "Real GDP (%)",
    "persons_0": "Employment, benchmark (persons)",
    "persons": "Employment (persons)",
    "change": "Change (persons)",
    "pct_change": "Change (%)",
}

GVC_LABELS = {
    "gross_exports": "Gross exports",
    "dva_share_exports": "Domestic value added in exports (share)",
    "fva_share_exports": "Foreign value added in exports (share)",
    "vax_ratio": "VAX ratio",
    "gvc_participation_forward_wwyz": "GVC participation, forward (WWYZ)",
    "gvc_participation_backward_wwyz": "GVC participation, backward (WWYZ)",
    "gvc_participation_forward_tiva": "GVC participation, forward (TiVA)",
    "gvc_participation_backward_tiva": "GVC participation, backward (TiVA)",
    "upstreamness": "Upstreamness",
    "border_crossings": "Border crossings",
    "intermediate_share_exports": "Intermediates in exports (share)",
    "intra_group_trade_share": "Intra-group trade share",
}


def label(column: str, unit: str = "") -> str:
    """Display label of a result column."""
    return LABELS.get(column, GVC_LABELS.get(column, column)).format(unit=unit)


def welfare_table(results: dict, unit: str) -> pd.DataFrame:
    """Regions x scenarios: EV in % of income and in currency units (from ``{name: welfare frame}``)."""
    cols = {}
    for name, w in results.items():
        cols[(name, label("ev_pct"))] = w["ev_pct"]
        cols[(name, label("ev", unit))] = w["ev"]
    df = pd.DataFrame(cols)
    df.columns = pd.MultiIndex.from_tuples(df.columns, names=["scenario", ""])
    return df


def decomposition_table(welfare: pd.DataFrame, unit: str) -> pd.DataFrame:
    """One scenario's EV and its parts by region, with display labels."""
    cols = ["ev", "terms_of_trade", "tariff_efficiency", "trade_costs", "employment", "transfer", "residual"]
    present = [c for c in cols if c in welfare.columns]
    return welfare[present].rename(columns={c: label(c, unit) for c in present})


def write_table(df: pd.DataFrame, folder: Path, stem: str, caption: str, digits: int = 3) -> list[Path]:
    """Write ``df`` as ``stem.csv`` (full precision), ``stem.md`` and ``stem.tex`` (booktabs)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / f"{stem}.csv"
    df.to_csv(csv)
    flat = df.copy()
    if isinstance(flat.columns, pd.MultiIndex):
        flat.columns = [" — ".join(str(x) for x in col if str(x)) for col in flat.columns]
    md = folder / f"{stem}.md"
    md.write_text(f"**{caption}**\n\n" + flat.round(digits).to_markdown() + "\n")
    tex = folder / f"{stem}.tex"
    tex.write_text(
        df.to_latex(float_format=lambda v: f"{v:.{digits}f}", caption=caption, label=f"tab:{stem}", multicolumn_format="c")
    )
    return [csv, md, tex]
