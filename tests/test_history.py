"""The history analyzer's figures equal those computed by hand for a small, fixed history."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import git as gitpython
import pytest

from ctoaudit.analyzers.complexity import ComplexityAnalyzer
from ctoaudit.analyzers.history import HistoryAnalyzer, bus_factor, parse_span
from ctoaudit.config import Settings
from ctoaudit.engine import run_audit
from ctoaudit.model import AnalyzerResult
from ctoaudit.snapshot import CommitSnapshot, DirectorySnapshot, WorkingTreeSnapshot
from conftest import GitRepo, git

ALICE = "Alice <alice@example.com>"
BOB = "Bob <bob@example.com>"
BOB_OLD = "Robert <bob@old.example>"
CAROL = "Carol <carol@example.com>"
DAVE = "Dave <dave@example.com>"
ANALYZERS = {"complexity": ComplexityAnalyzer, "history": HistoryAnalyzer}

A1 = "def f(x):\n    if x:\n        return 1\n    return 2\n"
A2 = "def f(x):\n    if x:\n        return 1\n    return 3\nZ = 0\n"
A3 = A2 + "W = 1\n"
A4 = A3 + "V = 2\n"
C1 = "def g(a, b, c, d):\n    return a and b and c and d or a or b or c\nY = 0\n"


def build_history(make_repo: Callable[..., GitRepo]) -> GitRepo:
    """The history the expected figures below were computed from (window: 12 months to 2024-05-10)."""
    repo = make_repo()
    repo.commit({"e.py": "x = 1\ny = 2\n"}, author=DAVE, date="2022-01-01T10:00:00+00:00")
    repo.commit({"a.py": A1, "b.txt": "one\ntwo\n"}, author=ALICE, date="2024-01-10T10:00:00+00:00")
    repo.commit({"a.py": A2, "c.py": C1}, author=BOB, date="2024-02-10T10:00:00+00:00")
    repo.commit({"a.py": A3}, author=ALICE, date="2024-03-10T10:00:00+00:00")
    repo.commit({"a.py": A4}, author=ALICE, date="2024-03-12T10:00:00+00:00")
    repo.git("checkout", "-q", "-b", "feat")
    repo.commit(
        {"f.py": "def h(x):\n    return x or 1\n"}, author=CAROL, date="2024-03-15T10:00:00+00:00"
    )
    repo.git("checkout", "-q", "main")
    repo.git("mv", "c.py", "d.py")
    repo.commit({"b.txt": "one\nTWO\n"}, author=CAROL, date="2024-04-10T10:00:00+00:00")
    env = {
        "GIT_AUTHOR_DATE": "2024-04-20T10:00:00+00:00",
        "GIT_COMMITTER_DATE": "2024-04-20T10:00:00+00:00",
    }
    git(repo.path, "merge", "-q", "--no-ff", "-m", "merge feat", "feat", env=env)
    repo.commit(
        {"d.py": C1 + "X = 1\n", ".mailmap": "Bob <bob@example.com> <bob@old.example>\n"},
        author=BOB_OLD,
        date="2024-05-10T10:00:00+00:00",
    )
    return repo


def per_file(result: AnalyzerResult, metric: str) -> dict[str, float]:
    return {m.scope: m.value for m in result.measurements if m.metric == metric and m.path}


def audit_history(snapshot: object, settings: Settings | None = None) -> AnalyzerResult:
    report = run_audit(snapshot, settings or Settings(), ANALYZERS)  # type: ignore[arg-type]
    return report.analyzers["history"]


def test_figures_equal_the_hand_computed_ones(make_repo: Callable[..., GitRepo]) -> None:
    repo = build_history(make_repo)
    result = audit_history(CommitSnapshot(gitpython.Repo(repo.path), "HEAD"))
    assert result.skips == []
    # Window 2023-05-10 .. 2024-05-10: e.py's commit is out, the merge is not counted, c.py -> d.py.
    assert per_file(result, "history.commits") == {
        "a.py": 4,
        "b.txt": 2,
        "d.py": 3,
        "f.py": 1,
        ".mailmap": 1,
    }
    assert per_file(result, "history.authors") == {
        "a.py": 2,
        "b.txt": 2,
        "d.py": 2,
        "f.py": 1,
        ".mailmap": 1,
    }
    assert per_file(result, "history.lines_added") == {
        "a.py": 8,
        "b.txt": 3,
        "d.py": 4,
        "f.py": 2,
        ".mailmap": 1,
    }
    assert per_file(result, "history.lines_deleted") == {
        "a.py": 1,
        "b.txt": 1,
        "d.py": 0,
        "f.py": 0,
        ".mailmap": 0,
    }
    assert per_file(result, "history.churn") == {
        "a.py": 9,
        "b.txt": 4,
        "d.py": 4,
        "f.py": 2,
        ".mailmap": 1,
    }
    assert per_file(result, "history.top_author_share") == {
        "a.py": 0.75, "b.txt": 0.5, "d.py": 0.6667, "f.py": 1.0, ".mailmap": 1.0,
    }  # fmt: skip
    assert per_file(result, "history.last_change_days") == {
        "a.py": 59,
        "b.txt": 30,
        "d.py": 0,
        "f.py": 56,
        ".mailmap": 0,
    }
    # churn x cc_total: d.py 4 x 7, a.py 9 x 2, f.py 2 x 2
    assert per_file(result, "history.hotspot_score") == {"d.py": 28, "a.py": 18, "f.py": 4}
    assert per_file(result, "history.hotspot_rank") == {"d.py": 1, "a.py": 2, "f.py": 3}
    top = next(
        m for m in result.measurements if m.metric == "history.hotspot_score" and m.scope == "d.py"
    )
    assert top.labels == {"churn": "4", "cc_total": "7", "sloc": "4"}
    # 7 commits: Alice 3, Bob 2 (two addresses joined by .mailmap), Carol 2 -> half needs 2 authors
    assert {m.metric: m.value for m in result.measurements if m.scope == "repo"} == {
        "history.commits.total": 7,
        "history.authors.active": 3,
        "history.bus_factor": 2,
        "history.commits_per_week": round(7 / (366 / 7), 4),
        "history.window_days": 366,
        "history.files.changed": 5,
        "history.files.single_owner": 2,
        "history.files.single_owner.share": 0.4,
        "history.churn.total": 20,
    }


def test_working_tree_and_detached_head_give_the_same_figures(
    make_repo: Callable[..., GitRepo],
) -> None:
    repo = build_history(make_repo)
    handle = gitpython.Repo(repo.path)
    expected = audit_history(CommitSnapshot(handle, "HEAD"))
    assert (
        audit_history(WorkingTreeSnapshot(handle, repo.path)).measurements == expected.measurements
    )
    repo.git("checkout", "-q", "--detach", "HEAD")
    detached = gitpython.Repo(repo.path)
    assert (
        audit_history(WorkingTreeSnapshot(detached, repo.path)).measurements
        == expected.measurements
    )


def test_window_option_widens_the_history(make_repo: Callable[..., GitRepo]) -> None:
    repo = build_history(make_repo)
    settings = Settings.model_validate({"analyzers": {"history": {"since": "5 years"}}})
    result = audit_history(CommitSnapshot(gitpython.Repo(repo.path), "HEAD"), settings)
    assert per_file(result, "history.commits")["e.py"] == 1
    assert result.repo_value("history.authors.active") == 4


def test_bus_factor_follows_chaoss() -> None:
    assert bus_factor({"a": 5, "b": 3, "c": 2}) == 1
    assert bus_factor({"a": 3, "b": 2, "c": 2}) == 2
    assert bus_factor({"a": 1, "b": 1, "c": 1, "d": 1}) == 2
    assert bus_factor({}) == 0


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("12 months", "2023-03-31"),
        ("1y", "2023-03-31"),
        ("1 month", "2024-02-29"),
        ("6w", "2024-02-18"),
        ("90 days", "2024-01-01"),
    ],
)
def test_spans_move_the_calendar(text: str, start: str) -> None:
    end = datetime(2024, 3, 31, tzinfo=UTC)
    assert parse_span(text).before(end).date().isoformat() == start


def test_bad_span_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a length of time"):
        parse_span("soon")


def test_shallow_clone_is_skipped_with_the_fix(
    make_repo: Callable[..., GitRepo], tmp_path: Path
) -> None:
    repo = build_history(make_repo)
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo.path}", "shallow")
    result = audit_history(
        WorkingTreeSnapshot(gitpython.Repo(tmp_path / "shallow"), tmp_path / "shallow")
    )
    assert result.measurements == []
    assert "fetch-depth: 0" in result.skips[0].reason


def test_empty_repo_and_plain_folder_are_skipped(
    make_repo: Callable[..., GitRepo], tmp_path: Path
) -> None:
    repo = make_repo("empty")
    result = audit_history(WorkingTreeSnapshot(gitpython.Repo(repo.path), repo.path))
    assert [s.reason for s in result.skips] == ["the repository has no commits yet"]
    folder = tmp_path / "plain"
    folder.mkdir()
    result = audit_history(DirectorySnapshot(folder))
    assert [s.reason for s in result.skips] == ["not a git repository: no history to read"]


def test_no_commits_in_the_window_is_said(make_repo: Callable[..., GitRepo]) -> None:
    repo = make_repo()
    repo.commit({"a.py": "A = 1\n"}, date="2020-01-01T10:00:00+00:00")
    repo.git("checkout", "-q", "-b", "side")
    repo.commit({"b.py": "B = 1\n"}, date="2020-02-01T10:00:00+00:00")
    repo.git("checkout", "-q", "main")
    env = {
        "GIT_AUTHOR_DATE": "2024-01-01T10:00:00+00:00",
        "GIT_COMMITTER_DATE": "2024-01-01T10:00:00+00:00",
    }
    git(repo.path, "merge", "-q", "--no-ff", "-m", "late merge", "side", env=env)
    result = audit_history(CommitSnapshot(gitpython.Repo(repo.path), "HEAD"))
    assert result.repo_value("history.commits.total") == 0
    assert result.repo_value("history.bus_factor") is None
    assert any("no commits in the window" in s.reason for s in result.skips)


def test_without_complexity_hotspots_are_a_skip(make_repo: Callable[..., GitRepo]) -> None:
    repo = build_history(make_repo)
    report = run_audit(
        CommitSnapshot(gitpython.Repo(repo.path), "HEAD"), Settings(), {"history": HistoryAnalyzer}
    )
    result = report.analyzers["history"]
    assert per_file(result, "history.hotspot_score") == {}
    assert [s.reason for s in result.skips] == [
        "hotspots not computed: the complexity analyzer did not run"
    ]


def test_terminal_shows_the_top_hotspots_with_both_figures(
    make_repo: Callable[..., GitRepo], cli: Callable[..., object]
) -> None:
    repo = build_history(make_repo)
    result = cli("run", str(repo.path), "--analyzers", "complexity,history")
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    out = result.stdout  # type: ignore[attr-defined]
    assert "Hotspots: churn x complexity (top 3)" in out
    cells = [
        [c for c in line.split() if c != "│"]
        for line in out.splitlines()
        if line.strip().startswith("│ ")
    ]
    rows = [row for row in cells if row[-1].endswith(".py")]
    assert rows == [
        ["1", "28", "4", "7", "d.py"],
        ["2", "18", "9", "2", "a.py"],
        ["3", "4", "2", "2", "f.py"],
    ]
    assert "Active authors / bus factor" in out


def test_a_subfolder_reports_paths_relative_to_it(
    make_repo: Callable[..., GitRepo], cli: Callable[..., object]
) -> None:
    repo = make_repo()
    repo.commit({"sub/x.py": "X = 1\n", "top.py": "T = 1\n"}, date="2024-01-01T10:00:00+00:00")
    repo.commit({"sub/x.py": "X = 2\nY = 3\n"}, author=BOB, date="2024-01-02T10:00:00+00:00")
    for args in ((), ("--ref", "HEAD")):
        result = cli(
            "run", str(repo.path / "sub"), "--analyzers", "history", "--format", "json", *args
        )
        assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
        history = json.loads(result.stdout)["analyzers"]["history"]  # type: ignore[attr-defined]
        churn = {
            m["scope"]: m["value"]
            for m in history["measurements"]
            if m["metric"] == "history.churn"
        }
        assert churn == {"x.py": 4}


def test_a_failing_git_log_is_a_clear_error(make_repo: Callable[..., GitRepo]) -> None:
    from ctoaudit.analyzers.history import _git_log_chunks
    from ctoaudit.errors import SnapshotError

    repo = build_history(make_repo)
    with pytest.raises(SnapshotError, match="git log failed: .*no-such-option"):
        list(_git_log_chunks(gitpython.Repo(repo.path), ["git", "log", "--no-such-option"]))
