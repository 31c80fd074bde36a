"""Publication figures: welfare by region, employment heat maps, changes in GVC indicators.

Each figure has a builder that returns a :class:`matplotlib.figure.Figure` (``*_figure``, for
notebooks and tests) and a writer that saves it as PNG, SVG and PDF with real text. Style, sizes and
colours come from :mod:`cge.figstyle`; labels from :mod:`cge.tables` and, when given, the
benchmark's display names (:meth:`cge.tables.Names.from_benchmark`).

Conventions: regions are sorted by the value shown (largest gain on top) and totals (World, groups
of regions) are set apart below a rule in a dark grey; changes use a diverging colour map centred
on zero with robust limits; a sweep over a shock's size is drawn in an ordered colour map.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from . import figstyle
from .benchmark import WORLD
from .tables import Names, label

_SWEEP = re.compile(r"^(?P<base>.+)\[(?P<value>[-+0-9.eE]+)\]$")
PROXY_MARK = "\u2020"
"""Appended to the names of regions whose employment comes from a proxy."""


def wrap(text: str, width: int = 28) -> str:
    """A long display name on several lines, so that it does not squeeze the plot."""
    return "\n".join(textwrap.wrap(text, width)) or text


def scenario_colours(names: list) -> dict:
    """A colour per scenario: sweeps (``base[value]``, two or more values) along an ordered colour
    map in the order of their values, other scenarios from the qualitative palette."""
    sweeps: dict = {}
    for n in names:
        m = _SWEEP.match(n)
        if m:
            sweeps.setdefault(m["base"], []).append((float(m["value"]), n))
    colours, maps = {}, iter(["viridis", "cividis", "plasma", "magma"])
    for members in sweeps.values():
        if len(members) > 1:
            members.sort()
            for c, (_, n) in zip(figstyle.ordered_colours(len(members), next(maps, figstyle.SEQUENTIAL)), members):
                colours[n] = c
    palette = figstyle.QUALITATIVE[1:] + figstyle.QUALITATIVE[:1] if colours else figstyle.QUALITATIVE  # no blue beside viridis
    others = iter(palette * (1 + len(names) // len(palette)))
    return {n: colours.get(n) or next(others) for n in names}


def _rows(values: pd.Series, totals: list) -> tuple[list, list]:
    """Regions sorted by value (largest first) and the totals in their given order."""
    regions = values.drop(index=[t for t in totals if t in values.index]).sort_values(ascending=False, kind="stable")
    return list(regions.index), [t for t in totals if t in values.index]


def _positions(n_regions: int, n_totals: int) -> np.ndarray:
    """y positions, top to bottom: regions one apart, then a gap, then the totals."""
    return np.concatenate([np.arange(n_regions), n_regions + 0.8 + np.arange(n_totals)])


def _set_apart(ax, y: np.ndarray, n_regions: int, n_totals: int) -> None:
    """Rule between regions and totals, totals' tick labels in bold, largest value on top."""
    if n_totals and n_regions:
        ax.axhline(n_regions - 0.1, color=figstyle.GRID, linewidth=0.8, zorder=0)
    for tick in ax.get_yticklabels()[n_regions:]:
        tick.set_fontweight("bold")
    ax.set_ylim(y.max() + 0.7, -0.7)
    ax.axvline(0.0, color="black", linewidth=0.6)
    ax.grid(axis="x", color=figstyle.GRID, linewidth=0.5)


def _welfare_rows(welfare: dict) -> tuple:
    """EV in % of income by region and scenario (``welfare``: scenario -> :meth:`cge.Results.welfare`
    frame), the scenarios, the regions sorted by the first scenario, the totals, their y positions
    and the scenarios' colours: the rows of :func:`welfare_figure` and of :func:`processing_figure`'s left panel."""
    frame = pd.DataFrame({name: w["ev_pct"] for name, w in welfare.items()})
    scenarios = list(frame.columns)
    regions, totals = _rows(frame[scenarios[0]], [WORLD])
    return frame, scenarios, regions, totals, _positions(len(regions), len(totals)), scenario_colours(scenarios)


