"""Evaluation, scoring and proposals over hand-made analyzer results: figures asserted exactly."""

from __future__ import annotations

from ctoaudit.model import AnalyzerResult, AnalyzerStatus, Measurement
from ctoaudit.proposals import propose
from ctoaudit.rules.evaluate import evaluate
from ctoaudit.rules.loader import load_ruleset_text
from ctoaudit.rules.model import RuleStatus, Severity, fingerprint
from ctoaudit.scoring import compute_score, grade

RULES = """
name = "t"
[families]
AA = "Alpha"
[actions.shrink]
title = "Shrink things"
why = "Small is beautiful."

[[rules]]
id = "AA101"
title = "Functions are simple"
metric = "m.cc"
scope = "each"
where = { kind = ["function", "method"] }
operator = "<="
threshold = 10
severity = "high"
action = "shrink"
proposal = "Split {count} of {total} functions (worst {value} in {path}): {items}."

[[rules]]
id = "AA102"
title = "Few files"
metric = "m.files"
operator = "<"
threshold = 100
severity = "medium"
effort = "S"
proposal = "Delete files: {value} >= {threshold}."

[[rules]]
id = "AA103"
title = "Mean is low"
metric = "m.mean"
operator = "<="
threshold = 5
severity = "low"
action = "shrink"
requires = ["AA101"]
proposal = "Mean {value}."

[[rules]]
id = "BB101"
title = "Other analyzer"
metric = "other.x"
operator = ">="
threshold = 1
severity = "critical"
proposal = "x"

[[rules]]
id = "AA104"
title = "Informational"
metric = "m.files"
operator = "<"
threshold = 1
severity = "info"
proposal = "info {value}"
"""


def cc(
    scope: str, value: float, path: str = "a.py", line: int = 1, kind: str = "function"
) -> Measurement:
    return Measurement(
        metric="m.cc", value=value, scope=scope, path=path, line=line, labels={"kind": kind}
    )


def result(
    *measurements: Measurement, status: AnalyzerStatus = AnalyzerStatus.OK
) -> dict[str, AnalyzerResult]:
    return {
        "m": AnalyzerResult(
            name="m",
            version="1",
            status=status,
            error="boom" if status is AnalyzerStatus.FAILED else None,
            measurements=list(measurements),
        )
    }


def repo(metric: str, value: float) -> Measurement:
    return Measurement(metric=metric, value=value)


RS = load_ruleset_text(RULES, "t.toml")


def test_each_rule_fails_per_item_with_where_filter_and_worst_first_text() -> None:
    ev = evaluate(
        RS,
        result(
            cc("f", 12, "b.py", 3),
            cc("g", 30, "a.py", 9),
            cc("h", 2),
            cc("C", 99, kind="class"),
            repo("m.files", 5),
            repo("m.mean", 3),
        ),
    )
    o = ev.outcome("AA101")
    assert o is not None
    assert (o.status, o.failed, o.total, o.value) == (RuleStatus.FAIL, 2, 3, 30)
    assert o.reason == "Split 2 of 3 functions (worst 30 in a.py): g (a.py:9), f (b.py:3)."
    assert [(f.rule_id, f.scope, f.path, f.value) for f in ev.findings] == [
        ("AA101", "g", "a.py", 30),
        ("AA101", "f", "b.py", 12),
        ("AA104", "repo", None, 5),
    ]
    assert ev.findings[0].fingerprint == fingerprint("AA101", "a.py", "g")
    # AA103 requires AA101, which failed: skipped, not failed
    aa103 = ev.outcome("AA103")
    assert aa103 is not None and aa103.status is RuleStatus.SKIP
    assert aa103.reason == "requires AA101, which did not pass (fail)"
    assert ev.outcome("AA102").status is RuleStatus.PASS  # type: ignore[union-attr]


