r"""Positions in value chains: upstreamness, downstreamness, production length, border crossings.

References: Antràs, P., Chor, D., Fally, T. and Hillberry, R. (2012), *American Economic Review
P&P* 102(3), 412-416; Miller, R. E. and Temurshoev, U. (2017), *International Regional Science
Review* 40(5), 443-475; Wang, Z., Wei, S.-J., Yu, X. and Zhu, K. (2017b), NBER Working Paper 23261;
Muradov, K. (2016), Counting borders in global value chains, 24th IIOA Conference. Notation:
:mod:`cge.gvc`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .tables import MRIO, _check, _ratio


def _ratios(t: MRIO, pairs: Mapping[str, tuple[np.ndarray, np.ndarray]], aggregation: str) -> pd.DataFrame:
    """Frame of ratios of sums ``num / den`` at ``aggregation`` for row-level (n,) pairs."""
    flat = {}
    for name, (num, den) in pairs.items():
        flat[f"{name}__num"], flat[f"{name}__den"] = num, den
    if aggregation == "country":
        flat = {k: t.by_economy(val) for k, val in flat.items()}
    df = t.frame(flat, aggregation, level="region")
    out = pd.DataFrame({name: _ratio(df[f"{name}__num"], df[f"{name}__den"]) for name in pairs}, index=df.index)
    return out.rename_axis(columns="term")


def upstreamness(t: MRIO, aggregation: str = "sector") -> pd.DataFrame:
    r"""Upstreamness of Antràs, Chor, Fally and Hillberry (2012), MRIO version.

    The average number of production stages between a sector's output and final use,
    :math:`U = (I - \Delta)^{-1} u = \hat x^{-1} B x`, with :math:`\Delta = \hat x^{-1} Z` the output
    coefficients (Ghosh). Equal to the forward total production length of Wang et al. (2017b) and
    Miller and Temurshoev's (2017) output upstreamness. Country values are output-weighted means.
    Columns ``U`` and ``output``.
    """
    _check(aggregation, ("country", "sector"))
    df = _ratios(t, {"U": (t.B @ t.x, t.x)}, aggregation)
    df["output"] = t.frame({"x": t.by_economy(t.x) if aggregation == "country" else t.x}, aggregation, "region")["x"]
    return df


def downstreamness(t: MRIO, aggregation: str = "sector") -> pd.DataFrame:
    r"""Input downstreamness of Miller and Temurshoev (2017): :math:`D' = u' B` (column sums of the
    Leontief inverse), the average number of stages from primary inputs to a sector's output.
    Country values are output-weighted means. Columns ``D`` and ``output``."""
    _check(aggregation, ("country", "sector"))
    df = _ratios(t, {"D": (t.B.sum(axis=0) * t.x, t.x)}, aggregation)
    df["output"] = t.frame({"x": t.by_economy(t.x) if aggregation == "country" else t.x}, aggregation, "region")["x"]
    return df


def production_length(t: MRIO, aggregation: str = "sector") -> pd.DataFrame:
    r"""Average production length of Wang, Wei, Yu and Zhu (2017b), total and GVC.

    Production length counts how many times value added is counted as gross output from primary
    input to final use. Forward (by origin, :math:`PLv`) and backward (by final good, :math:`PLy`):

    .. math::
        PLv = \frac{\hat V B B Y u}{\hat V B Y u}, \qquad
        PLy = \frac{u' \hat V B B \hat Y}{u' \hat V B \hat Y},

    and for GVC production (value added crossing borders for production, :math:`\hat V L A^F B \hat Y`)

    .. math::
        PLv\_GVC = \frac{\hat V L L A^F B Y u + \hat V L A^F B B Y u}{\hat V L A^F B Y u}, \qquad
        PLy\_GVC = \frac{u'(\hat V L L A^F B + \hat V L A^F B B)\hat Y}{u'\hat V L A^F B \hat Y},

    with the GVC position index ``POS_GVC = PLv_GVC / PLy_GVC`` (larger: more upstream). Country
    values are ratios of sums (value-added weights forward, final-goods weights backward).
    """
    _check(aggregation, ("country", "sector"))
    v, L, y, B, Am = t.v, t.L, t.y_tot, t.B, t.Am
    by = B @ y
    bby = B @ by
    af_by = Am @ by
    vb = t.vbc.sum(axis=1)
    vlaf = t.vl_dom @ Am
    vlafb = vlaf @ B
    vllaf = t.vbd(t.vl_dom, L) @ Am
    df = _ratios(
        t,
        {
            "PLv": (v * bby, v * by),
            "PLy": ((vb @ B) * y, vb * y),
            "PLv_GVC": (v * t.bd(L, t.bd(L, af_by)) + v * t.bd(L, Am @ bby), v * t.bd(L, af_by)),
            "PLy_GVC": ((vllaf @ B + vlafb @ B) * y, vlafb * y),
        },
        aggregation,
    )
    df["POS_GVC"] = df["PLv_GVC"] / df["PLy_GVC"]
    return df


def border_crossings(t: MRIO, aggregation: str = "sector") -> pd.DataFrame:
    r"""Expected number of border crossings of value added (Muradov 2016).

    Every value-added path from primary input to final use crosses a border at each foreign
    intermediate link (:math:`A^F`) and once more if the final good is consumed abroad. Weighting
    paths by the value added they carry:

    .. math::
        N^{v} = \frac{\hat V B A^F B Y u + \hat V B Y^F u}{\hat V B Y u} \quad\text{(forward, by
        origin)}, \qquad
        N^{y} = \frac{u'\hat V B A^F B \hat Y + u'\hat V B \hat Y^F}{u'\hat V B \hat Y}
        \quad\text{(backward, by final good)},

    with :math:`Y^F` exported final goods. Country values are value-added (forward) or final-goods
    (backward) weighted means. Columns ``forward`` and ``backward``.
    """
    _check(aggregation, ("country", "sector"))
    v, y, yf, B = t.v, t.y_tot, t.y_fex, t.B
    by = B @ y
    vb = t.vbc.sum(axis=1)
    return _ratios(
        t,
        {
            "forward": (v * (B @ (t.Am @ by) + B @ yf), v * by),
            "backward": (((vb @ t.Am) @ B) * y + vb * yf, vb * y),
        },
        aggregation,
    )
