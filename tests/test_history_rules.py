"""The HS rules judge a small history whose figures were computed by hand."""

from __future__ import annotations

from collections.abc import Callable

import git as gitpython

from ctoaudit.analyzers.complexity import ComplexityAnalyzer
from ctoaudit.analyzers.history import HistoryAnalyzer
from ctoaudit.config import Settings
from ctoaudit.engine import judge, run_audit
from ctoaudit.model import AuditReport
from ctoaudit.render import RenderFormat
from ctoaudit.render.markdown_sections.history import section
from ctoaudit.rules.loader import default_ruleset
from ctoaudit.snapshot import CommitSnapshot
from conftest import GitRepo

ALICE = "Alice <alice@example.com>"
BOB = "Bob <bob@example.com>"
CAROL = "Carol <carol@example.com>"
ANALYZERS = {"complexity": ComplexityAnalyzer, "history": HistoryAnalyzer}


def branchy(k: int) -> str:
    """A function with 15 ifs: complexity 16, 32 lines."""
    body = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(15))
    return f"def f{k}(x):\n{body}    return -1\n"


def build_team_history(make_repo: Callable[..., GitRepo]) -> GitRepo:
    """20 commits in the 12 months before 2024-12-20: Alice 6, Bob 9, Carol 5.

    core.py: Alice adds one 32-line function of complexity 16 per commit (6 commits, 192 lines),
    Bob adds one line -> 7 commits, churn 193, complexity total 1 + 6 x 15 = 91 (radon counts the
    module once), hotspot 193 x 91 = 17563; Alice made 6 of 7 commits (0.8571) and last committed
    on 2024-09-06, 105 days before the end.
    old.py: Carol, 5 commits of a 2-line function (churn 10, complexity total 1, hotspot 10); her
    last commit is 2024-02-05, 319 days before the end.
    notes.txt: Bob, 8 commits (not code: ownership rules leave it out).
    Bus factor: 9 + 6 = 15 commits of 20 need two authors -> 2.
    """
    repo = make_repo()
    for day in range(1, 6):
        content = "".join(f"def g{k}():\n    return {k}\n" for k in range(day))
        repo.commit({"old.py": content}, author=CAROL, date=f"2024-02-0{day}T10:00:00+00:00")
    for day in range(1, 7):
        content = "".join(branchy(k) for k in range(day))
        repo.commit({"core.py": content}, author=ALICE, date=f"2024-09-0{day}T10:00:00+00:00")
    core = "".join(branchy(k) for k in range(6)) + "VERSION = 1\n"
    repo.commit({"core.py": core}, author=BOB, date="2024-10-01T10:00:00+00:00")
    for day in range(13, 21):
        notes = "".join(f"note {n}\n" for n in range(day - 12))
        repo.commit({"notes.txt": notes}, author=BOB, date=f"2024-12-{day}T10:00:00+00:00")
    return repo


def audit(repo: GitRepo) -> AuditReport:
    snapshot = CommitSnapshot(gitpython.Repo(repo.path), "HEAD")
    return judge(run_audit(snapshot, Settings(jobs=1), ANALYZERS), default_ruleset())


def hs_outcomes(report: AuditReport) -> dict[str, tuple[str, float | None, int, int]]:
    return {
        o.rule_id: (o.status.value, o.value, o.failed, o.total)
        for o in report.outcomes
        if o.family == "HS"
    }


