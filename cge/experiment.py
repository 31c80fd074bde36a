"""Running scenario files: solve every scenario, write tables, figures, tidy results, a report and
a manifest.

Results folder layout (one folder per scenario file)::

    report.html                  the whole run on one self-contained page (cge.report)
    manifest.json                every file of the folder with its kind, scenario and size
    metadata.json                package version, git commit, benchmark hash, options, solver statistics
    results.csv, results.parquet everything in long format (Results.tidy with GVC indicators)
    welfare.{csv,md,tex}         EV (% of income and currency units) by region x scenario
    figures/welfare.{png,svg,pdf}
    <scenario>/                  one folder per scenario, named from its label (cge.scenario.slug)
        decomposition.{csv,md,tex}        EV decomposition by region
        employment.{csv,md,tex}           persons by region x sector, and employment_regions.*
        gvc.csv                           GVC indicators, benchmark vs scenario
        figures/employment.*, figures/gvc_participation.*, figures/intra_group_trade.*

Everything is checked before any solve: the scenario file, the benchmark, every scenario's selections,
the model options and the results folder. The folder is written atomically (:mod:`cge.files`): all
files go into a temporary folder beside it, which replaces it whole once complete, so a failed or
interrupted run leaves the previous results intact (or no folder). An existing non-empty results folder
is refused unless ``overwrite`` is given. Reruns of the same file on the same benchmark write
byte-identical files, ``metadata.json`` and its size in ``manifest.json`` aside (it records the git
commit and solver timings): figures are written with a fixed SVG hash salt and date
(``SOURCE_DATE_EPOCH``, 0 unless set). A progress display (:class:`RunProgress`) follows every phase:
solves (with their decomposition paths), welfare decompositions, value chains, tables, figures and
the report.
"""

from __future__ import annotations

import json
import os
import subprocess
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from . import figures, tables
from .closure import Closure
from .files import replace_folder
from .scenario import RunSpec, ScenarioError, load_spec, slug  # noqa: F401 (slug: file stems of scenarios)
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


class RunProgress:
    """Progress of a run, phase by phase: one bar per phase on the terminal (rich), and a record.

    ``events`` lists ``(phase, item)`` for every step done, shown or not. Phases (:data:`PHASES`):
    solves (each with its decomposition path), welfare decompositions, value chains, tables,
    figures and the report.
    """

    PHASES = {
        "solve": "solving",
        "decompose": "welfare decompositions",
        "gvc": "value chains",
        "tables": "tables",
        "figures": "figures",
        "report": "report",
    }

    def __init__(self, show: bool = True, title: str = ""):
        self.show, self.title = show, title
        self.events: list[tuple[str, str]] = []
        self._bar = None
        self._tasks: dict = {}

    def __enter__(self) -> "RunProgress":
        if self.show:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(bar_width=12), MofNCompleteColumn(), TimeElapsedColumn(), transient=True)
            self._bar.start()
            if self.title:
                self._bar.console.print(self.title, style="bold")
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def phase(self, key: str, total: int) -> None:
        """Start phase ``key`` with ``total`` steps."""
        if self._bar is not None:
            self._tasks[key] = self._bar.add_task(self._describe(key, ""), total=total)

    def step(self, key: str, item: str) -> None:
        """Say that ``item`` of phase ``key`` is being done (shown beside the bar)."""
        if self._bar is not None and key in self._tasks:
            self._bar.update(self._tasks[key], description=self._describe(key, item))

    def done(self, key: str, item: str) -> None:
        """Record ``item`` of phase ``key`` as done and advance its bar."""
        self.events.append((key, item))
        if self._bar is not None and key in self._tasks:
            self._bar.advance(self._tasks[key])

    def _describe(self, key: str, item: str) -> str:
        item = item if len(item) <= 32 else item[:31] + "…"
        return f"{self.PHASES[key]:<22} {item:<32}"


def _progress(progress: bool | RunProgress, title: str, show: bool = True) -> tuple:
    """The :class:`RunProgress` to report to and the context that shows it: a given one as it is
    (its caller shows it), else a new one, shown on the terminal if ``progress`` and ``show``."""
    if isinstance(progress, RunProgress):
        return progress, nullcontext()
    bar = RunProgress(show=bool(progress) and show, title=title)
    return bar, bar


def _build_model(bench, key: tuple) -> Model:
    closure_d, el_d, sourcing, backend = key
    closure = Closure(**{k: (tuple(v) if isinstance(v, tuple) else v) for k, v in closure_d})
    elasticities = {k: (list(v) if isinstance(v, tuple) else v) for k, v in el_d}
    return Model(bench, closure=closure, sourcing=sourcing, elasticities=elasticities, backend=backend)


