"""The rich terminal summary: key figures, worst offenders and what was skipped.

Each analyzer's part is one section function over the report; sections for analyzers that did not run
are left out.
"""

from __future__ import annotations

import heapq
import io
from collections import Counter
from collections.abc import Callable, Iterable

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ctoaudit.model import REPO_SCOPE, AnalyzerResult, AnalyzerStatus, AuditReport, Measurement
from ctoaudit.render.markdown_blocks import fmt
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
    value = result.repo_values().get
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
    return heapq.nsmallest(
        WORST_FUNCTIONS, functions, key=lambda m: (-m.value, m.path or "", m.line or 0)
    )


OLDEST_DEPENDENCIES = 10


def _dependencies_section(result: AnalyzerResult) -> RenderableType:
    value = result.repo_value
    as_of = next((f.data.get("as_of") for f in result.facts if f.key == "dependencies.as_of"), None)
    figures = Table(
        title=f"Dependency age (as of {str(as_of)[:19].replace('T', ' ')} UTC)"
        if as_of
        else "Dependency age",
        title_justify="left",
        show_header=False,
        box=None,
        pad_edge=False,
    )
    figures.add_column(style="bold")
    figures.add_column(justify="right")
    rows = [
        ("Dependencies (direct)", f"{fmt(value('dependencies.count'))} ({fmt(value('dependencies.direct.count'))})"),
        ("Resolved / coverage", f"{fmt(value('dependencies.resolved'))} / {fmt(_pct(value('dependencies.coverage')))}%"),
        ("Unpinned direct", fmt(value("dependencies.unpinned.count"))),
        ("Libyears all / direct", f"{fmt(value('dependencies.libyears.total'))} / {fmt(value('dependencies.libyears.direct'))}"),
        ("Libyears mean / p90 / max",
         f"{fmt(value('dependencies.libyears.mean'), 2)} / {fmt(value('dependencies.libyears.p90'), 2)} / {fmt(value('dependencies.libyears.max'), 2)}"),
        ("Over one libyear", fmt(value("dependencies.over_1y"))),
        ("Most majors behind", fmt(value("dependencies.majors_behind.max"))),
        ("Yanked / deprecated in use",
         f"{fmt(value('dependencies.yanked.count'))} / {fmt(value('dependencies.deprecated.count'))}"),
    ]  # fmt: skip
    for label, text in rows:
        figures.add_row(label, text)
    oldest = _oldest_dependencies(result.measurements)
    if not oldest:
        return figures
    table = Table(title=f"Oldest dependencies (top {len(oldest)})", title_justify="left")
    table.add_column("Package", no_wrap=True)
    table.add_column("In use")
    table.add_column("Latest")
    for column in ("Libyears", "Majors", "Behind"):
        table.add_column(column, justify="right")
    show_flags = any(flags for *_, flags in oldest)
    if show_flags:
        table.add_column("Flags", style="red")
    table.add_column("Where", overflow="fold")
    for m, majors, behind, flags in oldest:
        cells = [
            m.scope,
            m.labels.get("version", ""),
            m.labels.get("latest", ""),
            fmt(m.value, 2),
            fmt(majors),
            fmt(behind),
        ]
        if show_flags:
            cells.append(flags)
        cells.append(f"{m.path}:{m.line}" if m.line else m.path or "")
        table.add_row(*cells)
    return Group(figures, Text(), table)


def _pct(ratio: float | None) -> float | None:
    return None if ratio is None else round(ratio * 100, 1)


def _oldest_dependencies(
    measurements: Iterable[Measurement],
) -> list[tuple[Measurement, float | None, float | None, str]]:
    per_dep: dict[tuple[str, str, str], dict[str, Measurement]] = {}
    for m in measurements:
        if m.scope != REPO_SCOPE and m.metric.startswith("dependencies."):
            ident = (m.scope, m.labels.get("version", ""), m.path or "")
            per_dep.setdefault(ident, {})[m.metric] = m
    rows = []
    for metrics in per_dep.values():
        years = metrics.get("dependencies.libyears")
        if years is None:
            continue
        flags = [
            name
            for name in ("yanked", "deprecated")
            if (flag := metrics.get(f"dependencies.{name}")) is not None and flag.value == 1
        ]
        majors = metrics.get("dependencies.majors_behind")
        behind = metrics.get("dependencies.versions_behind")
        rows.append(
            (
                years,
                majors.value if majors else None,
                behind.value if behind else None,
                ", ".join(flags),
            )
        )
    rows.sort(key=lambda r: (-r[0].value, -(r[1] or 0), r[0].scope))
    return rows[:OLDEST_DEPENDENCIES]


