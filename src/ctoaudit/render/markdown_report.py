"""The Markdown audit report: an executive summary a manager reads in a minute, then the detail.

Layout: summary (score, grade, family scores, top proposals, a mermaid chart), all proposals with
their evidence, one section per rule family, one section per analyzer (from `SECTIONS`), and
appendices (skipped rules, ignored rules, skipped files, rule set and tool). Long tables are cut with
a note so the file stays readable in a GitHub step summary (limit 1 MiB). Pure and deterministic.

Each analyzer's section comes from `markdown_sections/<analyzer>.py` (see that package), so a new
analyzer adds its section without editing this module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import PurePosixPath

from ctoaudit.model import REPO_SCOPE, AnalyzerResult, AnalyzerStatus, AuditReport
from ctoaudit.render import markdown_sections
from ctoaudit.render.markdown_blocks import fmt, location, pie, table
from ctoaudit.rules.model import Proposal, RuleOutcome, RuleStatus

TOP_PROPOSALS = 5
MAX_BYTES = 1024 * 1024
"""GitHub's limit for a step summary; the report stays well under it."""

MarkdownSection = Callable[[AnalyzerResult], str]


def _target_name(report: AuditReport) -> str:
    t = report.target
    return t.url or PurePosixPath(t.path.replace("\\", "/")).name or t.path


def _header(report: AuditReport) -> str:
    t = report.target
    parts = [f"ctoaudit {report.tool.version}", f"{t.files:,} files"]
    if t.commit:
        parts.append(f"commit `{t.commit[:12]}`" + (f" ({t.ref})" if t.ref else ""))
        if t.dirty:
            parts.append("with uncommitted changes")
    if report.ruleset is not None:
        parts.append(f"rule set {report.ruleset.name} {report.ruleset.version}")
    if report.generated_at is not None:
        parts.append(f"generated {report.generated_at.isoformat()}")
    return f"# Technical audit: {_target_name(report)}\n\n" + " · ".join(parts)


def _counts(outcomes: Sequence[RuleOutcome]) -> dict[RuleStatus, int]:
    return {s: sum(1 for o in outcomes if o.status is s) for s in RuleStatus}


def _summary(report: AuditReport) -> str:
    lines = ["## Executive summary", ""]
    score = report.score
    if score is None or report.ruleset is None:
        lines.append("No rule set was applied: this report has measurements only.")
        return "\n".join(lines)
    counts = _counts(report.outcomes)
    verdict = (
        f"**Score {fmt(score.overall)} / 100, grade {score.grade}**"
        if score.overall is not None
        else "**No score**: no rule with a weight could be evaluated"
    )
    lines.append(
        f"{verdict}. {len(report.outcomes)} rules: {counts[RuleStatus.PASS]} passed, "
        f"{counts[RuleStatus.FAIL]} failed, {counts[RuleStatus.SKIP]} skipped, "
        f"{counts[RuleStatus.IGNORED]} ignored."
    )
    lines += ["", table(
        ["Family", "Score", "Grade", "Passed", "Failed", "Skipped", "Ignored"],
        [(f"{f.name} ({f.family})", fmt(f.score), f.grade or "-", f.passed, f.failed, f.skipped, f.ignored)
         for f in score.families],
    )]  # fmt: skip
    chart = pie(
        "Rules by outcome",
        [(s.value, counts[s]) for s in (RuleStatus.PASS, RuleStatus.FAIL, RuleStatus.SKIP)],
    )
    if chart:
        lines += ["", chart]
    lines += ["", "### Top proposals", ""]
    if not report.proposals:
        lines.append("Nothing to propose: every counted rule passed.")
    for i, p in enumerate(report.proposals[:TOP_PROPOSALS], 1):
        tag = " (quick win)" if p.quick_win else ""
        lines.append(
            f"{i}. **{p.title}**{tag}: {p.severity.value} severity, effort {p.effort.value}, "
            f"{p.findings} finding{'s' if p.findings != 1 else ''}."
        )
    return "\n".join(lines)


def _proposal(index: int, p: Proposal) -> str:
    tag = " (quick win)" if p.quick_win else ""
    lines = [
        f"### {index}. {p.title}{tag}",
        "",
        (
            f"Severity {p.severity.value} · effort {p.effort.value} · impact {fmt(p.impact)} · "
            f"priority {fmt(p.priority, 2)} · rules {', '.join(p.rules)}"
        ),
        "",
    ]
    if p.why:
        lines += [f"**Why it matters.** {p.why}", ""]
    lines += ["**What to change.**", ""]
    lines += [f"- {change}" for change in p.change]
    if p.evidence:
        lines += ["", "**Evidence.**", "", table(
            ["Rule", "Item", "Location", "Value", "Threshold"],
            [(e.rule_id, e.detail or (e.scope if e.scope != REPO_SCOPE else "repository"),
              location(e.path, e.line), fmt(e.value, 2), fmt(e.threshold, 2)) for e in p.evidence],
        )]  # fmt: skip
        if p.findings > len(p.evidence):
            lines += ["", f"*{p.findings - len(p.evidence)} more findings in the JSON report.*"]
    return "\n".join(lines)


