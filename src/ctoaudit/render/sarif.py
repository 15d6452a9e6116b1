"""SARIF 2.1.0 for code-scanning UIs (GitHub, GitLab, Azure DevOps): the findings of one report.

Rules carry their title, the concrete change a failed rule asks for as help text, and their severity;
results carry the finding's location and its line-free fingerprint, so a moved function keeps its
alert. A finding about the whole repository is placed at the repository root ("."), because GitHub
rejects results without a location. The gate adds each result's `baselineState` (new or unchanged).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ctoaudit.model import AuditReport
from ctoaudit.rules.evaluate import format_value
from ctoaudit.rules.model import Finding, RuleOutcome, RuleStatus, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/ctoaudit/ctoaudit"
FINGERPRINT_KEY = "ctoaudit/v1"
SRCROOT = "%SRCROOT%"

LEVELS: dict[Severity, str] = {
    Severity.INFO: "note",
    Severity.LOW: "note",
    Severity.MEDIUM: "warning",
    Severity.HIGH: "error",
    Severity.CRITICAL: "error",
}
"""SARIF has three levels; high and critical findings are errors, medium ones warnings."""


def _rule(outcome: RuleOutcome) -> dict[str, Any]:
    condition = (
        f"Passes when the value is {outcome.operator.value} {format_value(outcome.threshold)}."
    )
    help_text = outcome.reason if outcome.status is RuleStatus.FAIL and outcome.reason else ""
    return {
        "id": outcome.rule_id,
        "name": outcome.rule_id,
        "shortDescription": {"text": outcome.title},
        "fullDescription": {"text": f"{outcome.title}. {condition}"},
        "help": {"text": help_text or f"{outcome.title}. {condition}"},
        "defaultConfiguration": {"level": LEVELS[outcome.severity]},
        "properties": {
            "severity": outcome.severity.value,
            "family": outcome.family,
            "tags": ["maintainability", outcome.family],
        },
    }


def _location(finding: Finding) -> dict[str, Any]:
    artifact = {"uri": finding.path or ".", "uriBaseId": SRCROOT}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if finding.line:
        physical["region"] = {"startLine": finding.line}
    location: dict[str, Any] = {"physicalLocation": physical}
    if finding.scope not in {finding.path, "repo"}:
        location["logicalLocations"] = [{"fullyQualifiedName": finding.scope, "kind": "function"}]
    return location


def _result(finding: Finding, rule_index: int, state: str | None) -> dict[str, Any]:
    what = finding.scope if finding.scope != finding.path else (finding.path or "repository")
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{what}: {finding.message}"},
        "locations": [_location(finding)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "severity": finding.severity.value,
            "metric": finding.metric,
            "value": finding.value,
            "threshold": finding.threshold,
        },
    }
    if state is not None:
        result["baselineState"] = state
    return result


def to_sarif(report: AuditReport, states: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The SARIF log as a dict; `states` maps fingerprints to a baselineState (new, unchanged)."""
    outcomes = [o for o in report.outcomes if o.status is not RuleStatus.IGNORED]
    index = {o.rule_id: i for i, o in enumerate(outcomes)}
    findings = [f for f in report.findings if f.rule_id in index]
    driver: dict[str, Any] = {
        "name": report.tool.name,
        "version": report.tool.version,
        "informationUri": INFORMATION_URI,
        "rules": [_rule(o) for o in outcomes],
    }
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "results": [
            _result(f, index[f.rule_id], (states or {}).get(f.fingerprint)) for f in findings
        ],
        "columnKind": "unicodeCodePoints",
    }
    if report.ruleset is not None:
        run["properties"] = {"ruleset": f"{report.ruleset.name} {report.ruleset.version}"}
    if report.target.url and report.target.commit:
        run["versionControlProvenance"] = [
            {"repositoryUri": report.target.url, "revisionId": report.target.commit}
        ]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def render(report: AuditReport) -> str:
    """The report's findings as SARIF 2.1.0 JSON (deterministic)."""
    return dumps(to_sarif(report))


_COMPACT = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(", ", ": "))
_EMPTY_RESULTS = '"results": []'


def dumps(log: dict[str, Any]) -> str:
    """SARIF text: sorted keys, indented, one result per line (fast and diffable); deterministic.

    `json.dumps` with an indent runs in pure Python, far too slow for tens of thousands of results,
    so the results are encoded compactly by the C encoder and set into the indented skeleton.
    """
    runs = log["runs"]
    skeleton = {**log, "runs": [{**run, "results": []} for run in runs]}
    parts = json.dumps(skeleton, indent=2, sort_keys=True, ensure_ascii=False).split(_EMPTY_RESULTS)
    out = [parts[0]]
    for run, rest in zip(runs, parts[1:], strict=True):
        lines = ",\n".join(" " * 8 + _COMPACT.encode(r) for r in run["results"])
        out.append(f'"results": [\n{lines}\n      ]' if lines else _EMPTY_RESULTS)
        out.append(rest)
    return "".join(out) + "\n"
