"""cge: computable general equilibrium analysis of trade policy in global value chains.

The public API::

    bench = cge.Benchmark.from_arrays(regions, sectors, Z, F, factors, tariffs=None, ...)
    model = cge.Model(bench, closure=cge.Closure(labour="full_employment"), sourcing="agent")
    base = model.solve()
    res = model.solve(cge.Scenario(tariff=new_tariffs, iceberg=new_tau, output_tax=new_taxes), decompose=True)
    res.welfare(); res.employment(); res.mrio(); res.tidy()
    cge.sweep(bench, scenarios, draws, jobs=2)    # many solves (cge.sensitivity), tidy frames
    staged = cge.split_stages(bench, ["machinery"])  # parts and assembly stages (cge.stages)
    sized = cge.split_firm_size(bench)              # SMEs and large firms (cge.firms)
    processing = cge.split_processing(bench)        # China's export processing, duty-free (cge.processing)
    cge.Origin(bench).solve(model, scenario, agreements=["RCEP"])  # rules of origin, endogenous preference use (cge.origin)
"""

__version__ = "0.1.0"

from .benchmark import Benchmark, BenchmarkError  # noqa: E402
from .calibrate import CalibrationError  # noqa: E402
from .closure import Closure, ClosureError  # noqa: E402
from .deficits import purge_deficits  # noqa: E402
from .firms import merge_firm_size, split_firm_size  # noqa: E402
from .instruments import InstrumentError, Instruments  # noqa: E402
from .origin import Origin, OriginError, OriginParams  # noqa: E402
from .results import Results  # noqa: E402
from .scenario import Scenario, ScenarioError  # noqa: E402
from .sensitivity import sweep  # noqa: E402
from .solve import Model, SolveError  # noqa: E402
from .stages import merge_stages, split_stages  # noqa: E402
from .processing import merge_processing, processing_exports, split_processing  # noqa: E402

__all__ = [
    "Benchmark",
    "BenchmarkError",
    "CalibrationError",
    "Closure",
    "ClosureError",
    "InstrumentError",
    "Instruments",
    "Model",
    "Origin",
    "OriginError",
    "OriginParams",
    "Results",
    "Scenario",
    "ScenarioError",
    "SolveError",
    "__version__",
    "merge_firm_size",
    "merge_stages",
    "purge_deficits",
    "split_firm_size",
    "split_stages",
    "split_processing",
    "merge_processing",
    "processing_exports",
    "sweep",
]
