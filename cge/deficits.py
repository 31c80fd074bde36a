"""Balanced-trade baselines: the benchmark's equilibrium with every net transfer from abroad set to zero.

Following Dekle, Eaton and Kortum (2008), as Caliendo and Parro (2015) and Costinot and
Rodriguez-Clare (2014) do, a counterfactual is often measured from a baseline in which trade
deficits are zero: otherwise a fixed transfer must be paid through trade even as trade vanishes, so
limits such as autarky cannot be approached. :func:`purge_deficits` solves the benchmark with the
``transfer`` instrument at zero and writes that equilibrium out as a new benchmark table: all flows
at the new prices, factor payments, the same tariffs, employment moved with labour demand. The
table balances (output = sales = costs) and each region's trade is balanced; calibrated as a
benchmark it replicates, and it can be saved, described and used like any other.
"""

from __future__ import annotations

import numpy as np

from .benchmark import Benchmark
from .closure import Closure
from .scenario import Scenario


def purge_deficits(bench: Benchmark, closure: Closure | None = None, sourcing: str = "agent",
                   elasticities=None, backend: str = "auto") -> Benchmark:
    """The benchmark's equilibrium with zero net transfers, as a balanced benchmark table.

    ``closure``, ``sourcing``, ``elasticities`` and ``backend`` are those of the model whose
    equilibrium is taken (the balanced table depends on them, as any counterfactual does); they
    are recorded in the new table's metadata (``purged_deficits``).
    """
    from .solve import Model

    closure = closure or Closure()
    model = Model(bench, closure=closure, sourcing=sourcing, elasticities=elasticities, backend=backend)
    res = model.solve(Scenario(transfer=np.zeros(bench.n_regions), name="balanced trade"))
    table = res.mrio()
    meta = dict(table.metadata)
    meta["name"] = f"{bench.metadata.get('name', 'benchmark')}-balanced"
    meta["note"] = (
        "balanced-trade baseline written by cge.purge_deficits: the equilibrium of the benchmark with every net "
        "transfer from abroad set to zero (Dekle, Eaton and Kortum 2008), values at the new basic prices"
    )
    meta["purged_deficits"] = {
        "from": bench.metadata.get("name", ""),
        "from_hash": bench.hash(),
        "transfers_removed": {r: float(v) for r, v in zip(bench.regions, bench.net_transfer)},
        "closure": closure.describe(),
        "sourcing": sourcing,
        "backend": model.backend,
        "max_residual": res.solution.max_residual,
    }
    meta.pop("files", None)
    table.metadata = meta
    return table