def welfare_figure(welfare: dict, names: Names | None = None):
    """EV in % of income by region, sorted by the first scenario, World set apart below.

    Up to three scenarios as grouped horizontal bars; more as dots on one line per region.
    """
    names = names or Names()
    frame, scenarios, regions, totals, y, colours = _welfare_rows(welfare)
    order = regions + totals
    n = len(scenarios)
    dots = n > 3
    row = 0.2 if dots else 0.08 + 0.12 * n
    with figstyle.style():
        fig = figstyle.figure(0.75 * figstyle.DOUBLE, 0.9 + row * (len(y) + 1))
        ax = fig.add_subplot()
        if dots:
            data = frame.loc[order].to_numpy()
            ax.hlines(y, data.min(axis=1), data.max(axis=1), color=figstyle.GRID, linewidth=1.0, zorder=1)
            for k, sc in enumerate(scenarios):
                ax.scatter(data[:, k], y, s=14, color=colours[sc], label=names.scenario(sc), zorder=2)
        else:
            height = 0.8 / n
            for k, sc in enumerate(scenarios):
                offset = (k - (n - 1) / 2) * height
                bars = ax.barh(y + offset, frame.loc[order, sc].to_numpy(), height, color=colours[sc], label=names.scenario(sc))
                for bar in bars.patches[len(regions):]:
                    bar.set_edgecolor(figstyle.WORLD)
                    bar.set_hatch("////")
                    bar.set_linewidth(0.6)
                    if n == 1:
                        bar.set_facecolor(figstyle.WORLD)
        ax.set_yticks(y, [wrap(names.region(r)) for r in order])
        _set_apart(ax, y, len(regions), len(totals))
        ax.set_xlabel(label("ev_pct"))
        if n > 1:
            fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=min(n, 3))
    return fig


def welfare_bars(welfare: dict, folder: Path, stem: str = "welfare", names: Names | None = None) -> list[Path]:
    """Write :func:`welfare_figure` as ``stem.png``, ``.svg`` and ``.pdf``."""
    return figstyle.save(welfare_figure(welfare, names), folder, stem, title="Welfare (EV, % of income) by region")


