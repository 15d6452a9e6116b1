"""The console script: an unchanged `run` is replayed, anything else goes to the command line.

Only the standard library is imported before the replay check: starting the full command line
(typer, pydantic, rich, plugin discovery) costs more than a warm audit itself.
"""

from __future__ import annotations

import sys

from ctoaudit import replay

INTERRUPTED = 130
"""The exit code after Ctrl-C, as the command line's own boundary gives it."""


def main() -> None:
    """Console-script entry point (also `python -m ctoaudit`)."""
    try:
        code = _replayed(sys.argv[1:])
    except KeyboardInterrupt:
        sys.stderr.write("ctoaudit: error: interrupted\n")
        raise SystemExit(INTERRUPTED) from None
    if code is not None:
        raise SystemExit(code)
    from ctoaudit.cli import main as run_command_line  # noqa: PLC0415 - heavy: only when needed

    run_command_line()


def _replayed(argv: list[str]) -> int | None:
    """The exit code of a replayed run, or None when the command line must run."""
    try:
        invocation = replay.begin(argv)
    except Exception:  # noqa: BLE001 - e.g. a deleted working folder: the command line reports it
        return None
    return replay.replay(invocation) if invocation is not None else None