def _generic_section(result: AnalyzerResult) -> RenderableType:
    table = Table(title=result.name.capitalize(), title_justify="left", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for m in result.measurements:
        if m.scope == REPO_SCOPE:
            table.add_row(m.metric, fmt(m.value, 2))
    return table


TOP_HOTSPOTS = 10


def _history_section(result: AnalyzerResult) -> RenderableType:
    value = result.repo_value
    figures = Table(
        title="History", title_justify="left", show_header=False, box=None, pad_edge=False
    )
    figures.add_column(style="bold")
    figures.add_column(justify="right")
    rows = [
        ("Window (days)", fmt(value("history.window_days"))),
        ("Commits / per week", f"{fmt(value('history.commits.total'))} / {fmt(value('history.commits_per_week'), 2)}"),
        ("Active authors / bus factor", f"{fmt(value('history.authors.active'))} / {fmt(value('history.bus_factor'))}"),
        ("Files changed / with one author", f"{fmt(value('history.files.changed'))} / {fmt(value('history.files.single_owner'))}"),
        ("Churn (lines added + deleted)", fmt(value("history.churn.total"))),
    ]  # fmt: skip
    for label, text in rows:
        figures.add_row(label, text)
    spots = sorted(
        (m for m in result.measurements if m.metric == "history.hotspot_score"),
        key=lambda m: (-m.value, m.scope),
    )[:TOP_HOTSPOTS]
    if not spots:
        return figures
    table = Table(title=f"Hotspots: churn x complexity (top {len(spots)})", title_justify="left")
    for header in ("#", "Score", "Churn", "Complexity", "File"):
        table.add_column(header, justify="left" if header == "File" else "right")
    for rank, m in enumerate(spots, start=1):
        table.add_row(
            str(rank),
            fmt(m.value),
            m.labels.get("churn", "-"),
            m.labels.get("cc_total", "-"),
            m.scope,
        )
    return Group(figures, Text(), table)


SECTIONS: dict[str, Callable[[AnalyzerResult], RenderableType]] = {
    "complexity": _complexity_section,
    "history": _history_section,
    "dependencies": _dependencies_section,
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
        what = " ".join(
            part for part in (skip.path, f"({skip.item})" if skip.item else None) if part
        )
        table.add_row(skip.analyzer, what or "-", skip.reason)
    if len(skips) > SKIP_EXAMPLES:
        summary = ", ".join(f"{n} x {reason}" for reason, n in by_reason.most_common(3))
        table.caption = (
            f"... and {len(skips) - SKIP_EXAMPLES} more ({summary}); see the JSON report"
        )
    return table


TOP_PROPOSALS = 3
_GRADE_STYLE = {"A": "green", "B": "green", "C": "yellow", "D": "dark_orange", "E": "red"}


def _score_section(report: AuditReport) -> RenderableType | None:
    """Score, grade, family scores and the top proposals; None when no rule set ran."""
    score = report.score
    if score is None:
        return None
    grade = score.grade or "-"
    head = Text.from_markup(
        f"[bold]Score {fmt(score.overall)} / 100[/bold]  grade "
        f"[bold {_GRADE_STYLE.get(grade, '')}]{grade}[/]"
        + (f"  (rule set {report.ruleset.name} {report.ruleset.version})" if report.ruleset else "")
    )
    families = Table(show_header=False, box=None, pad_edge=False)
    families.add_column(style="bold")
    families.add_column(justify="right")
    families.add_column()
    families.add_column()
    for f in score.families:
        families.add_row(
            f.name,
            fmt(f.score),
            Text(f.grade or "-", style=_GRADE_STYLE.get(f.grade or "", "")),
            f"{f.passed} passed, {f.failed} failed, {f.skipped} skipped, {f.ignored} ignored",
        )
    parts: list[RenderableType] = [head, families]
    if report.proposals:
        top = Table(title="Top proposals", title_justify="left")
        top.add_column("#", justify="right")
        top.add_column("Action")
        top.add_column("Severity")
        top.add_column("Effort")
        top.add_column("Findings", justify="right")
        for i, p in enumerate(report.proposals[:TOP_PROPOSALS], 1):
            title = f"{p.title} (quick win)" if p.quick_win else p.title
            top.add_row(str(i), title, p.severity.value, p.effort.value, str(p.findings))
        if len(report.proposals) > TOP_PROPOSALS:
            top.caption = f"{len(report.proposals) - TOP_PROPOSALS} more in the Markdown report"
        parts += [Text(), top]
    return Group(*parts)


def text_console(*, color: bool, width: int) -> tuple[Console, io.StringIO]:
    """A console that renders into a string: ANSI styles only when `color` is true."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
    )
    return console, buffer


def render(report: AuditReport, *, color: bool = False, width: int = 120) -> str:
    """The summary as text, with ANSI styles when `color` is true."""
    console, buffer = text_console(color=color, width=width)
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
    score = _score_section(report)
    if score is not None:
        console.print()
        console.print(score)
    return buffer.getvalue()
