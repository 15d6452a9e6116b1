"""The console script: an unchanged `run` is replayed, anything else goes to the command line.

Only the standard library is imported before the replay check: starting the full command line
(typer, pydantic, rich, plugin discovery) costs more than a warm audit itself.
"""

from __future__ import annotations

import sys

from ctoaudit import replay


def main() -> None:
    """Console-script entry point (also `python -m ctoaudit`)."""
    invocation = replay.begin(sys.argv[1:])
    if invocation is not None:
        code = replay.replay(invocation)
        if code is not None:
            raise SystemExit(code)
    from ctoaudit.cli import main as run_command_line  # noqa: PLC0415 - heavy: only when needed

    run_command_line()
