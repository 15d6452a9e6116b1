"""The gate's verdict: Markdown for a PR comment or step summary, plain text, and JSON.

Markdown fits a pull-request comment or `$GITHUB_STEP_SUMMARY`; text is for a terminal or CI log;
JSON is for machines. Pure: a GateResult in, text out.

Verdict first, then what regressed (with figures and locations), then what improved; what did not
fail is listed after, so a reviewer reads the reason for a red build in the first lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from ctoaudit.gate import GateResult, MetricDelta, WorsenedFinding, fails
from ctoaudit.model import REPO_SCOPE, TargetInfo
from ctoaudit.render.json_report import dumps
from ctoaudit.render.markdown_blocks import fmt, location, table
from ctoaudit.rules.model import Finding

MAX_REASONS = 20
"""Reasons listed one per line before the rest are counted; tables and JSON carry them all."""


def _side(target: TargetInfo) -> str:
    if target.commit:
        named = target.ref and not target.commit.startswith(target.ref)
        ref = f" ({target.ref})" if named else ""
        dirty = " with uncommitted changes" if target.dirty else ""
        return f"`{target.commit[:12]}`{ref}{dirty}"
    return target.ref or target.path


def _signed(value: float, digits: int = 2) -> str:
    return ("+" if value > 0 else "") + fmt(value, digits)


def _item(finding: Finding) -> str:
    if finding.scope == REPO_SCOPE:
        return "repository"
    return f"`{finding.scope}`" if finding.scope != finding.path else "file"


def _plain(finding: Finding) -> str:
    if finding.path is None:
        return "(repository)"
    at = f"{finding.path}:{finding.line}" if finding.line else finding.path
    return at if finding.scope == finding.path else f"{finding.scope} ({at})"


def _figure(value: float, unit: str) -> str:
    """Ratios as percentages, other figures as they are."""
    if unit == "ratio":
        return fmt(round(value * 100, 1)) + "%"
    return fmt(value, 2)


def _findings_table(findings: Sequence[Finding]) -> str:
    return table(
        ["Rule", "Severity", "Item", "Location", "Value", "Limit", "Message"],
        [
            (f.rule_id, f.severity.value, _item(f), location(f.path, f.line), fmt(f.value, 2),
             fmt(f.threshold, 2), f.message)
            for f in findings
        ],
    )  # fmt: skip


def _worsened_table(worsened: Sequence[WorsenedFinding]) -> str:
    return table(
        ["Rule", "Severity", "Item", "Location", "Before", "After", "Limit"],
        [
            (w.finding.rule_id, w.finding.severity.value, _item(w.finding),
             location(w.finding.path, w.finding.line), fmt(w.before_value, 2),
             fmt(w.finding.value, 2), fmt(w.finding.threshold, 2))
            for w in worsened
        ],
    )  # fmt: skip


def _metrics_table(metrics: Sequence[MetricDelta]) -> str:
    return table(
        ["Metric", "Before", "After", "Change", "Better", "Tolerance"],
        [
            (f"`{m.metric}`", _figure(m.before, m.unit), _figure(m.after, m.unit),
             _signed(round(m.delta * 100, 1), 1) + " pp" if m.unit == "ratio" else _signed(m.delta),
             m.direction.value, "-" if m.tolerance is None else fmt(m.tolerance, 2))
            for m in metrics
        ],
    )  # fmt: skip


def _verdict(result: GateResult) -> str:
    if result.passed:
        head = "## ✅ ctoaudit gate passed"
        line = "No regression against the baseline."
    else:
        count = len(result.reasons)
        head = "## ❌ ctoaudit gate failed"
        line = f"{count} regression{'s' if count != 1 else ''} against the baseline:"
    parts = [head, "", line]
    parts += [f"- {reason}" for reason in result.reasons[:MAX_REASONS]]
    if len(result.reasons) > MAX_REASONS:
        parts.append(
            f"- and {len(result.reasons) - MAX_REASONS} more (see the tables below and the JSON result)"
        )
    parts += [
        "",
        f"Compared {_side(result.current)} with the baseline {_side(result.baseline)}"
        + (f", both as of {result.as_of.isoformat(timespec='seconds')}" if result.as_of else "")
        + ".",
    ]
    return "\n".join(parts)


def _score_line(result: GateResult) -> str:
    s = result.score
    if s is None:
        return ""
    return (
        f"**Score** {fmt(s.before)} → {fmt(s.after)} ({_signed(s.delta, 1)} points; "
        f"allowed drop {fmt(s.max_drop)})."
    )


def _regressions(result: GateResult) -> list[str]:
    blocks: list[str] = []
    failing = result.failing_findings
    if failing:
        blocks += ["### New findings", _findings_table(failing)]
    if result.failing_worsened:
        blocks += ["### Existing findings that got worse", _worsened_table(result.failing_worsened)]
    if result.regressed_metrics:
        blocks += ["### Metrics past their tolerance", _metrics_table(result.regressed_metrics)]
    return blocks


def _improvements(result: GateResult) -> list[str]:
    blocks: list[str] = []
    if result.resolved_findings:
        blocks += ["### Resolved findings", _findings_table(result.resolved_findings)]
    if result.improved_metrics:
        blocks += ["### Improved metrics", _metrics_table(result.improved_metrics)]
    if blocks:
        blocks.insert(0, "## Improvements")
    return blocks


def _other(result: GateResult) -> list[str]:
    blocks: list[str] = []
    quiet = [f for f in result.new_findings if not fails(f, result.policy)]
    if quiet:
        blocks += [
            f"### New findings below `fail_on = {result.policy.fail_on.value}`",
            _findings_table(quiet),
        ]
    failing = {w.finding.fingerprint for w in result.failing_worsened}
    worsened = [w for w in result.worsened_findings if w.finding.fingerprint not in failing]
    if worsened:
        blocks += [
            "### Existing findings that got worse (`fail_on_worse` is off)",
            _worsened_table(worsened),
        ]
    worse = [m for m in result.metrics if not m.regressed and not m.improved and m.delta != 0]
    if worse:
        blocks += ["### Metrics that got worse (no tolerance set)", _metrics_table(worse)]
    if result.moved_findings:
        blocks += [
            "### Findings that moved with their code (not new)",
            table(
                ["Rule", "Item", "Was in", "Now at", "How"],
                [
                    (m.finding.rule_id, _item(m.finding), f"`{m.before_path}`",
                     location(m.finding.path, m.finding.line), m.how)
                    for m in result.moved_findings
                ],
            ),
        ]  # fmt: skip
    if result.notes:
        blocks += ["### Notes", "\n".join(f"- {note}" for note in result.notes)]
    if blocks:
        blocks.insert(0, "## Also changed")
    return blocks


def markdown(result: GateResult) -> str:
    """The verdict as Markdown, ending in one newline."""
    parts = [_verdict(result), _score_line(result), *_regressions(result)]
    parts += [*_improvements(result), *_other(result)]
    return "\n\n".join(p for p in parts if p) + "\n"


def text(result: GateResult) -> str:
    """The verdict as plain text for a terminal or a CI log."""
    verdict = "passed" if result.passed else "FAILED"
    lines = [f"ctoaudit gate: {verdict} ({_side(result.current)} against {_side(result.baseline)})"]
    lines += [f"  regression: {reason}" for reason in result.reasons[:MAX_REASONS]]
    if len(result.reasons) > MAX_REASONS:
        lines.append(
            f"  ... and {len(result.reasons) - MAX_REASONS} more regressions (--format json)"
        )
    if result.score is not None:
        s = result.score
        lines.append(f"  score: {fmt(s.before)} -> {fmt(s.after)} ({_signed(s.delta, 1)})")
    lines += [f"  resolved: {f.rule_id} {_plain(f)}" for f in result.resolved_findings]
    lines += [
        f"  improved: {m.metric} {_figure(m.before, m.unit)} -> {_figure(m.after, m.unit)}"
        for m in result.improved_metrics
    ]
    quiet = [f for f in result.new_findings if not fails(f, result.policy)]
    lines += [f"  new, below fail_on: {f.rule_id} {_plain(f)}" for f in quiet]
    lines += [
        f"  {m.how}: {m.finding.rule_id} {m.finding.scope} from {m.before_path} to {m.finding.path}"
        for m in result.moved_findings
    ]
    lines += [
        f"  worse: {w.finding.rule_id} {_plain(w.finding)} {fmt(w.before_value, 2)} -> "
        f"{fmt(w.finding.value, 2)}"
        for w in result.worsened_findings
    ]
    lines += [f"  note: {note}" for note in result.notes]
    return "\n".join(lines) + "\n"


def json(result: GateResult) -> str:
    """The result as deterministic JSON."""
    return dumps(result.model_dump(mode="json", exclude_none=True))
