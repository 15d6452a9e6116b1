"""End to end: the example project audited with the default and a custom rule set, the Markdown
report pinned by a snapshot, the CLI's rules commands, exit codes and determinism."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ctoaudit.config import Settings
from ctoaudit.engine import AuditRequest, audit, judge, run_audit
from ctoaudit.analyzers.complexity import ComplexityAnalyzer
from ctoaudit.model import AuditReport
from ctoaudit.render import RenderFormat, markdown_report
from ctoaudit.rules import loader
from ctoaudit.rules.loader import default_ruleset
from ctoaudit.snapshot import DirectorySnapshot

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "inventory-service"
STRICT = ROOT / "examples" / "strict-rules.toml"
SNAPSHOT = Path(__file__).parent / "snapshots" / "inventory-service.md"
CX_ONLY = Path(__file__).parent / "snapshots" / "cx-rules.toml"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The example's Python files (the complexity analyzer's whole input) in a plain folder.

    Only *.py files are copied so that files other features add to the example (manifests, CI
    configs) do not change the file count pinned in the snapshot.
    """
    target = tmp_path / "inventory-service"
    for source in sorted(EXAMPLE.rglob("*.py")):
        dest = target / source.relative_to(EXAMPLE)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
    return target


def run_example(example: Path, rules: str | None = None) -> AuditReport:
    request = AuditRequest(
        target=str(example), rules=rules, overrides={"enable": ["complexity"], "jobs": 1}
    )
    return audit(request)


def test_default_rules_on_the_example(example: Path) -> None:
    report = run_example(example)
    assert report.ruleset is not None and report.ruleset.name == "default"
    assert report.score is not None
    assert (report.score.overall, report.score.grade) == (58.3, "D")
    failed = [o.rule_id for o in report.outcomes if o.status.value == "fail"]
    # rules of other families are skipped (their analyzers did not run) and leave the denominator
    assert failed == ["CX101", "CX102", "CX103", "CX104", "CX105"]
    assert [p.action for p in report.proposals] == ["reduce-function-complexity"]
    top = report.proposals[0]
    assert (top.severity.value, top.effort.value, top.impact, top.findings) == ("high", "L", 10, 8)
    assert [(e.rule_id, e.scope, e.value) for e in top.evidence[:2]] == [
        ("CX102", "monthly_report", 25),
        ("CX102", "price_order", 22),
    ]
    cx102 = [f for f in report.findings if f.rule_id == "CX102"]
    assert [(f.path, f.scope, f.line) for f in cx102] == [
        ("src/inventory/pricing.py", "price_order", 31),
        ("src/inventory/reports.py", "monthly_report", 8),
    ]


def test_strict_rules_change_score_and_proposals(example: Path) -> None:
    default = run_example(example)
    strict = run_example(example, str(STRICT))
    assert strict.ruleset is not None and (strict.ruleset.name, strict.ruleset.version) == (
        "strict",
        "1",
    )
    assert strict.score is not None and default.score is not None
    assert (strict.score.overall, strict.score.grade) == (48.1, "D")
    assert strict.score.overall < default.score.overall
    # CX101 at threshold 5 also catches StockLedger.reserve (6); CX120 at 60 lines catches pricing.py
    cx101 = next(o for o in strict.outcomes if o.rule_id == "CX101")
    assert (cx101.failed, cx101.total, cx101.severity.value) == (4, 11, "high")
    assert next(o for o in strict.outcomes if o.rule_id == "CX104").status.value == "ignored"
    assert [(p.action, p.quick_win) for p in strict.proposals] == [
        ("comment-the-why", True),
        ("reduce-function-complexity", False),
        ("split-large-files", False),
    ]
    assert strict.proposals[0].findings == 6  # every module lacks a comment
    split = strict.proposals[2]
    assert [(e.path, e.value) for e in split.evidence] == [("src/inventory/pricing.py", 78)]


