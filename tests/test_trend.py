"""`ctoaudit trend` audits each revision from git objects, like `run --ref`, and never touches the work tree."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import git as gitpython
import pytest
from conftest import CliResult, GitRepo
from test_history import build_history

from ctoaudit.errors import UsageError
from ctoaudit.trend import Selection, select_revisions


def repo_figures(report: dict[str, object]) -> dict[str, float]:
    analyzers = report["analyzers"]
    assert isinstance(analyzers, dict)
    return {
        m["metric"]: m["value"]
        for result in analyzers.values()
        for m in result["measurements"]
        if m["scope"] == "repo"
    }


def test_trend_equals_run_ref_for_each_revision(
    make_repo: Callable[..., GitRepo], cli: Callable[..., CliResult]
) -> None:
    repo = build_history(make_repo)
    result = cli(
        "trend",
        str(repo.path),
        "--last",
        "4",
        "--format",
        "json",
        "--analyzers",
        "complexity,history",
    )
    assert result.exit_code == 0, result.stderr
    trend = json.loads(result.stdout)
    shas = repo.git("log", "--first-parent", "-n", "4", "--format=%H").split()[::-1]
    assert [p["commit"] for p in trend["points"]] == shas
    for point in trend["points"]:
        run = cli(
            "run",
            str(repo.path),
            "--ref",
            point["commit"],
            "--format",
            "json",
            "--analyzers",
            "complexity,history",
        )
        assert run.exit_code == 0, run.stderr
        audited = json.loads(run.stdout)
        assert point["metrics"] == repo_figures(audited)
        assert (point["score"], point["grade"]) == (
            audited["score"]["overall"],
            audited["score"]["grade"],
        )
        assert point["score"] is not None
    assert trend["points"][-1]["metrics"]["history.bus_factor"] == 2
    assert trend["key_metrics"][0] == "complexity.sloc.total"


def test_trend_leaves_work_tree_index_and_head_alone(
    make_repo: Callable[..., GitRepo], cli: Callable[..., CliResult]
) -> None:
    repo = build_history(make_repo)
    repo.git("checkout", "-q", "--detach", "HEAD~2")
    (repo.path / "a.py").write_text("dirty = True\n")
    (repo.path / "new.py").write_text("untracked = 1\n")
    repo.git("add", "new.py")
    before = (
        repo.git("status", "--porcelain=v2", "--branch"),
        repo.git("rev-parse", "HEAD"),
        (repo.path / ".git" / "index").read_bytes(),
        (repo.path / "a.py").read_bytes(),
    )
    result = cli("trend", str(repo.path), "--ref", "main", "--last", "5", "--format", "json")
    assert result.exit_code == 0, result.stderr
    after = (
        repo.git("status", "--porcelain=v2", "--branch"),
        repo.git("rev-parse", "HEAD"),
        (repo.path / ".git" / "index").read_bytes(),
        (repo.path / "a.py").read_bytes(),
    )
    assert after == before


def test_every_month_picks_the_last_commit_of_each_period(
    make_repo: Callable[..., GitRepo],
) -> None:
    repo = build_history(make_repo)
    handle = gitpython.Repo(repo.path)
    head = handle.head.commit.hexsha
    picked = select_revisions(handle, head, Selection(since="3 months", every="month").validated())
    subjects = {
        c.hexsha: c.committed_datetime.date().isoformat()
        for c in handle.iter_commits("main", first_parent=True)
    }
    # Boundaries 2024-05-10, 04-10, 03-10, 02-10 (10:00): the newest first-parent commit at or before each.
    assert [subjects[sha] for sha, _ in picked] == [
        "2024-02-10",
        "2024-03-10",
        "2024-04-10",
        "2024-05-10",
    ]


def test_markdown_has_a_table_and_mermaid_charts(
    make_repo: Callable[..., GitRepo], cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    repo = build_history(make_repo)
    out = tmp_path / "trend.md"
    result = cli(
        "trend", str(repo.path), "--last", "3", "-o", str(out), "--analyzers", "complexity,history"
    )
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert "| Date | Commit | Score | SLOC |" in text
    assert "```mermaid\nxychart-beta" in text
    assert "## Score" in text
    assert "## Bus factor" in text
    terminal = cli("trend", str(repo.path), "--last", "3", "--analyzers", "complexity,history")
    assert "Bus factor" in terminal.stdout
    assert terminal.stdout.count("2024-0") == 3


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        (Selection(last=3, since="1y"), "not both"),
        (Selection(every="month"), "--every needs --since"),
        (Selection(last=0), "at least 1"),
        (Selection(since="a while"), "not a length of time"),
    ],
)
def test_bad_selections_are_usage_errors(selection: Selection, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        selection.validated()


def test_empty_repo_and_bad_flags_exit_2(
    make_repo: Callable[..., GitRepo], cli: Callable[..., CliResult]
) -> None:
    repo = make_repo("empty")
    result = cli("trend", str(repo.path))
    assert result.exit_code == 2
    assert "no commits yet" in result.stderr
    assert cli("trend", str(repo.path), "--last", "2", "--since", "1y").exit_code == 2


def test_shallow_clone_warns_to_fetch_everything(
    make_repo: Callable[..., GitRepo], cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    repo = build_history(make_repo)
    clone = tmp_path / "shallow"
    repo.git("clone", "-q", "--depth", "2", f"file://{repo.path}", str(clone))
    result = cli(
        "trend", str(clone), "--last", "5", "--format", "json", "--analyzers", "complexity"
    )
    assert result.exit_code == 0, result.stderr
    trend = json.loads(result.stdout)
    assert len(trend["points"]) == 2
    assert any("fetch-depth: 0" in w for w in trend["warnings"])


def test_output_to_dev_null_keeps_the_device() -> None:
    import os
    import stat

    from ctoaudit.atomic import write_atomic

    write_atomic(Path(os.devnull), "text\n")
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)


def test_trend_json_is_byte_identical_across_runs(
    make_repo: Callable[..., GitRepo], cli: Callable[..., CliResult]
) -> None:
    repo = build_history(make_repo)
    args = ("trend", str(repo.path), "--since", "3 months", "--every", "month", "--format", "json")
    first, second = cli(*args), cli(*args, "--no-cache")
    assert first.exit_code == 0, first.stderr
    assert first.stdout == second.stdout
    assert json.loads(first.stdout)["selection"] == "since 3 months, every month"


def test_a_revision_with_a_broken_config_is_a_gap_not_a_crash(
    make_repo: Callable[..., GitRepo], cli: Callable[..., CliResult]
) -> None:
    repo = make_repo()
    repo.commit({"a.py": "A = 1\n"}, date="2024-01-01T10:00:00+00:00")
    broken = repo.commit(
        {"pyproject.toml": "[tool.ctoaudit]\nexclude = 5\n"}, date="2024-01-02T10:00:00+00:00"
    )
    repo.commit(
        {"pyproject.toml": "[tool.ctoaudit]\nexclude = []\n"}, date="2024-01-03T10:00:00+00:00"
    )
    result = cli(
        "trend", str(repo.path), "--last", "3", "--format", "json", "--analyzers", "complexity"
    )
    assert result.exit_code == 0, result.stderr
    trend = json.loads(result.stdout)
    gap = trend["points"][1]
    assert gap["commit"] == broken
    assert gap["metrics"] == {}
    assert gap["error"].startswith("not audited: ")
    assert "pyproject.toml" in gap["error"]
    assert any(w.startswith(broken[:12]) for w in trend["warnings"])
    assert trend["points"][2]["metrics"]["complexity.files"] == 1


def test_a_plain_folder_is_a_usage_error(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    result = cli("trend", str(folder))
    assert result.exit_code == 2
    assert "not a git repository" in result.stderr


def test_each_revision_is_scored_by_its_own_rule_file(
    make_repo: Callable[..., GitRepo], cli: Callable[..., CliResult]
) -> None:
    repo = make_repo()
    # mean complexity 2: passes CX104 (<= 5) by default; a rule file in the tree tightens it to 1
    code = {"a.py": "def f(x):\n    if x:\n        return 1\n    return 2\n"}
    repo.commit(code, date="2024-01-01T10:00:00+00:00")
    strict = 'extends = "default"\n[overrides.CX104]\nthreshold = 1\n'
    repo.commit(
        {".ctoaudit.toml": 'rules = "team.toml"\n', "team.toml": strict},
        date="2024-01-02T10:00:00+00:00",
    )
    repo.commit({"team.toml": strict.replace("= 1", "= 9")}, date="2024-01-03T10:00:00+00:00")
    result = cli(
        "trend", str(repo.path), "--last", "3", "--format", "json", "--analyzers", "complexity"
    )
    assert result.exit_code == 0, result.stderr
    points = json.loads(result.stdout)["points"]
    scores = [p["score"] for p in points]
    assert scores[0] == scores[2] != scores[1]
    for point in points:
        run = cli(
            "run",
            str(repo.path),
            "--ref",
            point["commit"],
            "-f",
            "json",
            "--analyzers",
            "complexity",
        )
        assert json.loads(run.stdout)["score"]["overall"] == point["score"]


def test_rules_flag_scores_every_revision_with_that_rule_set(
    make_repo: Callable[..., GitRepo], cli: Callable[..., CliResult]
) -> None:
    repo = build_history(make_repo)
    cx_only = str(Path(__file__).parent / "snapshots" / "cx-rules.toml")
    common = ("--format", "json", "--analyzers", "complexity,history", "--rules", cx_only)
    result = cli("trend", str(repo.path), "--last", "2", *common)
    assert result.exit_code == 0, result.stderr
    for point in json.loads(result.stdout)["points"]:
        run = json.loads(cli("run", str(repo.path), "--ref", point["commit"], *common).stdout)
        assert run["ruleset"]["name"] == "default-cx"
        assert [f["family"] for f in run["score"]["families"]] == ["CX"]
        assert point["score"] == run["score"]["overall"]


def test_trend_collects_each_tooling_file_version_once_and_matches_run_ref(
    make_repo: Callable[..., GitRepo], cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ctoaudit.analyzers.tooling as tooling_module  # noqa: PLC0415

    repo = make_repo()
    workflow = "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n"
    repo.commit({".github/workflows/ci.yml": workflow, "pyproject.toml": "[tool.ruff]\n"})
    repo.commit({"app.py": "x = 1\n"})
    repo.commit({"pyproject.toml": "[tool.ruff]\nline-length = 100\n"})
    collected: list[str] = []
    real = tooling_module._collect_one

    def counting(context, entry, collector):  # type: ignore[no-untyped-def]
        collected.append(entry.path)
        return real(context, entry, collector)

    monkeypatch.setattr(tooling_module, "_collect_one", counting)
    result = cli("trend", str(repo.path), "--last", "3", "-f", "json", "--analyzers", "tooling")
    assert result.exit_code == 0, result.stderr
    # the workflow never changed: read once; pyproject.toml has two versions
    assert sorted(collected) == [".github/workflows/ci.yml", "pyproject.toml", "pyproject.toml"]
    points = json.loads(result.stdout)["points"]
    for point in points:
        run = cli("run", str(repo.path), "--ref", point["commit"], "-f", "json", "--analyzers", "tooling")
        assert run.exit_code == 0, run.stderr
        assert point["metrics"] == repo_figures(json.loads(run.stdout))
