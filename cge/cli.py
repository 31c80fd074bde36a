"""The ``cge`` command line.

A user error (a bad or missing file, an unknown benchmark, a bad option, an existing results folder,
a scenario that does not solve) is reported as one ``error: ...`` line on stderr with exit status 2,
never as a traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def _user_errors() -> tuple:
    """Exception types that mean bad input rather than a bug (imported only when an error occurs)."""
    from .benchmark import BenchmarkError
    from .calibrate import CalibrationError
    from .experiment import OutputError
    from .model.closure import ClosureError
    from .report import ReportError
    from .scenario import ScenarioError
    from .solve import SolveError

    return (BenchmarkError, CalibrationError, OutputError, ClosureError, ReportError, ScenarioError, SolveError, OSError)


def _fail(message: str, code: int = 2):
    typer.echo("error: " + " ".join(str(message).split()), err=True)
    sys.exit(code)


class _App(typer.Typer):
    """The application, reporting user errors as one ``error:`` line (see the module docstring)."""

    def __call__(self, *args, **kwargs):
        kwargs.setdefault("standalone_mode", False)
        try:
            code = super().__call__(*args, **kwargs)
        except typer.TyperException as exc:  # usage errors: unknown option, bad value, missing argument
            if type(exc).__name__ == "NoArgsIsHelpError":
                typer.echo(exc.format_message())
                sys.exit(0)
            _fail(exc.format_message(), getattr(exc, "exit_code", 2) or 2)
        except typer.Abort:
            _fail("aborted", 130)
        except Exception as exc:
            if isinstance(exc, _user_errors()):
                _fail(str(exc))
            raise
        sys.exit(code if isinstance(code, int) else 0)


app = _App(add_completion=False, no_args_is_help=True, help="Computable general equilibrium analysis of trade policy in global value chains.")


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"cge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="print the version and exit"),
) -> None:
    """Computable general equilibrium analysis of trade policy in global value chains."""


@app.command()
def doctor() -> None:
    """Report versions and whether the solver chain (Pyomo, PyNumero ASL, cyipopt, Ipopt) works."""
    from .doctor import report

    text, ready = report()
    typer.echo(text)
    raise typer.Exit(0 if ready else 1)


@app.command()
def run(
    specs: list[Path] = typer.Argument(..., help="scenario files (TOML)"),
    out: Path = typer.Option(Path("results"), "--out", "-o", help="output folder"),
    steps: int = typer.Option(0, min=0, help="points on the shock path for the EV decomposition (0: the file's or 8)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or summary"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing results folder whole"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="scenarios solved at once (threads, fast backend); results are identical to a sequential run"),
) -> None:
    """Solve the scenarios of one or more files and write tables, figures, tidy results, metadata and a report.

    Each results folder holds report.html (the whole run on one page), results.csv/.parquet,
    welfare tables and figure, metadata.json and manifest.json at the top, and one folder per
    scenario with its tables and figures. Every file and results folder is checked before the first solve. Each results folder is written
    beside its target and moved into place when complete; an existing non-empty one is refused
    unless --overwrite.
    """
    from .experiment import check_output, check_spec, run_spec
    from .scenario import load_spec

    stems = [spec.stem for spec in specs]
    if len(set(stems)) < len(stems):
        raise typer.BadParameter(f"scenario files share a name {sorted({s for s in stems if stems.count(s) > 1})}; their results folders would clash")
    targets = [out if len(specs) == 1 else out / spec.stem for spec in specs]
    if len(specs) > 1:  # check every file before the first solve (run_spec checks a single one itself)
        for spec, target in zip(specs, targets):
            parsed = load_spec(spec)
            check_output(target, overwrite, keep=(spec, parsed.benchmark_folder()))
            check_spec(parsed)
    for spec, target in zip(specs, targets):
        done = run_spec(spec, target, progress=not quiet, decompose_steps=steps or None, overwrite=overwrite, jobs=jobs)
        if not quiet:
            typer.echo(f"{spec}: {len(done['results'])} scenario(s) solved on {done['spec'].benchmark}; {len(done['files'])} files in {target}; "
                       f"report: {target / 'report.html'}")
            for name, w in done["welfare"].items():
                typer.echo(f"  {name}: world EV {w.loc['World', 'ev']:.6g} ({w.loc['World', 'ev_pct']:.4f}% of income)")


@app.command()
def report(
    folder: Path = typer.Argument(..., help="results folder written by `cge run`"),
    out: Path = typer.Option(None, "--out", "-o", help="HTML file to write (default: FOLDER/report.html)"),
) -> None:
    """Write the results of a `cge run` folder as one self-contained HTML page.

    Tables (sortable), figures, a welfare decomposition viewer per scenario and the run's metadata,
    built from the folder's files; the page needs no other file and no network.
    """
    from .report import write_report

    path = write_report(folder, out)
    typer.echo(f"{path} ({path.stat().st_size / 1024:.0f} kB)")


@app.command()
def benchmarks() -> None:
    """List the built-in benchmarks."""
    from .datasets import available, load

    for name in available():
        b = load(name)
        meta = b.metadata
        source = meta.get("source") or ", ".join(meta.get("sources", {})) or meta.get("title", "")
        typer.echo(f"{name:20} {b.n_regions} regions x {b.n_sectors} sectors  {source}")


@app.command()
def describe(bench: str = typer.Argument(..., help="built-in benchmark name or benchmark folder")) -> None:
    """Summarise a benchmark: regions, sectors, GDP, trade, tariffs."""
    from .benchmark import Benchmark
    from .datasets import locate

    b = Benchmark.read(locate(bench))
    meta = b.metadata
    year = meta.get("year", meta.get("base_year", "?"))
    typer.echo(f"{meta.get('name', bench)}: {b.n_regions} regions x {b.n_sectors} sectors, year {year}, unit {meta.get('unit', meta.get('currency', '?'))}")
    typer.echo(f"source: {meta.get('title', meta.get('source', '?'))}")
    typer.echo(f"sectors: {', '.join(b.sectors)}")
    typer.echo(f"factors: {', '.join(b.factors)}; agents: {', '.join(b.agents)}")
    for g, members in b.groups.items():
        typer.echo(f"group {g}: {', '.join(members)}")
    s = b.summary()
    s["mean_tariff"] *= 100.0
    typer.echo(s.rename(columns={"mean_tariff": "mean_tariff_pct"}).round(2).to_string())


@app.command()
def sensitivity(
    spec: Path = typer.Argument(..., help="scenario file (TOML) with a [sensitivity] table"),
    out: Path = typer.Option(Path("sensitivity"), "--out", "-o", help="output folder"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="workers of a local Dask cluster (1: solve in this process)"),
    scheduler: str = typer.Option(None, "--scheduler", help="address of a Dask scheduler to run the draws on"),
    draws: bool = typer.Option(False, "--draws", help="also write the value of every draw (draws.csv)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing results folder whole"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no summary"),
) -> None:
    """Solve the scenarios of a file over draws of the elasticities and write their mean, sd and 5-95% band.

    The same seed gives the same tables whatever --jobs or --scheduler.
    """
    import dataclasses

    from . import sensitivity as sens
    from .experiment import _reproducible_figures, check_output
    from .files import replace_folder
    from .scenario import load_spec

    parsed = load_spec(spec)
    if parsed.sensitivity is None:
        raise sens.SensitivityError(f"{spec}: no [sensitivity] table")
    if draws:
        parsed.sensitivity = dataclasses.replace(parsed.sensitivity, keep_draws=True)
    check_output(out, overwrite, keep=(spec, parsed.benchmark_folder()))
    bench, analysis = sens.analyse_spec(parsed, jobs=jobs, scheduler=scheduler)
    with replace_folder(out) as tmp, _reproducible_figures():
        sens.write(analysis, bench, tmp, parsed)
    if not quiet:
        s = analysis.summary()
        n = analysis.design["draw"].nunique()
        typer.echo(f"{spec}: {parsed.sensitivity.design}, {n} draws in {analysis.sweep.seconds:.1f} s on {analysis.sweep.workers} worker(s); "
                   f"{analysis.failures['draw'].nunique()} failed; results in {out}")
        for _, row in s[(s["variable"] == "welfare_ev_pct") & (s["region"] == "World")].iterrows():
            typer.echo(f"  {row['scenario']}: world EV {row['mean']:.4g}% of income (5-95%: {row['p05']:.4g} to {row['p95']:.4g}; chosen elasticities {row['central']:.4g})")


def main() -> None:
    """Entry point of ``python -m cge`` (the ``cge`` script calls ``app`` directly; both behave the same)."""
    app()


if __name__ == "__main__":
    main()
