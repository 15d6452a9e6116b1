"""`ctoaudit gate` end to end on real git repositories: verdicts against a ref and a saved baseline,
moved and renamed code, improvements, SARIF validity and the usage errors that exit 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from ctoaudit.baseline import BaselineSource, prepare
from ctoaudit.engine import AuditOptions, AuditRequest
from ctoaudit.exitcodes import ExitCode
from conftest import CliResult, GitRepo, git

SARIF_SCHEMA = Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json"
ANALYZERS = ("--analyzers", "complexity")


def function(name: str, complexity: int) -> str:
    """Source of a function whose cyclomatic complexity is exactly `complexity`."""
    body = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(complexity - 1))
    return f"def {name}(x):\n{body}    return 0\n"


SIMPLE = "def simple(x):\n    return x\n"
BASE = {"app/core.py": function("legacy", 15) + "\n\n" + SIMPLE, "app/util.py": SIMPLE}


@pytest.fixture
def repo(make_repo: Callable[..., GitRepo]) -> GitRepo:
    """main: one old complex function (CC 15, already a finding) and simple code."""
    r = make_repo()
    r.commit(BASE, "base")
    return r


def branch(repo: GitRepo, name: str, change: Callable[[GitRepo], None]) -> None:
    repo.git("checkout", "-q", "-b", name, "main")
    change(repo)
    repo.commit(message=name)


def add_complex(repo: GitRepo) -> None:
    repo.write({"app/new.py": function("parse_everything", 25)})


def move_to_other_file(repo: GitRepo) -> None:
    repo.write({"app/core.py": SIMPLE, "app/legacy.py": function("legacy", 15)})


def rename_file(repo: GitRepo) -> None:
    repo.git("mv", "app/core.py", "app/engine.py")


def simplify(repo: GitRepo) -> None:
    repo.write({"app/core.py": function("legacy", 3) + "\n\n" + SIMPLE})


def run_gate(cli, repo: GitRepo, how: str, tmp_path: Path, *extra: str) -> tuple[CliResult, dict]:
    """Gate the checked-out branch against main, by ref or by a baseline saved from main."""
    out = tmp_path / f"gate-{how}.json"
    if how == "ref":
        source = ("--baseline-ref", "main")
    else:
        saved = tmp_path / "baseline.json"
        if not saved.exists():
            written = cli(
                "baseline", "write", str(repo.path), "--ref", "main", "-o", str(saved), *ANALYZERS
            )
            assert written.exit_code == 0, written.stderr
        source = ("--baseline", str(saved))
    result = cli("gate", str(repo.path), *source, *ANALYZERS, "--json", str(out), *extra)
    assert "Traceback" not in result.stdout + result.stderr
    return result, json.loads(out.read_text())


def scopes(findings: list[dict]) -> set[tuple[str, str]]:
    return {(f["rule_id"], f["scope"]) for f in findings}


@pytest.mark.parametrize("how", ["ref", "file"])
def test_a_new_complex_function_fails_and_is_named(cli, repo, tmp_path, how) -> None:
    branch(repo, "feature", add_complex)
    result, data = run_gate(cli, repo, how, tmp_path)
    assert result.exit_code == ExitCode.GATE_FAILED
    assert "FAILED" in result.stdout
    assert "parse_everything (app/new.py:1)" in result.stdout
    assert data["passed"] is False
    assert scopes(data["new_findings"]) == {
        ("CX101", "parse_everything"),
        ("CX102", "parse_everything"),
    }
    assert data["resolved_findings"] == []
    assert data["score"]["before"] > data["score"]["after"]
    assert any(r.startswith("new high finding CX102 in parse_everything") for r in data["reasons"])


@pytest.mark.parametrize("how", ["ref", "file"])
def test_moving_a_complex_function_to_another_file_passes(cli, repo, tmp_path, how) -> None:
    branch(repo, "move", move_to_other_file)
    result, data = run_gate(cli, repo, how, tmp_path)
    assert result.exit_code == ExitCode.OK, result.stdout
    assert data["new_findings"] == [] and data["resolved_findings"] == []
    [moved] = data["moved_findings"]
    assert (moved["finding"]["rule_id"], moved["finding"]["scope"], moved["finding"]["path"]) == (
        "CX101",
        "legacy",
        "app/legacy.py",
    )
    assert (moved["before_path"], moved["how"]) == ("app/core.py", "moved")


@pytest.mark.parametrize("how", ["ref", "file"])
def test_renaming_the_file_is_followed_and_passes(cli, repo, tmp_path, how) -> None:
    branch(repo, "rename", rename_file)
    result, data = run_gate(cli, repo, how, tmp_path)
    assert result.exit_code == ExitCode.OK, result.stdout
    assert data["renames"] == {"app/core.py": "app/engine.py"}
    assert data["new_findings"] == [] and data["resolved_findings"] == []
    assert [(m["how"], m["finding"]["path"]) for m in data["moved_findings"]] == [
        ("renamed", "app/engine.py")
    ]
    assert "renamed: CX101 legacy from app/core.py to app/engine.py" in result.stdout


@pytest.mark.parametrize("how", ["ref", "file"])
def test_simplifying_passes_and_lists_the_improvement(cli, repo, tmp_path, how) -> None:
    branch(repo, "simplify", simplify)
    result, data = run_gate(cli, repo, how, tmp_path, "--format", "markdown")
    assert result.exit_code == ExitCode.OK
    md = result.stdout
    assert md.startswith("## ✅ ctoaudit gate passed")
    assert (
        "### Resolved findings" in md
        and "| CX101 | medium | `legacy` | `app/core.py:1` | 15 | 10 |" in md
    )
    assert "| `complexity.cc.max` | 15 | 3 | -12 | lower | - |" in md
    assert scopes(data["resolved_findings"]) >= {("CX101", "legacy")}
    assert data["score"]["after"] > data["score"]["before"]


def test_ref_and_saved_baseline_give_the_same_result(cli, repo, tmp_path) -> None:
    branch(repo, "feature", add_complex)
    by_ref = run_gate(cli, repo, "ref", tmp_path)[1]
    by_file = run_gate(cli, repo, "file", tmp_path)[1]
    for key in (
        "passed",
        "reasons",
        "new_findings",
        "resolved_findings",
        "moved_findings",
        "metrics",
        "score",
    ):
        assert by_ref[key] == by_file[key], key


def test_markdown_puts_the_verdict_first_with_figures_and_locations(cli, repo, tmp_path) -> None:
    branch(repo, "feature", add_complex)
    summary = tmp_path / "summary.md"
    result, _ = run_gate(cli, repo, "ref", tmp_path, "--markdown", str(summary))
    md = summary.read_text()
    assert md.splitlines()[0] == "## ❌ ctoaudit gate failed"
    assert md.splitlines()[2] == "3 regressions against the baseline:"
    assert (
        "| CX102 | high | `parse_everything` | `app/new.py:1` | 25 | 20 | complexity.cc = 25, expected <= 20 |"
        in md
    )
    assert md.index("### New findings") < md.index("## Also changed")
    assert "Compared `" in md and "with the baseline `" in md


def test_policy_from_config_and_flags(cli, repo, tmp_path) -> None:
    def lenient(r: GitRepo) -> None:
        add_complex(r)
        r.write(
            {"pyproject.toml": '[tool.ctoaudit.gate]\nfail_on = "critical"\nmax_score_drop = 50\n'}
        )

    branch(repo, "lenient", lenient)
    result, data = run_gate(cli, repo, "ref", tmp_path)
    assert result.exit_code == ExitCode.OK
    assert data["policy"]["fail_on"] == "critical"
    assert len(data["new_findings"]) == 2  # listed, not failing
    assert "new, below fail_on: CX102 parse_everything (app/new.py:1)" in result.stdout
    strict, data = run_gate(cli, repo, "ref", tmp_path, "--fail-on", "high")
    assert strict.exit_code == ExitCode.GATE_FAILED
    assert [r.split(" in ")[0] for r in data["reasons"]] == ["new high finding CX102"]
    tolerant, data = run_gate(cli, repo, "ref", tmp_path, "--tolerance", "complexity.cc.max=5")
    assert tolerant.exit_code == ExitCode.GATE_FAILED
    assert data["reasons"] == [
        "complexity.cc.max went from 15 to 25 (+10; tolerance 5, lower is better)"
    ]


def test_bad_policy_is_a_usage_error(cli, repo, tmp_path) -> None:
    branch(
        repo,
        "bad",
        lambda r: r.write({"pyproject.toml": "[tool.ctoaudit.gate]\nfail_on = 'sometimes'\n"}),
    )
    result = cli("gate", str(repo.path), "--baseline-ref", "main", *ANALYZERS)
    assert result.exit_code == ExitCode.USAGE
    assert "pyproject.toml [tool.ctoaudit]: gate.fail_on: Input should be" in result.stderr
    repo.git("checkout", "-q", "main")
    for flag in ("complexity.cc.max", "=1", "complexity.cc.max=x"):
        one_line_error(
            cli("gate", str(repo.path), "--baseline-ref", "main", "--tolerance", flag),
            "expected METRIC=NUMBER",
        )
    one_line_error(
        cli(
            "gate",
            str(repo.path),
            "--baseline-ref",
            "main",
            "--tolerance",
            "complexity.cc.max=-1",
            *ANALYZERS,
        ),
        "complexity.cc.max: a tolerance must be a finite number >= 0",
    )


def validate_sarif(text: str) -> dict:
    schema = json.loads(SARIF_SCHEMA.read_text())
    data = json.loads(text)
    jsonschema.Draft4Validator(schema).validate(data)
    return data


def test_sarif_of_run_and_gate_validates_against_the_official_schema(cli, repo, tmp_path) -> None:
    branch(repo, "feature", add_complex)
    run = cli("run", str(repo.path), "--format", "sarif", *ANALYZERS)
    assert run.exit_code == 0
    log = validate_sarif(run.stdout)
    assert log["version"] == "2.1.0"
    [sarif_run] = log["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} >= {"CX101", "CX102", "CX104"}
    cx102 = next(r for r in rules if r["id"] == "CX102")
    assert cx102["defaultConfiguration"]["level"] == "error"
    assert cx102["properties"]["severity"] == "high"
    assert "Refactor the 1 functions above complexity 20" in cx102["help"]["text"]
    new = next(r for r in sarif_run["results"] if r["ruleId"] == "CX102")
    assert new["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "app/new.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1},
    }
    assert len(new["partialFingerprints"]["ctoaudit/v1"]) == 16
    assert rules[new["ruleIndex"]]["id"] == "CX102"
    repo_level = [r for r in sarif_run["results"] if r["ruleId"] == "CX104"]
    assert (
        repo_level
        and repo_level[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "."
    )

    sarif_file = tmp_path / "gate.sarif"
    run_gate(cli, repo, "ref", tmp_path, "--sarif", str(sarif_file))
    gate_log = validate_sarif(sarif_file.read_text())
    states = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]): r[
            "baselineState"
        ]
        for r in gate_log["runs"][0]["results"]
    }
    assert states[("CX102", "app/new.py")] == "new"
    assert states[("CX101", "app/core.py")] == "unchanged"


def one_line_error(result: CliResult, *expected: str) -> None:
    assert result.exit_code == ExitCode.USAGE, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ctoaudit: error: "), result.stderr
    for text in expected:
        assert text in lines[0]


def test_shallow_clone_exits_2_with_advice(cli, repo, tmp_path) -> None:
    branch(repo, "feature", add_complex)
    clone = tmp_path / "shallow"
    git(
        tmp_path,
        "clone",
        "-q",
        "--depth",
        "1",
        "--branch",
        "feature",
        f"file://{repo.path}",
        str(clone),
    )
    result = cli("gate", str(clone), "--baseline-ref", "origin/main", *ANALYZERS)
    one_line_error(result, "shallow clone", "fetch-depth: 0")


def test_missing_baseline_ref_exits_2(cli, repo) -> None:
    result = cli("gate", str(repo.path), "--baseline-ref", "origin/nope", *ANALYZERS)
    one_line_error(result, "baseline ref 'origin/nope' not found", "git fetch origin nope")


def test_baseline_from_an_older_schema_version_exits_2(cli, repo, tmp_path) -> None:
    saved = tmp_path / "old.json"
    assert cli("baseline", "write", str(repo.path), "-o", str(saved), *ANALYZERS).exit_code == 0
    data = json.loads(saved.read_text())
    data["schema_version"] = 0
    saved.write_text(json.dumps(data))
    one_line_error(
        cli("gate", str(repo.path), "--baseline", str(saved), *ANALYZERS),
        "schema version 0",
        "re-create",
    )


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"schema_version": 1, "tool": 3}', ""])
def test_corrupt_baseline_file_exits_2(cli, repo, tmp_path, content) -> None:
    saved = tmp_path / "corrupt.json"
    saved.write_text(content)
    one_line_error(cli("gate", str(repo.path), "--baseline", str(saved), *ANALYZERS), str(saved))


def test_missing_baseline_file_and_no_baseline_exit_2(cli, repo, tmp_path) -> None:
    one_line_error(
        cli("gate", str(repo.path), "--baseline", str(tmp_path / "none.json"), *ANALYZERS),
        "baseline file not found",
    )
    one_line_error(
        cli("gate", str(repo.path), *ANALYZERS),
        "exactly one of --baseline FILE and --baseline-ref REF",
    )


def test_both_sides_are_audited_as_of_one_instant(repo, tmp_path) -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    ticks: list[datetime] = []

    def clock() -> datetime:
        ticks.append(start + timedelta(seconds=len(ticks)))
        return ticks[-1]

    request = AuditRequest(target=str(repo.path), overrides={"enable": ["complexity"]})
    inputs = prepare(
        request, BaselineSource(ref="main"), AuditOptions(clock=clock, timestamps=True)
    )
    assert ticks == [start]
    assert inputs.as_of == inputs.baseline.generated_at == inputs.current.generated_at == start

    saved = inputs.baseline.model_copy(update={"generated_at": datetime(2024, 6, 1, tzinfo=UTC)})
    path = tmp_path / "b.json"
    from ctoaudit.render.json_report import render

    path.write_text(render(saved))
    by_file = prepare(
        request, BaselineSource(file=path), AuditOptions(clock=clock, timestamps=True)
    )
    # the current side is audited as of the baseline's instant, so time passing changes nothing
    assert by_file.as_of == by_file.current.generated_at == datetime(2024, 6, 1, tzinfo=UTC)


def test_gate_in_a_subfolder_follows_renames_inside_it(cli, repo, tmp_path) -> None:
    branch(repo, "rename", rename_file)
    out = tmp_path / "sub.json"
    result = cli(
        "gate", str(repo.path / "app"), "--baseline-ref", "main", *ANALYZERS, "--json", str(out)
    )
    assert result.exit_code == ExitCode.OK, result.stdout + result.stderr
    data = json.loads(out.read_text())
    assert data["renames"] == {"core.py": "engine.py"}
    assert [m["how"] for m in data["moved_findings"]] == ["renamed"]


def test_uncommitted_rename_in_the_work_tree_is_followed(cli, repo, tmp_path) -> None:
    repo.git("mv", "app/core.py", "app/engine.py")  # staged, not committed
    out = tmp_path / "wt.json"
    result = cli("gate", str(repo.path), "--baseline-ref", "main", *ANALYZERS, "--json", str(out))
    assert result.exit_code == ExitCode.OK, result.stdout
    assert json.loads(out.read_text())["renames"] == {"app/core.py": "app/engine.py"}


ROOT = Path(__file__).parents[1]


def test_ci_integrations_gate_pull_requests_with_full_history() -> None:
    workflow = (ROOT / "examples" / "ci" / "github-actions.yml").read_text()
    assert "pull_request:" in workflow and "fetch-depth: 0" in workflow
    assert "github/codeql-action/upload-sarif" in workflow and "security-events: write" in workflow
    action = (ROOT / "action.yml").read_text()
    assert "using: composite" in action and 'cat "$markdown" >> "$GITHUB_STEP_SUMMARY"' in action
    assert "${{ inputs." not in action.split("run: |", 1)[1]  # inputs reach scripts via env only
    gitlab = (ROOT / "examples" / "ci" / "gitlab-ci.yml").read_text()
    assert (
        'GIT_DEPTH: "0"' in gitlab and '--baseline-ref "$CI_MERGE_REQUEST_DIFF_BASE_SHA"' in gitlab
    )
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "id: ctoaudit-gate" in hooks and "entry: ctoaudit gate --baseline-ref HEAD" in hooks


def test_gate_policy_from_a_dotfile_config(cli, repo, tmp_path) -> None:
    def lenient(r: GitRepo) -> None:
        add_complex(r)
        r.write({".ctoaudit.toml": '[gate]\nfail_on = "critical"\nmax_score_drop = 100\n'})

    branch(repo, "dotfile", lenient)
    result, data = run_gate(cli, repo, "file", tmp_path)
    assert result.exit_code == ExitCode.OK
    assert data["policy"] == {
        "fail_on": "critical",
        "fail_on_worse": False,
        "max_score_drop": 100.0,
        "tolerances": {},
    }


def test_baseline_ref_needs_git(cli, tmp_path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.py").write_text(SIMPLE)
    one_line_error(
        cli("gate", str(plain), "--baseline-ref", "main", *ANALYZERS),
        "--baseline-ref needs a git repository",
    )


def test_gate_against_a_saved_baseline_is_byte_identical_run_to_run(cli, repo, tmp_path) -> None:
    branch(repo, "feature", add_complex)
    first = run_gate(cli, repo, "file", tmp_path, "--format", "markdown")[0]
    second = run_gate(cli, repo, "file", tmp_path, "--format", "markdown")[0]
    assert first.stdout == second.stdout
    assert "both as of " in first.stdout  # the baseline's instant, not "now"


def test_run_writes_sarif_by_suffix(cli, repo, tmp_path) -> None:
    out = tmp_path / "audit.sarif"
    assert cli("run", str(repo.path), "-o", str(out), *ANALYZERS).exit_code == 0
    assert validate_sarif(out.read_text())["runs"][0]["results"]


def test_a_saved_baseline_works_in_a_shallow_clone_and_says_renames_were_not_followed(
    cli, repo, tmp_path
) -> None:
    saved = tmp_path / "baseline.json"
    assert cli("baseline", "write", str(repo.path), "-o", str(saved), *ANALYZERS).exit_code == 0
    branch(repo, "rename", rename_file)
    repo.commit(
        {"app/other.py": SIMPLE}, "second"
    )  # so the depth-1 clone lacks the baseline commit
    clone = tmp_path / "shallow"
    git(
        tmp_path,
        "clone",
        "-q",
        "--depth",
        "1",
        "--branch",
        "rename",
        f"file://{repo.path}",
        str(clone),
    )
    out = tmp_path / "r.json"
    result = cli("gate", str(clone), "--baseline", str(saved), *ANALYZERS, "--json", str(out))
    data = json.loads(out.read_text())
    # without the baseline commit the rename cannot be seen: the file-level view differs, said plainly
    assert any(
        n.startswith("renamed files not followed: the baseline commit") for n in data["notes"]
    )
    # the function itself is still matched by rule and name, so it is not new
    assert [(m["how"], m["finding"]["scope"]) for m in data["moved_findings"]] == [
        ("moved", "legacy")
    ]
    assert result.exit_code == ExitCode.OK


def test_an_existing_function_that_grew_more_complex_is_listed_and_fails_on_request(
    cli, repo, tmp_path
) -> None:
    branch(
        repo, "grow", lambda r: r.write({"app/core.py": function("legacy", 19) + "\n\n" + SIMPLE})
    )
    result, data = run_gate(cli, repo, "ref", tmp_path, "--format", "markdown")
    assert result.exit_code == ExitCode.OK
    assert "### Existing findings that got worse (`fail_on_worse` is off)" in result.stdout
    assert "| CX101 | medium | `legacy` | `app/core.py:1` | 15 | 19 | 10 |" in result.stdout
    strict, data = run_gate(cli, repo, "ref", tmp_path, "--fail-on-worse")
    assert strict.exit_code == ExitCode.GATE_FAILED
    assert data["reasons"] == [
        "medium finding CX101 in legacy (app/core.py:1) got worse: complexity.cc went from 15 to 19",
        "low finding CX104 in the repository got worse: complexity.cc.mean went from 5.67 to 7",
        "low finding CX105 in the repository got worse: complexity.cc.p90 went from 15 to 19",
    ]


def test_merge_base_compares_with_the_fork_point_not_the_moving_base(cli, repo, tmp_path) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"app/util.py": SIMPLE + "\n\ndef helper(y):\n    return y\n"}, "feature work")
    repo.git("checkout", "-q", "main")
    repo.commit({"app/core.py": SIMPLE}, "main fixed legacy meanwhile")
    repo.git("checkout", "-q", "feature")
    tip, tip_data = run_gate(cli, repo, "ref", tmp_path)
    # against main's tip the untouched legacy function looks new: main dropped it after the fork
    assert tip.exit_code == ExitCode.GATE_FAILED
    assert ("CX101", "legacy") in scopes(tip_data["new_findings"])
    fork, fork_data = run_gate(cli, repo, "ref", tmp_path, "--merge-base")
    assert fork.exit_code == ExitCode.OK, fork.stdout
    assert fork_data["new_findings"] == []
    assert fork_data["baseline"]["commit"] == repo.git("merge-base", "main", "feature").strip()
    one_line_error(
        cli("gate", str(repo.path), "--baseline", str(tmp_path / "x.json"), "--merge-base"),
        "--merge-base needs --baseline-ref",
    )


def test_every_gate_format_prints_on_stdout(cli, repo) -> None:
    from ctoaudit.cli.gate import GateFormat

    branch(repo, "feature", add_complex)
    for fmt in GateFormat:
        result = cli(
            "gate", str(repo.path), "--baseline-ref", "main", *ANALYZERS, "--format", fmt.value
        )
        assert result.exit_code == ExitCode.GATE_FAILED, fmt
        if fmt is GateFormat.JSON:
            assert json.loads(result.stdout)["passed"] is False
        elif fmt is GateFormat.SARIF:
            assert validate_sarif(result.stdout)["runs"][0]["results"]
        else:
            assert "parse_everything" in result.stdout


def test_pre_commit_style_gate_of_staged_work_against_head(cli, repo) -> None:
    repo.write({"app/new.py": function("parse_everything", 25)})
    repo.git("add", "app/new.py")
    result = cli("gate", str(repo.path), "--baseline-ref", "HEAD", "--quiet", *ANALYZERS)
    assert result.exit_code == ExitCode.GATE_FAILED
    assert "(main) with uncommitted changes against" in result.stdout  # the work tree, not HEAD
    assert "parse_everything (app/new.py:1)" in result.stdout
    repo.git("rm", "-q", "--cached", "app/new.py")
    (repo.path / "app" / "new.py").unlink()
    assert (
        cli("gate", str(repo.path), "--baseline-ref", "HEAD", *ANALYZERS).exit_code == ExitCode.OK
    )


def test_programs_named_in_the_repositorys_git_config_never_run(cli, repo, tmp_path) -> None:
    marker = tmp_path / "ran"
    script = tmp_path / "fsmonitor.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    repo.git("config", "core.fsmonitor", str(script))
    repo.write({"app/util.py": SIMPLE + "\n\ndef extra(y):\n    return y\n"})  # a dirty work tree
    assert cli("run", str(repo.path), *ANALYZERS, "--format", "json").exit_code == 0
    assert (
        cli("gate", str(repo.path), "--baseline-ref", "HEAD", *ANALYZERS).exit_code == ExitCode.OK
    )
    assert not marker.exists()
