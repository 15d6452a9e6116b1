"""Rules and what evaluating them yields: outcomes, findings, scores and proposals.

These models cross boundaries (TOML in, JSON report out), so they are frozen and reject unknown
fields. This module imports nothing from the rest of ctoaudit, so `ctoaudit.model` can embed them.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

from pydantic import Field, model_validator

from ctoaudit.frozen import Frozen

RULE_ID_PATTERN = r"^[A-Z]{2}[0-9]{3}$"
"""A family prefix of two capitals and a three-digit number, e.g. CX101. Ids are never reused."""

FAMILY_PATTERN = r"^[A-Z]{2}$"


class Severity(StrEnum):
    """How much a failed rule matters; its factor weighs the rule in the score."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def factor(self) -> int:
        """Score weight of the severity: info 0 (never moves the score), low 1, medium 2, high 4, critical 8."""
        return _SEVERITY_FACTORS[self]

    @property
    def rank(self) -> int:
        """Order of severities, info lowest."""
        return list(Severity).index(self)


_SEVERITY_FACTORS = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 4,
    Severity.CRITICAL: 8,
}


class Effort(StrEnum):
    """Rough size of the change a failed rule asks for: S (hours), M (days), L (weeks)."""

    S = "S"
    M = "M"
    L = "L"

    @property
    def cost(self) -> int:
        """Relative cost used to rank proposals: S 1, M 3, L 8."""
        return {Effort.S: 1, Effort.M: 3, Effort.L: 8}[self]


class Operator(StrEnum):
    """Comparison a value must satisfy for the rule to pass: `value <operator> threshold`."""

    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="
    NE = "!="

    def holds(self, value: float, threshold: float) -> bool:
        """True when `value <operator> threshold`."""
        match self:
            case Operator.LT:
                return value < threshold
            case Operator.LE:
                return value <= threshold
            case Operator.GT:
                return value > threshold
            case Operator.GE:
                return value >= threshold
            case Operator.EQ:
                return value == threshold
            case Operator.NE:
                return value != threshold


class RuleScope(StrEnum):
    """`repo` judges the repository-level measurement; `each` judges every item measured."""

    REPO = "repo"
    EACH = "each"


class Rule(Frozen):
    """One check: a metric, a condition it must meet, and what to do when it does not."""

    id: str = Field(pattern=RULE_ID_PATTERN, description="Family prefix + number, e.g. CX101.")
    title: str = Field(min_length=1, description="What the rule expects, as a short sentence.")
    metric: str = Field(
        min_length=3, description="Metric key as emitted by an analyzer (`ctoaudit analyzers`)."
    )
    scope: RuleScope = Field(
        default=RuleScope.REPO,
        description="`repo`: the repository-level value; `each`: every item with this metric.",
    )
    where: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="Only items whose labels match, e.g. { kind = ['function', 'method'] }.",
    )
    operator: Operator = Field(description="The rule passes when `value <operator> threshold`.")
    threshold: float = Field(allow_inf_nan=False)
    severity: Severity = Severity.MEDIUM
    weight: float = Field(default=1.0, gt=0, le=100, description="Multiplies the severity factor.")
    requires: list[str] = Field(
        default_factory=list,
        description="Rule ids that must pass first; otherwise this rule is skipped.",
    )
    effort: Effort = Effort.M
    action: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Roadmap action key; failed rules with the same action become one proposal.",
    )
    rationale: str = Field(default="", description="Why it matters, for the proposal.")
    proposal: str = Field(
        min_length=1,
        description="The concrete change; placeholders: {value} {threshold} {operator} {metric} "
        "{scope} {path} {count} {total} {items}.",
    )
    url: str | None = Field(default=None, description="Where the threshold comes from.")
    notes: str = Field(default="", description="Source and reasoning of the threshold.")

    @model_validator(mode="after")
    def _where_needs_items(self) -> Rule:
        if self.where and self.scope is RuleScope.REPO:
            raise ValueError("`where` filters items: it needs scope = 'each'")
        if self.id in self.requires:
            raise ValueError("a rule cannot require itself")
        return self

    @property
    def family(self) -> str:
        """The family prefix of the id, e.g. CX."""
        return self.id[:2]

    def matches(self, labels: dict[str, str]) -> bool:
        """True when an item's labels satisfy the rule's `where` filter."""
        for key, wanted in self.where.items():
            have = labels.get(key)
            allowed = [wanted] if isinstance(wanted, str) else wanted
            if have not in allowed:
                return False
        return True


