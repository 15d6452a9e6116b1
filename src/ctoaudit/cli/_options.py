"""Options several commands share, declared once so their flags, help and variables agree."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Config = Annotated[
    Path | None,
    typer.Option(
        "--config", help="Config file instead of the target's own.", envvar="CTOAUDIT_CONFIG"
    ),
]
Analyzers = Annotated[
    list[str] | None,
    typer.Option(
        "--analyzers",
        help="Only these analyzers (comma-separated or repeated).",
        envvar="CTOAUDIT_ANALYZERS",
    ),
]
Disable = Annotated[list[str] | None, typer.Option("--disable", help="Do not run these analyzers.")]
Exclude = Annotated[
    list[str] | None, typer.Option("--exclude", help="Glob of paths to leave out (repeatable).")
]
Jobs = Annotated[
    int | None,
    typer.Option(
        "--jobs", "-j", help="Worker processes [default: all cores].", envvar="CTOAUDIT_JOBS"
    ),
]
NoCache = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Neither read nor write the cache (results, and replays of unchanged runs).",
        envvar="CTOAUDIT_NO_CACHE",
    ),
]
CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Cache folder [default: the user cache dir].",
        envvar="CTOAUDIT_CACHE_DIR",
    ),
]
Offline = Annotated[
    bool,
    typer.Option("--offline", help="Use cached registry data only.", envvar="CTOAUDIT_OFFLINE"),
]