def test_markdown_snapshot_of_the_example(cli: Callable[..., object], example: Path) -> None:
    result = cli(
        "run", str(example), "--analyzers", "complexity", "--rules", str(CX_ONLY),
        "--no-cache", "-j", "1", "-f", "markdown",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    text: str = result.stdout  # type: ignore[attr-defined]
    assert str(example) not in text and str(example.parent) not in text
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert text == SNAPSHOT.read_text(encoding="utf-8"), (
        "run with UPDATE_SNAPSHOTS=1 to accept changes"
    )
    again = cli(
        "run",
        str(example),
        "--analyzers",
        "complexity",
        "--rules",
        str(CX_ONLY),
        "-j",
        "1",
        "-f",
        "markdown",
    )
    assert again.stdout == text  # type: ignore[attr-defined]  # byte-identical, cached or not


def test_markdown_and_json_are_deterministic(example: Path) -> None:
    first, second = run_example(example, str(STRICT)), run_example(example, str(STRICT))
    assert markdown_report.render(first) == markdown_report.render(second)
    assert RenderFormat.JSON.to_renderer()(first) == RenderFormat.JSON.to_renderer()(second)
    data = json.loads(RenderFormat.JSON.to_renderer()(first))
    assert data["schema_version"] == 1
    assert data["score"]["overall"] == 48.1
    assert AuditReport.model_validate(data) == first


def test_markdown_tables_are_cut_and_stay_small(tmp_path: Path) -> None:
    many = "".join(
        f"def f{i}(x):\n"
        + "".join(f"    if x == {j}:\n        return {j}\n" for j in range(12))
        + "    return 0\n\n"
        for i in range(60)
    )
    (tmp_path / "big.py").write_text(many)
    report = run_audit(
        DirectorySnapshot(tmp_path),
        Settings(jobs=1),
        {"complexity": ComplexityAnalyzer},
        ruleset=default_ruleset(),
    )
    text = markdown_report.render(report)
    assert len([f for f in report.findings if f.rule_id == "CX101"]) == 60
    # CX101's 60 functions + CX103, CX104, CX105 at repository level; 10 shown as evidence
    assert "*53 more findings in the JSON report.*" in text
    assert "*50 more rows not shown; see the JSON report.*" in text  # the most complex functions
    assert len(text.encode()) < 100_000


def test_skipped_rules_when_analyzer_missing_appear_in_appendix(tmp_path: Path) -> None:
    report = run_audit(DirectorySnapshot(tmp_path), Settings(jobs=1), {}, ruleset=default_ruleset())
    assert report.score is not None and report.score.overall is None
    assert {o.status.value for o in report.outcomes} == {"skip"}
    text = markdown_report.render(report)
    assert (
        "| CX101 | Functions and methods have a cyclomatic complexity of at most 10 | analyzer complexity did not run |"
        in text
    )
    assert "**No score**" in text


def test_judge_adds_rules_to_a_report_without_them(example: Path) -> None:
    bare = run_audit(
        DirectorySnapshot(example), Settings(jobs=1), {"complexity": ComplexityAnalyzer}
    )
    assert bare.score is None and bare.outcomes == [] and bare.proposals == []
    judged = judge(bare, default_ruleset())
    assert judged.score is not None and judged.score.overall == 58.3


def test_run_fail_under_exit_codes(cli: Callable[..., object], example: Path) -> None:
    ok = cli(
        "run",
        str(example),
        "--analyzers",
        "complexity",
        "-j",
        "1",
        "-f",
        "json",
        "--fail-under",
        "58",
    )
    assert ok.exit_code == 0  # type: ignore[attr-defined]
    low = cli(
        "run",
        str(example),
        "--analyzers",
        "complexity",
        "-j",
        "1",
        "-f",
        "json",
        "--fail-under",
        "60",
    )
    assert low.exit_code == 1  # type: ignore[attr-defined]
    assert "score 58.3 is below --fail-under 60" in low.stderr  # type: ignore[attr-defined]
    assert json.loads(low.stdout)["score"]["grade"] == "D"  # type: ignore[attr-defined]  # the report is still written


def test_terminal_summary_shows_score_and_top_proposals(
    cli: Callable[..., object], example: Path
) -> None:
    result = cli(
        "run", str(example), "--analyzers", "complexity", "-j", "1", "--rules", str(STRICT)
    )
    out: str = result.stdout  # type: ignore[attr-defined]
    assert "Score 48.1 / 100  grade D  (rule set strict 1)" in out
    assert "Code complexity  48.1  D  11 passed, 6 failed, 0 skipped, 1 ignored" in out
    assert "Explain the non-obvious in comments" in out


def test_rules_from_config_file_in_the_target(cli: Callable[..., object], example: Path) -> None:
    shutil.copyfile(STRICT, example / "team-rules.toml")
    (example / ".ctoaudit.toml").write_text('rules = "team-rules.toml"\n')
    result = cli("run", str(example), "--analyzers", "complexity", "-j", "1", "-f", "json")
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    assert json.loads(result.stdout)["ruleset"]["name"] == "strict"  # type: ignore[attr-defined]
    (example / ".ctoaudit.toml").write_text('rules = "missing.toml"\n')
    missing = cli("run", str(example), "--analyzers", "complexity", "-j", "1", "-f", "json")
    assert missing.exit_code == 2  # type: ignore[attr-defined]
    assert ".ctoaudit.toml: rules: missing.toml is not a file in the target" in missing.stderr  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[rules]\n", "invalid TOML"),
        (
            'extends = "default"\n[overrides.CX101]\nthreshold = "ten"\n',
            "rule CX101: field threshold: Input should be a valid number",
        ),
        (
            'extends = "default"\n[overrides.CX101]\nmetric = "complexity.nope"\n',
            "rule CX101: field metric: unknown metric 'complexity.nope'",
        ),
        (
            'extends = "default"\n[overrides.CX101]\ncolour = 1\n',
            "rule CX101: field colour: Extra inputs are not permitted",
        ),
        (
            'extends = "default"\n[overrides.CX101]\nrequires = ["CX102"]\n[overrides.CX102]\nrequires = ["CX101"]\n',
            "rule CX101: field requires: cycle CX101 -> CX102 -> CX101",
        ),
        (
            '[[rules]]\nid = "CX101"\ntitle = "t"\nmetric = "complexity.cc"\noperator = "<"\nthreshold = 1\nproposal = "p"\n'
            * 2,
            "rule CX101: field id: duplicate id",
        ),
    ],
)
def test_bad_rule_files_exit_2_with_one_clear_message(
    cli: Callable[..., object], example: Path, tmp_path: Path, text: str, expected: str
) -> None:
    bad = tmp_path / "bad-rules.toml"
    bad.write_text(text)
    for args in (
        ("rules", "validate", str(bad)),
        ("run", str(example), "--analyzers", "complexity", "--rules", str(bad)),
    ):
        result = cli(*args)
        assert result.exit_code == 2, args  # type: ignore[attr-defined]
        stderr: str = result.stderr  # type: ignore[attr-defined]
        assert stderr.startswith(f"ctoaudit: error: {bad}: "), stderr
        assert expected in stderr
        assert "Traceback" not in stderr


