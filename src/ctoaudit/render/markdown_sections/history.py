"""The history analyzer's section of the Markdown report: activity, hotspots, knowledge islands."""

from __future__ import annotations

from ctoaudit.analyzers.history import MIN_FILE_COMMITS
from ctoaudit.model import REPO_SCOPE, AnalyzerResult, Measurement
from ctoaudit.render.markdown_blocks import fmt, table

TOP = 10
"""Rows of the hotspot and knowledge-island tables (the JSON report has every file)."""


def _percent(value: float | None) -> str:
    return "-" if value is None else fmt(round(value * 100, 1)) + "%"


def _per_file(result: AnalyzerResult, metric: str) -> dict[str, Measurement]:
    return {m.scope: m for m in result.measurements if m.metric == metric and m.scope != REPO_SCOPE}


def _activity(result: AnalyzerResult) -> str:
    value = result.repo_values().get
    single = f"{fmt(value('history.files.single_owner'))} ({_percent(value('history.files.single_owner.share'))})"
    return table(
        ["Measure", "Value"],
        [
            ("Window (days, ending at the audited commit)", fmt(value("history.window_days"))),
            ("Commits in the window", fmt(value("history.commits.total"))),
            ("Commits per week", fmt(value("history.commits_per_week"), 2)),
            ("Active authors / bus factor", f"{fmt(value('history.authors.active'))} / {fmt(value('history.bus_factor'))}"),
            ("Files changed", fmt(value("history.files.changed"))),
            ("Files changed by one author only", single),
            ("Churn (lines added + deleted)", fmt(value("history.churn.total"))),
        ],
    )  # fmt: skip


def _hotspots(result: AnalyzerResult) -> str:
    commits = _per_file(result, "history.commits")
    authors = _per_file(result, "history.authors")
    ranked = sorted(_per_file(result, "history.hotspot_rank").values(), key=lambda m: m.value)
    scores = _per_file(result, "history.hotspot_score")
    rows = []
    for rank in ranked[:TOP]:
        score = scores[rank.scope]
        rows.append((
            fmt(rank.value), f"`{rank.scope}`", fmt(score.value), score.labels.get("churn", "-"),
            score.labels.get("cc_total", "-"), fmt(commits[rank.scope].value),
            fmt(authors[rank.scope].value),
        ))  # fmt: skip
    return table(["Rank", "File", "Hotspot score", "Churn", "CC total", "Commits", "Authors"], rows)


def _islands(result: AnalyzerResult) -> list[Measurement]:
    """Code files with enough commits to judge ownership, the most concentrated first."""
    shares = [
        m
        for m in _per_file(result, "history.top_author_share").values()
        if m.labels.get("enough_history") == "yes" and m.labels.get("code") == "yes"
    ]
    commits = _per_file(result, "history.commits")
    return sorted(shares, key=lambda m: (-m.value, -commits[m.scope].value, m.scope))


def section(result: AnalyzerResult) -> str:
    """Activity and bus factor, the top hotspots (churn and complexity), and knowledge islands."""
    parts = ["### History", _activity(result)]
    if _per_file(result, "history.hotspot_rank"):
        parts.append(f"**Hotspots**: churn x complexity, the files to refactor first (top {TOP})")
        parts.append(_hotspots(result))
    islands = _islands(result)
    if islands:
        commits = _per_file(result, "history.commits")
        inactive = _per_file(result, "history.owner_inactive_days")
        parts.append(
            f"**Knowledge islands**: code files with at least {MIN_FILE_COMMITS} commits in the "
            f"window, by their main author's share (top {TOP})"
        )
        rows = [
            (f"`{m.scope}`", fmt(commits[m.scope].value), _percent(m.value),
             fmt(inactive[m.scope].value) if m.scope in inactive else "-")
            for m in islands[:TOP]
        ]  # fmt: skip
        headers = ["File", "Commits", "Main author's share", "Main author inactive (days)"]
        parts.append(table(headers, rows))
    return "\n\n".join(parts)
