"""The tooling analyzer's section of the Markdown report: the tools matrix, what is missing, and what is stale."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pydantic import JsonValue

from ctoaudit.model import AnalyzerResult, Fact, Measurement
from ctoaudit.render.markdown_blocks import fmt, location, table

MATRIX_ROWS = 40
"""Tools shown in the matrix before it is cut (a modern repository uses 20 to 35)."""
FINDING_ROWS = 25
EVIDENCE_SHOWN = 2


def section(result: AnalyzerResult) -> str:
    """Summary line, tools matrix (category x tool x usage x evidence x status), missing categories, stale methods."""
    detected = sorted(
        (f for f in result.facts if f.key == "tooling.detected"),
        key=lambda f: (_text(f.data.get("category_title")), f.scope),
    )
    by_metric: dict[str, list[Measurement]] = {}
    for m in result.measurements:
        by_metric.setdefault(m.metric, []).append(m)
    value = result.repo_values().get
    to_replace = {m.scope for m in by_metric.get("tooling.replace", []) if m.value > 0}
    missing = sorted(m.scope for m in by_metric.get("tooling.category.present", []) if m.value == 0)
    summary = (
        f"{fmt(value('tooling.tools.detected'))} tools detected from "
        f"{fmt(value('tooling.files.read'))} configuration, CI and manifest files; "
        f"{fmt(value('tooling.tools.outdated'))} outdated; "
        f"{len(missing)} {'category' if len(missing) == 1 else 'categories'} without a tool."
    )
    parts = ["### Tool usage", summary]
    if detected:
        parts.append(table(
            ["Category", "Tool", "Usage", "Evidence", "Status"],
            [_matrix_row(f, to_replace) for f in detected],
            limit=MATRIX_ROWS,
            more="every tool and all its evidence are in the JSON report (`tooling.detected`)",
        ))  # fmt: skip
    if missing:
        parts.append("**Categories with no tool:** " + ", ".join(missing) + ".")
    rows = _finding_rows(by_metric, [f for f in result.facts if f.key == "tooling.unparsed"])
    parts.append("**To replace, doubled or stale**")
    parts.append(
        table(["Finding", "Item", "Location", "Detail"], rows, limit=FINDING_ROWS)
        if rows
        else "Nothing to replace, doubled, unused, missing or past end of life."
    )
    return "\n\n".join(parts)


def _text(value: JsonValue) -> str:
    return value if isinstance(value, str) else ""


def _matrix_row(fact: Fact, to_replace: set[str]) -> tuple[str, ...]:
    data = fact.data
    usage = data.get("usage")
    return (
        _text(data.get("category_title")) or _text(data.get("category")),
        f"{_text(data.get('name')) or fact.scope} (`{fact.scope}`)",
        ", ".join(str(u) for u in usage) if isinstance(usage, list) else "",
        _evidence(data.get("evidence"), data.get("evidence_total")),
        _status(data, replace=fact.scope in to_replace),
    )


def _evidence(evidence: JsonValue, total: JsonValue) -> str:
    """The strongest distinct places, e.g. `tox.ini:10`, `setup.cfg:1` (+2)."""
    if not isinstance(evidence, list):
        return ""
    places = [f"{e['path']}:{e['line']}" for e in evidence if isinstance(e, dict) and "path" in e]
    distinct = list(dict.fromkeys(places))
    shown = ", ".join(f"`{p}`" for p in distinct[:EVIDENCE_SHOWN])
    more = (total if isinstance(total, int) else len(evidence)) - len(
        [p for p in places if p in distinct[:EVIDENCE_SHOWN]]
    )
    return shown + (f" (+{more})" if more > 0 else "")


def _status(data: dict[str, JsonValue], *, replace: bool) -> str:
    """`fine`, or e.g. **superseded** -> `ruff` ([2023-10](source url)), with the catalogue's source."""
    status = _text(data.get("status"))
    successor = _text(data.get("successor"))
    if status == "fine" and not (successor and replace):
        return status  # a maintained tool whose successor would add a tool here: no claim to show
    if status == "fine":
        text = f"fine; can move to `{successor}`"
    else:
        text = f"**{status}**" + (f" → `{successor}`" if successor else "")
    source = data.get("source")
    if isinstance(source, dict) and isinstance(source.get("url"), str):
        text += f" ([{source.get('date', 'source')}]({source['url']}))"
    return text


def _replace_detail(m: Measurement) -> str:
    successor = m.labels.get("successor_name", "")
    if m.labels.get("status") == "fine":
        return f"maintained; consolidate into {successor}"
    return f"{m.labels.get('status', '')}; replace with {successor}"


_Describe = Callable[[Measurement], tuple[str, str, str]]
"""A flagged measurement -> (item, location, detail)."""

_FINDINGS: tuple[tuple[str, str, _Describe], ...] = (
    ("Replace", "tooling.replace",
     lambda m: (f"`{m.scope}`", location(m.path, m.line),
                _replace_detail(m))),
    ("Doubled job", "tooling.duplicates",
     lambda m: (m.scope, "-", m.labels.get("tools", ""))),
    ("Configured, never run", "tooling.unused",
     lambda m: (f"`{m.scope}`", location(m.path, m.line), m.labels.get("category", ""))),
    ("Missing file", "tooling.stale_ref",
     lambda m: (f"`{m.scope}`", location(m.path, m.line), m.labels.get("via", ""))),
    ("End-of-life Python", "tooling.python.eol",
     lambda m: (m.scope, location(m.path, m.line),
                f"EOL {m.labels.get('eol', '')}, {fmt(m.value)} days ago, via {m.labels.get('via', '')}")),
    ("Token upload", "tooling.publish.token",
     lambda m: (f"`{m.scope}`", location(m.path, m.line),
                f"{fmt(m.value)} upload(s): {m.labels.get('method', '')}")),
)  # fmt: skip


def _finding_rows(
    by_metric: dict[str, list[Measurement]], unparsed: Iterable[Fact]
) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for label, metric, describe in _FINDINGS:
        flagged = sorted(
            (m for m in by_metric.get(metric, []) if m.value > 0),
            key=lambda m: (-m.value, m.path or "", m.scope),
        )
        rows.extend((label, *describe(m)) for m in flagged)
    rows.extend(
        ("Unparsed file", f"`{f.scope}`", location(f.path, None), _text(f.data.get("reason")))
        for f in unparsed
    )
    return rows
