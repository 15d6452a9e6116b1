"""Python lock files: poetry.lock, uv.lock, pdm.lock, pylock.toml (PEP 751) and Pipfile.lock.

A lock gives the resolved set: every package with its exact version. Which of them are direct is for
the caller to say (it knows the manifest next to the lock).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ctoaudit.dependencies.model import (
    Declared,
    Ecosystem,
    Group,
    Parsed,
    key_line,
    line_of,
    normalize_name,
)
from ctoaudit.dependencies.pyproject import load_toml

PYTHON_LOCKS = ("poetry.lock", "uv.lock", "pdm.lock", "pylock.toml", "Pipfile.lock")


def is_python_lock(path: str) -> bool:
    """poetry.lock, uv.lock, pdm.lock, Pipfile.lock, pylock.toml or pylock.NAME.toml."""
    name = posixpath.basename(path)
    return name in PYTHON_LOCKS or (name.startswith("pylock.") and name.endswith(".toml"))


def _locked(
    path: str, text: str, name: str, version: str, group: Group, unresolved: str | None
) -> Declared:
    norm = normalize_name(Ecosystem.PYPI, name)
    return Declared(
        ecosystem=Ecosystem.PYPI,
        name=norm,
        version=None if unresolved else version,
        spec=f"{name}=={version}",
        direct=False,
        group=group,
        path=path,
        line=line_of(text, f'name = "{name}"\nversion = "{version}"') or line_of(text, f'"{name}"'),
        unresolved=unresolved,
    )


def _source_problem(package: Mapping[str, Any]) -> str | bool | None:
    """Why a lock entry is not from a registry; False for the project itself (skipped silently)."""
    source = package.get("source")
    if isinstance(source, Mapping):
        if "editable" in source or "virtual" in source:
            return False  # uv: the workspace's own projects
        kind = source.get("type")
        if kind in {"git", "directory", "file", "url"}:
            return f"{kind} source, not a registry"
        for key in ("git", "path", "url", "directory"):
            if key in source:
                return f"{key} source, not a registry"
    for key in ("vcs", "directory", "archive"):
        if key in package:
            return f"{key} source, not a registry"  # pylock.toml
    return None


def _toml_packages(path: str, text: str, table: str) -> Parsed:
    parsed = Parsed()
    data = load_toml(path, text, parsed)
    if data is None:
        return parsed
    packages = data.get(table, [])
    if not isinstance(packages, list):
        parsed.problems.append((path, f"[[{table}]] is not an array of tables"))
        return parsed
    for package in packages:
        if not isinstance(package, Mapping) or not isinstance(package.get("name"), str):
            parsed.problems.append((path, f"a [[{table}]] entry has no name"))
            continue
        problem = _source_problem(package)
        if problem is False:
            continue
        version = package.get("version")
        if not isinstance(version, str):
            problem = problem or "no version in the lock"
            version = "?"
        group = Group.DEV if package.get("category") == "dev" else Group.MAIN
        parsed.items.append(
            _locked(
                path,
                text,
                package["name"],
                version,
                group,
                problem if isinstance(problem, str) else None,
            )
        )
    return parsed


def _pipfile_lock(path: str, text: str) -> Parsed:
    parsed = Parsed()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        parsed.problems.append((path, f"invalid JSON: {exc}"))
        return parsed
    if not isinstance(data, Mapping):
        parsed.problems.append((path, "not a JSON object"))
        return parsed
    for section, group in (("default", Group.MAIN), ("develop", Group.DEV)):
        entries = data.get(section, {})
        if not isinstance(entries, Mapping):
            continue
        for name, entry in entries.items():
            raw = entry.get("version") if isinstance(entry, Mapping) else None
            version = raw.removeprefix("==") if isinstance(raw, str) else "?"
            unresolved = (
                None if isinstance(raw, str) else "VCS, path or editable entry, not a registry"
            )
            item = _locked(path, text, name, version, group, unresolved)
            parsed.items.append(replace(item, line=key_line(text, name), spec=f"{name}{raw or ''}"))
    return parsed


def parse_python_lock(path: str, text: str) -> Parsed:
    """Every locked package of a Python lock file, marked transitive until a manifest says otherwise."""
    name = posixpath.basename(path)
    if name == "Pipfile.lock":
        return _pipfile_lock(path, text)
    if name.startswith("pylock."):
        return _toml_packages(path, text, "packages")
    return _toml_packages(path, text, "package")
