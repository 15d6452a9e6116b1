"""The command line: thin Typer commands over the pure core, one module per command.

Each command's module is imported only when that command runs (or for help listing them all):
importing every command's dependencies cost a fixed tenth of a second or more on every run.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterable
from typing import Annotated

import typer

from ctoaudit import __version__

COMMANDS: dict[str, tuple[str, str, bool]] = {
    "run": ("ctoaudit.cli.run", "run", False),
    "analyzers": ("ctoaudit.cli.analyzers", "analyzers", False),
    "trend": ("ctoaudit.cli.trend", "trend", False),
    "config": ("ctoaudit.cli.config", "app", True),
    "rules": ("ctoaudit.cli.rules", "app", True),
    "gate": ("ctoaudit.cli.gate", "gate", False),
    "baseline": ("ctoaudit.cli.gate", "baseline_app", True),
}
"""Command name -> (module, attribute, whether it is a group of subcommands), in help order."""


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ctoaudit {__version__}")
        raise typer.Exit


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Technical audits of software repositories."""


def build_app(names: Iterable[str] = COMMANDS) -> typer.Typer:
    """The Typer app with the named commands (all by default), importing only their modules."""
    application = typer.Typer(
        name="ctoaudit",
        help="Technical audits of software repositories, scored against rules you can read and "
        "change.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    application.callback()(_root)
    for name in names:
        module, attribute, is_group = COMMANDS[name]
        target = getattr(importlib.import_module(module), attribute)
        if is_group:
            application.add_typer(target, name=name)
        else:
            application.command(name)(target)
    return application


def _requested(argv: list[str]) -> list[str]:
    """The one command the arguments name, or all of them (help, a typo, options only)."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return [first] if first in COMMANDS else list(COMMANDS)


def __getattr__(name: str) -> typer.Typer:
    # `app` (every command) is built on first use, e.g. by tests driving the CLI in-process.
    if name == "app":
        application = build_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)


GC_THRESHOLDS = (50_000, 20, 100)
"""Cycle-collector thresholds for a CLI run. An audit builds hundreds of thousands of small objects
that hold no cycles (measurements, AST nodes, parsed config); with the default thresholds the
collector scans them all many times over, a fifth of a warm audit's time. The process is short-lived,
so collecting cycles less often costs little memory."""


def main() -> None:
    """Console-script entry point."""
    gc.set_threshold(*GC_THRESHOLDS)
    build_app(_requested(sys.argv[1:]))()
