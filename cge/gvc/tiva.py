r"""OECD TiVA indicators, WWYZ participation and the structure of trade.

References: OECD (2023), Guide to OECD Trade in Value Added (TiVA) indicators, as split in
``exvatools`` (Feás 2023); Wang, Z., Wei, S.-J., Yu, X. and Zhu, K. (2017a), NBER Working Paper
23222; intra-regional trade shares as in the IMF Direction of Trade statistics. Notation:
:mod:`cge.gvc`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .tables import MRIO, _check, _memo, _ratio


def tiva(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""OECD Trade in Value Added (TiVA) indicators of gross exports and participation.

    By exporting sector :math:`(s,i)` (backward indicators) or origin sector (forward ones), with
    :math:`\ell_{ii}` the diagonal of :math:`L_{ss}`:

    .. math::
        \text{EXGR\_DVA} = V_s B_{ss} E_{s*} = \text{EXGR\_DDC} + \text{EXGR\_IDC} + \text{EXGR\_RIM},

    .. math::
        \text{EXGR\_DDC} = v_{s,i}\,\ell_{ii}\, E_{s*,i},\quad
        \text{EXGR\_IDC} = (V_s L_{ss} - v_{s}\,\ell)_i\, E_{s*,i},\quad
        \text{EXGR\_RIM} = \big[V_s (B_{ss} - L_{ss})\big]_i E_{s*,i},\quad
        \text{EXGR\_FVA} = \Big[\textstyle\sum_{t\ne s} V_t B_{ts}\Big]_i E_{s*,i},

    domestic value added in foreign final demand (Johnson-Noguera VAX, by origin sector)
    :math:`\text{FFD\_DVA}_{s,i} = v_{s,i} \sum_{r\ne s} [B Y_{\cdot r}]_{s,i}`, and the GVC
    participation components (OECD 2023): backward :math:`\text{DEXFVAP} = \text{EXGR\_FVA}`, forward
    :math:`\text{FEXDVAP}_{s,i} = v_{s,i} \sum_{r\ne s} [B_{sr} E_{r*}]_i` (domestic value added in
    partners' exports), with participation ratios ``PART_B = DEXFVAP / EXGR``,
    ``PART_F = FEXDVAP / EXGR`` and ``PART = PART_B + PART_F``. Value-added terms split as in
    ``exvatools`` (``oecd`` method): its ``DC`` is EXGR_DVA, ``DVA`` is EXGR_DDC + EXGR_IDC, ``DDC`` is
    EXGR_RIM. ``aggregation``: ``country`` or ``sector``.
    """
    _check(aggregation, ("country", "sector"))
    e, v = t.e, t.v
    v_diag = v * t.L.diag()
    terms = {
        "EXGR": e,
        "EXGR_DVA": t.vb_dom * e,
        "EXGR_DDC": v_diag * e,
        "EXGR_IDC": (t.vl_dom - v_diag) * e,
        "EXGR_RIM": (t.vb_dom - t.vl_dom) * e,
        "EXGR_FVA": t.vb_for * e,
        "FFD_DVA": v * (t.bfd * (1.0 - t.C)).sum(axis=1),
        "DEXFVAP": t.vb_for * e,
        "FEXDVAP": v * (t.Bm @ e),
    }
    if aggregation == "country":
        terms = {k: t.by_economy(val) for k, val in terms.items()}
    df = t.frame(terms, aggregation)
    df["EXGR_DVA_SH"] = _ratio(df["EXGR_DVA"], df["EXGR"])
    df["EXGR_FVA_SH"] = _ratio(df["EXGR_FVA"], df["EXGR"])
    df["PART_B"] = _ratio(df["DEXFVAP"], df["EXGR"])
    df["PART_F"] = _ratio(df["FEXDVAP"], df["EXGR"])
    df["PART"] = df["PART_B"] + df["PART_F"]
    return df


