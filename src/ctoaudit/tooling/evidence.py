"""What evidence collectors report: signals, Python versions, file references, token uploads.

A collector never names a tool; it reports what a file says (a table exists, a program runs, a
package is installed, an action is used) with the path and line. `ctoaudit.tooling.detect` matches
those signals against the catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ctoaudit.tooling.catalogue import Usage
from ctoaudit.tooling.commands import (
    CommandScan,
    scan_script,
)
from ctoaudit.tooling.parsing import (
    LineStr,
    line_of,
    walk,
)


@dataclass(frozen=True)
class Signal:
    """One piece of evidence: its kind, the value found, and how strongly it shows use.

    Kinds: file, pyproject, ini, package, npm, command, action, hook, hook_repo, backend, marker.
    """

    kind: str
    value: str
    path: str
    line: int
    usage: Usage
    detail: str = ""
    argument: str | None = None


@dataclass(frozen=True)
class PythonVersion:
    """A CPython version a CI job, tox env, nox session or image runs."""

    version: str
    path: str
    line: int
    via: str


@dataclass(frozen=True)
class FileRef:
    """A file that configuration points at, resolved relative to the repository root."""

    target: str
    path: str
    line: int
    via: str


@dataclass(frozen=True)
class TokenUpload:
    """A PyPI upload authenticated by a long-lived secret rather than trusted publishing."""

    platform: str
    path: str
    line: int
    method: str


@dataclass
class Collected:
    """What the collectors found in one file."""

    signals: list[Signal] = field(default_factory=list)
    pythons: list[PythonVersion] = field(default_factory=list)
    refs: list[FileRef] = field(default_factory=list)
    uploads: list[TokenUpload] = field(default_factory=list)

    def add_scan(self, scan: CommandScan, path: str, *, detail: str, base: str = "") -> None:
        """Signals for the programs a script runs, the packages it installs and the files it reads."""
        for inv in scan.invocations:
            self.signals.append(
                Signal(
                    "command", inv.program, path, inv.line, Usage.RUN, detail, inv.first_argument()
                )
            )
            if inv.program in {"pytest", "py.test"} and any(
                a.startswith("--cov") for a in inv.args
            ):
                # coverage runs inside pytest through the pytest-cov plugin
                self.signals.append(
                    Signal("marker", "pytest-cov-run", path, inv.line, Usage.RUN, detail)
                )
        for name, line in scan.installs:
            self.signals.append(Signal("package", name, path, line, Usage.INSTALLED, detail))
        for ref, line, via in scan.file_refs:
            self.refs.append(FileRef(join_path(base, ref), path, line, via))

    def script(self, text: object, path: str, *, detail: str, base: str = "") -> None:
        """Scan a script value from a parsed file (a LineStr knows where it starts)."""
        if isinstance(text, str):
            self.add_scan(
                scan_script(text, script_first_line(text)), path, detail=detail, base=base
            )


def table(value: object) -> dict[str, Any]:
    """A parsed mapping, or an empty one when the file has something else there."""
    return value if isinstance(value, dict) else {}


def script_first_line(value: object) -> int:
    """The line of a script's first command: a block scalar's content starts after its indicator."""
    line = line_of(value)
    return line + 1 if isinstance(value, LineStr) and value.block else line


def join_path(base: str, ref: str) -> str:
    """`ref` relative to folder `base`, normalized (`a/./b/../c` -> `a/c`); `{toxinidir}/` dropped."""
    ref = ref.replace("{toxinidir}/", "").replace("${{ github.workspace }}/", "")
    parts: list[str] = []
    for part in f"{base}/{ref}".split("/") if base else ref.split("/"):
        if part in {"", "."}:
            continue
        if part == ".." and parts:
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def parent(path: str) -> str:
    """The folder of a repository path ("" at the root)."""
    return path.rsplit("/", 1)[0] if "/" in path else ""


# --------------------------------------------------------------------------- Python versions

_VERSION = re.compile(
    r"(?:cpython-?|python-?)?([23])\.(\d{1,2})(?:\.\d+)?(?:[-._]?[a-z]+\d*)?(?:-[\w.]+)?"
)
TOX_ENV = re.compile(r"py([23])(\d{1,2})")
_IMAGE = re.compile(r"(?:^|/)python:([23])\.(\d{1,2})\b")
PYTHON_KEYS = frozenset(
    {"python-version", "python_version", "python-versions", "python", "versionspec",
     "python.version", "python_ver", "pyver", "toxenv"}
)  # fmt: skip


def python_version(text: str) -> str | None:
    """`3.10`, `3.8.10`, `3.11-dev`, `python3.7`, `py37` -> "3.x"; PyPy and `3.x` ranges -> None."""
    value = text.strip().strip("\"'").lower()
    if "pypy" in value:
        return None
    match = _VERSION.fullmatch(value) or TOX_ENV.fullmatch(value)
    return f"{match.group(1)}.{int(match.group(2))}" if match else None


def image_python(image: str) -> str | None:
    """The Python version of a `python:3.8-slim`, `cimg/python:3.10` or similar image name."""
    match = _IMAGE.search(image.lower())
    return f"{match.group(1)}.{int(match.group(2))}" if match else None


def tox_envs(envlist: str) -> list[str]:
    """Tox env names with `{a,b}` factors expanded: `py{38,39}-django` -> py38-django, py39-django."""
    names: list[str] = []
    for item in re.split(r"[,\s]+(?![^{]*\})", envlist):
        expanded = [""]
        for literal, group in re.findall(r"([^{]*)(?:\{([^}]*)\})?", item.strip()):
            options = [o.strip() for o in group.split(",")] if group else [""]
            expanded = [e + literal + o for e in expanded for o in options]
        names.extend(e for e in expanded if e)
    return names


def collect_pythons(data: Any, path: str, out: Collected, via: str) -> None:  # noqa: ANN401
    """Python versions named under version keys (python-version, versionSpec, ...) or in image names."""
    for key, value in walk(data):
        if key is None or not isinstance(value, str):
            continue
        lowered = key.lower()
        version = None
        if lowered in PYTHON_KEYS:
            version = python_version(value)
        elif lowered in {"image", "name", "container"} or lowered.endswith("image"):
            version = image_python(value)
        if version:
            out.pythons.append(PythonVersion(version, path, line_of(value), via))


def script_strings(value: Any) -> list[str]:  # noqa: ANN401
    """The command strings of a script value: a string, a list, or a task table (cmd/shell/sequence)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for item in value for v in script_strings(item)]
    if isinstance(value, dict):
        for key in ("cmd", "shell", "script", "call"):
            if isinstance(value.get(key), str | list):
                return script_strings(value[key]) if key != "script" else []
        return script_strings(value.get("sequence", []))
    return []
