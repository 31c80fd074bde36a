r"""Country-level headline GVC indicators of a table, in long format, for the results layer.

Each indicator cites its source in :func:`summary`; the computations are those of
:mod:`cge.gvc.tiva` and :mod:`cge.gvc.positions`. Notation: :mod:`cge.gvc`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ..mrio import MRIOTable
from .positions import border_crossings, upstreamness
from .tables import MRIO, _ratio
from .tiva import intermediate_share, intra_regional_trade_share, tiva, wwyz_participation

SUMMARY_INDICATORS = {
    "gross_exports": "value",
    "dva_share_exports": "share",
    "fva_share_exports": "share",
    "vax_ratio": "share",
    "gvc_participation_forward_wwyz": "share",
    "gvc_participation_backward_wwyz": "share",
    "gvc_participation_forward_tiva": "share",
    "gvc_participation_backward_tiva": "share",
    "upstreamness": "stages",
    "border_crossings": "crossings",
    "intermediate_share_exports": "share",
}


def _headline(t: MRIO) -> dict[str, pd.Series]:
    """Country-level headline indicators of one table, as Series indexed by economy."""
    tv = tiva(t, "country")
    ww = wwyz_participation(t, "country")
    return {
        "gross_exports": tv["EXGR"],
        "dva_share_exports": tv["EXGR_DVA_SH"],
        "fva_share_exports": tv["EXGR_FVA_SH"],
        "vax_ratio": pd.Series(_ratio(tv["FFD_DVA"], tv["EXGR"]), index=tv.index),
        "gvc_participation_forward_wwyz": ww["GVCPt_f"],
        "gvc_participation_backward_wwyz": ww["GVCPt_b"],
        "gvc_participation_forward_tiva": tv["PART_F"],
        "gvc_participation_backward_tiva": tv["PART_B"],
        "upstreamness": upstreamness(t, "country")["U"],
        "border_crossings": border_crossings(t, "country")["forward"],
        "intermediate_share_exports": intermediate_share(t, "country")["EXGR_INT_SH"],
    }


def summary(
    Z,
    Y=None,
    x=None,
    va=None,
    regions: Sequence | None = None,
    sectors: Sequence | None = None,
    groups: Mapping[str, Sequence] | None = None,
    *,
    row_regions: Sequence | None = None,
    row_sectors: Sequence | None = None,
    value_unit: str = "US$ million",
) -> pd.DataFrame:
    r"""Country-level headline GVC indicators of an MRIO table, long format.

    Columns ``indicator, region, value, unit``. For every region: gross exports (``value_unit``),
    domestic and foreign value-added shares of gross exports (TiVA EXGR_DVA and EXGR_FVA over EXGR;
    the foreign share is Hummels-Ishii-Yi's VS share), the Johnson-Noguera VAX ratio, forward and
    backward GVC participation (Wang, Wei, Yu and Zhu 2017a, shares of value added and of final
    goods; OECD TiVA, shares of gross exports), output-weighted upstreamness (Antràs et al. 2012),
    the value-added-weighted number of border crossings (Muradov 2016, forward) and the share of
    intermediates in gross exports. For every group in ``groups`` the same indicators with the
    group as one economy (trade inside it is domestic), labelled by the group name, and
    ``intra_group_trade_share`` (IMF Direction of Trade definition, computed from members' gross
    trade). Ratios are ``share`` (0-1). Intended for benchmark and counterfactual tables side by
    side.

    ``Z`` is either a table (:class:`cge.mrio.MRIOTable`, e.g. from :meth:`cge.Benchmark.to_mrio`;
    its own groups are ignored) or the intermediate flows, given with ``Y``, ``x``, ``va`` and the
    labels as for :class:`MRIO`.
    """
    if isinstance(Z, MRIOTable):
        t = MRIO.of(Z)
    elif regions is None or sectors is None:
        raise ValueError("summary needs the regions and sectors labels")
    else:
        t = MRIO(Z, Y, x, va, regions=regions, sectors=sectors, row_regions=row_regions, row_sectors=row_sectors)
    frames = []

    def add(name: str, series: pd.Series, unit: str) -> None:
        columns = {"indicator": name, "region": series.index, "value": series.to_numpy(), "unit": unit}
        frames.append(pd.DataFrame(columns))

    for name, series in _headline(t).items():
        kind = SUMMARY_INDICATORS[name]
        add(name, series.loc[list(t.economies)], value_unit if kind == "value" else kind)
    for g, members in (groups or {}).items():
        # each group as one economy, all other regions as themselves
        for name, series in _headline(t.regroup({g: members})).items():
            kind = SUMMARY_INDICATORS[name]
            add(name, series.loc[[str(g)]], value_unit if kind == "value" else kind)
    if groups:
        add("intra_group_trade_share", intra_regional_trade_share(t, groups)["share"], "share")
    out = pd.concat(frames, ignore_index=True)
    out["region"] = out["region"].astype(object)
    return out
