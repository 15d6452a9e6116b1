"""Process exit codes, documented in the README."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What `ctoaudit` returns to the shell."""

    OK = 0
    GATE_FAILED = 1
    USAGE = 2
    ANALYSIS_ERROR = 3