class ActionSpec(Frozen):
    """A roadmap action that failed rules with the same `action` key are grouped into."""

    title: str = Field(min_length=1)
    why: str = ""


class RuleSet(Frozen):
    """A named, versioned list of rules, after `extends`, overrides, select and ignore are applied."""

    name: str
    version: str = "1"
    description: str = ""
    families: dict[str, str] = Field(
        default_factory=dict,
        description="Family prefix -> human name, e.g. CX = 'Code complexity'.",
    )
    actions: dict[str, ActionSpec] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    ignored: dict[str, str] = Field(
        default_factory=dict, description="Rule id -> why it is ignored; shown in the report."
    )
    sources: list[str] = Field(
        default_factory=list, description="Files this rule set was read from."
    )

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id, if any (ignored rules included)."""
        return next((r for r in self.rules if r.id == rule_id), None)

    def family_name(self, family: str) -> str:
        """The human name of a family, or its prefix."""
        return self.families.get(family, family)


class RuleStatus(StrEnum):
    """Outcome of one rule."""

    PASS = "pass"  # noqa: S105 - not a password
    FAIL = "fail"
    SKIP = "skip"
    IGNORED = "ignored"


def fingerprint(rule_id: str, path: str | None, scope: str) -> str:
    """Stable identity of a finding: rule id + path + scope, never the line, so moved code is not new."""
    digest = hashlib.sha256(f"{rule_id}\0{path or ''}\0{scope}".encode()).hexdigest()
    return digest[:16]


class Finding(Frozen):
    """One item (or the repository) that fails a rule."""

    rule_id: str
    severity: Severity
    metric: str
    value: float
    threshold: float
    scope: str
    path: str | None = None
    line: int | None = None
    message: str
    fingerprint: str
    detail: str | None = Field(
        default=None, description="The item in words, from the measurement's `item` label."
    )

    def sort_key(self) -> tuple[str, str, str]:
        """Stable order: rule, path, scope (never the line)."""
        return (self.rule_id, self.path or "", self.scope)


class RuleOutcome(Frozen):
    """What one rule concluded, with the figures that decided it."""

    rule_id: str
    family: str
    title: str
    severity: Severity
    weight: float
    status: RuleStatus
    reason: str = Field(
        default="", description="Why the rule was skipped or ignored; for a failure, the proposal."
    )
    value: float | None = Field(
        default=None, description="The repository value, or the worst item's value for `each`."
    )
    threshold: float
    operator: Operator
    failed: int = Field(default=0, description="Items that fail (1 or 0 for a repo rule).")
    total: int = Field(default=0, description="Items judged (1 for a repo rule).")


class FamilyScore(Frozen):
    """Score of one family of rules."""

    family: str
    name: str
    score: float | None = Field(
        default=None, description="0-100, None when no rule of the family counted."
    )
    grade: str | None = None
    passed: int
    failed: int
    skipped: int
    ignored: int = 0


class Score(Frozen):
    """Severity-weighted share of passed rules, overall and per family; see the README for the formula."""

    # None-valued fields are left out of the JSON report, so they default to None to read it back
    overall: float | None = None
    grade: str | None = None
    families: list[FamilyScore] = Field(default_factory=list)


class Evidence(Frozen):
    """One line of proof behind a proposal: a finding's location and figure."""

    rule_id: str
    scope: str
    path: str | None = None
    line: int | None = None
    value: float
    threshold: float
    detail: str | None = Field(
        default=None, description="The item in words, from the measurement's `item` label."
    )


class Proposal(Frozen):
    """An action for the roadmap: failed rules grouped, with evidence, effort and rank."""

    action: str
    title: str
    why: str
    change: list[str] = Field(description="The concrete changes, one per failed rule.")
    rules: list[str]
    family: str
    severity: Severity
    effort: Effort
    impact: float = Field(description="Sum of severity factor x weight of the failed rules.")
    priority: float = Field(description="Impact over effort cost; higher first.")
    quick_win: bool
    findings: int = Field(description="How many findings back this proposal.")
    evidence: list[Evidence] = Field(
        default_factory=list, description="The worst findings (at most 10)."
    )


class Judgement(Frozen):
    """What judging results by a rule set adds to a report; cached by rule set and result keys."""

    outcomes: list[RuleOutcome]
    findings: list[Finding]
    score: Score
    proposals: list[Proposal]


class RuleSetInfo(Frozen):
    """Which rule set judged a report."""

    name: str
    version: str
    sources: list[str] = Field(default_factory=list)
