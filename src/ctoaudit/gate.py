"""The CI gate: compare a current audit with a baseline and decide whether the change regressed.

Pure: two judged reports (the same rule set), a policy and the files renamed between them in, one
GateResult out. What counts (see the README's "CI gate"):

- a **new finding**: its fingerprint (rule id + path + scope, never the line) is not in the baseline,
  after following renamed files and matching an item that moved to another file by rule and name;
  it fails the gate when its severity is at least `fail_on`;
- a **metric regression**: a repository-level metric moved in its bad direction (from the analyzer's
  MetricSpec) by more than the tolerance set for it; metrics without a tolerance are only reported;
- a **score drop** larger than `max_score_drop` points.

Findings that went away are resolved; metrics that moved in their good direction are improvements.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ctoaudit.model import (
    REPO_SCOPE,
    AnalyzerStatus,
    AuditReport,
    Direction,
    MetricSpec,
    TargetInfo,
)
from ctoaudit.rules.model import Finding, Severity, fingerprint

SCORE_EPSILON = 1e-9
"""Scores are rounded to 0.1; this only absorbs float noise in the difference."""


class GatePolicy(BaseModel):
    """What fails the gate: `[tool.ctoaudit.gate]`, overridden by `ctoaudit gate` flags."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    max_score_drop: float = Field(
        default=0.0,
        ge=0,
        le=100,
        allow_inf_nan=False,
        description="Largest allowed drop of the overall score, in points (0: any drop fails).",
    )
    fail_on: Severity = Field(
        default=Severity.LOW,
        description="Lowest severity of a new finding that fails the gate (info never moves the score).",
    )
    fail_on_worse: bool = Field(
        default=False,
        description="Also fail when an existing finding got worse (its value moved further past "
        "the threshold, e.g. a complex function grew more complex); severity as for new findings.",
    )
    tolerances: dict[str, float] = Field(
        default_factory=dict,
        description="Metric key -> largest allowed change in the metric's bad direction, in its "
        "unit (0: any worsening fails). Metrics not listed are reported, never gated.",
    )

    @field_validator("tolerances")
    @classmethod
    def _tolerances_are_finite_and_positive(cls, value: dict[str, float]) -> dict[str, float]:
        for key, tolerance in value.items():
            if not math.isfinite(tolerance) or tolerance < 0:
                raise ValueError(f"{key}: a tolerance must be a finite number >= 0")
        return dict(sorted(value.items()))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class MovedFinding(_Frozen):
    """A baseline finding found again under another path: a renamed file or an item moved by name."""

    finding: Finding = Field(description="The finding as it is now.")
    before_path: str | None
    before_value: float
    how: str = Field(
        description="'renamed' (git saw the file renamed) or 'moved' (same rule and name)."
    )


class WorsenedFinding(_Frozen):
    """A finding of the baseline that is still there, further past its threshold than before."""

    finding: Finding = Field(description="The finding as it is now.")
    before_value: float


class MetricDelta(_Frozen):
    """A repository-level metric on both sides."""

    metric: str
    description: str = ""
    unit: str = ""
    direction: Direction
    before: float
    after: float
    delta: float
    tolerance: float | None = Field(default=None, description="None: reported, not gated.")
    regressed: bool = False
    improved: bool = False


class ScoreDelta(_Frozen):
    """The overall score on both sides, judged by the same rule set."""

    before: float
    after: float
    delta: float
    max_drop: float
    regressed: bool


