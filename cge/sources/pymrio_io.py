"""Any multi-regional input-output table that pymrio reads (EXIOBASE, Eora, OECD ICIO, WIOD...) as a
:class:`cge.Benchmark`.

:func:`from_pymrio` takes a ``pymrio.IOSystem`` with ``Z`` (intermediate flows) and ``Y`` (final
demand by region and category) and

1. maps final-demand categories to the model's agents with an explicit ``final_demand_map``
   (category -> ``"household"``, ``"government"``, ``"investment"`` or ``None`` to drop the column,
   whose sales then leave output). Without a map, :func:`default_final_demand_map` assigns the
   categories by key words and raises for any category it cannot place, such as EXIOBASE's
   exports to the rest of the world or "Changes in valuables" in some tables (list them explicitly):

   ====================================================  =============
   category name contains (case-insensitive)             agent
   ====================================================  =============
   "household", "npish", "non-profit"                    household
   "government"                                          government
   "capital formation", "gfcf", "inventor", "valuables"  investment
   ====================================================  =============

2. removes negative final demand and negative residual value added with the rules of
   :func:`cge.sources.hybrid.prepare_table` (notes in the metadata);
3. takes value added as output (row sums) minus intermediate inputs, so the table balances, and
   splits it into labour and capital: with ``factor_rows`` by the rows of an extension (e.g.
   EXIOBASE ``factor_inputs``), whose labour share of each region-sector is applied to the residual
   value added; otherwise by ``labour_share`` (a number or an (R, S) array).

Tariffs, employment and elasticities are optional arrays passed through to
:meth:`cge.Benchmark.from_arrays`. Units are those of the IOSystem (``io.unit``), recorded in the
metadata.
"""

from __future__ import annotations

import numpy as np

from ..benchmark import Benchmark
from .hybrid import prepare_table

KEYWORDS = (
    (("household", "npish", "non-profit", "nonprofit"), "household"),
    (("government",), "government"),
    (("capital formation", "gfcf", "inventor", "valuables"), "investment"),
)
"""Key words of final-demand category names and the agent they map to (first match wins)."""


def default_final_demand_map(categories) -> dict[str, str]:
    """Category -> agent by :data:`KEYWORDS`; raise naming the categories no key word places."""
    out, unknown = {}, []
    for cat in categories:
        low = str(cat).lower()
        agent = next((a for words, a in KEYWORDS if any(w in low for w in words)), None)
        if agent is None:
            unknown.append(cat)
        else:
            out[cat] = agent
    if unknown:
        raise ValueError(
            f"final-demand categories {unknown} match no agent; pass final_demand_map with an agent or None "
            f"(drop) for each of them"
        )
    return out


def from_pymrio(
    io,
    final_demand_map: dict | None = None,
    labour_share=0.5,
    factor_rows: dict | None = None,
    extension: str = "factor_inputs",
    tariffs=None,
    employment=None,
    elasticities=None,
    name: str = "pymrio",
) -> Benchmark:
    """Benchmark from a ``pymrio.IOSystem`` (see the module docstring).

    ``factor_rows`` maps ``"labour"`` and ``"capital"`` to lists of row labels of the extension
    ``extension`` (its ``F`` frame); region-sectors where those rows sum to zero use
    ``labour_share``.
    """
    Zdf, Ydf = io.Z, io.Y
    if Zdf is None or Ydf is None:
        raise ValueError("from_pymrio: the IOSystem needs Z and Y (run io.calc_all() for tables given as A and x)")
    regions = list(dict.fromkeys(Zdf.index.get_level_values(0)))
    sectors = list(dict.fromkeys(Zdf.index.get_level_values(1)))
    R, S = len(regions), len(sectors)
    if len(Zdf.index) != R * S:
        raise ValueError("from_pymrio: Z must have one row per (region, sector) in a full region x sector grid")
    Zdf = Zdf.reindex(index=Zdf.index, columns=Zdf.index)
    categories = list(dict.fromkeys(Ydf.columns.get_level_values(1)))
    cols = [(r, c) for r in regions for c in categories]
    Y = Ydf.reindex(columns=cols, fill_value=0.0).reindex(index=Zdf.index)
    Z = Zdf.to_numpy(dtype=float).reshape(R, S, R, S)
    F = np.nan_to_num(Y.to_numpy(dtype=float)).reshape(R, S, R, len(categories))
    fmap = dict(final_demand_map) if final_demand_map is not None else default_final_demand_map(categories)
    if "household" not in fmap.values():
        raise ValueError("final_demand_map must send at least one category to 'household'")
    table = prepare_table(regions, sectors, np.nan_to_num(Z), F, categories, fmap)

    share = np.broadcast_to(np.asarray(labour_share, dtype=float), (R, S)).copy()
    if factor_rows is not None:
        ext = getattr(io, extension)
        Fx = ext.F.reindex(columns=Zdf.index)
        lab = Fx.loc[list(factor_rows.get("labour", []))].to_numpy(dtype=float).sum(axis=0).reshape(R, S)
        cap = Fx.loc[list(factor_rows.get("capital", []))].to_numpy(dtype=float).sum(axis=0).reshape(R, S)
        tot = lab + cap
        share = np.where(tot > 0, np.clip(np.divide(lab, tot, out=np.zeros_like(tot), where=tot > 0), 0.0, 1.0), share)
    if ((share < 0) | (share > 1)).any():
        raise ValueError("labour_share must lie in [0, 1]")
    labour = share * table.va
    unit = None
    try:
        unit = str(io.unit.iloc[0, 0]) if io.unit is not None else None
    except Exception:  # pragma: no cover - unit tables vary between pymrio versions
        unit = None
    meta = {
        "name": name,
        "source": f"pymrio IOSystem {getattr(io, 'name', '')!s}".strip(),
        "currency": unit or "units of the IOSystem",
        "final_demand_map": {str(k): ("dropped" if v is None else v) for k, v in fmap.items()},
        "factors": (
            f"labour share from {extension} rows {factor_rows}" if factor_rows is not None else f"labour share {labour_share!r} of residual value added"
        ),
        "notes": table.notes,
    }
    return Benchmark.from_arrays(
        regions,
        sectors,
        table.Z,
        table.F,
        {"labour": labour, "capital": table.va - labour},
        tariffs=tariffs,
        employment=employment,
        elasticities=elasticities,
        agents=table.agents,
        metadata=meta,
    )


__all__ = ["KEYWORDS", "default_final_demand_map", "from_pymrio"]
