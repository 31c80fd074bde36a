"""Fast backend: the model of :mod:`cge.model` solved in reduced form from vectorised array evaluations.

The reference backend writes every Armington price index and bilateral demand as a Pyomo
component, ``regions^2 x sectors x buyers`` of them (2 million for WIOD with sourcing by agent).
They are closed forms of a few unknowns: producer prices and activity levels by region and sector,
factor prices, incomes and labour supplies. The fast backend keeps only these unknowns
(:mod:`~cge.fast.system`), evaluates residuals and an exact Jacobian on whole numpy arrays, solves
by Newton's method with Ipopt as fallback (:mod:`~cge.fast.solvers`), and checks the solution
against every equation of the full model (:mod:`~cge.fast.equations`). On a benchmark split by
firm size the firm-size nest (route prices of each origin's SME and large-firm supplies) is
:mod:`~cge.fast.sizenest`.

    model = cge.Model(bench, backend="fast")      # or FastModel(bench), the same thing
    res = model.solve(cge.Scenario(tariff=new_tariffs))
"""

from ..solve import AUTO_FAST_FLOWS, Model, choose_backend
from .backend import FAST_OPTIONS, FastBackend


class FastModel(Model):
    """:class:`cge.Model` with ``backend="fast"``."""

    def __init__(self, bench, closure=None, sourcing="agent", elasticities=None, solver_options=None, size_nest=None):
        super().__init__(bench, closure=closure, sourcing=sourcing, elasticities=elasticities, backend="fast", solver_options=solver_options,
                         size_nest=size_nest)


__all__ = ["AUTO_FAST_FLOWS", "FAST_OPTIONS", "FastBackend", "FastModel", "choose_backend"]