class GateResult(_Frozen):
    """The gate's verdict and everything behind it."""

    passed: bool
    reasons: list[str] = Field(
        description="Why the gate failed, one line each; empty when it passed."
    )
    policy: GatePolicy
    baseline: TargetInfo
    current: TargetInfo
    as_of: datetime | None = Field(
        default=None, description="The instant both sides were audited as of, when known."
    )
    new_findings: list[Finding] = Field(default_factory=list)
    resolved_findings: list[Finding] = Field(default_factory=list)
    moved_findings: list[MovedFinding] = Field(default_factory=list)
    worsened_findings: list[WorsenedFinding] = Field(default_factory=list)
    metrics: list[MetricDelta] = Field(
        default_factory=list,
        description="Directional repository metrics that changed or are gated.",
    )
    score: ScoreDelta | None = None
    renames: dict[str, str] = Field(default_factory=dict, description="Old path -> new path.")
    notes: list[str] = Field(default_factory=list)

    @property
    def failing_findings(self) -> list[Finding]:
        """New findings severe enough to fail the gate."""
        return [f for f in self.new_findings if fails(f, self.policy)]

    @property
    def failing_worsened(self) -> list[WorsenedFinding]:
        """Worsened findings that fail the gate (only with `fail_on_worse`)."""
        if not self.policy.fail_on_worse:
            return []
        return [w for w in self.worsened_findings if fails(w.finding, self.policy)]

    @property
    def regressed_metrics(self) -> list[MetricDelta]:
        """Metrics past their tolerance."""
        return [m for m in self.metrics if m.regressed]

    @property
    def improved_metrics(self) -> list[MetricDelta]:
        """Metrics that moved in their good direction."""
        return [m for m in self.metrics if m.improved]


def fails(finding: Finding, policy: GatePolicy) -> bool:
    """True when a (new or worsened) finding is severe enough to fail the gate."""
    return finding.severity.rank >= policy.fail_on.rank


def comparable_analyzers(baseline: AuditReport, current: AuditReport) -> set[str]:
    """Analyzers that ran successfully on both sides: only their findings and metrics are compared."""
    return {
        name
        for name, result in current.analyzers.items()
        if result.status is AnalyzerStatus.OK
        and (other := baseline.analyzers.get(name)) is not None
        and other.status is AnalyzerStatus.OK
    }


def _analyzer_of(metric: str) -> str:
    return metric.split(".", 1)[0]


def _renamed(finding: Finding, renames: Mapping[str, str]) -> tuple[str | None, str]:
    """The finding's path and scope after renames (a file's scope is its path)."""
    path = renames.get(finding.path, finding.path) if finding.path else None
    scope = (
        renames.get(finding.scope, finding.scope)
        if finding.scope == finding.path
        else finding.scope
    )
    return path, scope


def _is_item(finding: Finding) -> bool:
    """An item inside a file (a function), whose name survives a move to another file."""
    return finding.scope not in {REPO_SCOPE, finding.path}


_Key = tuple[str, ...]


def _pop(pool: dict[_Key, list[Finding]], key: _Key) -> Finding | None:
    """Take the first finding filed under `key`, if any.

    Two items may share a name (a property's getter and setter), so every key holds a list.
    """
    found = pool.get(key)
    if not found:
        return None
    first = found.pop(0)
    if not found:
        del pool[key]
    return first


def _pool(findings: Iterable[Finding], key: Callable[[Finding], _Key]) -> dict[_Key, list[Finding]]:
    pool: dict[_Key, list[Finding]] = {}
    for f in sorted(findings, key=Finding.sort_key):
        pool.setdefault(key(f), []).append(f)
    return pool


@dataclass(frozen=True)
class Matching:
    """Findings of two reports paired by identity."""

    new: list[Finding]
    resolved: list[Finding]
    moved: list[MovedFinding]
    worsened: list[WorsenedFinding]


def got_worse(before: Finding, after: Finding) -> bool:
    """True when the value moved further from the threshold (the failing side stays the same)."""
    return abs(after.value - after.threshold) > abs(before.value - before.threshold) + SCORE_EPSILON


