"""The ``cge`` command line."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Computable general equilibrium analysis of trade policy in global value chains.")


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
    steps: int = typer.Option(0, help="points on the shock path for the EV decomposition (0: the file's or 8)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar or summary"),
) -> None:
    """Solve the scenarios of one or more files and write tables, figures and metadata."""
    from .experiment import run_spec
    from .scenario import ScenarioError

    for spec in specs:
        target = out if len(specs) == 1 else out / spec.stem
        try:
            done = run_spec(spec, target, progress=not quiet, decompose_steps=steps or None)
        except ScenarioError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        if not quiet:
            typer.echo(f"{spec}: {len(done['results'])} scenario(s) solved on {done['spec'].benchmark}; {len(done['files'])} files in {target}")
            for name, w in done["welfare"].items():
                typer.echo(f"  {name}: world EV {w.loc['World', 'ev']:.6g} ({w.loc['World', 'ev_pct']:.4f}% of income)")


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
    from .datasets import available

    b = Benchmark.load(bench) if bench in available() else Benchmark.read(bench)
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
