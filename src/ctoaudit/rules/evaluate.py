"""Judge an audit's measurements against a rule set: pure, deterministic, no I/O.

A rule whose data is missing (its analyzer disabled or failed, or nothing measured) is skipped with the
reason, never failed. A rule whose `requires` did not all pass is skipped too.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ctoaudit.model import REPO_SCOPE, AnalyzerResult, AnalyzerStatus, Measurement
from ctoaudit.rules.model import (
    Finding,
    Operator,
    Rule,
    RuleOutcome,
    RuleScope,
    RuleSet,
    RuleStatus,
    fingerprint,
)

ITEMS_IN_TEXT = 3
"""How many failing items a proposal text names in `{items}`."""
SCOPES_IN_TEXT = 10
"""How many distinct failing scopes a text names in `{scopes}`."""


@dataclass(frozen=True)
class Evaluation:
    """Every rule's outcome and every finding, in canonical order."""

    outcomes: list[RuleOutcome] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def outcome(self, rule_id: str) -> RuleOutcome | None:
        """The outcome of one rule."""
        return next((o for o in self.outcomes if o.rule_id == rule_id), None)


def format_value(value: float | None, unit: str = "") -> str:
    """A figure for messages: integers without decimals, others to at most 2 places; ratios in %."""
    if value is None:
        return "-"
    if unit == "ratio":
        return format_value(round(value * 100, 1)) + "%"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def join_names(names: Sequence[str], limit: int = SCOPES_IN_TEXT) -> str:
    """Names as prose: "a", "a and b", "a, b and c"; past `limit`, "a, b, c and 7 more"."""
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


class _Labels(dict[str, str]):
    """An item's labels for `{labels[key]}`; a label the item lacks reads as empty text."""

    def __missing__(self, key: str) -> str:
        return ""


def render_text(template: str, values: Mapping[str, object]) -> str:
    """Fill a rule's proposal placeholders; the loader has checked that every name is known.

    A mapping value (the worst item's labels) stays indexable, for `{labels[successor]}`.
    """
    return template.format_map(
        {k: _Labels(v) if isinstance(v, Mapping) else str(v) for k, v in values.items()}
    )


def _outcome(rule: Rule, status: RuleStatus, **fields: object) -> RuleOutcome:
    return RuleOutcome.model_validate(
        {
            "rule_id": rule.id,
            "family": rule.family,
            "title": rule.title,
            "severity": rule.severity,
            "weight": rule.weight,
            "status": status,
            "threshold": rule.threshold,
            "operator": rule.operator,
            **fields,
        }
    )


def _missing_data(rule: Rule, results: Mapping[str, AnalyzerResult]) -> str | None:
    analyzer = rule.metric.split(".", 1)[0]
    result = results.get(analyzer)
    if result is None:
        return f"analyzer {analyzer} did not run"
    if result.status is AnalyzerStatus.DISABLED:
        return f"analyzer {analyzer} is disabled"
    if result.status is AnalyzerStatus.FAILED:
        return f"analyzer {analyzer} failed: {result.error or 'no detail'}"
    return None


def _item_name(m: Measurement) -> str:
    # An analyzer may name an item for people in its `item` label ("django 3.2 -> 5.2: 4.1 libyears").
    name = m.labels.get("item", m.scope)
    if m.path and m.path != m.scope:
        return f"{name} ({m.path}:{m.line})" if m.line else f"{name} ({m.path})"
    return name


def _badness(rule: Rule) -> Callable[[Measurement], tuple[float, str, str]]:
    """Sort key: the furthest from passing first, then by path and scope."""
    upward = rule.operator.value in {"<", "<="}
    return lambda m: (-m.value if upward else m.value, m.path or "", m.scope)


def _worst_first(rule: Rule, failing: list[Measurement]) -> list[Measurement]:
    """Failing items, the furthest from passing first, then by path and scope."""
    return sorted(failing, key=_badness(rule))


def _finding(rule: Rule, m: Measurement, message: str) -> Finding:
    return Finding(
        rule_id=rule.id,
        severity=rule.severity,
        metric=rule.metric,
        value=m.value,
        threshold=rule.threshold,
        scope=m.scope,
        path=m.path,
        line=m.line,
        message=message,
        fingerprint=fingerprint(rule.id, m.path, m.scope),
        detail=m.labels.get("item"),
    )


_HOLDS: dict[Operator, Callable[[float, float], bool]] = {
    Operator.LT: operator.lt,
    Operator.LE: operator.le,
    Operator.GT: operator.gt,
    Operator.GE: operator.ge,
    Operator.EQ: operator.eq,
    Operator.NE: operator.ne,
}
"""`Operator.holds` as C functions: rules over every function of a repository call it per item."""


