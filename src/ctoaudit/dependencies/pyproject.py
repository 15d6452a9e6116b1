"""Declared dependencies in pyproject.toml (PEP 621, PEP 735 groups, Poetry) and Pipfile."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from ctoaudit.dependencies.model import (
    Declared,
    Ecosystem,
    Group,
    Parsed,
    group_from_label,
    key_line,
    line_of,
    normalize_name,
)
from ctoaudit.dependencies.requirements import exact_version

_BARE_VERSION = re.compile(r"^=?=?\s*(\d[\w.!+-]*)$")
"""Poetry and Pipenv read a bare version ("1.2.3") or "==1.2.3" as an exact pin."""
_NON_REGISTRY_KEYS = ("git", "path", "url", "file", "editable")


def load_toml(path: str, text: str, parsed: Parsed) -> dict[str, Any] | None:
    """The TOML document, or None with a problem recorded that names the file and the error."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        parsed.problems.append((path, f"invalid TOML: {exc}"))
        return None


def _pep508(
    path: str,
    text: str,
    entries: object,
    group: Group,
    own_name: str | None,
    parsed: Parsed,
) -> None:
    if not isinstance(entries, list):
        return
    for entry in entries:
        if not isinstance(entry, str):
            continue  # PEP 735 {include-group = "..."}: the included group is read on its own
        try:
            requirement = Requirement(entry)
        except InvalidRequirement as exc:
            parsed.problems.append((path, f"invalid requirement {entry!r}: {exc}"))
            continue
        name = normalize_name(Ecosystem.PYPI, requirement.name)
        if name == own_name:
            continue  # "project[extra]" refers to the project itself
        parsed.items.append(
            Declared(
                ecosystem=Ecosystem.PYPI,
                name=name,
                version=None if requirement.url else exact_version(requirement),
                spec=entry,
                direct=True,
                group=group,
                path=path,
                line=line_of(text, entry),
                unresolved=f"direct URL requirement: {entry}" if requirement.url else None,
            )
        )


def _table_entries(
    path: str,
    text: str,
    table: object,
    group: Group,
    parsed: Parsed,
) -> None:
    """Poetry / Pipenv tables: name = "version" or name = {version = ..., git = ...}."""
    if not isinstance(table, Mapping):
        return
    for raw_name, value in table.items():
        if raw_name.lower() == "python":
            continue
        name = normalize_name(Ecosystem.PYPI, raw_name)
        spec = (
            value
            if isinstance(value, str)
            else value.get("version")
            if isinstance(value, Mapping)
            else None
        )
        unresolved = None
        if isinstance(value, Mapping) and any(k in value for k in _NON_REGISTRY_KEYS):
            unresolved = f"VCS, path or URL dependency: {raw_name}"
        version = None
        if isinstance(spec, str) and (match := _BARE_VERSION.match(spec.strip())):
            version = match.group(1)
        parsed.items.append(
            Declared(
                ecosystem=Ecosystem.PYPI,
                name=name,
                version=None if unresolved else version,
                spec=f"{raw_name} {spec or '*'}",
                direct=True,
                group=group,
                path=path,
                line=key_line(text, raw_name),
                unresolved=unresolved,
            )
        )


def _groups(items: Iterable[tuple[str, Any]]) -> Iterable[tuple[str, Any]]:
    return ((str(k), v) for k, v in items)


def _poetry(path: str, text: str, poetry: Any, parsed: Parsed) -> None:  # noqa: ANN401 - raw TOML
    if not isinstance(poetry, Mapping):
        return
    _table_entries(path, text, poetry.get("dependencies"), Group.MAIN, parsed)
    _table_entries(path, text, poetry.get("dev-dependencies"), Group.DEV, parsed)
    poetry_groups = poetry.get("group", {})
    if isinstance(poetry_groups, Mapping):
        for label, table in _groups(poetry_groups.items()):
            group = Group.MAIN if label == "main" else Group.DEV
            if isinstance(table, Mapping):
                _table_entries(path, text, table.get("dependencies"), group, parsed)


def parse_pyproject(path: str, text: str) -> Parsed:
    """Dependencies of PEP 621 `[project]`, PEP 735 `[dependency-groups]` and Poetry tables."""
    parsed = Parsed()
    data = load_toml(path, text, parsed)
    if data is None:
        return parsed
    project = data.get("project", {})
    own = project.get("name") if isinstance(project, Mapping) else None
    own_name = normalize_name(Ecosystem.PYPI, own) if isinstance(own, str) else None
    if isinstance(project, Mapping):
        _pep508(path, text, project.get("dependencies"), Group.MAIN, own_name, parsed)
        extras = project.get("optional-dependencies", {})
        if isinstance(extras, Mapping):
            for extra, entries in _groups(extras.items()):
                _pep508(path, text, entries, group_from_label(extra), own_name, parsed)
    groups = data.get("dependency-groups", {})
    if isinstance(groups, Mapping):
        for label, entries in _groups(groups.items()):
            _pep508(path, text, entries, group_from_label(label, Group.DEV), own_name, parsed)
    _poetry(path, text, data.get("tool", {}).get("poetry", {}), parsed)
    return parsed


def parse_pipfile(path: str, text: str) -> Parsed:
    """`[packages]` and `[dev-packages]` of a Pipfile."""
    parsed = Parsed()
    data = load_toml(path, text, parsed)
    if data is None:
        return parsed
    _table_entries(path, text, data.get("packages"), Group.MAIN, parsed)
    _table_entries(path, text, data.get("dev-packages"), Group.DEV, parsed)
    return parsed
