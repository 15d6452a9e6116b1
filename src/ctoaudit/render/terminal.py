"""The rich terminal summary: key figures, worst offenders and what was skipped.

Each analyzer's part is one section function over the report; sections for analyzers that did not run
are left out.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Iterable

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ctoaudit.model import REPO_SCOPE, AnalyzerResult, AnalyzerStatus, AuditReport, Measurement
from ctoaudit.render.terminal_tooling import tooling_section

WORST_FUNCTIONS = 10
SKIP_EXAMPLES = 5
_RANK_STYLE = {
    "A": "green",
    "B": "green",
    "C": "yellow",
    "D": "dark_orange",
    "E": "red",
    "F": "bold red",
}


def fmt(value: float | None, digits: int = 1) -> str:
    """A figure for people: integers without decimals, others rounded, missing as a dash."""
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def _header(report: AuditReport) -> RenderableType:
    t = report.target
    where = t.url or t.path
    parts = [f"[bold]ctoaudit {report.tool.version}[/bold]  {where}"]
    if t.commit:
        ref = f" ({t.ref})" if t.ref else ""
        dirty = " [yellow]+ uncommitted changes[/yellow]" if t.dirty else ""
        parts.append(f"commit {t.commit[:12]}{ref}{dirty}")
    parts.append(f"{t.files:,} files")
    return Text.from_markup("  ·  ".join(parts))


def _complexity_section(result: AnalyzerResult) -> RenderableType:
    value = result.repo_value
    figures = Table(
        title="Complexity", title_justify="left", show_header=False, box=None, pad_edge=False
    )
    figures.add_column(style="bold")
    figures.add_column(justify="right")
    rows = [
        ("Python files", fmt(value("complexity.files"))),
        ("Functions and methods", fmt(value("complexity.functions"))),
        ("Source lines (SLOC)", fmt(value("complexity.sloc.total"))),
        ("Cyclomatic complexity mean / p90 / max",
         f"{fmt(value('complexity.cc.mean'))} / {fmt(value('complexity.cc.p90'))} / {fmt(value('complexity.cc.max'))}"),
        ("Maintainability index min / mean",
         f"{fmt(value('complexity.mi.min'))} / {fmt(value('complexity.mi.mean'))}"),
        ("Functions by rank A/B/C/D/E/F",
         " / ".join(fmt(value(f"complexity.functions.rank_{r}")) for r in "abcdef")),
    ]  # fmt: skip
    for label, text in rows:
        figures.add_row(label, text)
    worst = _worst_functions(result.measurements)
    if not worst:
        return figures
    table = Table(title=f"Most complex functions (top {len(worst)})", title_justify="left")
    table.add_column("CC", justify="right")
    table.add_column("Rank")
    table.add_column("Function")
    table.add_column("Location")
    for m in worst:
        rank = m.labels.get("rank", "")
        table.add_row(
            fmt(m.value), Text(rank, style=_RANK_STYLE.get(rank, "")), m.scope, f"{m.path}:{m.line}"
        )
    return Group(figures, Text(), table)


def _worst_functions(measurements: Iterable[Measurement]) -> list[Measurement]:
    functions = [
        m for m in measurements if m.metric == "complexity.cc" and m.labels.get("kind") != "class"
    ]
    functions.sort(key=lambda m: (-m.value, m.path or "", m.line or 0))
    return functions[:WORST_FUNCTIONS]


def _generic_section(result: AnalyzerResult) -> RenderableType:
    table = Table(title=result.name.capitalize(), title_justify="left", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for m in result.measurements:
        if m.scope == REPO_SCOPE:
            table.add_row(m.metric, fmt(m.value, 2))
    return table


SECTIONS: dict[str, Callable[[AnalyzerResult], RenderableType]] = {
    "complexity": _complexity_section,
    "tooling": tooling_section,
}


def _skips_section(report: AuditReport) -> RenderableType | None:
    skips = report.skips
    if not skips:
        return None
    by_reason = Counter(s.reason.split(":")[0] for s in skips)
    table = Table(title=f"Skipped ({len(skips)})", title_justify="left")
    table.add_column("Analyzer")
    table.add_column("What")
    table.add_column("Why")
    for skip in skips[:SKIP_EXAMPLES]:
        table.add_row(skip.analyzer, skip.path or skip.item or "-", skip.reason)
    if len(skips) > SKIP_EXAMPLES:
        summary = ", ".join(f"{n} x {reason}" for reason, n in by_reason.most_common(3))
        table.caption = (
            f"... and {len(skips) - SKIP_EXAMPLES} more ({summary}); see the JSON report"
        )
    return table


def render(report: AuditReport, *, color: bool = False, width: int = 120) -> str:
    """The summary as text, with ANSI styles when `color` is true."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
    )
    console.print(_header(report))
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    for name, result in report.analyzers.items():
        console.print()
        if result.status is not AnalyzerStatus.OK:
            console.print(f"[red]{name}: {result.status.value}[/red] {result.error or ''}")
            continue
        console.print(SECTIONS.get(name, _generic_section)(result))
    skips = _skips_section(report)
    if skips is not None:
        console.print()
        console.print(skips)
    return buffer.getvalue()
