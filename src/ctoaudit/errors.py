"""One error base for ctoaudit and one subclass per layer; the CLI maps them to exit codes."""

from __future__ import annotations


class CtoauditError(Exception):
    """Base of every error ctoaudit raises on purpose; its message is meant for the user."""


class UsageError(CtoauditError):
    """The command line asks for something impossible (bad option value, unknown analyzer)."""


class ConfigError(CtoauditError):
    """A configuration or rule file is malformed; the message names the file and the key."""


class TargetError(CtoauditError):
    """The audit target cannot be opened: missing path, bad ref, unreachable git URL."""


class SnapshotError(CtoauditError):
    """Reading the repository failed as a whole (git missing, corrupt objects)."""


class SnapshotFileError(CtoauditError):
    """One file of a snapshot cannot be read; analyzers turn this into a skip."""


class AnalysisError(CtoauditError):
    """The analysis could not run or, under --strict, could not complete."""
