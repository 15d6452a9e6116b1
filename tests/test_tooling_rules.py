"""The TU rules and their proposals on the bundled example and real fixtures; the generic text
placeholders they rely on ({scopes}, {labels[KEY]}, action titles); the tooling Markdown section."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ctoaudit.analyzers import discover_analyzers
from ctoaudit.analyzers.tooling import ToolingAnalyzer
from ctoaudit.config import Settings
from ctoaudit.engine import AuditOptions, installed_metrics, run_audit
from ctoaudit.errors import ConfigError
from ctoaudit.model import AnalyzerResult, AuditReport, Measurement
from ctoaudit.proposals import propose
from ctoaudit.render import markdown_report
from ctoaudit.render.markdown_sections import tooling as tooling_section
from ctoaudit.rules.evaluate import evaluate, join_names
from ctoaudit.rules.loader import default_ruleset, load_ruleset_text
from ctoaudit.rules.model import Proposal, RuleStatus
from ctoaudit.snapshot import DirectorySnapshot

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "inventory-service"
FIXTURES = Path(__file__).parent / "fixtures" / "tooling"
AUDIT_DAY = datetime(2026, 11, 26, 12, tzinfo=UTC)


def audit(root: Path) -> AuditReport:
    return run_audit(
        DirectorySnapshot(root),
        Settings(jobs=1),
        {"tooling": ToolingAnalyzer},
        AuditOptions(clock=lambda: AUDIT_DAY),
        ruleset=default_ruleset(),
    )


def failed_tu(report: AuditReport) -> list[str]:
    return [o.rule_id for o in report.outcomes if o.family == "TU" and o.status is RuleStatus.FAIL]


def by_action(report: AuditReport) -> dict[str, Proposal]:
    return {p.action: p for p in report.proposals}


def test_example_fails_the_expected_tu_rules() -> None:
    report = audit(EXAMPLE)
    assert failed_tu(report) == [
        "TU105",  # no type checker
        "TU106",  # no security scanner
        "TU107",  # no dependency update tool
        "TU201",  # flake8, isort (superseded) and black (Ruff is proposed anyway)
        "TU202",  # nose
        "TU203",  # Travis CI
        "TU501",  # 3.6, 3.7 (Travis), 3.8 (tox)
        "TU502",
    ]
    # present categories pass, tools the example does not use pass instead of being skipped
    status = {o.rule_id: o.status for o in report.outcomes if o.family == "TU"}
    for rule_id in ("TU101", "TU102", "TU103", "TU104", "TU204", "TU205", "TU301", "TU303"):
        assert status[rule_id] is RuleStatus.PASS, rule_id
    skipped = sorted(r for r, s in status.items() if s is RuleStatus.SKIP)
    assert skipped == ["TU402", "TU403", "TU601"]  # no pre-commit, no file references, no uploads
    assert report.score is not None
    tu = next(f for f in report.score.families if f.family == "TU")
    assert (tu.score, tu.grade, tu.passed, tu.failed) == (62.5, "C", 16, 8)


def test_example_proposals_read_as_roadmap_actions() -> None:
    proposals = by_action(audit(EXAMPLE))
    ruff = proposals["replace-with-ruff"]
    assert ruff.title == "Replace black, flake8 and isort with Ruff"
    assert ruff.change[0].startswith(
        "Replace black, flake8 and isort with Ruff: 3 tools to 1, the same rules and one "
        "configuration in pyproject.toml."
    )
    assert (ruff.effort.value, ruff.severity.value, ruff.quick_win, ruff.findings) == (
        "S",
        "medium",
        True,
        3,
    )
    assert [(e.scope, e.path, e.line) for e in ruff.evidence] == [
        ("black", "tox.ini", 12),
        ("flake8", "tox.ini", 10),
        ("isort", "tox.ini", 11),
    ]
    travis = proposals["move-ci-to-github-actions"]
    assert travis.title == "Move CI from travis-ci to GitHub Actions"
    assert travis.change[0].startswith(
        "Move travis-ci to GitHub Actions (or the CI of your code host)"
    )
    assert (travis.effort.value, travis.severity.value) == ("M", "high")
    nose = proposals["replace-with-pytest"]
    assert nose.title == "Replace nose with pytest"
    assert nose.evidence[0].path == "pyproject.toml"
    eol = proposals["upgrade-eol-python"]
    assert eol.title == "Move CI off end-of-life Python 3.6, 3.7 and 3.8"
    assert eol.rules == ["TU502", "TU501"]
    assert "the oldest, 3.6, since 2021-12-23" in eol.change[0]
    assert "to supported versions (3.11 or newer)" in eol.change[1]
    assert "3.6 (.travis.yml:3), 3.7 (.travis.yml:4), 3.8 (tox.ini:2)" in eol.change[1]
    assert proposals["add-type-checker"].title == "Add a type checker"
    assert set(proposals) == {
        "add-dependency-updates",
        "add-security-scanning",
        "replace-with-ruff",
        "move-ci-to-github-actions",
        "replace-with-pytest",
        "upgrade-eol-python",
        "add-type-checker",
    }


def test_modern_repository_gets_no_proposal() -> None:
    report = audit(FIXTURES / "repo-review")
    assert failed_tu(report) == []
    assert report.proposals == []
    # Black is only blacken-docs' library there; pylint next to ruff and prek next to pre-commit
    # are not duplicates
    outcomes = {o.rule_id: o for o in report.outcomes}
    assert outcomes["TU201"].status is RuleStatus.PASS
    assert outcomes["TU301"].status is RuleStatus.PASS
    assert outcomes["TU304"].status is RuleStatus.PASS


@pytest.mark.parametrize(
    ("name", "actions"),
    [
        # true findings only: 3.10 reached end of life on 2026-10-31 (26 days before the audit)
        ("flask", {"remove-unused-tool-config", "upgrade-eol-python"}),
        ("poetry", {"upgrade-eol-python"}),
        ("pip", {"replace-with-ruff", "upgrade-eol-python"}),  # Black formats, Ruff lints
        ("requests", {"build-with-pypa-build", "upgrade-eol-python"}),  # `setup.py` in Makefile
        ("cibuildwheel", {"one-ci-service"}),  # a CI tool tested on four CI services
    ],
)
def test_real_repositories_get_only_sourced_proposals(name: str, actions: set[str]) -> None:
    report = audit(FIXTURES / name)
    assert set(by_action(report)) == actions
    if "upgrade-eol-python" in actions:
        eol = by_action(report)["upgrade-eol-python"]
        assert (eol.title, eol.rules, eol.severity.value) == (
            "Move CI off end-of-life Python 3.10",
            ["TU501"],  # under a year past end of life: low, not TU502
            "low",
        )
    if name == "pip":
        ruff = by_action(report)["replace-with-ruff"]
        assert ruff.title == "Replace black with Ruff"
        assert "2 tools to 1" in ruff.change[0]  # black and the ruff already there


def test_categories_of_other_stacks_are_not_required(tmp_path: Path) -> None:
    (tmp_path / "main.go").write_text("package main\n")
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: go test ./...\n"
    )
    report = audit(tmp_path)
    outcomes = {o.rule_id: o.status for o in report.outcomes}
    assert outcomes["TU101"] is RuleStatus.PASS
    for rule_id in ("TU102", "TU103", "TU104", "TU105", "TU106", "TU107"):
        assert outcomes[rule_id] is RuleStatus.SKIP, rule_id  # a Go project: no Python tools asked
    assert report.proposals == []


def test_every_bundled_rule_reads_a_declared_metric() -> None:
    found = discover_analyzers()
    known = installed_metrics(found.analyzers, found.errors)
    for rule in default_ruleset().rules:
        assert rule.metric in known, f"{rule.id}: {rule.metric}"


def test_bundled_rules_of_a_missing_analyzer_are_skipped_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    report = run_audit(DirectorySnapshot(tmp_path), Settings(jobs=1), {}, ruleset=default_ruleset())
    tu = [o for o in report.outcomes if o.family == "TU"]
    assert tu and {o.status for o in tu} == {RuleStatus.SKIP}
    assert tu[0].reason == "analyzer tooling did not run"
    assert report.score is not None and report.score.overall is None
    # a family with nothing counted has no score, and the JSON report reads back
    data = report.model_dump(mode="json", exclude_none=True)
    assert AuditReport.model_validate(data) == report


# ------------------------------------------------------------------ generic placeholders


RULES = """
[families]
ZZ = "Test"

