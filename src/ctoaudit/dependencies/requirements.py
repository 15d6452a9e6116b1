"""pip requirement files (requirements*.txt, *.in): includes, constraints, markers, extras, hashes.

Parsed line by line the way pip reads them (continuations joined, comments dropped, options
recognised), with `packaging` deciding what a requirement means. Nothing is installed or executed.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import replace

from packaging.requirements import InvalidRequirement, Requirement

from ctoaudit.dependencies.model import (
    Declared,
    Ecosystem,
    Group,
    Parsed,
    group_from_label,
    normalize_name,
)

ReadText = Callable[[str], str | None]
"""Returns a repository file's text by POSIX path, or None when it is missing or unreadable."""

_COMMENT = re.compile(r"(^|\s+)#.*$")
_INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=\S))(\S+)")
_EDITABLE = re.compile(r"^(-e|--editable)(?:\s*=\s*|\s+)(\S+)")
_IGNORED_OPTIONS = re.compile(
    r"^(-i|--index-url|--extra-index-url|--no-index|-f|--find-links|--pre|--no-binary|"
    r"--only-binary|--prefer-binary|--trusted-host|--use-feature|--require-hashes|-Z|"
    r"--always-unzip|--config-settings|--global-option)\b"
)
_URL_OR_PATH = re.compile(r"^([a-z][a-z0-9+.-]*://|[./~]|[a-z]:\\)", re.IGNORECASE)
_EXACT = frozenset({"==", "==="})


def is_requirements_file(path: str) -> bool:
    """requirements*.txt / *requirements.txt / *.in named for requirements, or any .txt/.in under requirements/."""
    name = posixpath.basename(path).lower()
    parent = posixpath.basename(posixpath.dirname(path)).lower()
    if not name.endswith((".txt", ".in")):
        return False
    return "requirements" in name or parent in {"requirements", "reqs"}


def file_group(path: str) -> Group:
    """requirements.txt is the product; requirements-dev.txt, test-requirements.in... are dev."""
    return group_from_label(posixpath.basename(path), default=Group.MAIN)


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, content) with backslash continuations joined and comments removed."""
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        line = raw
        if line.endswith("\\"):
            buffer.append(line[:-1])
            continue
        buffer.append(line)
        joined = _COMMENT.sub("", " ".join(buffer)).strip()
        buffer = []
        if joined:
            yield start, joined
    if buffer:
        joined = _COMMENT.sub("", " ".join(buffer)).strip()
        if joined:
            yield start, joined


def exact_version(requirement: Requirement) -> str | None:
    """The version of `==X` / `===X` (no wildcard), the only specifiers that pin one release."""
    specs = list(requirement.specifier)
    if len(specs) != 1:
        return None
    spec = specs[0]
    if spec.operator not in _EXACT or spec.version.endswith(".*"):
        return None
    return spec.version


def _strip_options(line: str) -> str:
    """Drop per-requirement options (--hash=..., --config-settings ...), which follow the requirement."""
    cut = re.search(r"\s--?[a-zA-Z]", line)
    return line[: cut.start()].strip() if cut else line


class _Reader:
    """One parse of a top-level file, following -r and -c includes once each."""

    def __init__(self, read: ReadText) -> None:
        self.read = read
        self.result = Parsed()
        self.constraints: dict[str, str] = {}
        self.seen: set[str] = set()

    def parse_file(
        self, path: str, *, constraint: bool, include_line: tuple[str, int] | None
    ) -> None:
        key = f"{'c' if constraint else 'r'}:{path}"
        if key in self.seen:
            return  # an include cycle or a repeated include adds nothing
        self.seen.add(key)
        text = self.read(path)
        if text is None and include_line is None:
            return  # the caller could not read the file itself and has said why
        if text is None:
            where = f"{include_line[0]}:{include_line[1]}: " if include_line else ""
            self.result.problems.append(
                (
                    include_line[0] if include_line else path,
                    f"{where}cannot read included file {path}",
                )
            )
            return
        for number, line in logical_lines(text):
            self.parse_line(path, number, line, constraint=constraint)

    def parse_line(self, path: str, number: int, line: str, *, constraint: bool) -> None:
        include = _INCLUDE.match(line)
        if include:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), include.group(2)))
            is_constraint = include.group(1) in {"-c", "--constraint"}
            self.parse_file(target, constraint=is_constraint, include_line=(path, number))
            return
        editable = _EDITABLE.match(line)
        if editable:
            if not constraint:
                self._unresolved(path, number, line, editable.group(2), "editable requirement")
            return
        if _IGNORED_OPTIONS.match(line) or line.startswith("-"):
            return
        self.parse_requirement(path, number, _strip_options(line), constraint=constraint)

    def parse_requirement(self, path: str, number: int, text: str, *, constraint: bool) -> None:
        if _URL_OR_PATH.match(text):
            if not constraint:
                self._unresolved(path, number, text, _guess_name(text), "URL or path requirement")
            return
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            self.result.problems.append(
                (path, f"line {number}: invalid requirement {text!r}: {exc}")
            )
            return
        name = normalize_name(Ecosystem.PYPI, requirement.name)
        if requirement.url:
            if not constraint:
                self._unresolved(path, number, text, name, "direct URL requirement")
            return
        version = exact_version(requirement)
        if constraint:
            if version is not None:
                self.constraints.setdefault(name, version)
            return
        self.result.items.append(
            Declared(
                ecosystem=Ecosystem.PYPI,
                name=name,
                version=version,
                spec=text,
                direct=True,
                group=file_group(path),
                path=path,
                line=number,
            )
        )

    def _unresolved(self, path: str, number: int, text: str, name: str, why: str) -> None:
        self.result.items.append(
            Declared(
                ecosystem=Ecosystem.PYPI,
                name=name,
                version=None,
                spec=text,
                direct=True,
                group=file_group(path),
                path=path,
                line=number,
                unresolved=f"{why}: {text}",
            )
        )


def _guess_name(text: str) -> str:
    """A readable item name for a URL or path requirement: its #egg= fragment, else the text."""
    egg = re.search(r"[#&]egg=([A-Za-z0-9_.-]+)", text)
    if egg:
        return normalize_name(Ecosystem.PYPI, egg.group(1))
    try:
        return shlex.split(text)[0]
    except ValueError:
        return text


def parse_requirements(path: str, read: ReadText) -> Parsed:
    """Every requirement of `path` and of the files it includes with -r; -c constraints pin ranges.

    A requirement that only a constraint file pins counts as pinned to that version, as pip would
    install it.
    """
    reader = _Reader(read)
    reader.parse_file(path, constraint=False, include_line=None)
    items = []
    for item in reader.result.items:
        pinned = reader.constraints.get(item.name)
        if item.version is None and item.unresolved is None and pinned is not None:
            items.append(replace(item, version=pinned))
        else:
            items.append(item)
    return Parsed(items=items, problems=reader.result.problems)
