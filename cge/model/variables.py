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

The policy instruments are variables too, but not unknowns: :func:`add_instrument` declares one
held at its level by equal lower and upper bounds, and :func:`hold` moves it. The NL writer
compiles a mutable parameter's value into the problem as a constant, while a variable held by its
bounds stays a column that Ipopt removes (``fixed_variable_treatment=make_parameter``); so the
Pyomo backend writes its NL problem once and a new scenario changes only bounds. The variables are
not ``fixed`` in Pyomo's sense, which the writer would also substitute.
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


def add_instrument(m, name: str, index, levels: dict, doc: str) -> None:
    """Declare instrument ``name`` over ``index`` (None: a scalar) at ``levels``, held there by its
    bounds, and list it in ``m.instrument_names`` (the Pyomo backend's instruments)."""
    var = pyo.Var(initialize=levels[None], doc=doc) if index is None else pyo.Var(index, initialize=levels, doc=doc)
    m.add_component(name, var)
    for k, v in var.items():
        hold(v, levels[k])
    m.instrument_names = (*getattr(m, "instrument_names", ()), name)


def hold(var, level) -> None:
    """Hold an instrument variable at ``level``: its value and both bounds."""
    level = float(level)
    var.set_value(level, skip_validation=True)
    var.setlb(level)
    var.setub(level)
