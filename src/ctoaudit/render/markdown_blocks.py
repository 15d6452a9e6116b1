"""Building blocks of Markdown reports: figures, table cells, cut tables, mermaid charts.

Shared by `markdown_report` and the per-analyzer sections in `markdown_sections/`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

MAX_ROWS = 25
"""Rows of a table before it is cut with a note."""


def fmt(value: float | None, digits: int = 1) -> str:
    """A figure for people (Markdown and terminal): integers without decimals, others rounded, a dash if missing."""
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def cell(text: object) -> str:
    """Text safe inside a table cell: no pipes or line breaks."""
    return str(text).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    limit: int = MAX_ROWS,
    more: str = "see the JSON report",
) -> str:
    """A Markdown table, cut after `limit` rows with a note saying how many were left out."""
    all_rows = list(rows)
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(" --- " for _ in headers) + "|",
    ]
    lines.extend("| " + " | ".join(cell(c) for c in row) + " |" for row in all_rows[:limit])
    if len(all_rows) > limit:
        lines.append("")
        left = len(all_rows) - limit
        lines.append(f"*{left} more row{'s' if left != 1 else ''} not shown; {more}.*")
    return "\n".join(lines)


def pie(title: str, slices: Iterable[tuple[str, float]]) -> str:
    """A mermaid pie chart (rendered natively by GitHub and GitLab); empty slices are left out."""
    body = [f'    "{label}" : {fmt(value, 2).replace(",", "")}' for label, value in slices if value]
    if not body:
        return ""
    return "\n".join(["```mermaid", f"pie showData title {title}", *body, "```"])


def location(path: str | None, line: int | None) -> str:
    """`path:line` in code style, or a dash for the repository as a whole."""
    if path is None:
        return "-"
    return f"`{path}:{line}`" if line else f"`{path}`"