def employment_figure(employment: pd.DataFrame, names: Names | None = None):
    """Region x sector heat map of the % change in persons employed.

    Diverging colours centred on zero, limits at a robust percentile of the changes
    (:data:`cge.figstyle.ROBUST_PERCENTILE`; the colour bar's ends are pointed where cells go beyond);
    regions with proxy employment data are marked with a dagger and a note.
    """
    names = names or Names()
    regions = list(dict.fromkeys(employment.index.get_level_values("region")))
    sectors = list(dict.fromkeys(employment.index.get_level_values("sector")))
    grid = employment["pct_change"].unstack("sector").reindex(index=regions, columns=sectors)
    values = grid.to_numpy(dtype=float)
    lim = figstyle.symmetric_limit(values)
    proxy = set(names.proxy)
    if "proxy" in employment.columns:
        proxy |= set(employment.index.get_level_values("region")[employment["proxy"].to_numpy(dtype=bool)])
    beyond = np.nanmax(np.abs(values)) > lim * (1 + 1e-12) if np.isfinite(values).any() else False
    with figstyle.style():
        longest = max(len(names.sector(s)) for s in sectors)  # tick labels below the map, at an angle
        fig = figstyle.figure(min(figstyle.DOUBLE, 2.2 + 0.3 * len(sectors)), 1.2 + 0.26 * len(regions) + 0.055 * longest)
        ax = fig.add_subplot()
        im = ax.imshow(values, cmap=figstyle.DIVERGING, vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
        ax.set_xticks(range(len(sectors)), [names.sector(s) for s in sectors], rotation=55, ha="right", rotation_mode="anchor", fontsize="small")
        ax.set_yticks(range(len(regions)), [wrap(names.region(r) + (PROXY_MARK if r in proxy else ""), 40) for r in regions])
        for tick, r in zip(ax.get_yticklabels(), regions):
            if r in proxy:
                tick.set_fontstyle("italic")
        ax.tick_params(length=0)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        fig.colorbar(im, ax=ax, label="Employment change (%)", extend="both" if beyond else "neither", shrink=0.8)
        if proxy & set(regions):
            fig.supxlabel(f"{PROXY_MARK} employment in persons from a proxy", fontsize="small", x=0.0, ha="left", style="italic")
    return fig


def employment_heatmap(employment: pd.DataFrame, folder: Path, stem: str = "employment", title: str = "", names: Names | None = None) -> list[Path]:
    """Write :func:`employment_figure` (``title`` goes into the files' metadata)."""
    return figstyle.save(employment_figure(employment, names), folder, stem, title=title or "Employment change by region and sector")


def gvc_change_figure(gvc: pd.DataFrame, indicator: str, names: Names | None = None):
    """Change in one GVC indicator by region (percentage points for shares, % for values),
    regions sorted, groups of regions set apart below."""
    names = names or Names()
    sel = gvc[gvc["indicator"] == indicator].set_index("region")
    groups = list(dict.fromkeys(gvc.loc[gvc["indicator"] == "intra_group_trade_share", "region"]))
    if set(sel.index) <= set(groups):
        groups = []  # an indicator of groups only: sort them like regions
    regions, totals = _rows(sel["change"], groups)
    order = regions + totals
    y = _positions(len(regions), len(totals))
    change = sel.loc[order, "change"].to_numpy(dtype=float)
    unit = sel["change_unit"].iloc[0] if "change_unit" in sel.columns and len(sel) else ""
    with figstyle.style():
        fig = figstyle.figure(0.75 * figstyle.DOUBLE, 0.9 + 0.2 * (len(y) + 1))
        ax = fig.add_subplot()
        colours = [figstyle.QUALITATIVE[0]] * len(regions) + [figstyle.WORLD] * len(totals)
        ax.barh(y, change, 0.7, color=colours)
        ax.set_yticks(y, [wrap(names.region(r)) for r in order])
        _set_apart(ax, y, len(regions), len(totals))
        ax.set_xlabel(f"{label(indicator)}, change ({'percentage points' if unit == 'pp' else unit or 'change'})")
    return fig


def before_after(gvc: pd.DataFrame, indicator: str, folder: Path, stem: str, names: Names | None = None) -> list[Path]:
    """Write :func:`gvc_change_figure`: the change from the benchmark to the scenario."""
    return figstyle.save(gvc_change_figure(gvc, indicator, names), folder, stem, title=f"{label(indicator)}: change from the benchmark")


def band_figure(summary: pd.DataFrame, variable: str = "welfare_ev_pct", names: Names | None = None):
    """A variable by region with its uncertainty: the mean over the draws as a dot, the 5-95% band
    as a bar and the value at the chosen elasticities as a tick, one colour per scenario; regions
    sorted by the first scenario's mean, World set apart below (``summary`` from
    :func:`cge.sensitivity.summarise`)."""
    names = names or Names()
    sel = summary[summary["variable"] == variable]
    scenarios = list(dict.fromkeys(sel["scenario"]))
    frames = {sc: sel[sel["scenario"] == sc].set_index("region") for sc in scenarios}
    regions, totals = _rows(frames[scenarios[0]]["mean"], [WORLD])
    order = regions + totals
    y = _positions(len(regions), len(totals))
    colours = scenario_colours(scenarios)
    n = len(scenarios)
    with figstyle.style():
        fig = figstyle.figure(0.75 * figstyle.DOUBLE, 0.9 + (0.08 + 0.12 * n) * (len(y) + 1))
        ax = fig.add_subplot()
        step = 0.8 / n
        for k, sc in enumerate(scenarios):
            f = frames[sc].reindex(order)
            yk = y + (k - (n - 1) / 2) * step
            ax.hlines(yk, f["p05"], f["p95"], color=colours[sc], linewidth=2.5, alpha=0.45, zorder=1)
            ax.scatter(f["mean"], yk, s=14, color=colours[sc], label=names.scenario(sc), zorder=3)
            ax.scatter(f["central"], yk, s=30, marker="|", color="black", linewidths=0.8, zorder=2)
        ax.set_yticks(y, [wrap(names.region(r)) for r in order])
        _set_apart(ax, y, len(regions), len(totals))
        ax.set_xlabel(label(variable.removeprefix("welfare_")) + ": mean, 5-95% band, | chosen elasticities")
        if n > 1:
            fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=min(n, 3))
    return fig