def solve_spec(spec: RunSpec, progress: bool | RunProgress = True, decompose_steps: int | bool = False, jobs: int = 1) -> tuple:
    """Solve every scenario of a spec; returns the benchmark and ``{scenario name: Results}``.

    The benchmark, every scenario and every model are built before the first solve, so that a bad
    selection or option stops the run before any work. ``decompose_steps``: points on the path of
    each scenario for its welfare decomposition (solved with the scenario, stored in its results).
    ``jobs`` > 1 solves the scenarios of fast-backend models in that many threads, each with models
    of its own (Pyomo is not thread-safe: its scenarios are solved one after another in this thread);
    every solve starts from the benchmark, so the results are the same bits as a sequential run.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs = {jobs!r}; must be an integer >= 1")
    bench, built = check_spec(spec)
    keys = [_model_key(spec, sc) for sc in spec.scenarios]
    models: dict[tuple, Model] = {}
    for key in keys:
        if key not in models:
            models[key] = _build_model(bench, key)
    results = {}
    bar, shown = _progress(progress, spec.title, show=len(spec.scenarios) > 1)
    path = f" (+ {int(decompose_steps)}-step path)" if decompose_steps else ""
    with shown:
        bar.phase("solve", len(spec.scenarios))
        threaded = [jobs > 1 and models[key].backend == "fast" for key in keys]
        if not any(threaded):
            for sc, scenario, key in zip(spec.scenarios, built, keys):
                bar.step("solve", f"{sc.display}{path}")
                results[sc.name] = models[key].solve(scenario, decompose=decompose_steps)
                bar.done("solve", sc.name)
        else:
            import threading
            from concurrent.futures import ThreadPoolExecutor

            local = threading.local()

            def solve(scenario, key):
                own = local.__dict__.setdefault("models", {})  # a model is not shared between threads
                if key not in own:
                    own[key] = _build_model(bench, key)
                return own[key].solve(scenario, decompose=decompose_steps)

            with ThreadPoolExecutor(max_workers=jobs) as pool:
                futures = [pool.submit(solve, scenario, key) if t else None for scenario, key, t in zip(built, keys, threaded)]
                for sc, scenario, key, future in zip(spec.scenarios, built, keys, futures):
                    bar.step("solve", f"{sc.display}{path}")
                    results[sc.name] = future.result() if future is not None else models[key].solve(scenario, decompose=decompose_steps)
                    bar.done("solve", sc.name)
    return bench, results


def run_spec(path, out, progress: bool | RunProgress = True, decompose_steps: int | None = None, overwrite: bool = False,
             jobs: int = 1) -> dict:
    """Solve a scenario file and write its results folder ``out`` (layout in the module docstring).

    ``out`` is replaced whole, atomically, once every file is written; an existing non-empty ``out``
    is an :class:`OutputError` unless ``overwrite``. ``progress``: show a progress display on the
    terminal (``True``), nothing (``False``), or report to a :class:`RunProgress`. Returns the spec,
    benchmark, ``results`` and ``welfare`` by scenario, the ``files`` written and the ``progress``
    (whose ``events`` list every step done).
    """
    spec = load_spec(path)
    out = Path(out)
    check_output(out, overwrite, keep=(Path(path), spec.benchmark_folder()))
    steps = int(decompose_steps or spec.output.get("decomposition_steps", 8))
    bar, shown = _progress(progress, spec.title)
    with shown:
        bench, results = solve_spec(spec, progress=bar, decompose_steps=steps, jobs=jobs)
        with replace_folder(out) as tmp, _reproducible_figures():
            written = write_outputs(spec, bench, results, tmp, steps, path, progress=bar)
    welfare = written.pop("welfare")
    files = [out / f.relative_to(tmp) for f in written["files"]]
    return {"spec": spec, "benchmark": bench, "results": results, "welfare": welfare, "files": files, "progress": bar}


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


def write_outputs(spec: RunSpec, bench, results: dict, out: Path, steps: int, path, progress: RunProgress | None = None) -> dict:
    """Write the tables, figures, tidy results, metadata, report and manifest of solved scenarios
    into folder ``out`` (layout in the module docstring)."""
    from . import report

    bar = progress or RunProgress(show=False)
    gvc_on = spec.output.get("gvc", True)
    unit = next(iter(results.values())).unit
    specs = {sc.name: sc for sc in spec.scenarios}
    names = replace(tables.Names.from_benchmark(bench), scenarios={n: sc.display for n, sc in specs.items() if sc.label})
    employment = {n: res for n, res in results.items() if res.params.employment_0 is not None and "labour" in res.params.factors}

    bar.phase("decompose", len(results))
    welfare = {}
    for name, res in results.items():
        bar.step("decompose", specs[name].display)
        welfare[name] = res.welfare()
        bar.done("decompose", name)
    gvc = {}
    if gvc_on:
        bar.phase("gvc", len(results))
        for name, res in results.items():
            bar.step("gvc", specs[name].display)
            gvc[name] = res.gvc()
            bar.done("gvc", name)

    written = []
    bar.phase("tables", 2 * len(results) + 2)
    bar.step("tables", "welfare")
    written += tables.write_table(tables.welfare_table(welfare, unit), out, "welfare", f"{spec.title}: welfare by region", names=names)
    bar.done("tables", "welfare")
    tidy = []
    for name, res in results.items():
        sc = specs[name]
        bar.step("tables", sc.display)
        folder = out / sc.folder
        written += tables.write_table(tables.decomposition_table(welfare[name], unit), folder, "decomposition",
                                      f"{sc.display}: EV decomposition ({unit})", names=names)
        if name in employment:
            written += tables.write_table(res.employment(), folder, "employment", f"{sc.display}: employment by region and sector", digits=2, names=names)
            written += tables.write_table(res.employment_by_region(), folder, "employment_regions", f"{sc.display}: employment by region", digits=2, names=names)
        if name in gvc:
            gvc[name].to_csv(folder / "gvc.csv", index=False)
            written.append(folder / "gvc.csv")
        bar.done("tables", name)
        bar.step("tables", f"{sc.display}: tidy results")
        tidy.append(res.tidy(gvc=name in gvc))  # the indicators computed above, not again (Results.gvc keeps them)
        bar.done("tables", f"{name}: tidy")
    bar.step("tables", "results.csv, results.parquet")
    long = pd.concat(tidy, ignore_index=True)
    long.to_csv(out / "results.csv", index=False)
    long.to_parquet(out / "results.parquet", index=False)
    written += [out / "results.csv", out / "results.parquet"]
    bar.done("tables", "results")

    figs = [("welfare", None)] + [(n, "employment") for n in employment] + [(n, "gvc") for n in gvc]
    bar.phase("figures", len(figs))
    for name, kind in figs:
        if kind is None:
            bar.step("figures", "welfare")
            written += figures.welfare_bars(welfare, out / "figures", names=names)
            bar.done("figures", "welfare")
            continue
        sc = specs[name]
        bar.step("figures", f"{sc.display}: {kind}")
        folder = out / sc.folder / "figures"
        if kind == "employment":
            written += figures.employment_heatmap(results[name].employment(), folder, "employment", title=sc.display, names=names)
        else:
            g = gvc[name]
            written += figures.before_after(g, "gvc_participation_backward_wwyz", folder, "gvc_participation", names=names)
            if (g["indicator"] == "intra_group_trade_share").any():
                written += figures.before_after(g, "intra_group_trade_share", folder, "intra_group_trade", names=names)
        bar.done("figures", f"{name}: {kind}")

    meta = {
        "spec": str(Path(path)),
        "title": spec.title,
        "description": spec.description,
        "git_commit": git_commit(),
        "benchmark": {"name": spec.benchmark, "hash": bench.hash(), "metadata": bench.metadata},
        "decomposition_steps": steps,
        "scenarios": {
            name: {**res.metadata(), "description": res.scenario.description, "label": specs[name].display, "folder": specs[name].folder}
            for name, res in results.items()
        },
    }
    (out / "metadata.json").write_text(json.dumps(meta, indent=2, default=json_default))
    written.append(out / "metadata.json")

    bar.phase("report", 1)
    bar.step("report", "report.html")
    written.append(report.write_report(out))
    bar.done("report", "report.html")
    written.append(write_manifest(out, written))
    return {"welfare": welfare, "files": written}


KINDS = {".csv": "table", ".md": "table", ".tex": "table", ".png": "figure", ".svg": "figure", ".pdf": "figure",
         ".parquet": "data", ".json": "metadata", ".html": "report"}
"""The kind of a results file, by suffix, as listed in ``manifest.json``."""


def write_manifest(out: Path, files: list) -> Path:
    """Write ``out/manifest.json``: every file of ``files`` (paths under ``out``) with its path, kind,
    format, scenario (empty for run-level files) and size in bytes, sorted by path."""
    out = Path(out)
    meta = json.loads((out / "metadata.json").read_text()) if (out / "metadata.json").is_file() else {}
    by_folder = {v.get("folder", ""): k for k, v in meta.get("scenarios", {}).items()}
    entries = []
    for f in sorted({Path(f).relative_to(out).as_posix() for f in files if Path(f).name != "manifest.json"}):
        top = f.split("/")[0] if "/" in f else ""
        suffix = Path(f).suffix
        kind = "data" if f in ("results.csv",) else KINDS.get(suffix, "other")
        entries.append({"path": f, "kind": kind, "format": suffix.lstrip("."), "scenario": by_folder.get(top, ""), "size": (out / f).stat().st_size})
    doc = {"title": meta.get("title", ""), "spec": meta.get("spec", ""), "files": entries}
    path = out / "manifest.json"
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


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