def test_hs_rules_on_a_hand_computed_history(make_repo: Callable[..., GitRepo]) -> None:
    report = audit(build_team_history(make_repo))
    assert hs_outcomes(report) == {
        "HS100": ("pass", 20, 0, 1),
        "HS101": ("fail", 17563, 1, 2),
        "HS102": ("pass", 17563, 0, 2),
        "HS201": ("fail", 1.0, 2, 2),
        "HS202": ("fail", 0.6667, 1, 1),
        "HS203": ("fail", 319, 1, 2),
        "HS301": ("pass", 2, 0, 1),
        "HS302": ("fail", 2, 1, 1),
    }
    findings = sorted(
        (f.rule_id, f.path, f.value) for f in report.findings if f.rule_id[:2] == "HS"
    )
    assert findings == [
        ("HS101", "core.py", 17563),
        ("HS201", "core.py", 0.8571),
        ("HS201", "old.py", 1.0),
        ("HS202", None, 0.6667),
        ("HS203", "old.py", 319),
        ("HS302", None, 2),
    ]
    # passed HS100 (info 0), HS102 (high 4), HS301 (high 4): 8 points; failed HS101 (medium 2) and
    # four low rules: 6 points -> 100 x 8 / 14 = 57.1
    assert report.score is not None
    family = next(f for f in report.score.families if f.family == "HS")
    assert (family.score, family.grade, family.passed, family.failed) == (57.1, "D", 3, 5)
    actions = [p.action for p in report.proposals if p.family == "HS"]
    assert set(actions) == {"refactor-hotspots", "spread-knowledge", "raise-bus-factor"}
    hotspots = next(p for p in report.proposals if p.action == "refactor-hotspots")
    assert "core.py" in hotspots.change[0]


def test_a_short_history_skips_the_hs_rules_instead_of_failing_them(
    make_repo: Callable[..., GitRepo],
) -> None:
    repo = make_repo()
    for day in range(1, 4):
        repo.commit(
            {"solo.py": branchy(day) * 3}, author=ALICE, date=f"2024-03-0{day}T10:00:00+00:00"
        )
    report = audit(repo)
    outcomes = hs_outcomes(report)
    assert outcomes.pop("HS100") == ("fail", 3, 1, 1)
    assert {rid: status for rid, (status, *_rest) in outcomes.items()} == dict.fromkeys(
        ["HS101", "HS102", "HS201", "HS202", "HS203", "HS301", "HS302"], "skip"
    )
    reasons = {o.rule_id: o.reason for o in report.outcomes if o.rule_id == "HS301"}
    assert reasons["HS301"] == "requires HS100, which did not pass (fail)"
    # HS100 is info: no score for the family, no proposal
    assert report.score is not None
    family = next(f for f in report.score.families if f.family == "HS")
    assert family.score is None
    assert [p for p in report.proposals if p.family == "HS"] == []


def test_without_git_the_hs_rules_are_skipped(tmp_path: object) -> None:
    from pathlib import Path

    from ctoaudit.snapshot import DirectorySnapshot

    folder = Path(str(tmp_path)) / "plain"
    folder.mkdir()
    (folder / "a.py").write_text("A = 1\n")
    report = judge(
        run_audit(DirectorySnapshot(folder), Settings(jobs=1), ANALYZERS), default_ruleset()
    )
    assert {status for status, *_ in hs_outcomes(report).values()} == {"skip"}


def test_markdown_section_shows_activity_hotspots_islands_and_bus_factor(
    make_repo: Callable[..., GitRepo],
) -> None:
    report = audit(build_team_history(make_repo))
    text = section(report.analyzers["history"])
    assert text.startswith("### History\n")
    assert "| Commits in the window | 20 |" in text
    assert "| Active authors / bus factor | 3 / 2 |" in text
    assert "| 1 | `core.py` | 17,563 | 193 | 91 | 7 | 2 |" in text
    assert "| `old.py` | 5 | 100% | 319 |" in text
    assert "| `core.py` | 7 | 85.7% | 105 |" in text
    assert "notes.txt" not in text.split("**Knowledge islands**")[1]
    full = RenderFormat.MARKDOWN.to_renderer()(report)
    assert "\n### History\n" in full
    assert "| HS101 |" in full
    assert "Refactor the complex files that change most, first" in full
    assert text == section(
        audit(build_team_history(make_repo_again(make_repo))).analyzers["history"]
    )


def make_repo_again(make_repo: Callable[..., GitRepo]) -> Callable[..., GitRepo]:
    """The same factory under another folder name, for a second identical history."""
    return lambda name="repo": make_repo(f"{name}-again")
