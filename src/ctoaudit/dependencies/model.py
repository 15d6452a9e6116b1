"""What a manifest or lock file says about one dependency, before any registry is asked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from packaging.utils import canonicalize_name


class Ecosystem(StrEnum):
    """Which registry a dependency comes from."""

    PYPI = "pypi"
    NPM = "npm"


class Group(StrEnum):
    """What a dependency is for; `main` ships with the product."""

    MAIN = "main"
    DEV = "dev"
    OPTIONAL = "optional"


GROUP_PRIORITY = (Group.MAIN, Group.OPTIONAL, Group.DEV)
"""When one dependency appears in several groups, the first of these wins."""

_DEV_WORDS = re.compile(r"dev|test|lint|doc|typ|check|ci\b|qa|style|format|bench", re.IGNORECASE)


def group_from_label(label: str, default: Group = Group.OPTIONAL) -> Group:
    """`dev` for names such as "dev", "tests", "lint", "docs"; else `default`."""
    return Group.DEV if _DEV_WORDS.search(label) else default


def normalize_name(ecosystem: Ecosystem, name: str) -> str:
    """The registry identity of a name: PEP 503 for PyPI; npm names are compared as written."""
    if ecosystem is Ecosystem.PYPI:
        return str(canonicalize_name(name))
    return name.strip()


@dataclass(frozen=True)
class Declared:
    """One dependency as one file states it.

    `version` is the exact version in use (a pin or a lock entry), or None when the file allows a
    range. `unresolved` says why the entry can never be looked up (editable, URL, path, VCS).
    """

    ecosystem: Ecosystem
    name: str
    version: str | None
    spec: str
    direct: bool
    group: Group
    path: str
    line: int | None = None
    unresolved: str | None = None


@dataclass
class Parsed:
    """The dependencies one file (with its includes) declares, and what could not be read."""

    items: list[Declared] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    """(path, reason) pairs; they become skips in the report."""

    def extend(self, other: Parsed) -> None:
        """Add another file's items and problems."""
        self.items.extend(other.items)
        self.problems.extend(other.problems)


def line_of(text: str, needle: str) -> int | None:
    """The 1-based line of the first occurrence of `needle`, for pointing a reader at a declaration."""
    index = text.find(needle)
    if index < 0:
        return None
    return text.count("\n", 0, index) + 1


def key_line(text: str, key: str) -> int | None:
    """The 1-based line where a TOML or JSON key `key` is assigned, for pointing at a declaration."""
    match = re.search(rf'^\s*["\']?{re.escape(key)}["\']?\s*[=:]', text, re.MULTILINE)
    if match is None:
        return None
    return (
        text.count("\n", 0, match.start() + len(match.group(0)) - len(match.group(0).lstrip())) + 1
    )