def test_rules_list_show_validate_schema(cli: Callable[..., object]) -> None:
    listed = cli("rules", "list", "--json")
    data = json.loads(listed.stdout)  # type: ignore[attr-defined]
    assert data["name"] == "default" and len(data["rules"]) == len(default_ruleset().rules)
    table = cli("rules", "list", "--rules", str(STRICT))
    assert "CX901" in table.stdout and "(ignored: the mean" in table.stdout  # type: ignore[attr-defined]
    shown = cli("rules", "show", "cx102")
    assert "passes if  each complexity.cc <= 20 where kind in function, method" in shown.stdout  # type: ignore[attr-defined]
    missing = cli("rules", "show", "CX999")
    assert missing.exit_code == 2 and "no rule CX999" in missing.stderr  # type: ignore[attr-defined]
    ok = cli("rules", "validate", str(STRICT))
    assert ok.exit_code == 0  # type: ignore[attr-defined]
    count = len(default_ruleset().rules) + 1
    assert f"ok: rule set strict 1, {count} rules (1 ignored), families CX" in ok.stdout  # type: ignore[attr-defined]
    schema = json.loads(cli("rules", "schema").stdout)  # type: ignore[attr-defined]
    assert schema["title"] == "ctoaudit rule set"
    assert "Rule" in schema["$defs"] and schema["$defs"]["Rule"]["additionalProperties"] is False


