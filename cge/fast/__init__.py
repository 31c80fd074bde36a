"""Fast backend: the model of :mod:`cge.model` solved in reduced form from vectorised array evaluations.

The reference backend writes every Armington price index and bilateral demand as a Pyomo
component, ``regions^2 x sectors x buyers`` of them (2 million for WIOD with sourcing by agent).
They are closed forms of a few unknowns: producer prices and activity levels by region and sector,
factor prices, incomes and labour supplies. The fast backend keeps only these unknowns
(:mod:`~cge.fast.system`), evaluates residuals and an exact Jacobian on whole numpy arrays, solves
by Newton's method with Ipopt as fallback (:mod:`~cge.fast.solvers`), and checks the solution
against every equation of the full model (:mod:`~cge.fast.equations`).

    model = FastModel(bench, closure=cge.Closure(), sourcing="agent")
    res = model.solve(cge.Scenario(tariff=new_tariffs))   # a cge.Results, as with cge.Model
"""

from .model import AUTO_FAST_FLOWS, FAST_OPTIONS, FastModel, choose_backend

__all__ = ["AUTO_FAST_FLOWS", "FAST_OPTIONS", "FastModel", "choose_backend"]
