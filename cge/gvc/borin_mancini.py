r"""Borin and Mancini accounting of gross exports and imports, its tripartite GVC measures, and
the Miroudot-Ye world-perimeter decomposition.

References: Borin, A. and Mancini, M. (2019), World Bank Policy Research Working Paper 8804, and
(2023), *Economic Systems Research* 35(4), 586-613; Borin, A., Mancini, M. and Taglioni, D. (2021),
World Bank Policy Research Working Paper 9785 (tripartite measures, as in R package gvcAnalyzer);
Belotti, Borin and Mancini (2021), Stata ``icio``; Johnson (2018) and Los, Timmer and de Vries
(2016) for the sector-bilateral :math:`DVA^\star`; Miroudot, S. and Ye, M. (2021), *Economic
Systems Research* 33(1), 67-87, as in ``exvatools`` (Feás 2023). Notation: :mod:`cge.gvc`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .tables import AGGREGATIONS, MRIO, _check, _memo, _ratio

BM_TERMS = ("GEXP", "DC", "DVA", "VAX", "DAVAX", "REF", "DDC", "FC", "FVA", "FDC", "GVC", "GVCB", "GVCF")


@_memo
def _bm_vaxe(t: MRIO) -> tuple[np.ndarray, np.ndarray]:
    r"""Directly absorbed (DAE) and absorbed-abroad (VAXE) parts of bilateral exports, (n, G).

    :math:`DAE_{sr} = Y_{sr} + A_{sr} L_{rr} Y_{rr}`,
    :math:`VAXE_{sr} = Y_{sr} + A_{sr} (X_r - \sum_t B_{rt} Y_{ts})`.
    """
    dae = t.Ym + t.cols(t.Am, t.ly_dom)
    vaxe = t.Ym + t.route(t.x[:, None] - t.bfd)
    return dae, vaxe


@_memo
def _bm_source(t: MRIO) -> dict[str, np.ndarray]:
    """Exporter perspective, source approach: 13 terms as (n, G) arrays."""
    e = t.esr
    vl, vbd, vbf = t.vl_dom[:, None], t.vb_dom[:, None], t.vb_for[:, None]
    # foreign VA recorded once: sum_{t != s} V_t B^{/s}_{ts} = (sum_{t != s} V_t B_ts) B_ss^{-1} L_ss
    fva_coef = t.vbd(t.vb_for, t.Bd.map(np.linalg.solve, t.L))[:, None]
    dae, vaxe = _bm_vaxe(t)
    dc, fc, dva, fva = vbd * e, vbf * e, vl * e, fva_coef * e
    davax, vax_ = vl * dae, vl * vaxe
    gvc = e - davax
    return {
        "GEXP": e, "DC": dc, "DVA": dva, "VAX": vax_, "DAVAX": davax, "REF": dva - vax_,
        "DDC": dc - dva, "FC": fc, "FVA": fva, "FDC": fc - fva, "GVC": gvc, "GVCB": fc + dc - dva,
        "GVCF": gvc - fc - (dc - dva),
    }  # fmt: skip


@_memo
def _bm_sink(t: MRIO) -> dict[str, np.ndarray]:
    """Exporter perspective, sink approach (BM 2019, eqs. 33-39): terms as (n, G) arrays."""
    Am, B, L = t.Am, t.B, t.L
    ia = t.IAd
    finv = ia.map(lambda i, b: np.linalg.inv(i @ b), t.Bd)  # [(I - A_ss) B_ss]^-1
    # output with the exporter's exports taken out of the system, and its response to own final demand
    x_til = t.x[:, None] - t.cols(B, t.bd(finv, t.e))
    phi = t.Ym + t.route(t.bd(L, t.y_tot[:, None] + Am @ x_til))
    am_bfd = Am @ t.bfd
    x_til_s = t.bfd - t.cols(B, t.bd(finv, t.own(am_bfd)))
    phi_ref = t.route(t.bd(L, t.Yr + Am @ x_til_s))
    # value added absorbed by the direct importer (incl. re-processing), VAXIM; A^F B = (I - A_D) B - I
    f_r = t.bd(finv, am_bfd + t.Ym)  # [(s, k), r]
    amb = t.bd(ia, B) - np.eye(t.n)
    arx = t.own(am_bfd)[:, None] - (amb * f_r[:, t.econ].T) @ t.C
    phi_vx = t.Ym + t.route(t.bd(L, t.y_dom[:, None] + arx))
    vbd, vbf = t.vb_dom[:, None], t.vb_for[:, None]
    e = t.esr
    dc, fc = vbd * e, vbf * e
    dva, fva, ref = vbd * phi, vbf * phi, vbd * phi_ref
    return {
        "GEXP": e, "DC": dc, "DVA": dva, "VAX": dva - ref, "VAXIM": vbd * phi_vx, "REF": ref,
        "DDC": dc - dva, "FC": fc, "FVA": fva, "FDC": fc - fva,
    }  # fmt: skip


@_memo
def _bm_self(t: MRIO, aggregation: str) -> tuple[dict[str, np.ndarray], str]:
    """Self perimeter: the perimeter is the export flow at the requested aggregation level."""
    vbd, vbf = t.vb_dom, t.vb_for
    if aggregation == "sector":
        # rank-one extraction of row (s, i)'s exports: B^{/i}_{., i} = B_{., i} / [(I - A_ss) B_ss]_ii
        d = t.IAd.map(np.matmul, t.Bd).diag()
        _, vaxe = _bm_vaxe(t)
        e = t.e
        dva, fva, vax_ = vbd / d * e, vbf / d * e, vbd / d * vaxe.sum(axis=1)
        dc, fc = vbd * e, vbf * e
        return {
            "GEXP": e, "DC": dc, "DVA": dva, "VAX": vax_, "REF": dva - vax_, "DDC": dc - dva,
            "FC": fc, "FVA": fva, "FDC": fc - fva,
        }, "sector"  # fmt: skip
    if aggregation == "sector_bilateral":
        d = 1.0 + (t.Am * t.B.T) @ t.C  # 1 + [A_sr B_rs]_ii
        _, vaxe = _bm_vaxe(t)
        e = t.esr
        c_d, c_f = vbd[:, None] / d, vbf[:, None] / d
        dc, fc = vbd[:, None] * e, vbf[:, None] * e
        dva, vax_, fva = c_d * e, c_d * vaxe, c_f * e
        return {
            "GEXP": e, "DC": dc, "DVA": dva, "VAX": vax_, "REF": dva - vax_, "DDC": dc - dva,
            "FC": fc, "FVA": fva, "FDC": fc - fva,
        }, "sector_bilateral"  # fmt: skip
    if aggregation == "bilateral":
        # country-pair extraction A_sr = 0: B^{/sr}_{., s} = B_{., s} (I + A_sr B_rs)^{-1}
        dva, fva = np.zeros((t.G, t.G)), np.zeros((t.G, t.G))
        for s, bs in enumerate(t.blocks):
            a_s, b_s = t.A[bs], t.B[:, bs]
            for econs, rows in zip(t._size_econs, t._layout):  # importers batched by block size
                keep = econs != s
                econs, rows = econs[keep], rows[keep]
                if not len(econs):
                    continue
                m = np.eye(len(bs))[None] + np.swapaxes(a_s[:, rows], 0, 1) @ b_s[rows]  # I + A_sr B_rs
                w = np.linalg.solve(m, t.esr[bs][:, econs].T[:, :, None])[:, :, 0]
                dva[s, econs], fva[s, econs] = w @ vbd[bs], w @ vbf[bs]
        gexp = t.C.T @ t.esr
        dc, fc = t.C.T @ (vbd[:, None] * t.esr), t.C.T @ (vbf[:, None] * t.esr)
        terms = {"GEXP": gexp, "DC": dc, "DVA": dva, "DDC": dc - dva, "FC": fc, "FVA": fva, "FDC": fc - fva}
        return terms, "bilateral"
    raise ValueError("perspective 'self' needs aggregation 'sector', 'bilateral' or 'sector_bilateral'")


@_memo
def _bm_world(t: MRIO, approach: str) -> dict[str, np.ndarray]:
    """World perspective, country level: source (BM 2019 eq. 52) or sink (eq. 54) foreign terms."""
    src = {k: t.by_economy(v.sum(axis=1)) for k, v in _bm_source(t).items()}
    if approach == "source":
        fva = t.by_economy((t.vl_dom @ t.Am) * t.bd(t.L, t.e))
    else:
        dae, _ = _bm_vaxe(t)
        w_rex = t.bd(t.L, t.y_fex + t.Am @ t.ly_dom)
        tc = t.vbc * t.cols(t.Am, w_rex)
        fva = t.by_economy(t.vb_for * dae.sum(axis=1) + tc.sum(axis=1))
    out = {k: src[k] for k in ("GEXP", "DC", "DVA", "VAX", "REF", "DDC", "FC")}
    out["FVA"] = fva
    out["FDC"] = src["FC"] - fva
    return out


def borin_mancini(
    t: MRIO, perspective: str = "exporter", approach: str = "source", aggregation: str = "country"
) -> pd.DataFrame:
    r"""Borin and Mancini (2019, 2023) accounting of gross exports.

    Gross exports split into domestic and foreign content, each into value added and double
    counting, with value added split by where it is absorbed:

    .. math::
        \text{GEXP} = \underbrace{\text{DVA} + \text{DDC}}_{\text{DC}}
                    + \underbrace{\text{FVA} + \text{FDC}}_{\text{FC}}, \qquad
        \text{DVA} = \text{VAX} + \text{REF}, \qquad \text{VAX} \supseteq \text{DAVAX}.

    **Exporter perspective, source approach** (value added recorded the first time it leaves the
    exporter :math:`s`; perimeter: :math:`s`'s total exports; :math:`A^{/s}` extracts them):

    .. math::
        \text{DC}_{sr} = V_s B_{ss} E_{sr},\quad \text{DVA}_{sr} = V_s L_{ss} E_{sr},\quad
        \text{FC}_{sr} = \textstyle\sum_{t\ne s} V_t B_{ts} E_{sr},\quad
        \text{FVA}_{sr} = \textstyle\sum_{t\ne s} V_t B^{/s}_{ts} E_{sr}
          = \big(\textstyle\sum_{t\ne s} V_t B_{ts}\big) B_{ss}^{-1} L_{ss} E_{sr},

    .. math::
        \text{VAX}_{sr} = V_s L_{ss}\big[Y_{sr} + A_{sr}\big(X_r - \textstyle\sum_t B_{rt} Y_{ts}\big)\big],
        \quad
        \text{DAVAX}_{sr} = V_s L_{ss} (Y_{sr} + A_{sr} L_{rr} Y_{rr}),

    and GVC-related trade :math:`\text{GVC} = E - \text{DAVAX}`, backward
    :math:`\text{GVCB} = \text{FC} + \text{DDC}`, forward :math:`\text{GVCF} = \text{DVA} - \text{DAVAX}`
    (BM 2023, eqs. 18-20). **Sink approach** (value added recorded the last time it leaves
    :math:`s`, BM 2019 eqs. 33-39): same DC and FC, DVA/FVA/REF from output with :math:`s`'s exports
    extracted; at the bilateral levels also ``VAXIM`` (absorbed by the direct importer, incl.
    re-processing). Source and sink coincide at the country level.

    **World perspective** (country level only): FVA counted once in world trade, the "corrected
    KWW" (BM 2019, eq. 52 for ``source``, eq. 54 for ``sink``).

    **Self perspective**: the perimeter is the flow itself, at ``sector`` (the sector's total
    exports), ``sector_bilateral`` (Johnson 2018 / Los et al. 2016 :math:`DVA^\star`) or
    ``bilateral`` (the country pair, extraction of :math:`A_{sr}` only:
    :math:`B^{/sr}_{\cdot s} = B_{\cdot s} (I + A_{sr} B_{rs})^{-1}`, BM 2023 eq. 9; gives DVA,
    DDC, FVA, FDC only). At the country level it is the exporter perspective.

    ``aggregation``: ``country``, ``sector`` (exporter, sector), ``bilateral`` (exporter, importer)
    or ``sector_bilateral`` (exporter, sector, importer). Same conventions and results as
    ``decompr::bm`` 7.0 (Krantz), Stata ``icio`` (Belotti, Borin and Mancini 2021), ``exvatools``
    (``bm_src``/``bm_snk``) and ``gvcAnalyzer`` (BM 2023). Groups of the table are single economies.
    """
    _check(aggregation, AGGREGATIONS)
    if approach not in ("source", "sink"):
        raise ValueError("approach must be 'source' or 'sink'")
    if perspective == "world":
        if aggregation != "country":
            raise ValueError("perspective 'world' is defined at the country level only")
        return t.frame(_bm_world(t, approach), "country")
    if perspective not in ("exporter", "self"):
        raise ValueError("perspective must be 'exporter', 'world' or 'self'")
    if perspective == "self" and aggregation != "country":
        terms, kind = _bm_self(t, aggregation)
        return t.frame(terms, kind)
    if approach == "source" or aggregation == "country":
        return t.aggregate(_bm_source(t), aggregation)
    terms = _bm_sink(t)
    if aggregation == "sector":
        terms.pop("VAXIM")
    return t.aggregate(terms, aggregation)


def bm_imports(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Borin and Mancini (2019, eq. 51) importer-perspective decomposition of gross imports.

    Gross imports of :math:`r` split into value added (counted once, by origin) and double counting,
    with the perimeter at the importer: :math:`\tilde B^{r}` is the Leontief inverse with :math:`r`'s
    imports extracted, obtained from :math:`B` by a block Woodbury update. Country level: columns
    ``GIMP = VA + DC``; ``bilateral``: ``VA, DC`` by ``(importer, origin)``, including domestic
    value added that returns to the importer.
    """
    _check(aggregation, ("country", "bilateral"))
    B = t.B
    m = t.IAd.left(B) - np.eye(t.n)  # B_{., r} (I - A_rr) - I_{., r}
    kinv = t.Bd.map(lambda b, i: np.linalg.inv(b @ i), t.IAd)  # [B_rr (I - A_rr)]^-1
    b_esr = B @ t.esr
    diag_b = t.own(b_esr)
    btil_d = b_esr - t.cols(m, t.bd(kinv, diag_b))
    bh = B @ t.cols(t.Am, diag_b)
    btil_h = bh - t.cols(m, t.bd(kinv, t.own(bh)))
    va = t.C.T @ (t.v[:, None] * btil_d)  # [origin economy, importer]
    dc = t.C.T @ (t.v[:, None] * btil_h)
    if aggregation == "country":
        va_r, dc_r = va.sum(axis=0), dc.sum(axis=0)
        return t.frame({"GIMP": va_r + dc_r, "VA": va_r, "DC": dc_r}, "country", level="importer")
    econ = pd.Index(t.economies, dtype=object)
    imp, org = np.meshgrid(np.arange(t.G), np.arange(t.G), indexing="ij")
    index = pd.MultiIndex.from_arrays([econ[imp.ravel()], econ[org.ravel()]], names=["importer", "origin"])
    data = np.column_stack([va.T.ravel(), dc.T.ravel()])
    return pd.DataFrame(data, index=index, columns=pd.Index(["VA", "DC"], name="term"))


def miroudot_ye(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Miroudot and Ye (2021) decomposition of gross exports with the world perimeter.

    With every international flow extracted (:math:`B^{o} = L`), domestic value added is
    :math:`V_s L_{ss} E_{s*}`, no foreign value added is "counted once" in the exporter's flow and the
    whole foreign content is foreign double counting, split into value added crossing one more
    border before entering :math:`s` and the rest:

    .. math::
        \text{DVA} = V_s L_{ss} E_{s*},\quad \text{DDC} = V_s (B_{ss} - L_{ss}) E_{s*},\quad
        \text{FVA} = 0,\quad
        \text{FDC1} = \textstyle\sum_{t\ne s} V_t L_{tt} A_{ts} L_{ss} E_{s*},\quad
        \text{FDC2} = \textstyle\sum_{t\ne s} V_t [L A^F (B - L)]_{ts} E_{s*} .

    FDC1 is Borin and Mancini's world/source FVA. Columns ``EXGR, DC, DVA, DDC, FC, FVA, FDC, FDC1,
    FDC2``; ``aggregation``: ``country`` or ``sector``. Same as ``exvatools`` method ``my`` with
    ``perim = "WLD"``.
    """
    _check(aggregation, ("country", "sector"))
    e = t.e
    fdc1_coef = t.vbd(t.vl_dom @ t.Am, t.L)
    terms = {
        "EXGR": e, "DC": t.vb_dom * e, "DVA": t.vl_dom * e, "DDC": (t.vb_dom - t.vl_dom) * e,
        "FC": t.vb_for * e, "FVA": np.zeros_like(e), "FDC": t.vb_for * e, "FDC1": fdc1_coef * e,
        "FDC2": (t.vb_for - fdc1_coef) * e,
    }  # fmt: skip
    if aggregation == "country":
        terms = {k: t.by_economy(v) for k, v in terms.items()}
    return t.frame(terms, aggregation)


# =====================================================================================================
# Borin, Mancini and Taglioni (2021) tripartite GVC measures, as implemented in gvcAnalyzer
# =====================================================================================================
def _imported_input_coef(t: MRIO) -> np.ndarray:
    r"""Gross imported inputs per unit of final output of :math:`s` along its domestic chain:
    :math:`\sum_{t\ne s} u' A_{ts} L_{ss}`, shape (n,)."""
    return t.vbd(t.Am.sum(axis=0), t.L)


def bm2025_trade(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Tripartite split of GVC-related trade into pure-forward, two-sided and pure-backward trade.

    Borin, Mancini and Taglioni (2021) split GVC-related exports :math:`\text{GVC}_{sr} = E_{sr} -
    \text{DAVAX}_{sr}` (see :func:`borin_mancini`) by whether imported inputs are used (backward) and
    whether the importer re-exports (forward). With :math:`m_s = \sum_{t\ne s} u' A_{ts} L_{ss}`
    the gross imported inputs along the exporter's domestic chain (the convention of R package
    ``gvcAnalyzer`` 0.1.1):

    .. math::
        \text{PB}_{sr} = m_s (Y_{sr} + A_{sr} L_{rr} Y_{rr}), \qquad
        \text{TS}_{sr} = m_s\, A_{sr} L_{rr} E_{r*}, \qquad
        \text{PF}_{sr} = \text{GVC}_{sr} - \text{TS}_{sr} - \text{PB}_{sr} .

    Columns ``E, DAVAX, GVC, GVC_PF, GVC_TS, GVC_PB``, and at the country level the trade-based
    indicators ``share_GVC_trade = GVC / E``, ``share_PF/TS/PB_trade`` (shares of GVC) and
    ``forward_trade = (PF - PB) / GVC``. ``aggregation``: ``country``, ``bilateral``, ``sector`` or
    ``sector_bilateral``. The imported-input convention is the package's, not independently verified
    against the paper.
    """
    _check(aggregation, AGGREGATIONS)
    dae, _ = _bm_vaxe(t)
    m_s = _imported_input_coef(t)[:, None]
    davax = t.vl_dom[:, None] * dae
    pb = m_s * dae
    ts = m_s * t.cols(t.Am, t.bd(t.L, t.e))
    gvc = t.esr - davax
    df = t.aggregate(
        {"E": t.esr, "DAVAX": davax, "GVC": gvc, "GVC_PF": gvc - ts - pb, "GVC_TS": ts, "GVC_PB": pb}, aggregation
    )
    if aggregation == "country":
        df["share_GVC_trade"] = _ratio(df["GVC"], df["E"])
        for part in ("PF", "TS", "PB"):
            df[f"share_{part}_trade"] = _ratio(df[f"GVC_{part}"], df["GVC"])
        df["forward_trade"] = _ratio(df["GVC_PF"] - df["GVC_PB"], df["GVC"])
    return df


def bm2025_output(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Output-based tripartite GVC measures (Borin, Mancini and Taglioni 2021) as in gvcAnalyzer.

    Gross output of :math:`s` split into purely domestic production :math:`\text{DomX} = \hat v_s
    L_{ss} Y_{ss}`, GVC-related output (pure forward, two-sided, pure backward) and traditional trade
    (the residual). With :math:`q_s = L_{ss} \sum_{r\ne s} A_{sr} L_{rr} E_{r*}`,
    :math:`c = u'\hat V L A^F B` and :math:`f_s = \sum_{j\ne s} V_j L_{jj} A_{js} L_{ss}`:

    .. math::
        \text{PF} = \hat v_s q_s,\quad
        \text{PB} = c_s \# y_s - f_s \# Y_{ss},\quad
        \text{TS}^{imp} = c_s \# x_s - f_s \# (A_{ss} L_{ss} Y_{ss}) - \text{PB},\quad
        \text{TS}^{dom} = \hat v_s L_{ss} A_{ss} q_s,

    the country-level formulas of R package ``gvcAnalyzer`` 0.1.1 (``bm_2025_output_components``),
    split by sector element by element so that sector values add up to the country values (that
    package's own sector function uses a different pure-backward formula whose sector values do not
    add up to its country values, and it clips negative two-sided values at zero, which this function
    does not). Not independently verified against the paper. Columns ``GVC_PF_X, GVC_PB_X,
    GVC_TSImp, GVC_TSDom, GVC_TS_X, GVC_X, DomX, TradX, X_total`` and the shares ``share_GVC_output
    = GVC_X / X_total``, ``share_PF/TS/PB_output`` (of GVC_X) and ``forward_output = (PF - PB) /
    GVC_X``. ``aggregation``: ``country`` or ``sector``.
    """
    _check(aggregation, ("country", "sector"))
    v, L = t.v, t.L
    q = t.bd(L, t.Am @ t.bd(L, t.e))
    vlaf = t.vl_dom @ t.Am
    c = vlaf @ t.B
    f = t.vbd(vlaf, L)
    pf = v * q
    pb = c * t.y_tot - f * t.y_dom
    ts_imp = c * t.x - f * t.bd(t.Ad, t.ly_dom) - pb
    ts_dom = v * t.bd(L, t.bd(t.Ad, q))
    gvc = pf + pb + ts_imp + ts_dom
    dom = v * t.ly_dom
    terms = {
        "GVC_PF_X": pf, "GVC_PB_X": pb, "GVC_TSImp": ts_imp, "GVC_TSDom": ts_dom, "GVC_TS_X": ts_imp + ts_dom,
        "GVC_X": gvc, "DomX": dom, "TradX": t.x - dom - gvc, "X_total": np.asarray(t.x),
    }  # fmt: skip
    if aggregation == "country":
        terms = {k: t.by_economy(val) for k, val in terms.items()}
    df = t.frame(terms, aggregation, level="region")
    df["share_GVC_output"] = _ratio(df["GVC_X"], df["X_total"])
    df["share_PF_output"] = _ratio(df["GVC_PF_X"], df["GVC_X"])
    df["share_TS_output"] = _ratio(df["GVC_TS_X"], df["GVC_X"])
    df["share_PB_output"] = _ratio(df["GVC_PB_X"], df["GVC_X"])
    df["forward_output"] = _ratio(df["GVC_PF_X"] - df["GVC_PB_X"], df["GVC_X"])
    return df
