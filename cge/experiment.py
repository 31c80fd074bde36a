"""Running scenario files: solve every scenario, write tables, figures and metadata.

Output folder layout (one folder per scenario file):

``welfare.*``                 EV (% of income and currency units) by region x scenario
``decomposition_<scenario>.*`` EV decomposition by region
``employment_<scenario>.*``    persons by region x sector (and ``employment_regions_<scenario>.*``)
``gvc_<scenario>.csv``         GVC indicators, benchmark vs scenario
``results.csv``               everything in long format (``Results.tidy``)
``figures/``                  welfare bars, employment heat maps, GVC changes (PNG, SVG and PDF)
``metadata.json``             package version, git commit, benchmark hash, options, solver statistics

Everything is checked before any solve: the scenario file, the benchmark, every scenario's selections,
the model options and the results folder. The folder is written atomically (:mod:`cge.files`): all
files go into a temporary folder beside it, which replaces it whole once complete, so a failed or
interrupted run leaves the previous results intact (or no folder). An existing non-empty results folder
is refused unless ``overwrite`` is given. Reruns of the same file on the same benchmark write
byte-identical files, ``metadata.json`` aside (it records the git commit and solver timings): figures
are written with a fixed SVG hash salt and date (``SOURCE_DATE_EPOCH``, 0 unless set).
"""

from __future__ import annotations

import json
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from . import figures, tables
from .closure import Closure
from .files import replace_folder
from .scenario import RunSpec, ScenarioError, load_spec
from .solve import Model


def _model_key(spec: RunSpec, sc) -> tuple:
    closure = {**spec.model.get("closure", {}), **sc.closure}
    elasticities = {**spec.model.get("elasticities", {}), **sc.elasticities}
    sourcing = sc.sourcing or spec.model.get("sourcing", "agent")
    backend = spec.model.get("backend", "auto")
    freeze = lambda d: tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in d.items()))  # noqa: E731
    return (freeze(closure), freeze(elasticities), sourcing, backend)


class OutputError(ValueError):
    """The results folder cannot be written as asked (it holds results, or is not a folder)."""


