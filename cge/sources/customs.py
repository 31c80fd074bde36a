"""Customs duties actually collected, and benchmark tariffs that collect them.

Applied tariffs times imports overstate the duties that customs collect: imports for processing and
inward processing enter duty-free, inputs of exporters are exempt or refunded (duty drawback), and
many other exemptions, quotas and concessions apply (for China in 2011, applied tariffs times
imports give about US$98bn against US$40bn of customs duties collected). :func:`treat_tariffs`
brings each importing region's benchmark tariff revenue down to the duties it collected, where
data exist, with one of the :data:`TREATMENTS`:

``applied``
    No treatment: the applied tariffs as they are (the switch that turns the treatment off).
``collection``
    Effective collection rates: every tariff of an importing region ``s`` (both uses) is scaled
    by ``c_s = min(1, collected_s / implied_s)``: the "collection rate" (collected duties over
    imports times official rates), whose shortfall below one Pritchett and Sethi (1994) document
    for many developing economies and attribute to exemptions. The default: it keeps one rate per
    route for both uses, which the GTAP-style common sourcing (``sourcing="common"``) needs.
``drawback``
    Duty drawback first, then collection rates. Imported intermediates are exempt from
    duty in proportion to the share of exports in the output of the sector that buys them, the
    treatment of duty exemptions on inputs used in exports of Ianchovichina, McDougall and Hertel
    (2000) for China; since tariffs are by use and not by using sector, the exempt share of each
    route is the purchase-weighted export share of its buyers,
    ``e[r, i, s] = sum_j Z[r, i, s, j] * x_share[s, j] / sum_j Z[r, i, s, j]``, and the
    intermediate tariff becomes ``t * (1 - lambda_s * e)``, with ``lambda_s = 1`` unless a full
    exemption would take revenue below what was collected (then the share that matches). What gap
    remains after the exemption is closed with the collection rate of ``collection``.

Regions whose revenue is already at or below what was collected are left alone (rates capped at 1),
as are regions without data and aggregate regions with any member without data.

Collected duties: World Bank WDI series GC.TAX.IMPT.CN (customs and other import duties, current
local currency; WDI's source is the IMF's Government Finance Statistics), converted to US$ with the
WDI official exchange rate PA.NUS.FCRF of the same year (``../shared/data/customs_duty_revenue``,
``../shared/data/wdi_fx_lpi``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import source_file

TREATMENTS = {
    "applied": "applied tariffs as they are (no treatment)",
    "collection": "effective collection rates: each importer's tariffs scaled by min(1, collected / implied revenue)",
    "drawback": (
        "duty drawback on imported inputs used in exports (Ianchovichina, McDougall and Hertel 2000), "
        "then effective collection rates for the remaining gap"
    ),
}
CITATIONS = {
    "WDI": "World Bank, World Development Indicators: GC.TAX.IMPT.CN (customs and other import duties, current LCU; from IMF Government Finance Statistics) and PA.NUS.FCRF (official exchange rate, LCU per US$, period average).",
    "IMH": "Ianchovichina, E., McDougall, R. and Hertel, T. (2000). Duty drawbacks, competitiveness and growth: are duty drawbacks worth the hassle? Canadian Journal of Economics 33(5), 1264-1279.",
    "PS": "Pritchett, L. and Sethi, G. (1994). Tariff rates, tariff revenue, and tariff reform: some new facts. World Bank Economic Review 8(1), 1-16.",
}
DUTIES = ("customs_duty_revenue", "customs_duties_indexmundi_long.csv")
FX = ("wdi_fx_lpi", "wdi_target_economies_long.csv")
FILES = (DUTIES, FX)
"""The raw files :func:`collected_duties` reads (under the shared data folder)."""


def collected_duties(year: int = 2011, root: Path | str | None = None) -> pd.DataFrame:
    """Customs duties collected in ``year`` by economy (US$ million).

    Columns: ``lcu`` (current local currency), ``fx`` (LCU per US$), ``usd_million``, ``source``.
    Economies with a duty figure but no exchange rate are dropped.
    """
    duties_file, fx_file = source_file(*DUTIES, root=root), source_file(*FX, root=root)
    duties = pd.read_csv(duties_file)
    duties = duties[(duties["indicator"] == "GC.TAX.IMPT.CN") & (duties["year"] == year)].set_index("iso3")
    fx = pd.read_csv(fx_file)
    fx = fx[(fx["indicator"] == "PA.NUS.FCRF") & (fx["year"] == year)].set_index("iso3")["value"].astype(float)
    out = pd.DataFrame({"lcu": duties["value"].astype(float), "source": duties["source_page"]})
    out["fx"] = fx.reindex(out.index)
    out = out.dropna(subset=["fx"])
    out["usd_million"] = out["lcu"] / out["fx"] / 1e6
    return out[["lcu", "fx", "usd_million", "source"]].sort_index()


@dataclass
class Collection:
    """What :func:`treat_tariffs` did: the before/after table and notes."""

    treatment: str
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def as_metadata(self) -> dict:
        """Plain, rounded values for the benchmark's metadata."""
        rows = {}
        for region, row in self.table.iterrows():
            rows[region] = {k: (round(float(v), 4) if isinstance(v, (float, np.floating)) else str(v)) for k, v in row.items()}
        return {"treatment": self.treatment, "method": TREATMENTS[self.treatment], "regions": rows}


