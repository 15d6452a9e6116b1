"""`ctoaudit config`: the configuration's JSON schema."""

from __future__ import annotations

import json
from typing import Any

import typer

from ctoaudit.analyzers import discover_analyzers
from ctoaudit.cli._boundary import boundary
from ctoaudit.config import Settings

app = typer.Typer(help="Configuration helpers.", no_args_is_help=True)


def settings_schema() -> dict[str, Any]:
    """Settings' JSON schema with each installed analyzer's options filled in."""
    schema = Settings.model_json_schema()
    analyzers = schema["properties"]["analyzers"]
    analyzers["properties"] = {
        name: cls.options_model.model_json_schema()
        for name, cls in discover_analyzers().analyzers.items()
    }
    return schema


@app.command("schema")
def schema() -> None:
    """Print the JSON schema of [tool.ctoaudit] / .ctoaudit.toml."""
    with boundary():
        typer.echo(json.dumps(settings_schema(), indent=2, sort_keys=True))