def check_output(out, overwrite: bool = False, keep: tuple = ()) -> None:
    """Refuse a results folder that exists and is not empty unless ``overwrite``; never one holding ``keep``.

    ``keep`` lists paths (the scenario file, the benchmark folder) that replacing ``out`` would delete.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if not out.is_dir() or next(out.iterdir(), None) is None:
        return
    if not overwrite:
        raise OutputError(f"{out}: results folder exists and is not empty; pass --overwrite to replace it whole")
    inside = [str(p) for p in (*keep, Path.cwd()) if Path(p).resolve().is_relative_to(out.resolve())]
    if inside:
        raise OutputError(f"{out}: not replacing it, it holds {inside[0]}")


def check_spec(spec: RunSpec) -> tuple:
    """Read the benchmark of a spec and build its scenarios (checking every selection and option
    that depends on the benchmark); returns the benchmark and the scenarios."""
    bench = spec.load_benchmark()
    built = [sc.build(bench, spec.region_groups, spec.sector_groups) for sc in spec.scenarios]
    for sc in spec.scenarios:
        for k, v in {**spec.model.get("elasticities", {}), **sc.elasticities}.items():
            if isinstance(v, list) and len(v) != bench.n_sectors:
                raise ScenarioError(f"{spec.path}: scenario {sc.name!r}: elasticities.{k} has {len(v)} values for the {bench.n_sectors} sectors {bench.sectors}")
    return bench, built


def solve_spec(spec: RunSpec, progress: bool = True, decompose_steps: int | bool = False) -> tuple:
    """Solve every scenario of a spec; returns the benchmark and ``{scenario name: Results}``.

    The benchmark, every scenario and every model are built before the first solve, so that a bad
    selection or option stops the run before any work. ``decompose_steps``: points on the path of
    each scenario for its welfare decomposition (solved with the scenario, stored in its results).
    """
    bench, built = check_spec(spec)
    models: dict[tuple, Model] = {}
    for sc in spec.scenarios:
        key = _model_key(spec, sc)
        if key not in models:
            closure_d, el_d, sourcing, backend = key
            closure = Closure(**{k: (tuple(v) if isinstance(v, tuple) else v) for k, v in closure_d})
            elasticities = {k: (list(v) if isinstance(v, tuple) else v) for k, v in el_d}
            models[key] = Model(bench, closure=closure, sourcing=sourcing, elasticities=elasticities, backend=backend)
    results = {}
    iterator = spec.scenarios
    bar = None
    if progress and len(spec.scenarios) > 1:
        from rich.progress import Progress

        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task(f"{spec.title}", total=len(spec.scenarios))
    try:
        for sc, scenario in zip(iterator, built):
            results[sc.name] = models[_model_key(spec, sc)].solve(scenario, decompose=decompose_steps)
            if bar is not None:
                bar.advance(task)
    finally:
        if bar is not None:
            bar.stop()
    return bench, results


def run_spec(path, out, progress: bool = True, decompose_steps: int | None = None, overwrite: bool = False) -> dict:
    """Solve a scenario file and write its tables, figures and metadata into folder ``out``.

    ``out`` is replaced whole, atomically, once every file is written; an existing non-empty ``out``
    is an :class:`OutputError` unless ``overwrite``.
    """
    spec = load_spec(path)
    out = Path(out)
    check_output(out, overwrite, keep=(Path(path), spec.benchmark_folder()))
    steps = int(decompose_steps or spec.output.get("decomposition_steps", 8))
    bench, results = solve_spec(spec, progress=progress, decompose_steps=steps)
    with replace_folder(out) as tmp, _reproducible_figures():
        written = write_outputs(spec, bench, results, tmp, steps, path)
    welfare = written.pop("welfare")
    files = [out / f.relative_to(tmp) for f in written["files"]]
    return {"spec": spec, "benchmark": bench, "results": results, "welfare": welfare, "files": files}


@contextmanager
def _reproducible_figures():
    """Figures that are the same bytes on every run: fixed SVG ids and a fixed SVG date."""
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    try:
        with matplotlib.rc_context({"svg.hashsalt": "cge"}):
            yield
    finally:
        if saved is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)


def write_outputs(spec: RunSpec, bench, results: dict, out: Path, steps: int, path) -> dict:
    """Write the tables, figures and metadata of solved scenarios into folder ``out``."""
    opts = spec.output
    unit = next(iter(results.values())).unit
    written = []

    welfare = {name: res.welfare() for name, res in results.items()}
    names = tables.Names.from_benchmark(bench)
    written += tables.write_table(tables.welfare_table(welfare, unit), out, "welfare", f"{spec.title}: welfare by region", names=names)
    written += figures.welfare_bars(welfare, out / "figures", names=names)
    tidy = []
    for name, res in results.items():
        stem = slug(name)
        written += tables.write_table(
            tables.decomposition_table(welfare[name], unit), out, f"decomposition_{stem}", f"{name}: EV decomposition ({unit})", names=names
        )
        if res.params.employment_0 is not None and "labour" in res.params.factors:
            emp = res.employment()
            written += tables.write_table(emp, out, f"employment_{stem}", f"{name}: employment by region and sector", digits=2, names=names)
            written += tables.write_table(
                res.employment_by_region(), out, f"employment_regions_{stem}", f"{name}: employment by region", digits=2, names=names
            )
            written += figures.employment_heatmap(emp, out / "figures", f"employment_{stem}", title=name, names=names)
        if opts.get("gvc", True):
            g = res.gvc()
            g.to_csv(out / f"gvc_{stem}.csv", index=False)
            written.append(out / f"gvc_{stem}.csv")
            written += figures.before_after(g, "gvc_participation_backward_wwyz", out / "figures", f"gvc_participation_{stem}", names=names)
            if (g["indicator"] == "intra_group_trade_share").any():
                written += figures.before_after(g, "intra_group_trade_share", out / "figures", f"intra_group_trade_{stem}", names=names)
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
    return {"welfare": welfare, "files": written}


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
