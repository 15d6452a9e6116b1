"""The complexity analyzer's section of the Markdown report."""

from __future__ import annotations

from ctoaudit.model import REPO_SCOPE, AnalyzerResult
from ctoaudit.render.markdown_blocks import fmt, location, pie, table


def section(result: AnalyzerResult) -> str:
    """Key figures, the rank distribution chart, the most complex functions and least maintainable modules."""
    value = result.repo_values().get
    figures = table(
        ["Measure", "Value"],
        [
            ("Python files", fmt(value("complexity.files"))),
            ("Functions and methods", fmt(value("complexity.functions"))),
            ("Source lines (SLOC)", fmt(value("complexity.sloc.total"))),
            ("Cyclomatic complexity mean / p90 / max", " / ".join(
                fmt(value(f"complexity.cc.{k}")) for k in ("mean", "p90", "max"))),
            ("Maintainability index min / mean", " / ".join(
                fmt(value(f"complexity.mi.{k}")) for k in ("min", "mean"))),
        ],
    )  # fmt: skip
    ranks = [(r, value(f"complexity.functions.rank_{r.lower()}") or 0) for r in "ABCDEF"]
    functions = sorted(
        (m for m in result.measurements
         if m.metric == "complexity.cc" and m.labels.get("kind") != "class"),
        key=lambda m: (-m.value, m.path or "", m.scope),
    )  # fmt: skip
    files = sorted(
        (m for m in result.measurements if m.metric == "complexity.mi" and m.scope != REPO_SCOPE),
        key=lambda m: (m.value, m.path or ""),
    )
    parts = ["### Complexity", figures]
    chart = pie("Functions by complexity rank", ranks)
    if chart:
        parts.append(chart)
    if functions:
        parts.append(f"**Most complex functions** (top {min(len(functions), 10)})")
        parts.append(table(
            ["CC", "Rank", "Function", "Location"],
            [(fmt(m.value), m.labels.get("rank", ""), f"`{m.scope}`", location(m.path, m.line))
             for m in functions],
            limit=10,
        ))  # fmt: skip
    if files:
        parts.append(f"**Least maintainable modules** (top {min(len(files), 10)})")
        parts.append(table(
            ["MI", "Rank", "Module"],
            [(fmt(m.value), m.labels.get("rank", ""), f"`{m.path}`") for m in files],
            limit=10,
        ))  # fmt: skip
    return "\n\n".join(parts)