def test_rule_file_schema_accepts_the_examples() -> None:
    import tomllib

    import jsonschema

    schema = loader.rule_file_schema()
    jsonschema.validate(tomllib.loads(STRICT.read_text()), schema)
    for path in sorted((ROOT / "src" / "ctoaudit" / "rules" / "default").glob("*.toml")):
        jsonschema.validate(tomllib.loads(path.read_text()), schema)


class _FakeEntryPoint:
    def __init__(self, name: str, value: object) -> None:
        self.name, self.value, self._obj = name, f"plugin:{name}", value

    def load(self) -> object:
        return self._obj


def test_rule_set_from_entry_point(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rules = tmp_path / "plugin.toml"
    rules.write_text('name = "acme"\nversion = "2"\nextends = "default"\nselect = ["CX102"]\n')
    monkeypatch.setattr(
        loader,
        "entry_points",
        lambda group: (
            [_FakeEntryPoint("acme", lambda: str(rules))]
            if group == loader.ENTRY_POINT_GROUP
            else []
        ),
    )
    rs = loader.load_ruleset("acme")
    assert (rs.name, rs.version, [r.id for r in rs.rules]) == ("acme", "2", ["CX102"])
    with pytest.raises(
        loader.ConfigError, match="unknown rule set 'nope'; available: acme, default"
    ):
        loader.load_ruleset("nope")


def test_markdown_is_a_render_format() -> None:
    assert RenderFormat.from_suffix("AUDIT.md") is RenderFormat.MARKDOWN
    for fmt in RenderFormat:
        assert callable(fmt.to_renderer())


def test_rules_file_from_git_objects_with_ref(
    cli: Callable[..., object], make_repo: Callable[..., object]
) -> None:
    repo = make_repo()
    repo.commit(
        {  # type: ignore[attr-defined]
            "app.py": "def f(x):\n    return x\n",
            ".ctoaudit.toml": 'rules = "ci/rules.toml"\n',
            "ci/rules.toml": 'name = "committed"\nextends = "default"\nselect = ["CX101"]\n',
        }
    )
    (repo.path / "ci" / "rules.toml").write_text('name = "working"\nextends = "base.toml"\n')  # type: ignore[attr-defined]
    (repo.path / "ci" / "base.toml").write_text('extends = "default"\nselect = ["CX102"]\n')  # type: ignore[attr-defined]
    at_ref = cli(
        "run", str(repo.path), "--ref", "HEAD", "--analyzers", "complexity", "-j", "1", "-f", "json"
    )  # type: ignore[attr-defined]
    assert at_ref.exit_code == 0, at_ref.stderr  # type: ignore[attr-defined]
    data = json.loads(at_ref.stdout)  # type: ignore[attr-defined]
    assert (data["ruleset"]["name"], [o["rule_id"] for o in data["outcomes"]]) == (
        "committed",
        ["CX101"],
    )
    assert data["score"]["overall"] == 100.0
    working = cli("run", str(repo.path), "--analyzers", "complexity", "-j", "1", "-f", "json")
    data = json.loads(working.stdout)  # type: ignore[attr-defined]
    assert (data["ruleset"]["name"], [o["rule_id"] for o in data["outcomes"]]) == (
        "working",
        ["CX102"],
    )


def test_markdown_sections_are_found_by_analyzer_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from ctoaudit.model import AnalyzerResult, Measurement
    from ctoaudit.render.markdown_sections import complexity

    assert markdown_report.section_for("complexity") is complexity.section
    other = AnalyzerResult(
        name="other-thing", version="1", measurements=[Measurement(metric="other.x", value=2.5)]
    )
    assert (
        markdown_report.section_for("other-thing")(other)
        == "### Other-thing\n\n| Metric | Value |\n| --- | --- |\n| `other.x` | 2.50 |"
    )
    monkeypatch.setitem(markdown_report.SECTIONS, "other-thing", lambda result: "### Custom")
    assert markdown_report.section_for("other-thing")(other) == "### Custom"
