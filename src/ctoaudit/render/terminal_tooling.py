"""The terminal section of the tooling analyzer: the tools matrix and what is missing or stale."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ctoaudit.model import AnalyzerResult, Measurement

_STATUS_STYLE = {
    "recommended": "green",
    "fine": "",
    "superseded": "yellow",
    "deprecated": "red",
    "unmaintained": "red",
}
TOOL_EVIDENCE_SHOWN = 2


def tooling_section(result: AnalyzerResult) -> RenderableType:
    """Tools matrix (category x tool x evidence x status), then what is missing, doubled or stale."""
    table = Table(title="Tool usage", title_justify="left")
    table.add_column("Category", no_wrap=True)
    table.add_column("Tool", no_wrap=True)
    table.add_column("Usage")
    table.add_column("Evidence", overflow="fold")
    table.add_column("Status")
    detected = [f for f in result.facts if f.key == "tooling.detected"]
    to_replace = {
        m.scope for m in result.measurements if m.metric == "tooling.replace" and m.value > 0
    }
    detected.sort(key=lambda f: (str(f.data.get("category", "")), f.scope))
    for fact in detected:
        data = fact.data
        places = _evidence_places(data.get("evidence"))
        shown = ", ".join(places[:TOOL_EVIDENCE_SHOWN])
        if len(places) > TOOL_EVIDENCE_SHOWN:
            shown += f" (+{len(places) - TOOL_EVIDENCE_SHOWN})"
        status = str(data.get("status", ""))
        successor = data.get("successor")
        status_text = f"{status} -> {successor}" if successor else status
        if status == "fine":  # a maintained tool: name its successor only where moving pays here
            status_text = f"fine; can move to {successor}" if fact.scope in to_replace else status
        usage = data.get("usage")
        table.add_row(
            str(data.get("category", "")),
            fact.scope,
            ", ".join(str(u) for u in usage) if isinstance(usage, list) else "",
            shown,
            Text(status_text, style=_STATUS_STYLE.get(status, "")),
        )
    notes = _tooling_notes(result.measurements)
    if not notes:
        return table
    return Group(table, *(Text(note) for note in notes))


def _evidence_places(evidence: object) -> list[str]:
    """Distinct `path:line` places of a tool's evidence, strongest first (the fact's order)."""
    if not isinstance(evidence, list):
        return []
    places = (f"{e['path']}:{e['line']}" for e in evidence if isinstance(e, dict))
    return list(dict.fromkeys(places))


def _tooling_notes(measurements: Iterable[Measurement]) -> list[str]:
    by_metric: dict[str, list[Measurement]] = {}
    for m in measurements:
        by_metric.setdefault(m.metric, []).append(m)

    def scopes(metric: str, describe: Callable[[Measurement], str]) -> str:
        return ", ".join(describe(m) for m in by_metric.get(metric, []) if m.value)

    missing = [m.scope for m in by_metric.get("tooling.category.present", []) if m.value == 0]
    lines = [
        ("Categories with no tool", ", ".join(missing)),
        ("Duplicated jobs", scopes("tooling.duplicates", lambda m: f"{m.scope} ({m.labels.get('tools', '')})")),
        ("Configured, never installed or run", scopes("tooling.unused", lambda m: m.scope)),
        ("Missing files referenced", scopes("tooling.stale_ref", lambda m: f"{m.scope} ({m.path}:{m.line})")),
        ("End-of-life Python in CI", scopes("tooling.python.eol", lambda m: f"{m.scope} (EOL {m.labels.get('eol', '')}, {m.path}:{m.line})")),
        ("Uploads with long-lived tokens", scopes("tooling.publish.token", lambda m: f"{m.path}:{m.line}")),
    ]  # fmt: skip
    return [f"{label}: {text}" for label, text in lines if text]
