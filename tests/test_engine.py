"""The engine: plugin discovery, crash isolation, the content cache across revisions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import BaseModel

import ctoaudit.analyzers as analyzers_module
from ctoaudit.analyzers import AnalysisContext, NoOptions, discover_analyzers, order_by_requirements
from ctoaudit.analyzers.complexity import ComplexityAnalyzer
from ctoaudit.cache import NullCache, SqliteCache, open_cache
from ctoaudit.config import Settings
from ctoaudit.engine import AuditOptions, run_audit
from ctoaudit.model import AnalyzerResult, AnalyzerStatus, MetricSpec
from ctoaudit.render import RenderFormat
from ctoaudit.snapshot import CommitSnapshot, open_snapshot


class CrashingAnalyzer:
    name: ClassVar[str] = "crashing"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = "Always fails."
    metrics: ClassVar[tuple[MetricSpec, ...]] = ()
    options_model: ClassVar[type[BaseModel]] = NoOptions
    requires: ClassVar[tuple[str, ...]] = ()

    def analyze(self, context: AnalysisContext) -> AnalyzerResult:
        raise RuntimeError("boom")


class NeedsComplexity(CrashingAnalyzer):
    name: ClassVar[str] = "needs"
    requires: ClassVar[tuple[str, ...]] = ("complexity",)
    seen: ClassVar[list[str]] = []

    def analyze(self, context: AnalysisContext) -> AnalyzerResult:
        NeedsComplexity.seen = sorted(context.results)
        return AnalyzerResult(name=self.name, version=self.version)


@pytest.fixture
def fake_entry_points(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EntryPoint]]:
    """Replace the installed analyzer plugins with the ones a test lists."""
    points: list[EntryPoint] = []
    monkeypatch.setattr(
        analyzers_module, "entry_points", lambda group: [p for p in points if p.group == group]
    )
    yield points


def test_crashing_analyzer_is_a_recorded_failure_not_a_dead_audit(make_repo) -> None:
    repo = make_repo()
    repo.commit({"a.py": "def f():\n    return 1\n"})
    snapshot = open_snapshot(str(repo.path), cache_root=repo.path / ".c")
    report = run_audit(
        snapshot, Settings(), {"complexity": ComplexityAnalyzer, "crashing": CrashingAnalyzer}
    )
    crashed = report.analyzers["crashing"]
    assert crashed.status is AnalyzerStatus.FAILED
    assert crashed.error is not None
    assert crashed.error.startswith("analyzer crashed: RuntimeError: boom at test_engine.py:")
    assert [s.reason for s in crashed.skips] == [crashed.error]
    assert report.analyzers["complexity"].status is AnalyzerStatus.OK
    assert "crashing: failed" in RenderFormat.TERMINAL.to_renderer()(report)


def test_required_analyzers_run_first_and_are_visible(make_repo) -> None:
    repo = make_repo()
    repo.commit({"a.py": "x = 1\n"})
    assert order_by_requirements({"needs": NeedsComplexity, "complexity": ComplexityAnalyzer}) == [
        "complexity",
        "needs",
    ]
    snapshot = open_snapshot(str(repo.path), cache_root=repo.path / ".c")
    run_audit(snapshot, Settings(), {"needs": NeedsComplexity, "complexity": ComplexityAnalyzer})
    assert NeedsComplexity.seen == ["complexity"]


def test_discovery_loads_entry_points_and_reports_broken_plugins(fake_entry_points) -> None:
    group = "ctoaudit.analyzers"
    fake_entry_points.extend([
        EntryPoint("complexity", "ctoaudit.analyzers.complexity:ComplexityAnalyzer", group),
        EntryPoint("crashing", f"{__name__}:CrashingAnalyzer", group),
        EntryPoint("missing", "no_such_module_xyz:Thing", group),
        EntryPoint("misnamed", f"{__name__}:CrashingAnalyzer", group),
    ])  # fmt: skip
    found = discover_analyzers()
    assert sorted(found.analyzers) == ["complexity", "crashing"]
    assert (
        "cannot load plugin no_such_module_xyz:Thing: ModuleNotFoundError"
        in found.errors["missing"]
    )
    assert "is not an analyzer class named 'misnamed'" in found.errors["misnamed"]


def test_broken_plugin_is_reported_in_the_audit(cli, make_repo, fake_entry_points) -> None:
    group = "ctoaudit.analyzers"
    fake_entry_points.extend([
        EntryPoint("complexity", "ctoaudit.analyzers.complexity:ComplexityAnalyzer", group),
        # the bundled default rules read its metrics (it finds no manifest here: no registry access)
        EntryPoint("dependencies", "ctoaudit.analyzers.dependencies:DependencyAgeAnalyzer", group),
        # built in, like complexity: the default rule set reads its metrics
        EntryPoint("history", "ctoaudit.analyzers.history:HistoryAnalyzer", group),
        EntryPoint("missing", "no_such_module_xyz:Thing", group),
    ])  # fmt: skip
    repo = make_repo()
    repo.commit({"a.py": "x = 1\n"})
    result = cli("run", str(repo.path), "-f", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["analyzers"]["missing"]["status"] == "failed"
    assert report["analyzers"]["complexity"]["status"] == "ok"


class CountingCache(SqliteCache):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.stored: list[str] = []

    def put_many(self, items) -> None:
        self.stored.extend(k for k in items if "tree:" not in k)
        super().put_many(items)


def test_unchanged_files_are_analyzed_once_across_revisions_and_paths(
    make_repo, tmp_path: Path
) -> None:
    repo = make_repo()
    body = "def f(x):\n    return x\n"
    repo.commit({"a.py": body, "b.py": "y = 2\n"})
    repo.commit({"c.py": "z = 3\n", "moved/a_copy.py": body})
    repo.commit({"b.py": "y = 3\n"})
    cache = CountingCache(tmp_path / "cache")
    for ref in ("HEAD~2", "HEAD~1", "HEAD"):
        snapshot = open_snapshot(str(repo.path), ref=ref, cache_root=tmp_path)
        assert isinstance(snapshot, CommitSnapshot)
        run_audit(
            snapshot,
            Settings(jobs=1),
            {"complexity": ComplexityAnalyzer},
            AuditOptions(cache=cache),
        )
    # Distinct contents: a.py (also at moved/a_copy.py), b.py v1, c.py, b.py v2 -> 4 analyses in all.
    assert len(cache.stored) == 4
    # The working tree, identical to HEAD, needs no analysis either.
    run_audit(
        open_snapshot(str(repo.path), cache_root=tmp_path),
        Settings(jobs=1),
        {"complexity": ComplexityAnalyzer},
        AuditOptions(cache=cache),
    )
    assert len(cache.stored) == 4
    cache.close()


def test_parallel_and_serial_runs_agree(tmp_path: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    for i in range(40):
        (root / f"m{i:02}.py").write_text(
            "def f(x):\n"
            + "".join(f"    if x == {j}:\n        return {j}\n" for j in range(i % 7))
            + "    return 0\n"
        )
    snapshot = open_snapshot(str(root), cache_root=tmp_path)
    serial = run_audit(snapshot, Settings(jobs=1), {"complexity": ComplexityAnalyzer})
    parallel = run_audit(snapshot, Settings(jobs=2), {"complexity": ComplexityAnalyzer})
    assert serial == parallel


def test_unusable_cache_folder_falls_back_to_no_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = open_cache(blocker / "sub")
    assert isinstance(cache, NullCache)
    assert cache.reason is not None
    assert "cache disabled" in cache.reason
    assert cache.get_many(["k"]) == {}
    cache.put_many({"k": b"v"})
    assert cache.get_many(["k"]) == {}


def test_concurrent_runs_share_one_cache_safely(make_repo, tmp_path: Path) -> None:
    import subprocess
    import sys

    repo = make_repo()
    repo.commit({f"m{i}.py": f"def f{i}(x):\n    return x + {i}\n" for i in range(30)})
    env = {**__import__("os").environ, "CTOAUDIT_CACHE_DIR": str(tmp_path / "shared-cache")}
    cmd = [sys.executable, "-m", "ctoaudit", "run", str(repo.path), "-f", "json", "-q", "-j", "2"]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outputs]
    assert outputs[0][0] == outputs[1][0] == outputs[2][0]
    again = subprocess.run(cmd, capture_output=True, env=env, check=True)
    assert again.stdout == outputs[0][0]


def test_judging_is_cached_by_rule_set_and_result_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ctoaudit.engine as engine_module  # noqa: PLC0415
    from ctoaudit.rules.loader import default_ruleset  # noqa: PLC0415
    from ctoaudit.snapshot import DirectorySnapshot  # noqa: PLC0415

    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(
        "def f(x):\n" + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(12))
    )
    judged: list[str] = []
    real_evaluate = engine_module.evaluate

    def counting_evaluate(ruleset, results, **kwargs):  # type: ignore[no-untyped-def]
        judged.append(ruleset.name)
        return real_evaluate(ruleset, results, **kwargs)

    monkeypatch.setattr(engine_module, "evaluate", counting_evaluate)
    def audit_once(ruleset):  # type: ignore[no-untyped-def]
        cache = SqliteCache(tmp_path / "cache")
        try:
            return run_audit(
                DirectorySnapshot(project),
                Settings(jobs=1),
                {"complexity": ComplexityAnalyzer},
                AuditOptions(cache=cache),
                ruleset=ruleset,
            )
        finally:
            cache.close()

    rules = default_ruleset()
    first = audit_once(rules)
    second = audit_once(rules)
    assert judged == ["default"]  # the second run read the judgement back
    assert RenderFormat.JSON.to_renderer()(first) == RenderFormat.JSON.to_renderer()(second)
    assert first.findings  # the 13-branch function fails CX101
    changed = rules.model_copy(update={"ignored": {"CX101": "accepted"}})
    third = audit_once(changed)
    assert judged == ["default", "default"]  # another rule set is judged anew
    assert "CX101" not in {f.rule_id for f in third.findings}
    (project / "app.py").write_text("def f(x):\n    return x\n")
    audit_once(rules)
    assert len(judged) == 3  # other content is judged anew


def test_files_whose_stamp_is_unchanged_are_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os  # noqa: PLC0415
    import time  # noqa: PLC0415

    import ctoaudit.stamps as stamps_module  # noqa: PLC0415
    from ctoaudit.snapshot import DirectorySnapshot  # noqa: PLC0415

    # Files in a test are seconds old at most: let "settled" mean "not changed since the listing".
    monkeypatch.setattr(stamps_module, "SETTLED_SECONDS", 0)
    project = tmp_path / "project"
    project.mkdir()
    (project / "a.py").write_text("def a(x):\n    return x or 1\n")
    (project / "b.py").write_text("def b(x):\n    return x\n")
    time.sleep(0.01)
    reads: list[str] = []

    class CountingSnapshot(DirectorySnapshot):
        def read_bytes(self, entry):  # type: ignore[no-untyped-def]
            reads.append(entry.path)
            return super().read_bytes(entry)

    def audit_once() -> AnalyzerResult:
        cache = SqliteCache(tmp_path / "cache")
        try:
            report = run_audit(
                CountingSnapshot(project),
                Settings(jobs=1),
                {"complexity": ComplexityAnalyzer},
                AuditOptions(cache=cache),
            )
        finally:
            cache.close()
        return report.analyzers["complexity"]

    first = audit_once()
    assert sorted(reads) == ["a.py", "b.py"]
    reads.clear()
    second = audit_once()
    assert reads == []  # both stamps were seen: no read, no hash
    assert second == first
    # Same size, other bytes, and the old modification time put back: the change time still
    # moves, so the stamp differs and the file is read again.
    before = (project / "a.py").stat()
    (project / "a.py").write_text("def a(x):\n    return x + 11\n")  # cc 2 -> 1
    os.utime(project / "a.py", ns=(before.st_atime_ns, before.st_mtime_ns))
    time.sleep(0.01)
    third = audit_once()
    assert reads == ["a.py"]
    assert third != first


def test_files_changed_just_before_the_listing_get_no_stamp(tmp_path: Path) -> None:
    from ctoaudit.snapshot import DirectorySnapshot  # noqa: PLC0415

    (tmp_path / "fresh.py").write_text("x = 1\n")
    [entry] = DirectorySnapshot(tmp_path).files()
    assert entry.stamp is None  # within SETTLED_SECONDS of the listing: may still change unseen


def test_score_of_judges_rules_per_analyzer_and_equals_judge(make_repo) -> None:
    from ctoaudit.analyzers.history import HistoryAnalyzer  # noqa: PLC0415
    from ctoaudit.analyzers.tooling import ToolingAnalyzer  # noqa: PLC0415
    from ctoaudit.engine import judge, score_of  # noqa: PLC0415
    from ctoaudit.rules.loader import default_ruleset  # noqa: PLC0415

    repo = make_repo()
    repo.commit(
        {
            "app.py": "def f(x):\n" + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(12)),
            ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: black .\n",
        }
    )
    analyzers = {"complexity": ComplexityAnalyzer, "tooling": ToolingAnalyzer, "history": HistoryAnalyzer}
    report = run_audit(open_snapshot(str(repo.path), ref="HEAD", cache_root=repo.path.parent), Settings(jobs=1), analyzers)
    rules = default_ruleset()
    ignoring = rules.model_copy(update={"ignored": {"CX101": "accepted"}})
    cx101 = next(r for r in rules.rules if r.id == "CX101")
    tu_rule = next(r for r in rules.rules if r.id.startswith("TU"))
    crossing = rules.model_copy(  # a CX rule requiring a TU rule: judged all together
        update={"rules": [r if r.id != cx101.id else r.model_copy(update={"requires": [tu_rule.id]}) for r in rules.rules]}
    )
    memo: dict[str, object] = {}
    for ruleset in (rules, ignoring, crossing):
        expected = judge(report, ruleset).score
        assert score_of(report, ruleset, memo) == expected
        assert score_of(report, ruleset, memo) == expected  # from the memo
    partial_report = report.model_copy(update={"analyzers": {"complexity": report.analyzers["complexity"]}})
    assert score_of(partial_report, rules, memo) == judge(partial_report, rules).score


def test_an_unchanged_tree_is_looked_up_before_any_per_file_work(
    make_repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ctoaudit.analyzers.complexity as complexity_module  # noqa: PLC0415

    repo = make_repo()
    repo.commit({"a.py": "def a(x):\n    return x or 1\n", "b.py": "def b():\n    pass\n"})
    calls: list[int] = []
    real = complexity_module.map_files

    def counting(context, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(kwargs["entries"]))
        return real(context, **kwargs)

    monkeypatch.setattr(complexity_module, "map_files", counting)

    def audit_once() -> AnalyzerResult:
        cache = SqliteCache(tmp_path / "cache")
        try:
            snapshot = open_snapshot(str(repo.path), ref="HEAD", cache_root=tmp_path)
            report = run_audit(
                snapshot, Settings(jobs=1), {"complexity": ComplexityAnalyzer}, AuditOptions(cache=cache)
            )
        finally:
            cache.close()
        return report.analyzers["complexity"]

    first = audit_once()
    assert calls == [2]
    second = audit_once()
    assert calls == [2]  # blob ids name every file: the whole result came from one lookup
    assert second == first
    repo.commit({"b.py": "def b(x):\n    return x and 2\n"})  # cc 1 -> 2
    third = audit_once()
    assert calls == [2, 2]  # a changed tree: per-file work again (one file analyzed anew)
    assert third != first


def test_trend_reports_a_broken_plugin_in_every_revision_as_run_does(
    cli, make_repo, fake_entry_points
) -> None:
    group = "ctoaudit.analyzers"
    fake_entry_points.extend([
        EntryPoint("complexity", "ctoaudit.analyzers.complexity:ComplexityAnalyzer", group),
        EntryPoint("missing", "no_such_module_xyz:Thing", group),
    ])  # fmt: skip
    repo = make_repo()
    repo.commit({"a.py": "x = 1\n"})
    repo.commit({"a.py": "x = 2\n"})
    result = cli("trend", str(repo.path), "--last", "2", "-f", "json", "--rules", "default")
    assert result.exit_code == 0, result.stderr
    points = json.loads(result.stdout)["points"]
    assert [p["failed"] for p in points] == [["missing"], ["missing"]]
    for point in points:
        run = json.loads(cli("run", str(repo.path), "--ref", point["commit"], "-f", "json").stdout)
        assert run["analyzers"]["missing"]["status"] == "failed"
        assert point["score"] == run["score"]["overall"]