def match_findings(
    baseline: Iterable[Finding], current: Iterable[Finding], renames: Mapping[str, str]
) -> Matching:
    """New, resolved, moved and worsened findings: by fingerprint after renames, then by name."""
    unmatched = _pool(current, lambda f: (f.fingerprint,))
    resolved: list[Finding] = []
    moved: list[MovedFinding] = []
    pairs: list[tuple[Finding, Finding]] = []
    for old in sorted(baseline, key=Finding.sort_key):
        path, scope = _renamed(old, renames)
        match = _pop(unmatched, (fingerprint(old.rule_id, path, scope),))
        if match is None:
            resolved.append(old)
            continue
        pairs.append((old, match))
        if path != old.path:
            moved.append(
                MovedFinding(
                    finding=match, before_path=old.path, before_value=old.value, how="renamed"
                )
            )
    # An item that left one file and appeared, with the same name and failing the same rule, in
    # another is the same code moved: pair them one to one, in path order.
    by_name = _pool(
        (f for group in unmatched.values() for f in group if _is_item(f)),
        lambda f: (f.rule_id, f.scope),
    )
    still_resolved: list[Finding] = []
    for old in resolved:
        twin = _pop(by_name, (old.rule_id, old.scope)) if _is_item(old) else None
        if twin is None:
            still_resolved.append(old)
            continue
        _pop(unmatched, (twin.fingerprint,))
        pairs.append((old, twin))
        moved.append(
            MovedFinding(finding=twin, before_path=old.path, before_value=old.value, how="moved")
        )
    worsened = [
        WorsenedFinding(finding=now, before_value=old.value)
        for old, now in pairs
        if got_worse(old, now)
    ]
    return Matching(
        new=sorted((f for group in unmatched.values() for f in group), key=Finding.sort_key),
        resolved=still_resolved,
        moved=sorted(moved, key=lambda m: m.finding.sort_key()),
        worsened=sorted(worsened, key=lambda w: w.finding.sort_key()),
    )


def _specs(
    baseline: AuditReport, current: AuditReport, analyzers: set[str]
) -> dict[str, MetricSpec]:
    specs: dict[str, MetricSpec] = {}
    for report in (baseline, current):  # the current declaration wins
        for name in sorted(analyzers):
            specs.update({s.key: s for s in report.analyzers[name].metrics})
    return specs


