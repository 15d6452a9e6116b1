"""Frozen pydantic models shared by every layer: what analyzers measure and what reports contain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field, JsonValue, PrivateAttr

from ctoaudit.frozen import Frozen
from ctoaudit.rules.model import Finding, Proposal, RuleOutcome, RuleSetInfo, Score

SCHEMA_VERSION = 1
"""Version of the JSON report layout; bumped whenever a field changes meaning or disappears."""

REPO_SCOPE = "repo"
"""Scope of a measurement about the whole repository rather than one item in it."""


class Direction(StrEnum):
    """Which way a metric gets better; `info` metrics are never good or bad on their own."""

    LOWER = "lower"
    HIGHER = "higher"
    INFO = "info"


class MetricSpec(Frozen):
    """A metric an analyzer emits, declared up front so rules and the gate can rely on it."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
    description: str
    direction: Direction
    unit: str = ""
    scope: Literal["repo", "file", "function", "dependency", "tool", "item"] = "repo"


def metric_spec(
    key: str, description: str, direction: Direction, unit: str = "", scope: str = "repo"
) -> MetricSpec:
    """A MetricSpec from positional parts: keeps analyzers' metric tables one line per metric."""
    return MetricSpec.model_validate(
        {
            "key": key,
            "description": description,
            "direction": direction,
            "unit": unit,
            "scope": scope,
        }
    )


class Measurement(Frozen):
    """One figure: a metric's value for the repository or for one item in it.

    `scope` is the identity of the item measured: "repo" for the whole repository, the path for a
    file, the qualified name for a function, a package name for a dependency, a catalogue id for a tool.
    """

    metric: str
    value: float
    scope: str = REPO_SCOPE
    path: str | None = None
    line: int | None = None
    end_line: int | None = None
    labels: dict[str, str] = Field(default_factory=dict)

    def sort_key(self) -> tuple[str, str, str, int]:
        """Stable order for reports: metric, path, scope, line."""
        return (self.metric, self.path or "", self.scope, self.line or 0)


class Fact(Frozen):
    """A structured observation that is not a number, e.g. a detected tool and its evidence."""

    key: str
    scope: str = REPO_SCOPE
    path: str | None = None
    data: dict[str, JsonValue] = Field(default_factory=dict)

    def sort_key(self) -> tuple[str, str, str]:
        """Stable order for reports: key, path, scope."""
        return (self.key, self.path or "", self.scope)


class Skip(Frozen):
    """Something that was not analyzed, and why; never silent loss."""

    analyzer: str
    reason: str
    path: str | None = None
    item: str | None = None

    def sort_key(self) -> tuple[str, str, str, str]:
        """Stable order for reports."""
        return (self.analyzer, self.path or "", self.item or "", self.reason)


class AnalyzerStatus(StrEnum):
    """How an analyzer's run ended."""

    OK = "ok"
    FAILED = "failed"
    DISABLED = "disabled"


def _measurements_in_order(items: list[Measurement]) -> list[Measurement]:
    """`sorted(items, key=Measurement.sort_key)`, with the keys built inline.

    A result has tens of thousands of measurements, usually in order already; a method call per
    item was most of the time a warm audit spent sorting them.
    """
    keys = [(m.metric, m.path or "", m.scope, m.line or 0) for m in items]
    order = sorted(range(len(items)), key=keys.__getitem__)
    return [items[i] for i in order]


class AnalyzerResult(Frozen):
    """Everything one analyzer measured on one snapshot."""

    name: str
    version: str
    status: AnalyzerStatus = AnalyzerStatus.OK
    error: str | None = None
    metrics: list[MetricSpec] = Field(default_factory=list)
    measurements: list[Measurement] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    skips: list[Skip] = Field(default_factory=list)
    _content_key: str | None = PrivateAttr(default=None)
    _in_order: bool = PrivateAttr(default=False)

    @property
    def content_key(self) -> str | None:
        """An id of everything the result was computed from, when its analyzer can name one.

        Equal keys mean equal results, so work derived from results (judging them by a rule set)
        can be cached by it. Not part of the JSON.
        """
        return self._content_key

    def __eq__(self, other: object) -> bool:
        # The content key says where a result came from; equal results are equal without it.
        if not isinstance(other, AnalyzerResult):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment] # lists inside: never hashable

    def keyed(self, content_key: str) -> AnalyzerResult:
        """A copy that carries `content_key` (see there)."""
        copy = self.model_copy()
        copy._content_key = content_key  # noqa: SLF001 - our own private attribute, on our copy
        return copy

    def in_order(self) -> AnalyzerResult:
        """A copy that `sorted()` returns as it is, for lists known to be in canonical order.

        Putting 20,000 measurements in order again was a tenth of a warm audit.
        """
        copy = self.model_copy()
        copy._in_order = True  # noqa: SLF001 - our own private attribute, on our copy
        return copy

    def sorted(self) -> AnalyzerResult:
        """Copy with every list in its canonical order, so JSON output is deterministic."""
        if self._in_order:
            return self
        copy = self.model_copy(
            update={
                "metrics": sorted(self.metrics, key=lambda m: m.key),
                "measurements": _measurements_in_order(self.measurements),
                "facts": sorted(self.facts, key=Fact.sort_key),
                "skips": sorted(self.skips, key=Skip.sort_key),
            }
        )
        copy._in_order = True  # noqa: SLF001 - our own private attribute, on our copy
        return copy

    def repo_value(self, metric: str) -> float | None:
        """The repository-wide value of `metric`, or None when it was not measured."""
        for m in self.measurements:
            if m.scope == REPO_SCOPE and m.metric == metric:
                return m.value
        return None

    def repo_values(self) -> dict[str, float]:
        """Every repository-wide figure, by metric key."""
        return {m.metric: m.value for m in self.measurements if m.scope == REPO_SCOPE}


class TargetKind(StrEnum):
    """What the user pointed ctoaudit at."""

    WORKING_TREE = "working_tree"
    DIRECTORY = "directory"
    COMMIT = "commit"


class TargetInfo(Frozen):
    """Where the audited files came from, recorded in every report."""

    kind: TargetKind
    path: str
    url: str | None = None
    ref: str | None = None
    commit: str | None = None
    dirty: bool | None = None
    files: int = 0


class ToolInfo(Frozen):
    """The ctoaudit build that wrote a report."""

    name: str = "ctoaudit"
    version: str


class AuditReport(Frozen):
    """The canonical result of one audit: the JSON output and the gate's baseline."""

    schema_version: int = SCHEMA_VERSION
    tool: ToolInfo
    target: TargetInfo
    warnings: list[str] = Field(default_factory=list)
    analyzers: dict[str, AnalyzerResult] = Field(default_factory=dict)
    generated_at: datetime | None = None
    timings: dict[str, float] | None = None
    ruleset: RuleSetInfo | None = Field(
        default=None, description="The rule set that judged this report; None when none ran."
    )
    outcomes: list[RuleOutcome] = Field(default_factory=list, description="One per rule, by id.")
    findings: list[Finding] = Field(
        default_factory=list, description="Failed items, by rule id, path and scope."
    )
    score: Score | None = None
    proposals: list[Proposal] = Field(
        default_factory=list, description="Roadmap actions, quick wins first, then by priority."
    )

    def result(self, name: str) -> AnalyzerResult | None:
        """The named analyzer's result, if it ran."""
        return self.analyzers.get(name)

    @property
    def skips(self) -> list[Skip]:
        """All skips of all analyzers, in canonical order."""
        return sorted((s for r in self.analyzers.values() for s in r.skips), key=Skip.sort_key)
