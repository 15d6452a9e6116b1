"""`ctoaudit analyzers`: the installed analyzers and the metrics each emits."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ctoaudit.analyzers import discover_analyzers
from ctoaudit.cli._boundary import boundary
from ctoaudit.cli._output import use_color


def analyzers(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List installed analyzers: name, version, and each metric with its direction and unit."""
    with boundary():
        found = discover_analyzers()
        if as_json:
            data = {
                name: {
                    "version": cls.version,
                    "description": cls.description.strip().splitlines()[0]
                    if cls.description
                    else "",
                    "requires": list(cls.requires),
                    "metrics": [m.model_dump(mode="json") for m in cls.metrics],
                }
                for name, cls in found.analyzers.items()
            }
            typer.echo(
                json.dumps({"analyzers": data, "errors": found.errors}, indent=2, sort_keys=True)
            )
            return
        console = Console(no_color=not use_color(), highlight=False, soft_wrap=False)
        for name, cls in found.analyzers.items():
            summary = cls.description.strip().splitlines()[0] if cls.description else ""
            table = Table(title=f"{name} {cls.version}: {summary}", title_justify="left")
            table.add_column("Metric")
            table.add_column("Scope")
            table.add_column("Better")
            table.add_column("Unit")
            table.add_column("Description")
            for m in cls.metrics:
                table.add_row(m.key, m.scope, m.direction.value, m.unit, m.description)
            console.print(table)
        for name, message in found.errors.items():
            console.print(f"[red]{name}[/red]: {message}")
