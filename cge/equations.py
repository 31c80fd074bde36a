r"""The model's equations, declared once: the registry every backend, label and agreement test reads.

Each :class:`Block` names a family of equations, the variable it determines (the pairing of a
mixed complementarity problem), the label of its residuals in reports, the meaning of each index
and its statement in LaTeX. The reference backend declares one Pyomo constraint per block under
the block's name (``cge/model``) and refuses to build if a constraint is not in the registry; the
fast backend evaluates every block on arrays (``cge/fast/equations.py``) and refuses a block it
does not know. ``tests/test_registry.py`` compares the two backends block by block at random
points, for every block of :data:`BLOCKS`, so a block declared here and forgotten by a backend
fails a test.

Blocks that exist only under some options (``import_quantity`` with common sourcing,
``labour_supply`` under labour closures with endogenous supply, ``size_price`` with the firm-size
nest) say so in ``when``. With the firm-size nest, a ``commodity`` index of the Armington and
upper-nest blocks is a commodity group (an original sector), a ``sector`` index a sector (size).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """One family of equations of the model."""

    name: str  # constraint name (Pyomo) and residual key (fast backend)
    determines: str  # the variable the block determines
    label: str  # residual label in reports: "<label> (<index labels>)"
    index: tuple | None  # meaning of each index position; None: depends on the sourcing
    latex: str  # the equation
    when: str = "always"  # which models have the block


BLOCKS = (
    Block("zero_profit", "Y", "zero profit", ("region", "sector"),
          r"p_{sj} = (1 + t^o_{sj})\, c_{sj}, \quad c_{sj} = \mathrm{CES}_{\sigma^{top}_j}(P^{va}_{sj}, P^{int}_{sj})"),
    Block("pva_def", "PVA", "value-added price", ("region", "sector"),
          r"P^{va}_{sj} = \mathrm{CES}_{\sigma^{va}_j}(\theta_{sjf}: w_{sjf})"),
    Block("pint_def", "PINT", "intermediate price", ("region", "sector"),
          r"P^{int}_{sj} = \mathrm{CES}_{\sigma^{int}_j}(\theta_{sji}: P^A_{sji})"),
    Block("input_demand", "QA", "intermediate composite demand", ("region", "buyer", "commodity"),
          r"Q^A_{sji} = Y_{sj} (c_{sj}/P^{int}_{sj})^{\sigma^{top}_j} (P^{int}_{sj}/P^A_{sji})^{\sigma^{int}_j}"),
    Block("size_price", "PR", "firm-size route price", ("region", "commodity", "region", "buyer"),
          r"P^R_{rgsb} = \mathrm{CES}_{\sigma^{size}_g}(\theta^{size}_{risb}: p_{ri} \tau_{ris} (1 + t_{ris}) / (1 + t^0_{ris}),\; i \in g), \quad z_{risb} = z^R_{rgsb} (P^R_{rgsb} / p^d_{risb})^{\sigma^{size}_g}",
          when="benchmarks split by firm size, with the firm-size nest on"),
    Block("import_price", "PM", "import price", None,
          r"P^M = \mathrm{CES}_{\sigma^{mm}_i}(\theta_r: p_{ri} \tau_{ris} (1 + t_{ris}) / (1 + t^0_{ris}))"),
    Block("armington_price", "PA", "Armington price", ("region", "buyer", "commodity"),
          r"P^A_{sbi} = \mathrm{CES}_{\sigma^{dm}_i}(\theta^d: p^d_{sisb},\; \theta^m: P^M)"),
    Block("import_quantity", "QM", "import composite demand", ("region", "commodity"),
          r"Q^M_{si} = \sum_b \theta^m_{sbi} Q^A_{sbi} (P^A_{sbi}/P^M_{si})^{\sigma^{dm}_i}", when="common sourcing"),
    Block("goods_market", "p", "market clearing", ("region", "sector"),
          r"Y_{ri} X^0_{ri} = \sum_{s, b} \tau_{ris,u(b)}\, d^0_{risb}\, z_{risb}"),
    Block("factor_market_clearing", "w", "factor market", ("region", "factor", "sector"),
          r"\sum_{u \in k} \omega_u FD_u / FD^0_u = L_k \sum_{u \in k} \omega_u"),
    Block("pfd_def", "PFD", "final-demand price", ("region", "agent"),
          r"P^{fd}_{sa} = \mathrm{CES}_{\sigma^{fd}}(\theta_{sai}: P^A_{sai})"),
    Block("final_demand", "QA", "final composite demand", ("region", "buyer", "commodity"),
          r"Q^A_{sai} = \alpha_{sa} (I_s / P^{fd}_{sa}) (P^{fd}_{sa}/P^A_{sai})^{\sigma^{fd}}"),
    Block("income_balance", "INC", "income balance", ("region",),
          r"I_s = \sum_{j,f} w_{sjf} FD_{sjf} + \sum_{r \ne s} t\, p\, \tau\, z + \sum_j t^o_{sj} c_{sj} Y_{sj} X^0_{sj} + B_s \iota, \quad \iota = n \text{ or } \textstyle\sum_r I_r / \sum_r I^0_r"),
    Block("numeraire", "(one goods market)", "numeraire", (),
          r"\sum_k w_k E^0_k / \sum_k E^0_k = n \quad\text{(or a chosen factor or output price)}"),
    Block("cet_wage", "WL", "labour CET wage index", ("region",),
          r"W_s = \Big(\sum_j \theta_{sj} w_{sj}^{1+\eta}\Big)^{1/(1+\eta)}, \quad FD_{sjL}/FD^0_{sjL} = (w_{sj}/W_s)^{\eta}",
          when="labour_market='cet'"),
    Block("labour_supply", "LS", "labour supply", ("region",),
          r"w_{sL} = P^{fd}_{s,hh} \;\text{(fixed real wage)}, \quad L_s = (w_{sL}/P^{fd}_{s,hh})^{\eta} \;\text{(elastic)}",
          when="labour closures with endogenous supply"),
)
"""Every equation block, in the order the backends declare and report them."""

NAMES = tuple(b.name for b in BLOCKS)
BY_NAME = {b.name: b for b in BLOCKS}
WALRAS_LABEL = "market clearing, left out by Walras' law"


class RegistryError(RuntimeError):
    """A backend declared or evaluated a block that is not in the registry, or out of order."""


def check_blocks(names, backend: str) -> None:
    """Raise unless ``names`` are registry blocks in registry order (a subset: some are optional)."""
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise RegistryError(f"{backend} backend: equation block {unknown[0]!r} is not declared in cge.equations.BLOCKS")
    order = [NAMES.index(n) for n in names]
    if order != sorted(order):
        raise RegistryError(f"{backend} backend: equation blocks {list(names)} are not in the registry's order")


def label(block: str, index, names: dict) -> str:
    """Label of one residual: ``"zero profit (THA, electronics)"``.

    ``index`` is the equation's index tuple (``None`` or ``()`` for a scalar equation); ``names``
    maps each index meaning (``region``, ``sector``, ``commodity``, ``buyer``, ``agent``,
    ``factor``) to its labels. A sector index of -1 (a market open to all sectors) is left out.
    """
    b = BY_NAME[block]
    if index is None or index == ():
        return b.label
    idx = index if isinstance(index, tuple) else (index,)
    kinds = b.index
    if kinds is None:
        kinds = ("region", "buyer", "commodity") if len(idx) == 3 else ("region", "commodity")
    parts = [names[k][v] for k, v in zip(kinds, idx) if not (k in ("sector", "buyer") and v == -1)]
    return f"{b.label} ({', '.join(parts)})"


def index_names(params) -> dict:
    """Labels of every index meaning of a calibrated model."""
    return {
        "region": params.regions,
        "sector": params.sectors,
        "commodity": params.groups if getattr(params, "groups", None) else params.sectors,
        "buyer": params.buyers,
        "agent": params.agents,
        "factor": params.factors,
    }


def markdown() -> str:
    """The model's documentation page (``docs/model.md``), written from the registry and the instruments."""
    from .instruments import SPECS

    lines = [
        "# The model",
        "",
        "<!-- written by cge.equations.markdown(); tests/test_registry.py checks that this file matches -->",
        "",
        "Every equation block of the model, in the order both backends declare them, with the variable",
        "it determines (the pairing of a square system: one equation per variable, one goods market",
        "replaced by the numeraire). Residual reports name equations by their label, e.g.",
        '"market clearing (THA, electrical_optical): 3e-4". Conventions behind the equations are on',
        "the [conventions](conventions.md) page.",
        "",
    ]
    for b in BLOCKS:
        index = ", ".join(b.index) if b.index else ("by sourcing mode" if b.index is None else "scalar")
        lines += [f"## {b.label}", "", f"Block `{b.name}` determines `{b.determines}`; index: {index}; present: {b.when}.", "",
                  "$$", b.latex, "$$", ""]
    lines += ["## Policy instruments", "", "| instrument | axes | benchmark | meaning |", "|---|---|---|---|"]
    for s in SPECS:
        bench = f"the benchmark's data (`{s.benchmark}`)" if isinstance(s.benchmark, str) else f"{s.benchmark:g}"
        lines.append(f"| `{s.name}` | {', '.join(s.axes)} | {bench} | {s.description} |")
    return "\n".join(lines) + "\n"