def _judge(
    rule: Rule, measured: list[Measurement], unit: str, *, with_findings: bool = True
) -> tuple[RuleOutcome, list[Finding]]:
    holds, threshold = _HOLDS[rule.operator], rule.threshold
    failing = _worst_first(rule, [m for m in measured if not holds(m.value, threshold)])
    if not failing:
        closest = min(measured, key=_badness(rule))
        return _outcome(rule, RuleStatus.PASS, value=closest.value, total=len(measured)), []
    worst = failing[0]
    text = render_text(
        rule.proposal,
        {
            "value": format_value(worst.value, unit),
            "threshold": format_value(rule.threshold, unit),
            "operator": rule.operator.value,
            "metric": rule.metric,
            "scope": worst.scope,
            "path": worst.path or "",
            "count": len(failing),
            "total": len(measured),
            "items": ", ".join(_item_name(m) for m in failing[:ITEMS_IN_TEXT])
            + (f" and {len(failing) - ITEMS_IN_TEXT} more" if len(failing) > ITEMS_IN_TEXT else ""),
            "scopes": join_names(list(dict.fromkeys(m.scope for m in failing))),
            "labels": worst.labels,
        },
    )
    findings = [
        _finding(
            rule,
            m,
            f"{rule.metric} = {format_value(m.value, unit)}, expected {rule.operator.value} "
            f"{format_value(rule.threshold, unit)}",
        )
        for m in (failing if with_findings else [])
    ]
    outcome = _outcome(
        rule,
        RuleStatus.FAIL,
        value=worst.value,
        failed=len(failing),
        total=len(measured),
        reason=text,
    )
    return outcome, findings


def _by_metric(result: AnalyzerResult) -> dict[str, list[Measurement]]:
    """The result's measurements grouped by metric, in their order: one pass for all rules."""
    grouped: dict[str, list[Measurement]] = {}
    for m in result.measurements:
        grouped.setdefault(m.metric, []).append(m)
    return grouped


def _measured(rule: Rule, by_metric: Mapping[str, list[Measurement]]) -> list[Measurement]:
    candidates = by_metric.get(rule.metric, [])
    if rule.scope is RuleScope.REPO:
        return [m for m in candidates if m.scope == REPO_SCOPE]
    items = [m for m in candidates if m.scope != REPO_SCOPE]
    if not rule.where:
        return items
    # Rule.matches, with each allowed list turned into a set once per rule instead of once per item:
    # rules with `where` filter every function of the repository.
    allowed = [
        (key, {wanted} if isinstance(wanted, str) else set(wanted))
        for key, wanted in rule.where.items()
    ]
    if len(allowed) == 1:
        (key, ok), *_ = allowed
        return [m for m in items if m.labels.get(key) in ok]
    return [m for m in items if all(m.labels.get(key) in ok for key, ok in allowed)]


def _blocked(rule: Rule, done: Mapping[str, RuleOutcome]) -> str | None:
    for parent in rule.requires:
        outcome = done.get(parent)
        if outcome is None:
            return f"requires {parent}, which is not in the rule set"
        if outcome.status is not RuleStatus.PASS:
            return f"requires {parent}, which did not pass ({outcome.status.value})"
    return None


def _in_requirement_order(ruleset: RuleSet) -> list[Rule]:
    """Rules with every required rule before them; the loader has rejected cycles."""
    by_id = {r.id: r for r in ruleset.rules}
    ordered: list[Rule] = []
    seen: set[str] = set()

    def visit(rule: Rule) -> None:
        if rule.id in seen:
            return
        seen.add(rule.id)
        for parent in rule.requires:
            if parent in by_id:
                visit(by_id[parent])
        ordered.append(rule)

    for rule in ruleset.rules:
        visit(rule)
    return ordered


def evaluate(
    ruleset: RuleSet, results: Mapping[str, AnalyzerResult], *, with_findings: bool = True
) -> Evaluation:
    """Judge every rule of `ruleset` against the analyzers' results.

    Without findings (`trend` needs each revision's score, not its items) the outcomes are the same.
    """
    done: dict[str, RuleOutcome] = {}
    findings: list[Finding] = []
    grouped: dict[str, dict[str, list[Measurement]]] = {}
    for rule in _in_requirement_order(ruleset):
        if rule.id in ruleset.ignored:
            done[rule.id] = _outcome(rule, RuleStatus.IGNORED, reason=ruleset.ignored[rule.id])
            continue
        reason = _blocked(rule, done) or _missing_data(rule, results)
        if reason is not None:
            done[rule.id] = _outcome(rule, RuleStatus.SKIP, reason=reason)
            continue
        name = rule.metric.split(".", 1)[0]
        result = results[name]
        if name not in grouped:
            grouped[name] = _by_metric(result)
        measured = _measured(rule, grouped[name])
        if not measured:
            what = "repository value" if rule.scope is RuleScope.REPO else "item"
            done[rule.id] = _outcome(
                rule, RuleStatus.SKIP, reason=f"no {what} measured for {rule.metric}"
            )
            continue
        unit = next((spec.unit for spec in result.metrics if spec.key == rule.metric), "")
        done[rule.id], rule_findings = _judge(rule, measured, unit, with_findings=with_findings)
        findings.extend(rule_findings)
    return Evaluation(
        outcomes=[done[r.id] for r in sorted(ruleset.rules, key=lambda r: r.id)],
        findings=sorted(findings, key=Finding.sort_key),
    )
