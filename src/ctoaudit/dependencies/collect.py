"""Find every manifest and lock file in a snapshot, parse each once, and merge what they declare.

Per folder, a lock file gives the resolved set and the manifest beside it says which entries are
direct; without a lock only exact pins resolve. Across files one dependency (name and version) is
counted once: a pin repeated in two requirement files, or reached through `-r`, is one dependency.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from ctoaudit.dependencies.locks import is_python_lock, parse_python_lock
from ctoaudit.dependencies.model import GROUP_PRIORITY, Declared, Ecosystem, Group, Parsed
from ctoaudit.dependencies.npm import NPM_LOCKS, parse_package_json, parse_package_lock
from ctoaudit.dependencies.pyproject import parse_pipfile, parse_pyproject
from ctoaudit.dependencies.requirements import is_requirements_file, parse_requirements

ReadText = Callable[[str], str | None]


def is_manifest(path: str) -> bool:
    """Whether the analyzer reads this file."""
    name = posixpath.basename(path)
    return (
        name in {"pyproject.toml", "Pipfile", "package.json", *NPM_LOCKS}
        or is_python_lock(path)
        or is_requirements_file(path)
    ) and "/node_modules/" not in f"/{path}"


@dataclass(frozen=True)
class Dependency:
    """One distinct dependency of the repository: a name with the version in use, or unpinned."""

    ecosystem: Ecosystem
    name: str
    version: str | None
    direct: bool
    group: Group
    path: str
    line: int | None
    spec: str
    unresolved: str | None = None
    paths: tuple[str, ...] = ()
    """Every file that declares or locks it, sorted."""


def _python_folder(folder: str, names: set[str], read: ReadText) -> Parsed:
    """pyproject.toml / Pipfile and, when present, the lock files that resolve them."""
    manifest = Parsed()
    for name, parse in (("pyproject.toml", parse_pyproject), ("Pipfile", parse_pipfile)):
        if name in names:
            path = posixpath.join(folder, name) if folder else name
            text = read(path)
            if text is not None:
                manifest.extend(parse(path, text))
    locked = Parsed()
    for name in sorted(n for n in names if is_python_lock(n)):
        path = posixpath.join(folder, name) if folder else name
        text = read(path)
        if text is not None:
            locked.extend(parse_python_lock(path, text))
    if not locked.items:
        manifest.problems.extend(locked.problems)
        return manifest
    return _apply_lock(manifest, locked)


def _apply_lock(manifest: Parsed, locked: Parsed) -> Parsed:
    """Direct entries take their version from the lock; the other lock entries are transitive."""
    versions: dict[str, Declared] = {}
    for item in locked.items:
        versions.setdefault(item.name, item)
    out = Parsed(problems=[*manifest.problems, *locked.problems])
    direct_names = set()
    for item in manifest.items:
        lock_item = versions.get(item.name)
        if item.unresolved is None and lock_item is not None:
            direct_names.add(item.name)
            item = replace(item, version=lock_item.version, unresolved=lock_item.unresolved)  # noqa: PLW2901
        out.items.append(item)
    out.items.extend(i for i in locked.items if i.name not in direct_names)
    return out


def _npm_folder(folder: str, names: set[str], read: ReadText) -> Parsed:
    manifest = Parsed()
    package_json = posixpath.join(folder, "package.json") if folder else "package.json"
    if "package.json" in names and (text := read(package_json)) is not None:
        manifest = parse_package_json(package_json, text)
    direct: dict[str, Group] = {}
    for item in manifest.items:
        direct.setdefault(item.name, item.group)
    for lock in NPM_LOCKS:
        if lock not in names:
            continue
        path = posixpath.join(folder, lock) if folder else lock
        text = read(path)
        if text is None:
            continue
        locked = parse_package_lock(path, text, direct)
        if locked.items:
            locked.problems.extend(manifest.problems)
            return locked
        manifest.problems.extend(locked.problems)
    return manifest


def parse_all(paths: Iterable[str], read: ReadText) -> Parsed:
    """Parse every manifest among `paths` (once each), folder by folder."""
    folders: dict[str, set[str]] = {}
    result = Parsed()
    for path in sorted(p for p in paths if is_manifest(p)):
        if is_requirements_file(path):
            parsed = parse_requirements(path, read)
            _mark_compiled(path, parsed, read)
            result.extend(parsed)
            continue
        folders.setdefault(posixpath.dirname(path), set()).add(posixpath.basename(path))
    for folder, names in sorted(folders.items()):
        result.extend(_python_folder(folder, names, read))
        result.extend(_npm_folder(folder, names, read))
    return result


def _mark_compiled(path: str, parsed: Parsed, read: ReadText) -> None:
    """pip-tools: in X.txt compiled from X.in, what X.in does not name is transitive."""
    if not path.endswith(".txt"):
        return
    source = path[: -len(".txt")] + ".in"
    text = read(source)
    if text is None:
        return
    declared = {i.name for i in parse_requirements(source, read).items}
    parsed.items[:] = [
        i if i.path != path or i.name in declared else replace(i, direct=False)
        for i in parsed.items
    ]


def _best_group(items: Sequence[Declared]) -> Group:
    groups = {i.group for i in items}
    return next(g for g in GROUP_PRIORITY if g in groups)


def _merge(items: Sequence[Declared]) -> Dependency:
    direct_items = [i for i in items if i.direct]
    first = (direct_items or list(items))[0]
    return Dependency(
        ecosystem=first.ecosystem,
        name=first.name,
        version=first.version,
        direct=bool(direct_items),
        group=_best_group(direct_items or items),
        path=first.path,
        line=first.line,
        spec=first.spec,
        unresolved=first.unresolved,
        paths=tuple(sorted({i.path for i in items})),
    )


def merge(items: Iterable[Declared]) -> list[Dependency]:
    """One Dependency per (ecosystem, name, version); an unpinned name counts only when no file pins it."""
    ordered = sorted(items, key=lambda i: (i.path, i.line or 0, i.name))
    pinned = {
        (i.ecosystem, i.name) for i in ordered if i.version is not None and i.unresolved is None
    }
    buckets: dict[tuple[str, str, str], list[Declared]] = {}
    for item in ordered:
        if item.unresolved is not None:
            if (item.ecosystem, item.name) in pinned:
                continue
            key = (item.ecosystem.value, item.name, "\x00unresolved")
        elif item.version is None:
            if (item.ecosystem, item.name) in pinned:
                continue
            key = (item.ecosystem.value, item.name, "\x00unpinned")
        else:
            key = (item.ecosystem.value, item.name, item.version)
        buckets.setdefault(key, []).append(item)
    return [_merge(bucket) for _, bucket in sorted(buckets.items())]
