"""The one place where exceptions become messages on stderr and exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from ctoaudit.errors import (
    AnalysisError,
    ConfigError,
    CtoauditError,
    SnapshotError,
    TargetError,
    UsageError,
)
from ctoaudit.exitcodes import ExitCode

_EXIT_CODES: dict[type[CtoauditError], ExitCode] = {
    UsageError: ExitCode.USAGE,
    ConfigError: ExitCode.USAGE,
    TargetError: ExitCode.USAGE,
    SnapshotError: ExitCode.ANALYSIS_ERROR,
    AnalysisError: ExitCode.ANALYSIS_ERROR,
}


def exit_code_for(exc: CtoauditError) -> ExitCode:
    """The exit code of an error class (the nearest registered base wins)."""
    for cls in type(exc).__mro__:
        if cls in _EXIT_CODES:
            return _EXIT_CODES[cls]
    return ExitCode.ANALYSIS_ERROR


def error(message: str) -> None:
    """Print `ctoaudit: error: ...` on stderr, one line per line of the message."""
    for line in message.splitlines() or [""]:
        sys.stderr.write(f"ctoaudit: error: {line}\n")


@contextmanager
def boundary() -> Iterator[None]:
    """Run a command body; map known errors to their exit code and anything else to exit 3."""
    try:
        yield
    except CtoauditError as exc:
        error(str(exc))
        raise typer.Exit(exit_code_for(exc)) from None
    except KeyboardInterrupt:
        error("interrupted")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if os.environ.get("CTOAUDIT_DEBUG"):
            raise
        error(f"internal error: {type(exc).__name__}: {exc} (set CTOAUDIT_DEBUG=1 for a traceback)")
        raise typer.Exit(ExitCode.ANALYSIS_ERROR) from None
