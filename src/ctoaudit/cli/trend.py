"""`ctoaudit trend`: key metrics over the last commits or over a span, from git objects only."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from ctoaudit.analyzers import LazyAnalyzers
from ctoaudit.atomic import write_atomic
from ctoaudit.cache import open_cache
from ctoaudit.cli._boundary import boundary
from ctoaudit.cli._options import Analyzers, CacheDir, Disable, Exclude, Jobs, NoCache, Offline
from ctoaudit.cli._output import (
    RichProgress,
    audit_request,
    choose_format,
    stderr_console,
    stdout_is_terminal,
    use_color,
)
from ctoaudit.engine import AuditOptions
from ctoaudit.render.trend_report import TrendFormat
from ctoaudit.trend import Selection, run_trend

WIDE = 160
"""Columns of the table when stdout is a file or a pipe, where no terminal limits the width."""


def trend(
    target: Annotated[str, typer.Argument(help="Path or git URL of a git repository.")] = ".",
    ref: Annotated[
        str | None, typer.Option("--ref", help="Newest revision to audit [default: HEAD].")
    ] = None,
    last: Annotated[
        int | None,
        typer.Option("--last", help="Audit the last N first-parent commits [default: 10]."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Span to cover, e.g. 1y, 6 months, 90 days.")
    ] = None,
    every: Annotated[
        str | None,
        typer.Option("--every", help="One revision per period with --since: week, month, 2w..."),
    ] = None,
    fmt: Annotated[
        TrendFormat | None,
        typer.Option("--format", "-f", help="terminal, markdown or json [default: terminal]."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (atomically).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Config file instead of each revision's own.", envvar="CTOAUDIT_CONFIG"
        ),
    ] = None,
    rules: Annotated[
        str | None,
        typer.Option(
            "--rules",
            help="Rule set that scores every revision: a TOML file, 'default', or an installed "
            "rule-set plugin [default: each revision's `rules` config, else 'default'].",
            envvar="CTOAUDIT_RULES",
        ),
    ] = None,
    jobs: Jobs = None,
    analyzers: Analyzers = None,
    disable: Disable = None,
    exclude: Exclude = None,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    offline: Offline = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress bar, no notes.", envvar="CTOAUDIT_QUIET"),
    ] = False,
) -> None:
    """Audit several revisions from git objects and show key metrics over time."""
    with boundary():
        render_format = choose_format(fmt, output, TrendFormat.from_suffix, TrendFormat.TERMINAL)
        request = audit_request(
            target, ref, config, cache_dir, rules, analyzers, disable, exclude, jobs
        )
        selection = Selection(last=last, since=since, every=every).validated()
        cache = open_cache(cache_dir, enabled=not no_cache)
        console = stderr_console()
        progress = RichProgress(console) if not quiet and stdout_is_terminal() else None
        options = AuditOptions(cache=cache, offline=offline)
        if progress is not None:
            options.progress = progress
        try:
            with progress or contextlib.nullcontext():
                report = run_trend(request, selection, LazyAnalyzers(), options)
        finally:
            cache.close()
        width = console.width if stdout_is_terminal() else WIDE
        text = render_format.to_renderer(color=use_color() and output is None, width=width)(report)
        if output is None:
            typer.echo(text, nl=False)
            return
        write_atomic(output, text)
        if not quiet:
            console.print(f"wrote {output} ({render_format.value})")
