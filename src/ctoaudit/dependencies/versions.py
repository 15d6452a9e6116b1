"""Version order per ecosystem: PEP 440 for PyPI (via `packaging`), SemVer 2.0 for npm."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from ctoaudit.dependencies.model import Ecosystem

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True, order=True)
class SortableVersion:
    """A parsed version: ordered by `key`; knows its major number and whether it is a pre-release.

    `key` is packaging's `Version` for PyPI (compared directly: wrapping it in a tuple would double
    the comparisons when sorting long histories) and a tuple for npm.
    """

    key: Any
    text: str = field(compare=False)
    major: int = field(compare=False)
    prerelease: bool = field(compare=False)


def _semver_key(pre: str | None) -> tuple[Any, ...]:
    # A release sorts after its pre-releases; numeric identifiers sort before alphanumeric ones.
    if pre is None:
        return (1,)
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (0, parts)


def parse_version(ecosystem: Ecosystem, text: str) -> SortableVersion | None:
    """The version, or None for a string the ecosystem's scheme cannot order (legacy versions)."""
    if ecosystem is Ecosystem.NPM:
        match = _SEMVER.match(text.strip())
        if match is None:
            return None
        major, minor, patch = (int(g) for g in match.group(1, 2, 3))
        pre = match.group(4)
        return SortableVersion(
            key=(major, minor, patch, _semver_key(pre)),
            text=text,
            major=major,
            prerelease=pre is not None,
        )
    try:
        version = Version(text)
    except InvalidVersion:
        return None
    return SortableVersion(
        key=version, text=text, major=version.release[0], prerelease=version.is_prerelease
    )
