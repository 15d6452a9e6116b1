"""Matching evidence signals to catalogue tools, and folding them into one usage record per tool."""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import JsonValue

from ctoaudit.tooling.catalogue import Catalogue, ToolSpec, Usage
from ctoaudit.tooling.commands import normalize_package
from ctoaudit.tooling.evidence import Signal

_USAGE_ORDER = {Usage.CONFIGURED: 0, Usage.INSTALLED: 1, Usage.RUN: 2}


@dataclass
class ToolIndex:
    """The catalogue's detection signals, keyed for fast lookup."""

    literal_files: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    glob_files: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    exact: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    ini: list[tuple[str, str]] = field(default_factory=list)
    commands: dict[str, list[tuple[str | None, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    prefixes: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    any_glob: re.Pattern[str] | None = None
    file_usage: dict[str, Usage] = field(default_factory=dict)


def build_index(catalogue: Catalogue) -> ToolIndex:
    """Index every detection signal of the catalogue."""
    index = ToolIndex()
    for tool in catalogue.tools:
        d = tool.detect
        index.file_usage[tool.id] = d.file_usage
        for pattern in d.files:
            if any(ch in pattern for ch in "*?["):
                index.glob_files.append((re.compile(fnmatch.translate(pattern)), tool.id))
            else:
                index.literal_files[pattern].append(tool.id)
        exact = (
            ("pyproject", d.pyproject),
            ("hook", d.hooks),
            ("marker", d.markers),
            ("npm", d.npm),
        )
        for kind, values in exact:
            for value in values:
                index.exact[(kind, value.lower())].append(tool.id)
        for name in d.packages:
            index.exact[("package", normalize_package(name))].append(tool.id)
        index.ini.extend((pattern.lower(), tool.id) for pattern in d.ini)
        for command in d.commands:
            program, _, sub = command.partition(" ")
            index.commands[program.lower()].append((sub or None, tool.id))
        for kind, values in (
            ("action", d.actions),
            ("hook_repo", d.hook_repos),
            ("backend", d.backends),
        ):
            index.prefixes[kind].extend((v.lower(), tool.id) for v in values)
    if index.glob_files:
        index.any_glob = re.compile("|".join(f"(?:{p.pattern})" for p, _ in index.glob_files))
    return index


def file_tools(path: str, index: ToolIndex) -> list[str]:
    """Tools whose dedicated files include this path."""
    found = list(index.literal_files.get(path, ()))
    if index.any_glob is not None and index.any_glob.match(path):
        found.extend(tool for pattern, tool in index.glob_files if pattern.match(path))
    return found


def _action_matches(value: str, prefix: str) -> bool:
    """`uses: owner/repo@v1` and `owner/repo/sub-action@v1` both belong to `owner/repo`."""
    return value == prefix or value.startswith(prefix + "/")


def _hook_repo_matches(value: str, fragment: str) -> bool:
    """A hook repository URL ends with, or contains as a path segment, the catalogue fragment."""
    return value.endswith(fragment) or f"/{fragment}" in value


def _backend_matches(value: str, module: str) -> bool:
    """`setuptools.build_meta` and `setuptools.build_meta:__legacy__` belong to `setuptools`."""
    return value == module or value.startswith(module + ".")


_PREFIX_MATCHERS = {
    "action": _action_matches,
    "hook_repo": _hook_repo_matches,
    "backend": _backend_matches,
}


def _command_tools(signal: Signal, index: ToolIndex) -> list[str]:
    """Tools run by a command; a catalogue entry with a subcommand needs that subcommand."""
    argument = (signal.argument or "").lower()
    return [
        tool
        for sub, tool in index.commands.get(signal.value.lower(), ())
        if sub is None or argument == sub
    ]


def signal_tools(signal: Signal, index: ToolIndex) -> list[str]:
    """Tools a (non-file) signal is evidence for."""
    kind, value = signal.kind, signal.value.lower()
    if kind == "command":
        return _command_tools(signal, index)
    if kind == "ini":
        return [tool for pattern, tool in index.ini if fnmatch.fnmatchcase(value, pattern)]
    matches = _PREFIX_MATCHERS.get(kind)
    if matches is not None:
        return [tool for prefix, tool in index.prefixes[kind] if matches(value, prefix)]
    return list(index.exact.get((kind, value), ()))


@dataclass(frozen=True)
class Evidence:
    """One place that shows a tool in use."""

    path: str
    line: int
    signal: str
    usage: Usage
    detail: str

    def as_json(self) -> dict[str, JsonValue]:
        """The evidence as it appears in the report."""
        return {
            "path": self.path,
            "line": self.line,
            "signal": self.signal,
            "usage": self.usage.value,
            "detail": self.detail,
        }


@dataclass
class ToolUse:
    """Everything found about one catalogue tool in the repository."""

    tool: ToolSpec
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def usage(self) -> list[Usage]:
        """How the tool is used, weakest first: configured, installed, run."""
        return sorted({e.usage for e in self.evidence}, key=_USAGE_ORDER.__getitem__)

    def sorted_evidence(self) -> list[Evidence]:
        """Evidence strongest first (run, then installed, then configured), then by place."""
        unique = set(self.evidence)
        return sorted(unique, key=lambda e: (-_USAGE_ORDER[e.usage], e.path, e.line, e.signal))


def detect_tools(
    catalogue: Catalogue,
    paths: Iterable[str],
    signals: Sequence[Signal],
    index: ToolIndex | None = None,
) -> dict[str, ToolUse]:
    """Every catalogue tool with at least one piece of evidence, keyed by id."""
    index = index or build_index(catalogue)
    tools = catalogue.by_id()
    uses: dict[str, ToolUse] = {}

    def add(tool_id: str, evidence: Evidence) -> None:
        uses.setdefault(tool_id, ToolUse(tools[tool_id])).evidence.append(evidence)

    for path in paths:
        for tool_id in file_tools(path, index):
            add(tool_id, Evidence(path, 1, "file", index.file_usage[tool_id], "dedicated file"))
    for signal in signals:
        for tool_id in signal_tools(signal, index):
            label = f"{signal.kind} {signal.value}"
            subcommands = {sub for sub, _ in index.commands.get(signal.value.lower(), ()) if sub}
            if signal.kind == "command" and (signal.argument or "").lower() in subcommands:
                label += f" {signal.argument}"
            add(tool_id, Evidence(signal.path, signal.line, label, signal.usage, signal.detail))
    return dict(sorted(uses.items()))
