"""Rule sets load from TOML, merge with the default, and reject malformed files with exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctoaudit.analyzers import discover_analyzers
from ctoaudit.analyzers.complexity import METRICS
from ctoaudit.engine import installed_metrics
from ctoaudit.errors import ConfigError
from ctoaudit.rules.loader import (
    KnownMetrics,
    default_ruleset,
    load_ruleset_file,
    load_ruleset_text,
)
from ctoaudit.rules.model import Effort, Operator, RuleScope, Severity, fingerprint

# every installed analyzer's metrics: the default rule set gains other families' rules over time
KNOWN = installed_metrics(discover_analyzers().analyzers)

RULE = """
[[rules]]
id = "ZZ101"
title = "Few functions"
metric = "complexity.functions"
operator = "<="
threshold = 3
proposal = "Have at most {threshold} functions, not {value}."
"""


def write(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_default_ruleset_is_valid_and_covers_every_judgeable_complexity_metric() -> None:
    rs = default_ruleset(KNOWN)
    assert rs.name == "default"
    assert "default/complexity.toml" in rs.sources
    ids = [r.id for r in rs.rules]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert rs.families["CX"] == "Code complexity"
    judged = {r.metric for r in rs.rules if r.family == "CX"}
    judgeable = {m.key for m in METRICS if m.direction.value != "info"}
    assert judgeable <= judged
    assert all(r.url or r.notes for r in rs.rules), "every threshold cites its source"
    cx101 = rs.rule("CX101")
    assert cx101 is not None
    assert (cx101.scope, cx101.operator, cx101.threshold) == (RuleScope.EACH, Operator.LE, 10)
    assert cx101.where == {"kind": ["function", "method"]}


def test_extends_default_with_override_ignore_and_new_rule(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'name = "team"\nversion = "3"\nextends = "default"\n'
        '[overrides.CX101]\nthreshold = 15\nseverity = "high"\n'
        '[ignore]\nCX104 = "legacy code, accepted until the rewrite"\n'
        + RULE.replace("ZZ", "CX").replace("CX101", "CX901"),
    )
    rs = load_ruleset_file(path, known_metrics=KNOWN)
    assert (rs.name, rs.version) == ("team", "3")
    assert rs.sources[-1] == str(path) and "default/complexity.toml" in rs.sources
    cx101 = rs.rule("CX101")
    assert cx101 is not None and (cx101.threshold, cx101.severity) == (15, Severity.HIGH)
    assert cx101.effort is Effort.M  # untouched fields keep the default's values
    assert rs.ignored == {"CX104": "legacy code, accepted until the rewrite"}
    assert rs.rule("CX901") is not None


def test_select_keeps_named_rules_and_families(tmp_path: Path) -> None:
    path = write(tmp_path, 'extends = "default"\nselect = ["CX101", "CX110"]\n')
    assert [r.id for r in load_ruleset_file(path, known_metrics=KNOWN).rules] == ["CX101", "CX110"]
    path = write(
        tmp_path, 'extends = "default"\nselect = ["CX"]\n[ignore]\nCX = "not our concern"\n'
    )
    rs = load_ruleset_file(path)
    assert set(rs.ignored) == {r.id for r in rs.rules}


def test_extends_a_relative_file(tmp_path: Path) -> None:
    write(tmp_path, 'name = "base"\n' + RULE, "base.toml")
    child = write(
        tmp_path, 'extends = "base.toml"\n[overrides.ZZ101]\nthreshold = 5\n', "child.toml"
    )
    rs = load_ruleset_file(child, known_metrics=KNOWN)
    assert rs.rule("ZZ101").threshold == 5  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[rules]\nid = 1", "rules.toml: invalid TOML"),
        ('colour = "red"\n', "rules.toml: field colour: Extra inputs are not permitted"),
        (
            RULE + 'colour = "red"\n',
            "rules.toml: rule ZZ101: field colour: Extra inputs are not permitted",
        ),
        (
            RULE.replace("threshold = 3", 'threshold = "three"'),
            "rules.toml: rule ZZ101: field threshold: Input should be a valid number",
        ),
        (RULE.replace('"<="', '"=<"'), "rules.toml: rule ZZ101: field operator: Input should be"),
        (
            RULE.replace("complexity.functions", "complexity.function_count"),
            "rules.toml: rule ZZ101: field metric: unknown metric 'complexity.function_count'",
        ),
        (RULE + RULE, "rules.toml: rule ZZ101: field id: duplicate id, already defined in"),
        (
            RULE
            + 'requires = ["ZZ102"]\n'
            + RULE.replace("ZZ101", "ZZ102")
            + 'requires = ["ZZ101"]\n',
            "rule ZZ101: field requires: cycle ZZ101 -> ZZ102 -> ZZ101",
        ),
        (
            RULE + 'requires = ["ZZ999"]\n',
            "rules.toml: rule ZZ101: field requires: no rule ZZ999 in the rule set",
        ),
        (
            RULE + 'where = { kind = "function" }\n',
            "rules.toml: rule ZZ101: field (top level): Value error, `where` filters items: it needs scope = 'each'",
        ),
        (
            RULE + 'requires = ["ZZ101"]\n',
            "rules.toml: rule ZZ101: field (top level): Value error, a rule cannot require itself",
        ),
        (
            RULE.replace("{value}", "{valeu}"),
            "rules.toml: rule ZZ101: field proposal: unknown placeholder(s) {valeu}",
        ),
        (
            RULE.replace('"ZZ101"', '"Z1"'),
            "rules.toml: rule Z1: field id: String should match pattern",
        ),
        (
            'extends = "default"\n[overrides.CX999]\nthreshold = 1\n',
            "rules.toml: rule CX999: field overrides: no such rule",
        ),
        (
            'extends = "default"\n[ignore]\nCX101 = " "\n',
            "rules.toml: rule CX101: field ignore: give the reason",
        ),
        (
            'extends = "default"\nselect = ["QQ"]\n',
            "rules.toml: rule QQ: field select: no such rule or family",
        ),
        ('extends = "nonesuch"\n', "unknown rule set 'nonesuch'"),
        ('extends = "rules.toml"\n', "rules.toml: field extends: cycle"),
    ],
)
def test_malformed_rule_files_name_file_rule_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_ruleset_file(path, known_metrics=KNOWN)
    assert expected in str(info.value)
    assert str(tmp_path) in str(info.value) or "unknown rule set" in expected


def test_unknown_metric_of_an_unloadable_plugin_is_accepted() -> None:
    known = KnownMetrics(KNOWN.metrics, frozenset({"broken"}))
    rs = load_ruleset_text(
        RULE.replace("complexity.functions", "broken.things"), "x.toml", known_metrics=known
    )
    assert rs.rules[0].metric == "broken.things"


def test_fingerprint_ignores_the_line() -> None:
    assert fingerprint("CX101", "a.py", "f") == fingerprint("CX101", "a.py", "f")
    assert fingerprint("CX101", "a.py", "f") != fingerprint("CX101", "b.py", "f")
    assert fingerprint("CX101", "a.py", "f") != fingerprint("CX102", "a.py", "f")
    assert len(fingerprint("CX101", None, "repo")) == 16


def test_the_readme_rule_file_example_is_valid() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Rule file format", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    rs = load_ruleset_text(example, "README.md", known_metrics=KNOWN)
    assert rs.name == "team" and rs.rule("CX901") is not None
    assert rs.ignored == {"CX104": "the mean hides outliers; CX101 at 5 already covers it"}
    assert {r.family for r in rs.rules} == {"CX"}


def test_a_rule_may_require_a_rule_left_out_by_select(tmp_path: Path) -> None:
    from ctoaudit.model import AnalyzerResult, Measurement
    from ctoaudit.rules.evaluate import evaluate

    base = write(
        tmp_path, RULE + RULE.replace("ZZ101", "ZZ102") + 'requires = ["ZZ101"]\n', "base.toml"
    )
    child = write(tmp_path, f'extends = "{base.name}"\nselect = ["ZZ102"]\n', "child.toml")
    rs = load_ruleset_file(child, known_metrics=KNOWN)
    assert [r.id for r in rs.rules] == ["ZZ102"]
    results = {
        "complexity": AnalyzerResult(
            name="complexity",
            version="1",
            measurements=[Measurement(metric="complexity.functions", value=1)],
        )
    }
    outcome = evaluate(rs, results).outcomes[0]
    assert (outcome.status.value, outcome.reason) == (
        "skip",
        "requires ZZ101, which is not in the rule set",
    )


def test_non_finite_threshold_and_non_utf8_file_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match="rule ZZ101: field threshold: Input should be a finite number"
    ):
        load_ruleset_file(write(tmp_path, RULE.replace("threshold = 3", "threshold = nan")))
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('title = "Müller"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="latin1.toml: cannot read rule file"):
        load_ruleset_file(bad)
