"""gate.compare on hand-built reports: identity of findings, tolerances, score drops, coverage notes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ctoaudit.gate import GatePolicy, compare, match_findings
from ctoaudit.model import (
    AnalyzerResult,
    AnalyzerStatus,
    AuditReport,
    Direction,
    Measurement,
    MetricSpec,
    TargetInfo,
    TargetKind,
    ToolInfo,
)
from ctoaudit.rules.model import FamilyScore, Finding, Score, Severity, fingerprint

SPECS = [
    MetricSpec(key="complexity.cc", description="cc", direction=Direction.LOWER, scope="function"),
    MetricSpec(key="complexity.cc.mean", description="mean", direction=Direction.LOWER),
    MetricSpec(key="complexity.mi.mean", description="mi", direction=Direction.HIGHER),
    MetricSpec(key="complexity.files", description="files", direction=Direction.INFO),
]


def finding(
    rule: str, path: str | None, scope: str, value: float = 25, severity: Severity = Severity.HIGH
) -> Finding:
    return Finding(
        rule_id=rule, severity=severity, metric="complexity.cc", value=value, threshold=20,
        scope=scope, path=path, line=3, message=f"complexity.cc = {value:g}",
        fingerprint=fingerprint(rule, path, scope),
    )  # fmt: skip


def report(
    findings: list[Finding] | None = None,
    values: dict[str, float] | None = None,
    score: float | None = 80.0,
    status: AnalyzerStatus = AnalyzerStatus.OK,
    version: str = "1",
) -> AuditReport:
    measurements = [Measurement(metric=k, value=v) for k, v in (values or {}).items()]
    return AuditReport(
        tool=ToolInfo(version="0"),
        target=TargetInfo(kind=TargetKind.DIRECTORY, path="/x"),
        analyzers={
            "complexity": AnalyzerResult(
                name="complexity", version=version, status=status, metrics=SPECS, measurements=measurements
            )
        },
        findings=list(findings or []),
        score=Score(overall=score, grade="B", families=[FamilyScore(family="CX", name="CX", score=score, grade="B", passed=1, failed=1, skipped=0)]),
    )  # fmt: skip


def test_identity_ignores_lines_and_follows_renamed_files() -> None:
    old = [finding("CX110", "a.py", "a.py"), finding("CX102", "a.py", "f")]
    moved_line = finding("CX102", "b.py", "f").model_copy(update={"line": 90})
    m = match_findings(old, [finding("CX110", "b.py", "b.py"), moved_line], {"a.py": "b.py"})
    new, resolved, moved = m.new, m.resolved, m.moved
    assert (new, resolved, m.worsened) == ([], [], [])
    assert [(m.finding.rule_id, m.before_path, m.how) for m in moved] == [
        ("CX102", "a.py", "renamed"),
        ("CX110", "a.py", "renamed"),
    ]


def test_items_moved_between_files_pair_one_to_one_by_rule_and_name() -> None:
    old = [finding("CX102", "a.py", "f"), finding("CX102", "a.py", "g")]
    now = [
        finding("CX102", "b.py", "f"),
        finding("CX102", "c.py", "f"),
        finding("CX101", "b.py", "g"),
    ]
    m = match_findings(old, now, {})
    new, resolved, moved = m.new, m.resolved, m.moved
    assert [(f.rule_id, f.path, f.scope) for f in new] == [
        ("CX101", "b.py", "g"),
        ("CX102", "c.py", "f"),
    ]
    assert [(f.path, f.scope) for f in resolved] == [("a.py", "g")]
    assert [(m.finding.path, m.how) for m in moved] == [("b.py", "moved")]


def test_a_file_level_finding_in_a_file_that_was_not_renamed_is_new() -> None:
    m = match_findings([finding("CX110", "a.py", "a.py")], [finding("CX110", "b.py", "b.py")], {})
    new, resolved = m.new, m.resolved
    assert [f.path for f in new] == ["b.py"] and [f.path for f in resolved] == ["a.py"]


def test_metric_tolerances_in_each_metrics_bad_direction() -> None:
    base = report(
        values={"complexity.cc.mean": 4.0, "complexity.mi.mean": 60.0, "complexity.files": 3}
    )
    head = report(
        values={"complexity.cc.mean": 4.4, "complexity.mi.mean": 50.0, "complexity.files": 9}
    )
    loose = compare(
        base, head, GatePolicy(tolerances={"complexity.cc.mean": 0.5, "complexity.mi.mean": 10})
    )
    assert loose.passed
    tight = compare(
        base, head, GatePolicy(tolerances={"complexity.cc.mean": 0.3, "complexity.mi.mean": 9.5})
    )
    assert [m.metric for m in tight.regressed_metrics] == [
        "complexity.cc.mean",
        "complexity.mi.mean",
    ]
    assert tight.reasons == [
        "complexity.cc.mean went from 4 to 4.4 (+0.4; tolerance 0.3, lower is better)",
        "complexity.mi.mean went from 60 to 50 (-10; tolerance 9.5, higher is better)",
    ]
    # an improvement never fails, whatever the tolerance
    better = compare(
        head, base, GatePolicy(tolerances={"complexity.cc.mean": 0, "complexity.mi.mean": 0})
    )
    assert better.passed and [m.metric for m in better.improved_metrics] == [
        "complexity.cc.mean",
        "complexity.mi.mean",
    ]
    # info metrics have no bad direction; unmeasured ones cannot be checked: both are said, not ignored
    notes = compare(
        base, head, GatePolicy(tolerances={"complexity.files": 0, "dependencies.libyears.total": 1})
    ).notes
    assert notes == [
        "tolerance for complexity.files not checked: the metric has no good or bad direction",
        "tolerance for dependencies.libyears.total not checked: not measured on both sides",
    ]


def test_score_drop_against_max_score_drop() -> None:
    assert not compare(report(score=80), report(score=79.9), GatePolicy()).passed
    assert compare(report(score=80), report(score=75), GatePolicy(max_score_drop=5)).passed
    result = compare(report(score=80), report(score=74.9), GatePolicy(max_score_drop=5))
    assert result.reasons == ["score fell from 80 to 74.9 (-5.1 points; allowed drop 5)"]


def test_fail_on_sets_the_lowest_failing_severity() -> None:
    low = finding("CX120", "a.py", "a.py", severity=Severity.LOW)
    result = compare(report(), report([low]), GatePolicy(fail_on=Severity.MEDIUM))
    assert result.passed and result.new_findings == [low] and result.failing_findings == []
    assert not compare(report(), report([low]), GatePolicy()).passed


def test_findings_of_an_analyzer_that_failed_on_one_side_are_not_compared() -> None:
    base = report([finding("CX102", "a.py", "f")])
    head = report(status=AnalyzerStatus.FAILED, score=80)
    result = compare(base, head, GatePolicy())
    assert result.resolved_findings == []
    assert result.notes == [
        "analyzer complexity did not run successfully on the current side: its findings and metrics were not compared"
    ]
    changed = compare(report(version="1"), report(version="2"), GatePolicy())
    assert "analyzer complexity is version 1 in the baseline and 2 now" in changed.notes[0]


def test_policy_rejects_bad_values() -> None:
    with pytest.raises(ValidationError):
        GatePolicy(tolerances={"x.y": float("nan")})
    with pytest.raises(ValidationError):
        GatePolicy(max_score_drop=-1)
    with pytest.raises(ValidationError):
        GatePolicy.model_validate({"fail_on": "low", "unknown": 1})


def test_items_sharing_a_name_are_counted_one_by_one() -> None:
    getter, setter = (
        finding("CX102", "a.py", "C.x"),
        finding("CX102", "a.py", "C.x").model_copy(update={"line": 9}),
    )
    m = match_findings([getter], [getter, setter], {})
    assert (len(m.new), m.resolved, m.moved) == (1, [], [])
    m = match_findings([getter, setter], [getter], {})
    assert (m.new, len(m.resolved)) == ([], 1)


def test_existing_findings_that_got_worse_are_listed_and_fail_only_when_asked() -> None:
    base = report(
        [
            finding("CX102", "a.py", "f", value=22),
            finding("CX101", "a.py", "g", value=15, severity=Severity.MEDIUM).model_copy(
                update={"threshold": 10}
            ),
        ]
    )
    grown = finding("CX102", "b.py", "f", value=31)  # moved to b.py and more complex
    head = report(
        [
            grown,
            finding("CX101", "a.py", "g", value=12, severity=Severity.MEDIUM).model_copy(
                update={"threshold": 10}
            ),
        ]
    )
    result = compare(base, head, GatePolicy())
    assert result.passed
    assert [
        (w.finding.scope, w.before_value, w.finding.value) for w in result.worsened_findings
    ] == [("f", 22, 31)]
    strict = compare(base, head, GatePolicy(fail_on_worse=True))
    assert strict.reasons == [
        "high finding CX102 in f (b.py:3) got worse: complexity.cc went from 22 to 31"
    ]
    assert compare(base, head, GatePolicy(fail_on_worse=True, fail_on=Severity.CRITICAL)).passed


def test_align_compares_scores_over_the_analyzers_both_sides_ran() -> None:
    from ctoaudit.baseline import align
    from ctoaudit.engine import judge
    from ctoaudit.rules.model import Operator, Rule, RuleSet

    ruleset = RuleSet(
        name="t",
        rules=[
            Rule(
                id="CX901",
                title="mean",
                metric="complexity.cc.mean",
                operator=Operator.LE,
                threshold=5,
                proposal="p",
            ),
            Rule(
                id="OT901",
                title="other",
                metric="other.x",
                operator=Operator.LE,
                threshold=1,
                proposal="p",
            ),
        ],
    )
    base = judge(report(values={"complexity.cc.mean": 3}), ruleset)
    other = AnalyzerResult(
        name="other", version="1", measurements=[Measurement(metric="other.x", value=9)]
    )
    head = judge(
        report(values={"complexity.cc.mean": 3}).model_copy(
            update={"analyzers": {**base.analyzers, "other": other}}
        ),
        ruleset,
    )
    assert (base.score.overall, head.score.overall) == (
        100,
        50,
    )  # the new analyzer's rule counts on one side only
    old, new, notes = align(base, head, ruleset)
    assert old.score.overall == new.score.overall == 100
    assert notes == [
        "analyzer other did not run successfully on the baseline side: its findings and metrics were not compared"
    ]
    assert compare(old, new, GatePolicy()).passed and not compare(base, head, GatePolicy()).passed