def welfare_bands(summary: pd.DataFrame, folder: Path, stem: str = "welfare_bands", names: Names | None = None) -> list[Path]:
    """Write :func:`band_figure` of EV in % of income as ``stem.png``, ``.svg`` and ``.pdf``."""
    return figstyle.save(band_figure(summary, "welfare_ev_pct", names), folder, stem, title="Welfare (EV, % of income) by region, with its 5-95% band over the elasticities")


def processing_figure(welfare: dict, exports: dict, names: Names | None = None):
    """Removing a duty exemption for processing trade: EV (% of income) by region and the % change of
    the processing region's exports by sector and activity, for each scenario.

    ``welfare``: scenario -> :meth:`cge.Results.welfare` frame; ``exports``: scenario ->
    :func:`cge.processing_exports` frame (index ``sector, activity``). Left panel as
    :func:`welfare_figure` (regions sorted by the first scenario, World set apart); right panel one bar
    per sector and activity, processing in the scenario's colour, normal hatched.
    """
    names = names or Names()
    frame, scenarios, regions, totals, y, colours = _welfare_rows(welfare)
    order = regions + totals
    n = len(scenarios)
    first = exports[scenarios[0]]
    sectors = list(dict.fromkeys(first.index.get_level_values("sector")))
    with figstyle.style():
        fig = figstyle.figure(figstyle.DOUBLE, 0.9 + (0.08 + 0.12 * n) * (len(y) + 1))
        left, right = fig.subplots(1, 2, width_ratios=[1.1, 1.0])
        height = 0.8 / n
        for k, sc in enumerate(scenarios):
            left.barh(y + (k - (n - 1) / 2) * height, frame.loc[order, sc].to_numpy(), height, color=colours[sc], label=names.scenario(sc))
        left.set_yticks(y, [wrap(names.region(r)) for r in order])
        _set_apart(left, y, len(regions), len(totals))
        left.set_xlabel(label("ev_pct"))
        ys = np.arange(len(sectors), dtype=float)
        bar = 0.8 / (2 * n)
        for k, sc in enumerate(scenarios):
            ex = exports[sc]["pct_change"]
            for a, (activity, hatch) in enumerate((("processing", None), ("normal", "////"))):
                values = [ex.get((s, activity), np.nan) for s in sectors]
                offset = ((2 * k + a) - (2 * n - 1) / 2) * bar
                right.barh(ys + offset, values, bar, color="white" if hatch else colours[sc], edgecolor=colours[sc], hatch=hatch,
                           linewidth=0.6, label=f"{names.scenario(sc)}: {activity}")
        right.set_yticks(ys, [wrap(names.sector(s), 22) for s in sectors])
        right.set_ylim(len(sectors) - 0.4, -0.6)
        right.axvline(0.0, color="black", linewidth=0.6)
        right.grid(axis="x", color=figstyle.GRID, linewidth=0.5)
        right.set_xlabel("Exports, % change (processing and normal activities)")
        fig.legend(*right.get_legend_handles_labels(), loc="outside upper center", ncols=min(2 * n, 4))
    return fig


def processing_bars(welfare: dict, exports: dict, folder: Path, stem: str = "processing", names: Names | None = None) -> list[Path]:
    """Write :func:`processing_figure` as ``stem.png``, ``.svg`` and ``.pdf``."""
    return figstyle.save(processing_figure(welfare, exports, names), folder, stem,
                         title="Removing the duty exemption of processing trade: welfare by region and exports by activity")
