"""The command line: thin Typer commands over the pure core, one module per command."""

from __future__ import annotations

from typing import Annotated

import typer

from ctoaudit import __version__
from ctoaudit.cli import analyzers as analyzers_cmd
from ctoaudit.cli import config as config_cmd
from ctoaudit.cli import gate as gate_cmd
from ctoaudit.cli import rules as rules_cmd
from ctoaudit.cli import run as run_cmd
from ctoaudit.cli import trend as trend_cmd

app = typer.Typer(
    name="ctoaudit",
    help="Technical audits of software repositories, scored against rules you can read and change.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ctoaudit {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Technical audits of software repositories."""


app.command("run")(run_cmd.run)
app.command("analyzers")(analyzers_cmd.analyzers)
app.command("trend")(trend_cmd.trend)
app.add_typer(config_cmd.app, name="config")
app.add_typer(rules_cmd.app, name="rules")
app.command("gate")(gate_cmd.gate)
app.add_typer(gate_cmd.baseline_app, name="baseline")


def main() -> None:
    """Console-script entry point."""
    app()
