"""Improvement proposals: failed rules grouped into roadmap actions and ranked. Pure.

Rules sharing an `action` key become one proposal with their evidence combined; a rule without one is
its own proposal. impact = sum of the failed rules' points (severity factor x weight); priority =
impact / effort cost (S 1, M 3, L 8). Quick wins (effort S, impact of at least a medium rule) come
first, then by priority. Failures of info rules carry no impact and make no proposal.
"""

from __future__ import annotations

from collections import defaultdict

from ctoaudit.model import REPO_SCOPE
from ctoaudit.rules.evaluate import Evaluation, join_names, render_text
from ctoaudit.rules.model import (
    Effort,
    Evidence,
    Finding,
    Proposal,
    Rule,
    RuleOutcome,
    RuleSet,
    RuleStatus,
    Severity,
)
from ctoaudit.scoring import points

EVIDENCE_PER_PROPOSAL = 10
QUICK_WIN_IMPACT = Severity.MEDIUM.factor


def _distance(finding: Finding) -> float:
    """How far a finding is from passing, relative to its threshold."""
    return abs(finding.value - finding.threshold) / max(abs(finding.threshold), 1.0)


def _worst_first(findings: list[Finding]) -> list[Finding]:
    """Highest severity first, then by rule, then furthest from the threshold."""
    return sorted(
        findings, key=lambda f: (-f.severity.rank, f.rule_id, -_distance(f), f.path or "", f.scope)
    )


def _evidence(findings: list[Finding]) -> list[Evidence]:
    """The worst findings first: highest severity, then furthest from the threshold."""
    ranked = _worst_first(findings)
    return [
        Evidence(
            rule_id=f.rule_id,
            scope=f.scope,
            path=f.path,
            line=f.line,
            value=f.value,
            threshold=f.threshold,
            detail=f.detail,
        )
        for f in ranked[:EVIDENCE_PER_PROPOSAL]
    ]


def _title(template: str, findings: list[Finding]) -> str:
    """The action's title with `{scopes}` (distinct failing items, worst first) and `{count}`."""
    ranked = _worst_first(findings)
    scopes = list(dict.fromkeys(f.scope for f in ranked if f.scope != REPO_SCOPE))
    return render_text(template, {"scopes": join_names(scopes), "count": len(scopes)})


def _proposal(
    key: str,
    rules: list[Rule],
    outcomes: dict[str, RuleOutcome],
    ruleset: RuleSet,
    findings: list[Finding],
) -> Proposal:
    rules = sorted(rules, key=lambda r: (-r.severity.rank, r.id))
    lead = rules[0]
    spec = ruleset.actions.get(key)
    impact = sum(points(outcomes[r.id]) for r in rules)
    effort = max((r.effort for r in rules), key=lambda e: e.cost)
    mine = [f for f in findings if f.rule_id in {r.id for r in rules}]
    return Proposal(
        action=key,
        title=_title(spec.title, mine) if spec else lead.title,
        why=(spec.why if spec and spec.why else lead.rationale),
        change=[outcomes[r.id].reason for r in rules],
        rules=[r.id for r in rules],
        family=lead.family,
        severity=lead.severity,
        effort=effort,
        impact=impact,
        priority=round(impact / effort.cost, 3),
        quick_win=effort is Effort.S and impact >= QUICK_WIN_IMPACT,
        findings=len(mine),
        evidence=_evidence(mine),
    )


def propose(ruleset: RuleSet, evaluation: Evaluation) -> list[Proposal]:
    """Roadmap actions for the failed rules, quick wins first, then by priority."""
    outcomes = {o.rule_id: o for o in evaluation.outcomes}
    groups: dict[str, list[Rule]] = defaultdict(list)
    for rule in ruleset.rules:
        outcome = outcomes.get(rule.id)
        if outcome is None or outcome.status is not RuleStatus.FAIL:
            continue
        groups[rule.action or rule.id.lower()].append(rule)
    proposals = [
        _proposal(key, rules, outcomes, ruleset, evaluation.findings)
        for key, rules in groups.items()
    ]
    proposals = [p for p in proposals if p.impact > 0]
    return sorted(proposals, key=lambda p: (not p.quick_win, -p.priority, -p.impact, p.action))
