"""Renderers of a TrendReport: a terminal table, Markdown with mermaid line charts, and JSON.

Pure functions from the report to text. The score column (with the grade) appears when the
revisions were scored, and its chart comes first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from typing import assert_never

from rich.table import Table

from ctoaudit.render.markdown_blocks import fmt
from ctoaudit.render.terminal import text_console
from ctoaudit.trend import KEY_METRICS, TrendPoint, TrendReport


class TrendFormat(StrEnum):
    """Output formats of `ctoaudit trend`."""

    TERMINAL = "terminal"
    MARKDOWN = "markdown"
    JSON = "json"

    def to_renderer(self, *, color: bool = False, width: int = 120) -> Callable[[TrendReport], str]:
        """The renderer for this format."""
        match self:
            case TrendFormat.TERMINAL:
                return lambda report: render_terminal(report, color=color, width=width)
            case TrendFormat.MARKDOWN:
                return render_markdown
            case TrendFormat.JSON:
                return render_json
            case _:  # pragma: no cover - exhaustiveness is checked by mypy
                assert_never(self)

    @classmethod
    def from_suffix(cls, filename: str) -> TrendFormat | None:
        """The format a file name asks for (`trend.md` -> Markdown), if any."""
        suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        return {"json": cls.JSON, "md": cls.MARKDOWN, "markdown": cls.MARKDOWN}.get(suffix)


def _columns(report: TrendReport) -> list[tuple[str, Callable[[TrendPoint], float | None]]]:
    columns: list[tuple[str, Callable[[TrendPoint], float | None]]] = []
    if any(p.score is not None for p in report.points):
        columns.append(("Score", lambda p: p.score))
    columns.extend((KEY_METRICS.get(key, key), _metric_getter(key)) for key in report.key_metrics)
    return columns


def _cells(
    point: TrendPoint, columns: list[tuple[str, Callable[[TrendPoint], float | None]]]
) -> list[str]:
    """A row's figures; the score carries its grade ("72.5 C")."""
    cells = [fmt(getter(point), 2) for _, getter in columns]
    if columns and columns[0][0] == "Score" and point.grade:
        cells[0] = f"{cells[0]} {point.grade}"
    return cells


def _metric_getter(key: str) -> Callable[[TrendPoint], float | None]:
    return lambda point: point.metrics.get(key)


def render_json(report: TrendReport) -> str:
    """The trend as indented JSON with sorted keys and a final newline."""
    return (
        json.dumps(report.model_dump(mode="json"), sort_keys=True, indent=2, ensure_ascii=False)
        + "\n"
    )


def render_terminal(report: TrendReport, *, color: bool = False, width: int = 120) -> str:
    """One row per revision, oldest first."""
    console, buffer = text_console(color=color, width=width)
    console.print(f"Trend of {report.target}: {report.selection}, {len(report.points)} revisions")
    for warning in report.warnings:
        console.print(f"warning: {warning}")
    table = Table()
    table.add_column("Date")
    table.add_column("Commit")
    columns = _columns(report)
    for label, _ in columns:
        table.add_column(label, justify="right")
    for point in report.points:
        table.add_row(point.date.date().isoformat(), point.commit[:10], *_cells(point, columns))
    console.print(table)
    return buffer.getvalue()


def _labels(points: list[TrendPoint]) -> list[str]:
    dates = [p.date.date().isoformat() for p in points]
    return dates if len(set(dates)) == len(dates) else [p.commit[:7] for p in points]


def _chart(title: str, labels: list[str], values: list[float]) -> list[str]:
    axis = ", ".join(f'"{label}"' for label in labels)
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.1 or 1
    return [
        "```mermaid",
        "xychart-beta",
        f'    title "{title}"',
        f"    x-axis [{axis}]",
        f'    y-axis "{title}" {_num(low - pad)} --> {_num(high + pad)}',
        f"    line [{', '.join(_num(v) for v in values)}]",
        "```",
        "",
    ]


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"


def render_markdown(report: TrendReport) -> str:
    """A table of the key figures per revision, then one mermaid line chart per figure."""
    lines = [f"# Trend: {report.target}", ""]
    lines += [
        (
            f"{report.selection}: {len(report.points)} revisions up to `{report.head[:12]}`, "
            "each audited from git objects exactly as `ctoaudit run --ref` would."
        ),
        "",
    ]
    lines += [f"> **Warning:** {w}" for w in report.warnings]
    if report.warnings:
        lines.append("")
    columns = _columns(report)
    lines.append("| Date | Commit | " + " | ".join(label for label, _ in columns) + " |")
    lines.append("|---|---|" + "---:|" * len(columns))
    for point in report.points:
        cells = " | ".join(_cells(point, columns))
        lines.append(f"| {point.date.date().isoformat()} | `{point.commit[:10]}` | {cells} |")
    lines.append("")
    for label, getter in columns:
        # Revisions without the figure (not audited, analyzer off) are left out of its chart.
        measured = [p for p in report.points if getter(p) is not None]
        if len(measured) > 1:
            values = [v for v in (getter(p) for p in measured) if v is not None]
            lines += [f"## {label}", "", *_chart(label, _labels(measured), values)]
    return "\n".join(lines).rstrip("\n") + "\n"
