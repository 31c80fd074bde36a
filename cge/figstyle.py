"""The figure style: sizes, fonts, colours and colour maps of every figure the package draws.

Figures are built on :class:`matplotlib.figure.Figure` inside :func:`style` (no pyplot state, no
backend switch), so importing the package never changes how a notebook shows figures. Text stays
text in SVG (``svg.fonttype = "none"``) and PDF (Type 42 fonts).
"""

from __future__ import annotations

import contextlib

import matplotlib as mpl
import numpy as np

SINGLE = 3.5
"""Width of a one-column figure (inches)."""
DOUBLE = 7.0
"""Width of a two-column (full-page) figure (inches)."""
MAX_HEIGHT = 9.0
"""Tallest figure (inches), a page less its caption."""

RC = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "axes.grid": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "cge",
    "pdf.fonttype": 42,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
}

# Okabe and Ito (2008) colour-blind-safe palette, for unordered series (scenarios)
QUALITATIVE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
SEQUENTIAL = "viridis"
"""Colour map of ordered series (a sweep over a shock's size)."""
DIVERGING = "RdBu"
"""Colour map of changes: red for losses, blue for gains, white at zero."""
WORLD = "#4d4d4d"
"""Colour of world (and group) totals, set apart from the regions."""
GRID = "#d9d9d9"
ROBUST_PERCENTILE = 98.0
"""Colour limits of heat maps: this percentile of the absolute values, so one cell cannot set the scale."""


@contextlib.contextmanager
def style():
    """Apply the package's rc settings for the duration of a block."""
    with mpl.rc_context(RC):
        yield


def figure(width: float, height: float):
    """A new figure (not registered with pyplot) of ``width`` x ``height`` inches, height capped."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, min(height, MAX_HEIGHT)), layout="constrained")


def symmetric_limit(values, percentile: float = ROBUST_PERCENTILE) -> float:
    """Robust half-range of a diverging colour scale: a percentile of the absolute finite values."""
    a = np.abs(np.asarray(values, dtype=float))
    a = a[np.isfinite(a)]
    if a.size == 0:
        return 1.0
    lim = float(np.percentile(a, percentile))
    return lim if lim > 0 else (float(a.max()) or 1.0)


def ordered_colours(n: int, cmap: str = SEQUENTIAL) -> list:
    """``n`` colours along an ordered colour map (its pale end left out, to stay visible on white)."""
    colours = mpl.colormaps[cmap]
    return [colours(x) for x in np.linspace(0.0, 0.85, n)] if n > 1 else [colours(0.4)]


def save(fig, folder, stem: str, title: str = "", formats=("png", "svg", "pdf")) -> list:
    """Write ``fig`` as ``folder/stem.<format>`` for each format; returns the paths.

    ``title`` goes into the files' metadata, not on the figure (captions belong to the document).
    Dates are left out so that reruns write identical SVG and PDF files.
    """
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        meta = {"png": {"Title": title}, "svg": {"Title": title, "Date": None}, "pdf": {"Title": title, "CreationDate": None}}[fmt]
        with style():
            fig.savefig(path, format=fmt, metadata=meta)
        paths.append(path)
    return paths
