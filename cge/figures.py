"""Publication figures (matplotlib, written as PNG and SVG)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .tables import label  # noqa: E402


def _save(fig, folder: Path, stem: str) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{stem}.png", folder / f"{stem}.svg"]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    plt.close(fig)
    return paths


def welfare_bars(welfare: dict, folder: Path, stem: str = "welfare") -> list[Path]:
    """Grouped bars: EV in % of income by region, one bar per scenario."""
    frame = pd.DataFrame({name: w["ev_pct"] for name, w in welfare.items()})
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(frame) * max(1, len(frame.columns)) ** 0.5), 4.0))
    n = len(frame.columns)
    width = 0.8 / n
    x = np.arange(len(frame))
    for k, name in enumerate(frame.columns):
        ax.bar(x + (k - (n - 1) / 2) * width, frame[name].to_numpy(), width, label=name)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xticks(x, frame.index, rotation=45, ha="right")
    ax.set_ylabel(label("ev_pct"))
    if n > 1:
        ax.legend(frameon=False, fontsize="small")
    return _save(fig, folder, stem)


def employment_heatmap(employment: pd.DataFrame, folder: Path, stem: str = "employment", title: str = "") -> list[Path]:
    """Region x sector heat map of the % change in persons employed."""
    regions = list(dict.fromkeys(employment.index.get_level_values("region")))
    sectors = list(dict.fromkeys(employment.index.get_level_values("sector")))
    grid = employment["pct_change"].unstack("sector").reindex(index=regions, columns=sectors)
    lim = float(np.nanmax(np.abs(grid.to_numpy()))) or 1.0
    fig, ax = plt.subplots(figsize=(0.55 * grid.shape[1] + 3.0, 0.4 * grid.shape[0] + 2.0))
    im = ax.imshow(grid.to_numpy(), cmap="RdBu", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=60, ha="right")
    ax.set_yticks(range(grid.shape[0]), grid.index)
    fig.colorbar(im, ax=ax, label="Employment change (%)")
    if title:
        ax.set_title(title)
    return _save(fig, folder, stem)


def before_after(gvc: pd.DataFrame, indicator: str, folder: Path, stem: str) -> list[Path]:
    """Bars of one GVC indicator by region (and group), benchmark vs scenario."""
    sel = gvc[gvc["indicator"] == indicator].set_index("region")
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(sel)), 4.0))
    x = np.arange(len(sel))
    ax.bar(x - 0.2, sel["benchmark"].to_numpy(), 0.4, label="benchmark")
    ax.bar(x + 0.2, sel["scenario"].to_numpy(), 0.4, label="scenario")
    ax.set_xticks(x, sel.index, rotation=45, ha="right")
    ax.set_ylabel(label(indicator))
    ax.legend(frameon=False, fontsize="small")
    return _save(fig, folder, stem)
