"""The ``cge`` command line."""

from __future__ import annotations

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Computable general equilibrium analysis of trade policy in global value chains.")


@app.callback()
def _root() -> None:
    """Computable general equilibrium analysis of trade policy in global value chains."""


@app.command()
def doctor() -> None:
    """Report versions and whether the solver chain (Pyomo, PyNumero ASL, cyipopt, Ipopt) works."""
    from .doctor import report

    text, ready = report()
    typer.echo(text)
    raise typer.Exit(0 if ready else 1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
