"""The unknowns of the model, each 1 in the benchmark, with the equation that determines it.

=========  ============================  =====================================================
variable   index                         determined by
=========  ============================  =====================================================
``p``      (r, i) producers              goods market clearing (one dropped: Walras' law)
``Y``      (s, j) producers              zero profit
``PVA``    (s, j) with value added       value-added price index
``PINT``   (s, j) with intermediates     intermediate price index
``w``      factor market                 factor market clearing
``QA``     (s, b, i) composites          composite demand of buyer b (sector or agent)
``PA``     (s, b, i) composites          Armington price index
``PM``     import composites             import price index (two-level nests)
``QM``     (s, i) common sourcing        common import composite demand
``PFD``    (s, a) final agents           final-demand price index of agent a
``INC``    s                             income balance of the regional household
``WL``     s (labour CET)                CET wage index of the region's labour
``LS``     s (labour closures)           labour supply rule of the closure
=========  ============================  =====================================================
"""

from __future__ import annotations

import pyomo.environ as pyo

LOWER = 1e-10


def add_variables(m, params, closure) -> None:
    """Declare every variable at its benchmark value 1."""
    pos = (LOWER, None)
    m.p = pyo.Var(m.PRODUCERS, initialize=1.0, bounds=pos, doc="producer price (basic)")
    m.Y = pyo.Var(m.PRODUCERS, initialize=1.0, bounds=pos, doc="activity level")
    m.PVA = pyo.Var(m.VA_PRODUCERS, initialize=1.0, bounds=pos, doc="value-added price index")
    m.PINT = pyo.Var(m.INT_PRODUCERS, initialize=1.0, bounds=pos, doc="intermediate price index")
    m.w = pyo.Var(m.FACTOR_MARKETS, initialize=1.0, bounds=pos, doc="factor price")
    m.QA = pyo.Var(m.COMPOSITES, initialize=1.0, bounds=pos, doc="Armington composite demand")
    m.PA = pyo.Var(m.COMPOSITES, initialize=1.0, bounds=pos, doc="Armington price index")
    m.PM = pyo.Var(m.IMPORT_COMPOSITES, initialize=1.0, bounds=pos, doc="import price index")
    if params.sourcing.shared_import_mix:
        m.QM = pyo.Var(m.IMPORT_COMPOSITES, initialize=1.0, bounds=pos, doc="common import composite")
    m.PFD = pyo.Var(m.AGENTS, initialize=1.0, bounds=pos, doc="final-demand price index")
    m.INC = pyo.Var(m.REGIONS, initialize=1.0, bounds=pos, doc="regional household income / benchmark")
    m.WL = pyo.Var(m.CET_REGIONS, initialize=1.0, bounds=pos, doc="CET wage index of a region's labour")
    m.LS = pyo.Var(m.LABOUR_REGIONS, initialize=1.0, bounds=pos, doc="labour supply / benchmark")