@_memo
def _wwyz_parts(t: MRIO) -> dict[str, np.ndarray]:
    """Forward (by origin row) and backward (by final-goods row) WWYZ components, each (n,)."""
    v, L, y, yd, yf = t.v, t.L, t.y_tot, t.y_dom, t.y_fex
    by = t.B @ y
    ly_d = t.bd(L, yd)
    # forward: V^ L Y^D, V^ L Y^F, V^ L A^F L Y^D, V^ L A^F (BY - L Y^D)
    fwd_s = v * t.bd(L, t.Am @ ly_d)
    fwd_gvc = v * t.bd(L, t.Am @ by)
    # backward: row vectors v'L, v'L A^F, v'L A^F L, v'L A^F B
    vl = t.vl_dom
    vlaf = vl @ t.Am
    vlafl = t.vbd(vlaf, L)
    vlafb = vlaf @ t.B
    vb = t.vbc.sum(axis=1)
    return {
        "Va": v * by, "V_D": v * ly_d, "V_RT": v * t.bd(L, yf), "V_GVC_S": fwd_s,
        "V_GVC_C": fwd_gvc - fwd_s,
        "Y": vb * y, "Y_D": vl * yd, "Y_RT": vl * yf, "Y_GVC_S": vlafl * yd, "Y_GVC_C": vlafb * y - vlafl * yd,
    }  # fmt: skip