def _proposals(report: AuditReport) -> str:
    if not report.proposals:
        return ""
    blocks = ["## Proposals", "Ranked by impact over effort; quick wins first."]
    blocks += [_proposal(i, p) for i, p in enumerate(report.proposals, 1)]
    return "\n\n".join(blocks)


_STATUS_MARK = {
    RuleStatus.PASS: "pass",
    RuleStatus.FAIL: "**FAIL**",
    RuleStatus.SKIP: "skip",
    RuleStatus.IGNORED: "ignored",
}


def _families(report: AuditReport) -> str:
    if report.score is None:
        return ""
    blocks = ["## Results by family"]
    for family in report.score.families:
        mine = [o for o in report.outcomes if o.family == family.family]
        heading = f"### {family.name} ({family.family}): {fmt(family.score)}" + (
            f", grade {family.grade}" if family.grade else ""
        )
        rows = [
            (o.rule_id, o.title, _STATUS_MARK[o.status], o.severity.value,
             fmt(o.value, 2), f"{o.operator.value} {fmt(o.threshold, 2)}",
             f"{o.failed} of {o.total}" if o.status is RuleStatus.FAIL else "")
            for o in mine
        ]  # fmt: skip
        blocks += [
            heading,
            # every rule is listed: the rule set bounds the rows, and a cut could hide a failure
            table(
                ["Rule", "Expectation", "Result", "Severity", "Value", "Limit", "Failing"],
                rows,
                limit=max(len(rows), 1),
            ),
        ]
    return "\n\n".join(blocks)


def _generic_section(result: AnalyzerResult) -> str:
    rows = [
        (f"`{m.metric}`", fmt(m.value, 2)) for m in result.measurements if m.scope == REPO_SCOPE
    ]
    return "\n\n".join([f"### {result.name.capitalize()}", table(["Metric", "Value"], rows)])


SECTIONS: dict[str, MarkdownSection] = {}
"""Sections registered at run time (by plugins); built-in ones live in `markdown_sections/`."""


def section_for(name: str) -> MarkdownSection:
    """The section of analyzer `name`: registered, else `markdown_sections/<name>.py`, else generic."""
    if name in SECTIONS:
        return SECTIONS[name]
    if name.isidentifier():
        module_name = f"{markdown_sections.__name__}.{name}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
        else:
            found: MarkdownSection = module.section
            return found
    return _generic_section


def _measurements(report: AuditReport) -> str:
    blocks = ["## Measurements"]
    for name, result in report.analyzers.items():
        if result.status is not AnalyzerStatus.OK:
            blocks.append(f"### {name.capitalize()}\n\n{result.status.value}: {result.error or ''}")
            continue
        blocks.append(section_for(name)(result))
    return "\n\n".join(blocks) if len(blocks) > 1 else ""


def _appendices(report: AuditReport) -> str:
    skipped = [o for o in report.outcomes if o.status is RuleStatus.SKIP]
    ignored = [o for o in report.outcomes if o.status is RuleStatus.IGNORED]
    blocks = ["## Appendices", "### Skipped rules"]
    blocks.append(
        table(
            ["Rule", "Expectation", "Why skipped"],
            [(o.rule_id, o.title, o.reason) for o in skipped],
        )
        if skipped
        else "None: every rule could be evaluated."
    )
    blocks.append("### Ignored rules")
    blocks.append(
        table(
            ["Rule", "Expectation", "Reason given"],
            [(o.rule_id, o.title, o.reason) for o in ignored],
        )
        if ignored
        else "None."
    )
    skips = report.skips
    blocks.append(f"### Skipped files and items ({len(skips)})")
    blocks.append(
        table(
            ["Analyzer", "What", "Why"],
            [(s.analyzer, f"`{s.path}`" if s.path else s.item or "-", s.reason) for s in skips],
            limit=50,
        )
        if skips
        else "None."
    )
    blocks.append("### Rule set and tool")
    rows: list[tuple[str, str]] = [
        ("ctoaudit", report.tool.version),
        ("Report schema", str(report.schema_version)),
    ]
    if report.ruleset is not None:
        sources = ", ".join(f"`{PurePosixPath(s).name}`" for s in report.ruleset.sources)
        rows += [
            ("Rule set", f"{report.ruleset.name} {report.ruleset.version}"),
            ("Rule files", sources),
        ]
    rows += [
        (f"Analyzer {r.name}", f"{r.version} ({r.status.value})") for r in report.analyzers.values()
    ]
    blocks.append(table(["", ""], rows))
    return "\n\n".join(blocks)


def render(report: AuditReport) -> str:
    """The whole report as Markdown, ending in one newline."""
    parts = [
        _header(report),
        *(f"> warning: {w}" for w in report.warnings),
        _summary(report),
        _proposals(report),
        _families(report),
        _measurements(report),
        _appendices(report),
    ]
    text = "\n\n".join(p for p in parts if p) + "\n"
    if len(text.encode()) > MAX_BYTES:  # pragma: no cover - tables are cut long before this
        text = (
            text.encode()[: MAX_BYTES - 200].decode(errors="ignore")
            + "\n\n*Report cut at 1 MiB.*\n"
        )
    return text