[actions.fix-them]
title = "Fix {scopes} ({count})"

[[rules]]
id = "ZZ901"
title = "t"
metric = "tooling.replace"
scope = "each"
operator = "=="
threshold = 0
action = "fix-them"
proposal = "{scopes} -> {labels[successor_name]}{labels[nope]}; worst {scope}"
"""


def _result(*items: tuple[str, float, dict[str, str]]) -> dict[str, AnalyzerResult]:
    measurements = [
        Measurement(metric="tooling.replace", value=v, scope=s, labels=labels)
        for s, v, labels in items
    ]
    return {"tooling": AnalyzerResult(name="tooling", version="2", measurements=measurements)}


def test_scopes_and_label_placeholders() -> None:
    ruleset = load_ruleset_text(RULES, "test.toml")
    results = _result(
        ("flake8", 1, {"successor_name": "Ruff"}),
        ("isort", 1, {"successor_name": "Ruff"}),
        ("pytest", 0, {}),
    )
    evaluation = evaluate(ruleset, results)
    outcome = evaluation.outcome("ZZ901")
    assert outcome is not None
    assert outcome.reason == "flake8 and isort -> Ruff; worst flake8"  # a missing label is empty
    [proposal] = propose(ruleset, evaluation)
    assert proposal.title == "Fix flake8 and isort (2)"


def test_join_names() -> None:
    assert join_names([]) == ""
    assert join_names(["a"]) == "a"
    assert join_names(["a", "b"]) == "a and b"
    assert join_names(["a", "b", "c"]) == "a, b and c"
    assert join_names([str(i) for i in range(12)]) == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 2 more"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('proposal = "{labels}"', "unknown placeholder(s) {labels}"),
        ('proposal = "{labels.x}"', "unknown placeholder(s) {labels.x}"),
        ('proposal = "{value.real}"', "unknown placeholder(s) {value.real}"),
        ('title = "Fix {items}"', "actions.fix-them: field title: unknown placeholder(s) {items}"),
        ('title = "Fix {scopes"', "actions.fix-them: field title:"),
    ],
)
def test_bad_placeholders_are_config_errors(change: str, message: str) -> None:
    key = change.split(" = ", 1)[0]
    text = "\n".join(
        change if line.startswith(f"{key} = ") else line for line in RULES.splitlines()
    )
    with pytest.raises(
        ConfigError,
        match=message.replace("{", r"\{")
        .replace("(", r"\(")
        .replace(")", r"\)")
        .replace(".", r"\."),
    ):
        load_ruleset_text(text, "test.toml")


# ------------------------------------------------------------------ Markdown


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """The example outside this git checkout, so the report names no commit of ours."""
    target = tmp_path / "inventory-service"
    shutil.copytree(EXAMPLE, target)
    return target


def test_markdown_section_of_the_example() -> None:
    report = audit(EXAMPLE)
    text = tooling_section.section(report.analyzers["tooling"])
    assert text.startswith(
        "### Tool usage\n\n8 tools detected from 6 configuration, CI and manifest files; 4 outdated; 10 categories without a tool."
    )
    assert (
        "| Linting | Flake8 (`flake8`) | configured, installed, run | `tox.ini:10`, "
        "`pyproject.toml:18` (+2) | **superseded** → `ruff` "
        "([2023-10](https://docs.astral.sh/ruff/faq/#how-does-ruffs-linter-compare-to-flake8)) |"
    ) in text
    assert "| Formatting | Black (`black`) | configured, installed, run |" in text
    assert "fine; can move to `ruff`" in text
    assert "**Categories with no tool:** containers, coverage, dependency-updates," in text
    assert "| Replace | `black` | `tox.ini:12` | maintained; consolidate into Ruff |" in text
    assert (
        "| End-of-life Python | 3.6 | `.travis.yml:3` | EOL 2021-12-23, 1,799 days ago, via travis-ci |"
        in text
    )


def test_markdown_section_cuts_long_tables(tmp_path: Path) -> None:
    report = audit(FIXTURES / "repo-review")
    result = report.analyzers["tooling"]
    assert "Nothing to replace, doubled, unused, missing or past end of life." in (
        tooling_section.section(result)
    )
    many = result.model_copy(update={"facts": result.facts * 2})
    text = tooling_section.section(many)
    detected = sum(1 for f in result.facts if f.key == "tooling.detected")
    left = 2 * detected - tooling_section.MATRIX_ROWS
    assert (
        f"*{left} more rows not shown; every tool and all its evidence are in the JSON report"
        in text
    )


def test_example_markdown_is_byte_identical_on_rerun(
    cli: Callable[..., object], example_copy: Path
) -> None:
    args = (
        "run",
        str(example_copy),
        "--analyzers",
        "complexity,tooling",
        "-j",
        "1",
        "-f",
        "markdown",
    )
    first = cli(*args, "--no-cache")
    second = cli(*args)
    assert first.exit_code == 0, first.stderr  # type: ignore[attr-defined]
    text: str = first.stdout  # type: ignore[attr-defined]
    assert second.stdout == text  # type: ignore[attr-defined]
    assert (
        "### Tool usage" in text
        and "### 3. Replace black, flake8 and isort with Ruff (quick win)" in text
    )
    assert str(example_copy) not in text
    assert len(text.encode()) < 50_000
    # the family table lists all 27 TU rules (a cut at 25 rows would hide the failing TU502)
    assert (
        "| TU502 | CI runs no Python version more than a year past its end of life | **FAIL** |"
        in text
    )
    assert "more rows not shown" not in text
    assert markdown_report.render(audit(example_copy)) == markdown_report.render(
        audit(example_copy)
    )
