"""npm manifests: package.json (declared ranges) and package-lock.json / npm-shrinkwrap.json v2-v3."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ctoaudit.dependencies.model import Declared, Ecosystem, Group, Parsed, key_line

_SECTIONS = (
    ("dependencies", Group.MAIN),
    ("optionalDependencies", Group.OPTIONAL),
    ("devDependencies", Group.DEV),
)
_EXACT_SEMVER = re.compile(r"^[=v]?\s*(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")
_NOT_REGISTRY = re.compile(
    r"^(file:|link:|workspace:|git\+|git:|github:|gitlab:|bitbucket:|https?:|npm:)|^[^@\s]+/[^@\s]+$"
)
NPM_LOCKS = ("package-lock.json", "npm-shrinkwrap.json")


def _load(path: str, text: str, parsed: Parsed) -> Mapping[str, Any] | None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        parsed.problems.append((path, f"invalid JSON: {exc}"))
        return None
    if not isinstance(data, Mapping):
        parsed.problems.append((path, "not a JSON object"))
        return None
    return data


def parse_package_json(path: str, text: str) -> Parsed:
    """Direct dependencies with their ranges; an exact version ("1.2.3") is a pin."""
    parsed = Parsed()
    data = _load(path, text, parsed)
    if data is None:
        return parsed
    for section, group in _SECTIONS:
        entries = data.get(section, {})
        if not isinstance(entries, Mapping):
            parsed.problems.append((path, f"{section} is not an object"))
            continue
        for name, spec in entries.items():
            spec_text = spec if isinstance(spec, str) else json.dumps(spec)
            exact = _EXACT_SEMVER.match(spec_text.strip())
            unresolved = (
                f"not a registry version: {spec_text}"
                if _NOT_REGISTRY.match(spec_text.strip())
                else None
            )
            parsed.items.append(
                Declared(
                    ecosystem=Ecosystem.NPM,
                    name=name,
                    version=exact.group(1) if exact and not unresolved else None,
                    spec=f"{name}@{spec_text}",
                    direct=True,
                    group=group,
                    path=path,
                    line=key_line(text, name),
                    unresolved=unresolved,
                )
            )
    return parsed


def _lock_name(key: str, entry: Mapping[str, Any]) -> str | None:
    marker = "node_modules/"
    index = key.rfind(marker)
    if index < 0:
        return None  # a workspace folder, not an installed package
    return str(entry.get("name") or key[index + len(marker) :])


def parse_package_lock(path: str, text: str, direct: Mapping[str, Group]) -> Parsed:
    """Every installed package of a v2/v3 lock; top-level entries named in `direct` are direct."""
    parsed = Parsed()
    data = _load(path, text, parsed)
    if data is None:
        return parsed
    packages = data.get("packages")
    if not isinstance(packages, Mapping):
        version = data.get("lockfileVersion")
        parsed.problems.append(
            (
                path,
                f"lockfileVersion {version} has no 'packages' map (npm 7+ writes v2/v3); package.json pins used instead",
            )
        )
        return parsed
    for key, entry in packages.items():
        if not isinstance(entry, Mapping) or entry.get("link"):
            continue
        name = _lock_name(key, entry)
        if name is None:
            continue
        version = entry.get("version")
        resolved = entry.get("resolved")
        unresolved = None
        if not isinstance(version, str) or (
            isinstance(resolved, str) and not resolved.endswith(".tgz")
        ):
            unresolved = f"not from a registry: {resolved or 'no version'}"
        top_level = key.count("node_modules/") == 1
        is_direct = top_level and name in direct
        group = direct[name] if is_direct else Group.DEV if entry.get("dev") else Group.MAIN
        parsed.items.append(
            Declared(
                ecosystem=Ecosystem.NPM,
                name=name,
                version=None if unresolved else str(version),
                spec=f"{name}@{version}",
                direct=is_direct,
                group=group,
                path=path,
                line=key_line(text, key),
                unresolved=unresolved,
            )
        )
    return parsed
