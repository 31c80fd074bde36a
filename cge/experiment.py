"""Running scenario files: solve every scenario, write tables, figures and metadata.

Output folder layout (one folder per scenario file):

``welfare.*``                 EV (% of income and currency units) by region x scenario
``decomposition_<scenario>.*`` EV decomposition by region
``employment_<scenario>.*``    persons by region x sector (and ``employment_regions_<scenario>.*``)
``gvc_<scenario>.csv``         GVC indicators, benchmark vs scenario
``results.csv``               everything in long format (``Results.tidy``)
``figures/``                  welfare bars, employment heat maps, GVC before/after (PNG and SVG)
``metadata.json``             package version, git commit, benchmark hash, options, solver statistics
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

from . import figures, tables
from .closure import Closure
from .scenario import RunSpec, load_spec
from .solve import Model


def _model_key(spec: RunSpec, sc) -> tuple:
    closure = {**spec.model.get("closure", {}), **sc.closure}
    elasticities = {**spec.model.get("elasticities", {}), **sc.elasticities}
    sourcing = sc.sourcing or spec.model.get("sourcing", "agent")
    backend = spec.model.get("backend", "auto")
    freeze = lambda d: tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in d.items()))  # noqa: E731
    return (freeze(closure), freeze(elasticities), sourcing, backend)


def solve_spec(spec: RunSpec, progress: bool = True, decompose_steps: int | bool = False) -> tuple:
    """Solve every scenario of a spec; returns the benchmark and ``{scenario name: Results}``.

    ``decompose_steps``: points on the path of each scenario for its welfare decomposition.
    """
    bench = spec.load_benchmark()
    models: dict[tuple, Model] = {}
    results = {}
    iterator = spec.scenarios
    bar = None
    if progress and len(spec.scenarios) > 1:
        from rich.progress import Progress

        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task(f"{spec.title}", total=len(spec.scenarios))
    try:
        for sc in iterator:
            key = _model_key(spec, sc)
            if key not in models:
                closure_d, el_d, sourcing, backend = key
                closure = Closure(**{k: (tuple(v) if isinstance(v, tuple) else v) for k, v in closure_d})
                elasticities = {k: (list(v) if isinstance(v, tuple) else v) for k, v in el_d}
                models[key] = Model(bench, closure=closure, sourcing=sourcing, elasticities=elasticities, backend=backend)
            results[sc.name] = models[key].solve(sc.build(bench, spec.region_groups, spec.sector_groups), decompose=decompose_steps)
            if bar is not None:
                bar.advance(task)
    finally:
        if bar is not None:
            bar.stop()
    return bench, results


def run_spec(path, out, progress: bool = True, decompose_steps: int | None = None) -> dict:
    """Solve a scenario file and write its tables, figures and metadata into folder ``out``."""
    spec = load_spec(path)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    opts = spec.output
    steps = int(decompose_steps or opts.get("decomposition_steps", 8))
    bench, results = solve_spec(spec, progress=progress, decompose_steps=steps)
    unit = next(iter(results.values())).unit
    written = []

    welfare = {name: res.welfare() for name, res in results.items()}
    written += tables.write_table(tables.welfare_table(welfare, unit), out, "welfare", f"{spec.title}: welfare by region")
    written += figures.welfare_bars(welfare, out / "figures")
    tidy = []
    for name, res in results.items():
        stem = slug(name)
        written += tables.write_table(
            tables.decomposition_table(welfare[name], unit), out, f"decomposition_{stem}", f"{name}: EV decomposition ({unit})"
        )
        if res.params.employment_0 is not None and "labour" in res.params.factors:
            emp = res.employment()
            written += tables.write_table(emp, out, f"employment_{stem}", f"{name}: employment by region and sector", digits=2)
            written += tables.write_table(
                res.employment_by_region(), out, f"employment_regions_{stem}", f"{name}: employment by region", digits=2
            )
            written += figures.employment_heatmap(emp, out / "figures", f"employment_{stem}", title=name)
        if opts.get("gvc", True):
            g = res.gvc()
            g.to_csv(out / f"gvc_{stem}.csv", index=False)
            written.append(out / f"gvc_{stem}.csv")
            written += figures.before_after(g, "gvc_participation_backward_wwyz", out / "figures", f"gvc_participation_{stem}")
            if (g["indicator"] == "intra_group_trade_share").any():
                written += figures.before_after(g, "intra_group_trade_share", out / "figures", f"intra_group_trade_{stem}")
        tidy.append(res.tidy())
    pd.concat(tidy, ignore_index=True).to_csv(out / "results.csv", index=False)
    written.append(out / "results.csv")

    meta = {
        "spec": str(Path(path)),
        "title": spec.title,
        "description": spec.description,
        "git_commit": git_commit(),
        "benchmark": {"name": spec.benchmark, "hash": bench.hash(), "metadata": bench.metadata},
        "decomposition_steps": steps,
        "scenarios": {name: {**res.metadata(), "description": res.scenario.description} for name, res in results.items()},
    }
    (out / "metadata.json").write_text(json.dumps(meta, indent=2, default=json_default))
    written.append(out / "metadata.json")
    return {"spec": spec, "benchmark": bench, "results": results, "welfare": welfare, "files": written}


def slug(name: str) -> str:
    """A scenario name as a file-name stem."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def git_commit(cwd=None) -> str:
    """The commit checked out where the run happens (``cwd``, default the current directory),
    with ``-dirty`` appended when tracked files differ from it; 'unknown' outside a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=cwd, timeout=10)
        if head.returncode != 0:
            return "unknown"
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, cwd=cwd, timeout=30)
        dirty = status.returncode == 0 and status.stdout.strip() != ""
        return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def json_default(obj):
    """JSON encoder fallback for numpy values in metadata."""
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)