def _repo_values(report: AuditReport, analyzers: set[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for name in sorted(analyzers):
        values.update(report.analyzers[name].repo_values())
    return values


def _metric_delta(
    spec: MetricSpec, before: float, after: float, tolerance: float | None
) -> MetricDelta:
    delta = after - before
    worse = delta if spec.direction is Direction.LOWER else -delta
    return MetricDelta(
        metric=spec.key,
        description=spec.description,
        unit=spec.unit,
        direction=spec.direction,
        before=before,
        after=after,
        delta=round(delta, 6),
        tolerance=tolerance,
        regressed=tolerance is not None and worse > tolerance + SCORE_EPSILON,
        improved=worse < -SCORE_EPSILON,
    )


def compare_metrics(
    baseline: AuditReport, current: AuditReport, policy: GatePolicy, analyzers: set[str]
) -> tuple[list[MetricDelta], list[str]]:
    """Deltas of directional repository metrics measured on both sides, and notes on tolerances not checked."""
    specs = _specs(baseline, current, analyzers)
    before, after = _repo_values(baseline, analyzers), _repo_values(current, analyzers)
    deltas: list[MetricDelta] = []
    notes: list[str] = []
    for key in sorted(set(before) & set(after)):
        spec = specs.get(key)
        if spec is None or spec.direction is Direction.INFO:
            continue
        delta = _metric_delta(spec, before[key], after[key], policy.tolerances.get(key))
        if delta.delta != 0 or delta.tolerance is not None:
            deltas.append(delta)
    for key in policy.tolerances:
        spec = specs.get(key)
        if spec is not None and spec.scope != REPO_SCOPE:
            notes.append(
                f"tolerance for {key} not checked: it is measured per {spec.scope}, and tolerances "
                "apply to repository-level metrics"
            )
        elif spec is not None and spec.direction is Direction.INFO:
            notes.append(
                f"tolerance for {key} not checked: the metric has no good or bad direction"
            )
        elif key not in before or key not in after:
            notes.append(f"tolerance for {key} not checked: not measured on both sides")
    return deltas, notes


def compare_scores(
    baseline: AuditReport, current: AuditReport, policy: GatePolicy
) -> ScoreDelta | None:
    """The overall score on both sides, or None when either side has none."""
    if baseline.score is None or current.score is None:
        return None
    before, after = baseline.score.overall, current.score.overall
    if before is None or after is None:
        return None
    delta = round(after - before, 6)
    return ScoreDelta(
        before=before,
        after=after,
        delta=delta,
        max_drop=policy.max_score_drop,
        regressed=-delta > policy.max_score_drop + SCORE_EPSILON,
    )


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _where(finding: Finding) -> str:
    if finding.path is None:
        return "the repository"
    at = f"{finding.path}:{finding.line}" if finding.line else finding.path
    return at if finding.scope == finding.path else f"{finding.scope} ({at})"


def _reasons(
    matching: Matching, metrics: list[MetricDelta], score: ScoreDelta | None, policy: GatePolicy
) -> list[str]:
    reasons = [
        f"new {f.severity.value} finding {f.rule_id} in {_where(f)}: {f.message}"
        for f in matching.new
        if fails(f, policy)
    ]
    if policy.fail_on_worse:
        reasons += [
            f"{w.finding.severity.value} finding {w.finding.rule_id} in {_where(w.finding)} got "
            f"worse: {w.finding.metric} went from {_fmt(w.before_value)} to {_fmt(w.finding.value)}"
            for w in matching.worsened
            if fails(w.finding, policy)
        ]
    reasons += [
        f"{m.metric} went from {_fmt(m.before)} to {_fmt(m.after)} "
        f"({'+' if m.delta > 0 else ''}{_fmt(m.delta)}; tolerance {_fmt(m.tolerance or 0)}, "
        f"{m.direction.value} is better)"
        for m in metrics
        if m.regressed
    ]
    if score is not None and score.regressed:
        reasons.append(
            f"score fell from {_fmt(score.before)} to {_fmt(score.after)} "
            f"({_fmt(score.delta)} points; allowed drop {_fmt(score.max_drop)})"
        )
    return reasons


def version_notes(baseline: AuditReport, current: AuditReport, analyzers: set[str]) -> list[str]:
    """A note for each compared analyzer whose version differs between the sides."""
    notes = []
    for name in sorted(analyzers):
        before, after = baseline.analyzers[name].version, current.analyzers[name].version
        if before != after:
            notes.append(
                f"analyzer {name} is version {before} in the baseline and {after} now: "
                "some differences may come from the analyzer, not the change"
            )
    return notes


def missing_notes(baseline: AuditReport, current: AuditReport, analyzers: set[str]) -> list[str]:
    """A note for each analyzer left out of the comparison, naming the side it is missing from."""
    notes = []
    for name in sorted((set(baseline.analyzers) | set(current.analyzers)) - analyzers):
        sides = [
            side
            for side, report in (("baseline", baseline), ("current", current))
            if (r := report.analyzers.get(name)) is None or r.status is not AnalyzerStatus.OK
        ]
        notes.append(
            f"analyzer {name} did not run successfully on the {' and '.join(sides)} side: "
            "its findings and metrics were not compared"
        )
    return notes


def compare(
    baseline: AuditReport,
    current: AuditReport,
    policy: GatePolicy,
    *,
    renames: Mapping[str, str] | None = None,
    as_of: datetime | None = None,
    notes: Iterable[str] = (),
) -> GateResult:
    """Compare two reports judged by the same rule set; `renames` maps old paths to new ones."""
    moves = dict(sorted((renames or {}).items()))
    analyzers = comparable_analyzers(baseline, current)
    old = [f for f in baseline.findings if _analyzer_of(f.metric) in analyzers]
    now = [f for f in current.findings if _analyzer_of(f.metric) in analyzers]
    matching = match_findings(old, now, moves)
    metrics, metric_notes = compare_metrics(baseline, current, policy, analyzers)
    score = compare_scores(baseline, current, policy)
    reasons = _reasons(matching, metrics, score, policy)
    return GateResult(
        passed=not reasons,
        reasons=reasons,
        policy=policy,
        baseline=baseline.target,
        current=current.target,
        as_of=as_of,
        new_findings=matching.new,
        resolved_findings=matching.resolved,
        moved_findings=matching.moved,
        worsened_findings=matching.worsened,
        metrics=metrics,
        score=score,
        renames=moves,
        notes=[
            *notes,
            *missing_notes(baseline, current, analyzers),
            *version_notes(baseline, current, analyzers),
            *metric_notes,
        ],
    )
