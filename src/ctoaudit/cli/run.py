"""`ctoaudit run`: audit a repository and print or write the report."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from ctoaudit import replay
from ctoaudit.atomic import write_atomic
from ctoaudit.cache import NullCache, open_cache
from ctoaudit.cli._boundary import boundary
from ctoaudit.cli._options import (
    Analyzers,
    CacheDir,
    Config,
    Disable,
    Exclude,
    Jobs,
    NoCache,
    Offline,
)
from ctoaudit.cli._output import (
    RichProgress,
    audit_request,
    choose_format,
    stderr_console,
    stdout_is_terminal,
    use_color,
)
from ctoaudit.engine import AuditOptions, audit_target, parse_as_of, replayable
from ctoaudit.exitcodes import ExitCode
from ctoaudit.render import RenderFormat
from ctoaudit.scoring import below_minimum
from ctoaudit.snapshot import RepoSnapshot
from ctoaudit.stamps import noting_inputs


def run(
    target: Annotated[
        str, typer.Argument(help="Path, git URL, or folder inside a git repository.")
    ] = ".",
    ref: Annotated[
        str | None, typer.Option("--ref", help="Audit this commit, tag or branch from git objects.")
    ] = None,
    fmt: Annotated[
        RenderFormat | None,
        typer.Option(
            "--format", "-f", help="Output format [default: terminal, or from -o's suffix]."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report to this file (atomically)."),
    ] = None,
    config: Config = None,
    jobs: Jobs = None,
    exclude: Exclude = None,
    analyzers: Analyzers = None,
    disable: Disable = None,
    max_file_bytes: Annotated[
        int | None, typer.Option("--max-file-bytes", help="Skip larger files [default: 5 MiB].")
    ] = None,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    offline: Offline = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="See registries as of this instant: YYYY-MM-DD (00:00 UTC) or an ISO timestamp [default: now].",
            envvar="CTOAUDIT_AS_OF",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 3 when an analysis is incomplete (e.g. dependencies not resolved).",
            envvar="CTOAUDIT_STRICT",
        ),
    ] = False,
    timestamps: Annotated[
        bool, typer.Option("--timestamps", help="Record generation time and timings in the report.")
    ] = False,
    rules: Annotated[
        str | None,
        typer.Option(
            "--rules",
            help="Rule set: a TOML file, 'default', or an installed rule-set plugin "
            "[default: the config's `rules`, else 'default'].",
            envvar="CTOAUDIT_RULES",
        ),
    ] = None,
    fail_under: Annotated[
        float | None,
        typer.Option(
            "--fail-under",
            min=0,
            max=100,
            help="Exit 1 when the score is below this (0-100) or cannot be computed.",
            envvar="CTOAUDIT_FAIL_UNDER",
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="No progress bar and no notes, only the result.",
            envvar="CTOAUDIT_QUIET",
        ),
    ] = False,
) -> None:
    """Audit a repository: measure, then print a summary or write a report."""
    with boundary():
        render_format = choose_format(fmt, output, RenderFormat.from_suffix, RenderFormat.TERMINAL)
        request = audit_request(
            target, ref, config, cache_dir, rules, analyzers, disable, exclude, jobs, max_file_bytes
        )
        cache = open_cache(cache_dir, enabled=not no_cache)
        show_progress = not quiet and stdout_is_terminal()
        console = stderr_console()
        notes: list[str] = []
        if isinstance(cache, NullCache) and cache.reason and not quiet:
            _note(notes, f"warning: {cache.reason}")
        progress = RichProgress(console) if show_progress else None
        options = AuditOptions(
            cache=cache,
            timestamps=timestamps,
            offline=offline,
            as_of=parse_as_of(as_of) if as_of else None,
            strict=strict,
        )
        if progress is not None:
            options.progress = progress
        try:
            with progress or contextlib.nullcontext(), noting_inputs() as inputs:
                report, snapshot = audit_target(request, options)
        finally:
            cache.close()
        renderer = render_format.to_renderer(
            color=use_color() and output is None, width=console.width
        )
        text = renderer(report)
        shown = ""
        if output is None:
            typer.echo(text, nl=False)
            shown = text
        else:
            write_atomic(output, text)
            if not quiet:
                _note(notes, f"wrote {output} ({render_format.value})")
        exit_code = ExitCode.OK
        if fail_under is not None and (miss := below_minimum(report.score, fail_under)):
            _note(notes, f"ctoaudit: {miss}")
            exit_code = ExitCode.GATE_FAILED
        if not isinstance(cache, NullCache) and replayable(report):
            files = ((str(output), text),) if output is not None else ()
            outputs = replay.Outputs(shown, "".join(notes), files, exit_code)
            _remember(target, snapshot, inputs, outputs)
        if exit_code is not ExitCode.OK:
            raise typer.Exit(exit_code)


def _note(notes: list[str], line: str) -> None:
    """A note on stderr, kept for the record of the run."""
    notes.append(line + "\n")
    sys.stderr.write(line + "\n")


def _remember(
    target: str, snapshot: RepoSnapshot, inputs: Mapping[str, str | None], outputs: replay.Outputs
) -> None:
    """Record the run for replay when the console script began it and the snapshot can be watched."""
    invocation = replay.current()
    # echo strips escape sequences from text bound for a pipe: such text is not recorded as shown
    if invocation is None or ("\x1b" in outputs.stdout and not stdout_is_terminal()):
        return
    watch = snapshot.watch()
    if watch is not None:
        given = os.path.abspath(os.path.expanduser(target))  # noqa: PTH100, PTH111 - a str, as replay keeps it
        replay.record(invocation, given, watch, inputs, outputs)