def wwyz_participation(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Wang, Wei, Yu and Zhu (2017a) forward and backward GVC participation, simple and complex.

    Value added by origin (forward, row sums) and final goods by producer (backward, column sums)
    split into purely domestic, traditional trade, simple GVC (crossing one border for production)
    and complex GVC activities:

    .. math::
        \hat V B \hat Y = \underbrace{\hat V L \hat Y^D}_{D}
            + \underbrace{\hat V L \hat Y^F}_{RT}
            + \underbrace{\hat V L A^F L \hat Y^D}_{GVC\_S}
            + \underbrace{\hat V L A^F (B \hat Y - L \hat Y^D)}_{GVC\_C}

    with :math:`\hat Y`, :math:`\hat Y^D`, :math:`\hat Y^F` diagonal matrices of total, domestically
    absorbed and exported final goods. Forward participation
    :math:`\text{GVCPt\_f} = \hat V L A^F B \hat Y u / \hat V B Y u` and backward participation
    :math:`\text{GVCPt\_b} = u'\hat V L A^F B \hat Y / u'\hat V B \hat Y`, each with its simple
    (``_S``) and complex (``_C``) part. Columns ``Va, V_D, V_RT, V_GVC_S, V_GVC_C`` (forward
    levels), ``Y, Y_D, Y_RT, Y_GVC_S, Y_GVC_C`` (backward levels) and the six participation ratios.
    ``aggregation``: ``country`` or ``sector``; ratios of aggregates are ratios of sums.
    """
    _check(aggregation, ("country", "sector"))
    parts = _wwyz_parts(t)
    if aggregation == "country":
        parts = {k: t.by_economy(val) for k, val in parts.items()}
    df = t.frame(parts, aggregation, level="region")
    for side, tot in (("f", "Va"), ("b", "Y")):
        pre = "V" if side == "f" else "Y"
        s, c = df[f"{pre}_GVC_S"], df[f"{pre}_GVC_C"]
        df[f"GVCPt_{side}"] = _ratio(s + c, df[tot])
        df[f"GVCPt_{side}_S"] = _ratio(s, df[tot])
        df[f"GVCPt_{side}_C"] = _ratio(c, df[tot])
    return df


# ----------------------------------------------------------------------------------- trade structure
def _region_trade(t: MRIO) -> np.ndarray:
    """Gross trade between regions (not economies), (G_reg, G_reg), own-region flows zeroed."""
    n_reg = len(t.regions)
    to_reg = np.zeros((t.n, n_reg))
    to_reg[np.arange(t.n), t.row_region] = 1.0
    flows = to_reg.T @ (t.Z @ to_reg + t.Y)
    np.fill_diagonal(flows, 0.0)
    return flows


def intra_regional_trade_share(t: MRIO, groups: Mapping[str, Sequence] | None = None) -> pd.DataFrame:
    r"""Intra-regional trade share of groups of regions, as in the IMF Direction of Trade figures.

    For a group :math:`M` with bilateral gross trade :math:`T_{ab}` (intermediate plus final goods):

    .. math::
        \text{share}_M = \frac{\sum_{a \in M}\sum_{b \in M, b\ne a} (T_{ab} + T_{ba})}
                              {\sum_{a\in M} \big(\sum_{b\ne a} T_{ab} + \sum_{b \ne a} T_{ba}\big)},

    members' exports plus imports to and from members over their total exports plus imports.
    ``groups`` default to the table's groups. Columns ``intra_exports, exports, imports, share``.
    """
    groups = t.groups if groups is None else {str(g): tuple(m) for g, m in groups.items()}
    if not groups:
        raise ValueError("no groups given")
    flows = _region_trade(t)
    pos = {r: i for i, r in enumerate(t.regions)}
    rows = {}
    for g, members in groups.items():
        idx = np.array([pos[r] for r in members])
        intra = flows[np.ix_(idx, idx)].sum()
        exports, imports = flows[idx].sum(), flows[:, idx].sum()
        rows[g] = (intra, exports, imports, _ratio(2.0 * intra, exports + imports).item())
    df = pd.DataFrame.from_dict(rows, orient="index", columns=["intra_exports", "exports", "imports", "share"])
    return df.rename_axis(index="group", columns="term")


def intermediate_share(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Share of intermediate goods in gross exports and imports.

    Exports of :math:`(s,i)`: :math:`E^{int}_{s*,i} = \sum_{r\ne s} [Z_{sr}u]_i` over
    :math:`E_{s*,i}`; imports of region :math:`r` of goods of sector :math:`i`:
    :math:`\sum_{s\ne r} [Z_{sr}u]_i` over :math:`\sum_{s\ne r} E_{sr,i}`. Columns
    ``EXGR_INT, EXGR, EXGR_INT_SH, IMGR_INT, IMGR, IMGR_INT_SH``; ``aggregation``: ``country`` or
    ``sector`` (by region and sector of the goods traded). Trade inside a group is domestic.
    """
    _check(aggregation, ("country", "sector"))
    if aggregation == "country":
        terms = {
            "EXGR_INT": t.by_economy(t.eint.sum(axis=1)), "EXGR": t.by_economy(t.e),
            "IMGR_INT": t.eint.sum(axis=0), "IMGR": t.esr.sum(axis=0),
        }  # fmt: skip
        df = t.frame(terms, "country", level="region")
    else:
        exp = t.frame({"EXGR_INT": t.eint.sum(axis=1), "EXGR": t.e}, "sector", level="region")
        # imports of economy r of goods of sector i: exporters' rows summed by sector label
        n_sec = len(t.sectors)
        imp_int, imp_tot = np.zeros((n_sec, t.G)), np.zeros((n_sec, t.G))
        np.add.at(imp_int, t.row_sector, t.eint)
        np.add.at(imp_tot, t.row_sector, t.esr)
        imp = pd.DataFrame(
            {"IMGR_INT": imp_int.T.ravel(), "IMGR": imp_tot.T.ravel()},
            index=pd.MultiIndex.from_product(
                [pd.Index(t.economies, dtype=object), pd.Index(t.sectors, dtype=object)], names=["region", "sector"]
            ),
        )
        df = exp.join(imp, how="outer").fillna(0.0)
        df = df.loc[exp.index.append(imp.index.difference(exp.index, sort=False))]
    df["EXGR_INT_SH"] = _ratio(df["EXGR_INT"], df["EXGR"])
    df["IMGR_INT_SH"] = _ratio(df["IMGR_INT"], df["IMGR"])
    cols = ["EXGR_INT", "EXGR", "EXGR_INT_SH", "IMGR_INT", "IMGR", "IMGR_INT_SH"]
    return df[cols].rename_axis(columns="term")