def test_missing_data_skips_with_reason() -> None:
    ev = evaluate(RS, result(repo("m.files", 5)))
    reasons = {o.rule_id: (o.status.value, o.reason) for o in ev.outcomes}
    assert reasons["BB101"] == ("skip", "analyzer other did not run")
    assert reasons["AA101"] == ("skip", "no item measured for m.cc")
    assert reasons["AA103"] == ("skip", "requires AA101, which did not pass (skip)")
    failed = evaluate(RS, result(status=AnalyzerStatus.FAILED))
    assert failed.outcome("AA102").reason == "analyzer m failed: boom"  # type: ignore[union-attr]


def test_score_is_severity_weighted_and_skips_leave_the_denominator() -> None:
    ev = evaluate(RS, result(cc("f", 12), repo("m.files", 5), repo("m.mean", 3)))
    # AA101 high (4) fails, AA102 medium (2) passes, AA103 skipped, BB101 skipped, AA104 info (0) fails
    score = compute_score(ev.outcomes, RS.families)
    assert score.overall == round(100 * 2 / 6, 1) == 33.3
    assert score.grade == "E"
    alpha = score.families[0]
    assert (alpha.family, alpha.name, alpha.score, alpha.passed, alpha.failed, alpha.skipped) == (
        "AA",
        "Alpha",
        33.3,
        1,
        2,
        1,
    )
    assert score.families[1].family == "BB" and score.families[1].score is None
    all_pass = evaluate(RS, result(cc("f", 2), repo("m.files", 0), repo("m.mean", 3)))
    assert compute_score(all_pass.outcomes, {}).overall == 100.0


def test_ignored_rules_are_reported_and_not_counted() -> None:
    rs = RS.model_copy(update={"ignored": {"AA101": "generated code"}})
    ev = evaluate(rs, result(cc("f", 12), repo("m.files", 5), repo("m.mean", 3)))
    o = ev.outcome("AA101")
    assert o is not None and (o.status, o.reason) == (RuleStatus.IGNORED, "generated code")
    assert [f.rule_id for f in ev.findings] == ["AA104"]  # info rules report, never score
    # AA103 needs AA101 to pass; an ignored parent did not pass, so the child is skipped too
    assert ev.outcome("AA103").status is RuleStatus.SKIP  # type: ignore[union-attr]
    assert compute_score(ev.outcomes, {}).overall == 100.0


def test_proposals_group_by_action_rank_quick_wins_first() -> None:
    ev = evaluate(RS, result(cc("f", 12), cc("g", 40), repo("m.files", 500), repo("m.mean", 9)))
    proposals = propose(RS, ev)
    assert [p.action for p in proposals] == ["aa102", "shrink"]
    quick, shrink = proposals
    assert (quick.quick_win, quick.effort.value, quick.impact, quick.priority) == (True, "S", 2, 2)
    assert quick.change == ["Delete files: 500 >= 100."]
    assert (shrink.title, shrink.why, shrink.rules, shrink.severity) == (
        "Shrink things",
        "Small is beautiful.",
        ["AA101"],
        Severity.HIGH,
    )
    assert (shrink.impact, shrink.priority, shrink.findings) == (4, round(4 / 3, 3), 2)
    assert [(e.scope, e.value) for e in shrink.evidence] == [("g", 40), ("f", 12)]


def test_grades() -> None:
    assert [grade(s) for s in (100, 90, 89.9, 75, 60, 40, 39.9, 0)] == [
        "A",
        "A",
        "B",
        "B",
        "C",
        "D",
        "E",
        "E",
    ]
    assert grade(None) is None


def test_fast_comparisons_agree_with_operator_holds() -> None:
    from ctoaudit.rules.evaluate import _HOLDS  # noqa: PLC0415
    from ctoaudit.rules.model import Operator  # noqa: PLC0415

    assert set(_HOLDS) == set(Operator)
    for op, compare in _HOLDS.items():
        for value in (-1.0, 0.0, 0.5, 1.0, 2.0):
            assert compare(value, 1.0) is op.holds(value, 1.0)
