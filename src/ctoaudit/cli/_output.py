"""Writing results: atomic files, consoles, and the progress bar shown on a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self, TypeVar

from rich.console import Console

from ctoaudit.engine import AuditRequest
from ctoaudit.errors import UsageError

if TYPE_CHECKING:
    from rich.progress import TaskID


def stdout_is_terminal() -> bool:
    """True when standard output is an interactive terminal."""
    return sys.stdout.isatty()


def use_color() -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    return stdout_is_terminal() and not os.environ.get("NO_COLOR")


def stderr_console() -> Console:
    """The console for progress and notes; results go to stdout."""
    return Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")), highlight=False)


class RichProgress:
    """A progress bar on stderr, one line per stage; transient, so only the result stays."""

    def __init__(self, console: Console) -> None:
        # Only a terminal shows a bar: CI and `-q` runs never import it.
        from rich.progress import (  # noqa: PLC0415
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def start(self, label: str, total: int) -> None:
        """Begin a new stage."""
        if self._task is not None:
            self._progress.update(self._task, visible=False)
        self._task = self._progress.add_task(label, total=total)

    def advance(self, steps: int = 1) -> None:
        """Advance the current stage."""
        if self._task is not None:
            self._progress.advance(self._task, steps)


FormatT = TypeVar("FormatT")


def split_names(values: list[str] | None) -> list[str] | None:
    """Names given as repeated options and/or comma-separated lists; None when none were given."""
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def choose_format(
    fmt: FormatT | None,
    output: Path | None,
    from_suffix: Callable[[str], FormatT | None],
    default: FormatT,
) -> FormatT:
    """The explicit --format, else the one the output file's suffix implies, else `default`."""
    if fmt is not None:
        return fmt
    if output is not None:
        inferred = from_suffix(output.name)
        if inferred is None:
            raise UsageError(f"cannot tell the format of {output.name}; pass --format")
        return inferred
    return default


def audit_request(
    target: str, ref: str | None, config: Path | None, cache_dir: Path | None, rules: str | None,
    analyzers: list[str] | None, disable: list[str] | None, exclude: list[str] | None, jobs: int | None,
    max_file_bytes: int | None = None,
) -> AuditRequest:  # fmt: skip
    """The AuditRequest of the options `run`, `trend` and `gate` share (None: not given)."""
    return AuditRequest(
        target=target,
        ref=ref,
        config_file=config,
        cache_dir=cache_dir,
        rules=rules,
        overrides={
            "jobs": jobs,
            "exclude": exclude or None,
            "enable": split_names(analyzers),
            "disable": split_names(disable),
            "max_file_bytes": max_file_bytes,
        },
    )
