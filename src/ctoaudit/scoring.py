"""The audit score: a severity-weighted share of passed rules, per family and overall. Pure.

    points(rule) = severity factor x weight      (info 0, low 1, medium 2, high 4, critical 8)
    score        = 100 x sum(points of passed rules) / sum(points of passed and failed rules)

Skipped and ignored rules are in neither sum. A family (or the whole audit) whose counted rules have
no points has no score. Grades: A >= 90, B >= 75, C >= 60, D >= 40, E below 40.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ctoaudit.rules.model import FamilyScore, RuleOutcome, RuleStatus, Score

GRADE_BANDS: tuple[tuple[float, str], ...] = ((90, "A"), (75, "B"), (60, "C"), (40, "D"))
"""Lowest score of each grade; anything below the last band is E."""


def grade(score: float | None) -> str | None:
    """The letter for a 0-100 score."""
    if score is None:
        return None
    for floor, letter in GRADE_BANDS:
        if score >= floor:
            return letter
    return "E"


def points(outcome: RuleOutcome) -> float:
    """What a rule is worth in the score: severity factor times weight."""
    return outcome.severity.factor * outcome.weight


def weighted_score(outcomes: Iterable[RuleOutcome]) -> float | None:
    """100 x passed points / counted points, rounded to 1 decimal; None when nothing counts."""
    passed = total = 0.0
    for o in outcomes:
        if o.status is RuleStatus.PASS:
            passed += points(o)
            total += points(o)
        elif o.status is RuleStatus.FAIL:
            total += points(o)
    if total == 0:
        return None
    return round(100 * passed / total, 1)


def compute_score(outcomes: list[RuleOutcome], family_names: Mapping[str, str]) -> Score:
    """The overall score and one score per family that has rules."""
    families = []
    for family in sorted({o.family for o in outcomes}):
        mine = [o for o in outcomes if o.family == family]
        value = weighted_score(mine)
        families.append(
            FamilyScore(
                family=family,
                name=family_names.get(family, family),
                score=value,
                grade=grade(value),
                passed=sum(1 for o in mine if o.status is RuleStatus.PASS),
                failed=sum(1 for o in mine if o.status is RuleStatus.FAIL),
                skipped=sum(1 for o in mine if o.status is RuleStatus.SKIP),
                ignored=sum(1 for o in mine if o.status is RuleStatus.IGNORED),
            )
        )
    overall = weighted_score(outcomes)
    return Score(overall=overall, grade=grade(overall), families=families)


def below_minimum(score: Score | None, minimum: float) -> str | None:
    """Why an audit misses `--fail-under minimum`, or None when it meets it.

    No score at all (no rule with a weight could be evaluated) misses it too: a gate that cannot
    judge must not pass silently.
    """
    if score is None or score.overall is None:
        return f"no score to compare with --fail-under {minimum:g}: no rule with a weight was evaluated"
    if score.overall < minimum:
        return f"score {score.overall:g} is below --fail-under {minimum:g}"
    return None
