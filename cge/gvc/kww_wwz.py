r"""Decompositions of gross exports of Koopman, Wang and Wei (2014) and Wang, Wei and Zhu (2013).

References: Koopman, R., Wang, Z. and Wei, S.-J. (2014), *American Economic Review* 104(2), 459-494;
Wang, Z., Wei, S.-J. and Zhu, K. (2013, rev. 2018), NBER Working Paper 19677; term names and order
as in R ``decompr`` (Quast and Kummritz 2015). Notation: :mod:`cge.gvc`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .tables import AGGREGATIONS, MRIO, _check, _memo

KWW_TERMS = ("DVA_FIN", "DVA_INT", "DVA_INTrex", "RDV_FIN", "RDV_INT", "DDC", "FVA_FIN", "FVA_INT", "FDC")
WWZ_TERMS = (
    "DVA_FIN", "DVA_INT", "DVA_INTrexI1", "DVA_INTrexF", "DVA_INTrexI2", "RDV_INT", "RDV_FIN",
    "RDV_FIN2", "OVA_FIN", "MVA_FIN", "OVA_INT", "MVA_INT", "DDC_FIN", "DDC_INT", "ODC", "MDC",
)  # fmt: skip


@_memo
def _wwz_terms(t: MRIO) -> dict[str, np.ndarray]:
    """The sixteen WWZ terms as (n, G) arrays [exporting row, importer]; see :func:`wwz`."""
    wL, wB = t.vl_dom[:, None], t.vb_dom[:, None]
    Bm, Ym = t.Bm, t.Ym
    # (n, G) arrays Q[(r, j), s], routed through A_sr by t.route
    bm_yd = t.cols(Bm, t.y_dom)  # B_rs Y_ss
    bd_ym = t.bd(t.Bd, Ym)  # B_rr Y_rs
    bm_ym = Bm @ Ym  # sum_{t != r} B_rt Y_ts
    bm_yfex = t.cols(Bm, t.y_fex)  # B_rs Y_s*
    mv = t.vbc  # [(s, i), r] = V_r B_rs
    ov = t.vb_for[:, None] - mv  # sum_{t != s, r} V_t B_ts
    a_ly = t.cols(t.Am, t.ly_dom)  # A_sr L_rr Y_rr
    a_le = t.cols(t.Am, t.bd(t.L, t.e))  # A_sr L_rr E_r*
    return {
        "DVA_FIN": wB * Ym,
        "DVA_INT": wL * t.cols(t.Am, t.bd(t.Bd, t.y_dom)),
        "DVA_INTrexI1": wL * t.route(bm_yd.sum(axis=1, keepdims=True) - bm_yd),
        "DVA_INTrexF": wL * t.route(bd_ym.sum(axis=1, keepdims=True) - bd_ym),
        "DVA_INTrexI2": wL * t.route((Bm @ t.y_fex)[:, None] - bm_ym - bm_yfex),
        "RDV_INT": wL * t.route(bm_yd),
        "RDV_FIN": wL * t.route(bd_ym),
        "RDV_FIN2": wL * t.route(bm_ym),
        "OVA_FIN": ov * Ym,
        "MVA_FIN": mv * Ym,
        "OVA_INT": ov * a_ly,
        "MVA_INT": mv * a_ly,
        "DDC_FIN": wL * t.route(bm_yfex),
        "DDC_INT": (wB - wL) * t.cols(t.Am, t.x),
        "ODC": ov * a_le,
        "MDC": mv * a_le,
    }


def wwz(t: MRIO, aggregation: str = "sector_bilateral") -> pd.DataFrame:
    r"""Wang, Wei and Zhu (2013, 2018) decomposition of gross exports into sixteen terms.

    For exports of sector :math:`i` of :math:`s` to :math:`r` (:math:`\#`: element-wise product;
    :math:`Y_{s*} = \sum_{r\ne s} Y_{sr}`; sums over :math:`t, u` exclude the indicated economies):

    .. math::
        E_{sr} ={}& (V_s B_{ss})' \# Y_{sr} && \text{DVA\_FIN}\\
        &+ (V_s L_{ss})' \# (A_{sr} B_{rr} Y_{rr}) && \text{DVA\_INT}\\
        &+ (V_s L_{ss})' \# (A_{sr} \textstyle\sum_{t\ne s,r} B_{rt} Y_{tt}) && \text{DVA\_INTrexI1}\\
        &+ (V_s L_{ss})' \# (A_{sr} B_{rr} \textstyle\sum_{t\ne s,r} Y_{rt}) && \text{DVA\_INTrexF}\\
        &+ (V_s L_{ss})' \# (A_{sr} \textstyle\sum_{t\ne s,r} B_{rt} \sum_{u\ne s,t} Y_{tu})
            && \text{DVA\_INTrexI2}\\
        &+ (V_s L_{ss})' \# (A_{sr} B_{rs} Y_{ss}) && \text{RDV\_INT}\\
        &+ (V_s L_{ss})' \# (A_{sr} B_{rr} Y_{rs}) && \text{RDV\_FIN}\\
        &+ (V_s L_{ss})' \# (A_{sr} \textstyle\sum_{t\ne s,r} B_{rt} Y_{ts}) && \text{RDV\_FIN2}\\
        &+ (\textstyle\sum_{t\ne s,r} V_t B_{ts})' \# Y_{sr} + (V_r B_{rs})' \# Y_{sr}
            && \text{OVA\_FIN, MVA\_FIN}\\
        &+ (\textstyle\sum_{t\ne s,r} V_t B_{ts})' \# (A_{sr} L_{rr} Y_{rr})
           + (V_r B_{rs})' \# (A_{sr} L_{rr} Y_{rr}) && \text{OVA\_INT, MVA\_INT}\\
        &+ (V_s L_{ss})' \# (A_{sr} B_{rs} Y_{s*}) && \text{DDC\_FIN}\\
        &+ (V_s B_{ss} - V_s L_{ss})' \# (A_{sr} X_r) && \text{DDC\_INT}\\
        &+ (\textstyle\sum_{t\ne s,r} V_t B_{ts})' \# (A_{sr} L_{rr} E_{r*})
           + (V_r B_{rs})' \# (A_{sr} L_{rr} E_{r*}) && \text{ODC, MDC}

    (WWZ 2013, eq. 37 and table E1). Term names and their order follow R ``decompr::wwz``; the
    three return terms are named by the route back home (intermediate imports; final imports from
    the direct importer; final imports via third countries). The terms add up to :math:`E_{sr}` at
    every level. ``aggregation``: ``sector_bilateral`` (default: exporter, sector, importer),
    ``bilateral``, ``sector`` or ``country`` (sums). Columns: the sixteen terms, ``EXGR`` and the
    diagnostic ``DViX_F`` (``DViX_Fsr`` of decompr): domestic value added of the *origin* sector
    :math:`(s,i)` in :math:`s`'s exports to :math:`r`, forward linkage,
    :math:`v_{s,i} [L_{ss} E_{sr}]_i` (sums over sectors to Borin-Mancini's DVA).
    """
    _check(aggregation, AGGREGATIONS)
    terms = _wwz_terms(t)
    terms["EXGR"] = t.esr
    terms["DViX_F"] = t.v[:, None] * t.bd(t.L, t.esr)
    return t.aggregate(terms, aggregation)


def kww(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Koopman, Wang and Wei (2014) nine-term decomposition of gross exports.

    Country level (KWW 2014, eq. 36):

    .. math::
        E_{s*} ={}& \underbrace{V_s \textstyle\sum_{r\ne s} B_{ss} Y_{sr}}_{\text{DVA\_FIN}}
          + \underbrace{V_s \textstyle\sum_{r\ne s} B_{sr} Y_{rr}}_{\text{DVA\_INT}}
          + \underbrace{V_s \textstyle\sum_{r\ne s}\sum_{t\ne s,r} B_{sr} Y_{rt}}_{\text{DVA\_INTrex}}
          + \underbrace{V_s \textstyle\sum_{r\ne s} B_{sr} Y_{rs}}_{\text{RDV\_FIN}}
          + \underbrace{V_s \textstyle\sum_{r\ne s} B_{sr} A_{rs} L_{ss} Y_{ss}}_{\text{RDV\_INT}}
          + \underbrace{V_s \textstyle\sum_{r\ne s} B_{sr} A_{rs} L_{ss} E_{s*}}_{\text{DDC}} \\
          &+ \underbrace{\textstyle\sum_{t\ne s} V_t B_{ts} \sum_{r\ne s} Y_{sr}}_{\text{FVA\_FIN}}
          + \underbrace{\textstyle\sum_{t\ne s} V_t B_{ts} \sum_{r\ne s} A_{sr} L_{rr} Y_{rr}}_{\text{FVA\_INT}}
          + \underbrace{\textstyle\sum_{t\ne s} V_t B_{ts} \sum_{r\ne s} A_{sr} L_{rr} E_{r*}}_{\text{FDC}}

    computed, as in ``decompr::wwz2kww``, by summing the WWZ terms (WWZ 2013, table E2):
    DVA_INT = DVA_INT + DVA_INTrexI1, DVA_INTrex = DVA_INTrexF + DVA_INTrexI2, RDV_FIN = RDV_FIN +
    RDV_FIN2, DDC = DDC_FIN + DDC_INT, FVA_FIN = OVA_FIN + MVA_FIN, FVA_INT = OVA_INT + MVA_INT,
    FDC = ODC + MDC. Value-added exports (Johnson-Noguera VAX) are the first three terms, domestic
    value added is the first five and reflection (REF) is RDV_FIN + RDV_INT, so that
    VAX = DVA - REF. Only the country total is KWW's own object; finer ``aggregation`` levels give the
    same terms in KWW format.
    """
    _check(aggregation, AGGREGATIONS)
    w = _wwz_terms(t)
    terms = {
        "DVA_FIN": w["DVA_FIN"],
        "DVA_INT": w["DVA_INT"] + w["DVA_INTrexI1"],
        "DVA_INTrex": w["DVA_INTrexF"] + w["DVA_INTrexI2"],
        "RDV_FIN": w["RDV_FIN"] + w["RDV_FIN2"],
        "RDV_INT": w["RDV_INT"],
        "DDC": w["DDC_FIN"] + w["DDC_INT"],
        "FVA_FIN": w["OVA_FIN"] + w["MVA_FIN"],
        "FVA_INT": w["OVA_INT"] + w["MVA_INT"],
        "FDC": w["ODC"] + w["MDC"],
        "EXGR": t.esr,
    }
    return t.aggregate(terms, aggregation)