def export_shares(Z: np.ndarray, F: np.ndarray) -> np.ndarray:
    """Exports / output of each (region, sector), from ``Z`` (R, S, R, S) and ``F`` (R, S, R, A)."""
    R = Z.shape[0]
    sales = Z.sum(axis=3) + F.sum(axis=3)  # (R, S, R)
    output = sales.sum(axis=2)
    domestic = sales[np.arange(R), :, np.arange(R)]
    return np.divide(output - domestic, output, out=np.zeros_like(output), where=output > 0)


def revenue(t: np.ndarray, Z: np.ndarray, F: np.ndarray) -> np.ndarray:
    """Tariff revenue of each importing region from tariffs ``t`` (R, S, R, 2) by use."""
    return np.einsum("risj,ris->s", Z, t[..., 0]) + np.einsum("risa,ris->s", F, t[..., 1])


def treat_tariffs(
    t: np.ndarray,
    Z: np.ndarray,
    F: np.ndarray,
    regions: list[str],
    members: dict[str, list[str]],
    collected: pd.DataFrame | None,
    treatment: str = "drawback",
) -> tuple[np.ndarray, Collection]:
    """Tariffs (R, S, R, 2) by use whose revenue matches the duties collected, and the before/after table.

    ``t`` are applied tariffs, (R, S, R) or (R, S, R, 2); ``members`` maps each model region to the
    economies (ISO3) it holds; ``collected`` is :func:`collected_duties`' table (US$ million, the
    benchmark's unit). The table has one row per model region with data for all its members:
    implied revenue, collected, ratio before, duty exempted on inputs of exporters, collection rate,
    revenue and ratio after.
    """
    if treatment not in TREATMENTS:
        raise KeyError(f"tariff collection treatment {treatment!r}; known: {sorted(TREATMENTS)}")
    t = np.asarray(t, dtype=float)
    t = np.repeat(t[..., None], 2, axis=3) if t.ndim == 3 else t.copy()
    before = revenue(t, Z, F)
    xs = export_shares(Z, F)
    zsum = Z.sum(axis=3)  # (R, S, R) intermediate purchases of each route
    exempt = np.divide(np.einsum("risj,sj->ris", Z, xs), zsum, out=np.zeros_like(zsum), where=zsum > 0)
    rows, notes = [], []
    for s, region in enumerate(regions):
        have = collected is not None and members[region] and all(m in collected.index for m in members[region])
        if not have:
            continue
        c_usd = float(collected.loc[members[region], "usd_million"].sum())
        implied = float(before[s])
        drawback, rate = 0.0, 1.0
        if treatment != "applied" and implied > c_usd:
            if treatment == "drawback":
                full = float((t[:, :, s, 0] * zsum[:, :, s] * exempt[:, :, s]).sum())
                share = min(1.0, (implied - c_usd) / full) if full > 0 else 0.0
                t[:, :, s, 0] *= 1.0 - share * exempt[:, :, s]
                drawback = share * full
            remaining = implied - drawback
            rate = min(1.0, c_usd / remaining) if remaining > 0 else 1.0
            t[:, :, s, :] *= rate
        after = float(revenue(t, Z, F)[s])
        rows.append(
            {
                "region": region,
                "members": " ".join(members[region]),
                "implied": implied,
                "collected": c_usd,
                "ratio_before": implied / c_usd,
                "drawback": drawback,
                "collection_rate": rate,
                "revenue_after": after,
                "ratio_after": after / c_usd,
            }
        )
    table = pd.DataFrame(rows).set_index("region") if rows else pd.DataFrame(
        columns=["members", "implied", "collected", "ratio_before", "drawback", "collection_rate", "revenue_after", "ratio_after"]
    )
    missing = [r for r in regions if r not in table.index]
    notes.append(f"tariff collection: {TREATMENTS[treatment]}; regions with collected duties: {list(table.index)}; "
                 f"without (applied rates kept): {missing}")
    return t, Collection(treatment, table, notes)


__all__ = ["CITATIONS", "Collection", "FILES", "TREATMENTS", "collected_duties", "export_shares", "revenue", "treat_tariffs"]
