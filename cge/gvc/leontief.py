r"""Leontief value-added origin, vertical specialisation, value-added exports and NRCA.

References: Leontief decomposition as in R ``decompr`` (Quast and Kummritz 2015); vertical
specialisation of Hummels, Ishii and Yi (2001); value-added exports of Johnson and Noguera (2012);
new revealed comparative advantage of Koopman, Wang and Wei (2014). Notation: :mod:`cge.gvc`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .tables import MRIO, _check, _ratio


def leontief(t: MRIO, post: str = "exports") -> pd.DataFrame:
    r"""Leontief decomposition of gross flows into their value-added origins.

    .. math::
        \text{exports: } V B \,\mathrm{diag}(E_{*}), \qquad
        \text{output: } V B \,\mathrm{diag}(x), \qquad
        \text{final demand: } V B Y, \qquad \text{none: } V B,

    with :math:`E_*` the total gross exports of each row. Element :math:`(k, i)` of
    :math:`V B\,\mathrm{diag}(E_*)` is the value added of origin row :math:`k` embodied in the exports
    of row :math:`i`; its column sums are gross exports and the off-(own-country) part of column
    :math:`i` is Hummels, Ishii and Yi's (2001) vertical specialisation. Same convention as
    ``decompr::leontief`` (Quast and Kummritz 2015).

    Returns a wide frame: rows ``(origin, origin_sector)``, columns ``(region, sector)`` (or
    ``importer`` for ``post="final_demand"``).
    """
    if post == "final_demand":
        rows = t._sum_keys(t.v[:, None] * t.bfd)
        cols = pd.Index(t.economies, name="importer", dtype=object)
    elif post in ("exports", "output", "none"):
        w = {"exports": t.e, "output": t.x, "none": np.ones(t.n)}[post]
        M = t.v[:, None] * t.B * w[None, :]
        rows = t._sum_keys(t._sum_keys(M).T).T
        cols = t._sector_index("region")
    else:
        raise ValueError("post must be 'exports', 'output', 'final_demand' or 'none'")
    index = t._sector_index("origin").set_names(["origin", "origin_sector"])
    return pd.DataFrame(rows, index=index, columns=cols)


def vertical_specialisation(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Hummels, Ishii and Yi (2001) vertical specialisation, measured with the MRIO Leontief inverse.

    VS, the foreign value added in exports of :math:`(s, i)` (backward; ``gvc::i2e``), and VS1, the
    value added of :math:`(s, i)` in the exports of other countries (forward; ``gvc::e2r``):

    .. math::
        VS_{s,i} = \Big[\sum_{t \ne s} V_t B_{ts}\Big]_i E_{s*,i}, \qquad
        VS1_{s,i} = v_{s,i} \sum_{r \ne s} \big[B_{sr} E_{r*}\big]_i .

    Columns ``EXGR, VS, VS_share, VS1, VS1_share`` (shares of the exporter's or sector's gross
    exports). ``aggregation``: ``country`` or ``sector`` (VS by exporting sector, VS1 by origin
    sector).
    """
    _check(aggregation, ("country", "sector"))
    vals = {"EXGR": t.e, "VS": t.vb_for * t.e, "VS1": t.v * (t.Bm @ t.e)}
    if aggregation == "country":
        vals = {k: t.by_economy(val) for k, val in vals.items()}
    df = t.frame(vals, aggregation)
    df.insert(2, "VS_share", _ratio(df["VS"], df["EXGR"]))
    df["VS1_share"] = _ratio(df["VS1"], df["EXGR"])
    return df


def vax(t: MRIO, aggregation: str = "country") -> pd.DataFrame:
    r"""Johnson and Noguera (2012) value-added exports and the VAX ratio.

    Value added of exporter :math:`s` absorbed in the final demand of :math:`r`:

    .. math::
        VAX_{sr} = V_s \sum_{t} B_{st} Y_{tr}, \qquad VAX_s = \sum_{r \ne s} VAX_{sr}, \qquad
        \text{VAX ratio} = VAX / E .

    ``aggregation``: ``country`` (:math:`VAX_s / E_{s*}`), ``bilateral`` (:math:`VAX_{sr}/E_{sr}`)
    or ``sector`` (value added of origin sector :math:`(s,i)` absorbed abroad over the sector's gross
    exports; forward, by origin). Columns ``EXGR, VAX, VAX_ratio``.
    """
    _check(aggregation, ("country", "bilateral", "sector"))
    vby_abroad = t.v[:, None] * t.bfd * (1.0 - t.C)  # VA of origin row absorbed in foreign r
    if aggregation == "country":
        df = t.frame({"EXGR": t.by_economy(t.e), "VAX": t.by_economy(vby_abroad.sum(axis=1))}, "country")
    elif aggregation == "sector":
        df = t.frame({"EXGR": t.e, "VAX": vby_abroad.sum(axis=1)}, "sector")
    else:
        df = t.frame({"EXGR": t.C.T @ t.esr, "VAX": t.C.T @ vby_abroad}, "bilateral")
    df["VAX_ratio"] = _ratio(df["VAX"], df["EXGR"])
    return df


def nrca(t: MRIO) -> pd.DataFrame:
    r"""New revealed comparative advantage of Koopman, Wang and Wei (2014), by country and sector.

    Balassa's index computed on the domestic value added of origin sector :math:`(s,i)` embodied in
    the gross exports of its own country (forward linkage; the ``Source == Using`` block of
    :func:`leontief`, as in R package ``gvc::nrca``):

    .. math::
        F_{s,i} = v_{s,i}\,\big[B_{ss} E_{s*}\big]_i, \qquad
        \mathrm{NRCA}_{s,i} = \frac{F_{s,i} / \sum_j F_{s,j}}{\sum_t F_{t,i} / \sum_{t,j} F_{t,j}} .
    """
    fwd = t.v * t.bd(t.Bd, t.e)
    df = t.frame({"DVA_forward": fwd}, "sector", level="region")
    by_region = df.groupby(level="region", sort=False)["DVA_forward"].transform("sum")
    by_sector = df.groupby(level="sector", sort=False)["DVA_forward"].transform("sum")
    df["NRCA"] = _ratio(df["DVA_forward"] / by_region, by_sector / df["DVA_forward"].sum())
    return df
