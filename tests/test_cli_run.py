"""`ctoaudit run` end to end: targets, refs, bad input, exit codes, deterministic JSON."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from ctoaudit.exitcodes import ExitCode

COMPLEX = (
    "def f(x):\n"
    + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(12))
    + "    return 0\n"
)
SIMPLE = "def g(x):\n    return x\n"


def measurements(report: dict, metric: str) -> dict[str, float]:
    return {
        m["scope"]: m["value"]
        for m in report["analyzers"]["complexity"]["measurements"]
        if m["metric"] == metric
    }


def run_json(cli, *args: str) -> dict:
    result = cli("run", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_run_on_a_git_repo_reports_target_and_figures(cli, make_repo) -> None:
    repo = make_repo()
    commit = repo.commit({"pkg/a.py": COMPLEX, "pkg/b.py": SIMPLE, "README.md": "hi\n"})
    report = run_json(cli, str(repo.path))
    assert report["schema_version"] == 1
    target = report["target"]
    assert (target["kind"], target["commit"], target["dirty"], target["ref"], target["files"]) == (
        "working_tree",
        commit,
        False,
        "main",
        3,
    )
    assert measurements(report, "complexity.cc") == {"f": 13, "g": 1}
    assert measurements(report, "complexity.cc.max") == {"repo": 13}
    assert "generated_at" not in report
    assert "timings" not in report


def test_two_runs_give_byte_identical_json(cli, make_repo, tmp_path: Path) -> None:
    repo = make_repo()
    repo.commit({"a.py": COMPLEX, "b.py": SIMPLE, "bad.py": "print 'x'\n"})
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    assert cli("run", str(repo.path), "-o", str(first), "--no-cache").exit_code == 0
    assert cli("run", str(repo.path), "-o", str(second)).exit_code == 0
    third = cli("run", str(repo.path), "-f", "json")  # now from the cache
    assert first.read_bytes() == second.read_bytes() == third.stdout.encode()


def test_timestamps_are_opt_in(cli, make_repo) -> None:
    repo = make_repo()
    repo.commit({"a.py": SIMPLE})
    report = run_json(cli, str(repo.path), "--timestamps")
    assert report["generated_at"]
    assert "complexity" in report["timings"]


def test_ref_on_a_dirty_repo_audits_the_old_commit_and_changes_nothing(cli, make_repo) -> None:
    repo = make_repo()
    first = repo.commit({"a.py": COMPLEX})
    repo.commit({"a.py": SIMPLE, "b.py": SIMPLE})
    (repo.path / "a.py").write_text(COMPLEX + "\ndef h():\n    pass\n")  # unstaged change
    (repo.path / "b.py").write_text("def staged(x):\n    return x and 1\n")
    repo.git("add", "b.py")  # staged change
    (repo.path / "untracked.py").write_text(SIMPLE)
    index_before = (repo.path / ".git" / "index").read_bytes()
    status_before = repo.git("status", "--porcelain")
    files_before = {
        p: p.read_bytes() for p in repo.path.rglob("*") if p.is_file() and ".git" not in p.parts
    }

    report = run_json(cli, str(repo.path), "--ref", "HEAD~1")

    assert report["target"]["kind"] == "commit"
    assert report["target"]["commit"] == first
    assert report["target"]["ref"] == "HEAD~1"
    assert measurements(report, "complexity.cc") == {"f": 13}
    assert (repo.path / ".git" / "index").read_bytes() == index_before
    assert repo.git("status", "--porcelain") == status_before
    assert {
        p: p.read_bytes() for p in repo.path.rglob("*") if p.is_file() and ".git" not in p.parts
    } == files_before

    live = run_json(cli, str(repo.path))
    assert live["target"]["dirty"] is True
    assert measurements(live, "complexity.cc") == {"f": 13, "h": 1, "staged": 2, "g": 1}


def test_untracked_files_count_and_ignored_files_do_not(cli, make_repo) -> None:
    repo = make_repo()
    repo.commit({".gitignore": "generated/\n", "a.py": SIMPLE})
    repo.write({"new.py": COMPLEX, "generated/big.py": COMPLEX})
    report = run_json(cli, str(repo.path))
    assert measurements(report, "complexity.cc") == {"g": 1, "f": 13}
    assert measurements(report, "complexity.files") == {"repo": 2}


def test_folder_outside_git_is_walked_with_default_excludes(cli, tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text(SIMPLE)
    for excluded in (".venv/lib", "node_modules/x", "build", "pkg.egg-info"):
        (root / excluded).mkdir(parents=True)
        (root / excluded / "junk.py").write_text(COMPLEX)
    report = run_json(cli, str(root), "--exclude", "docs")
    assert report["target"]["kind"] == "directory"
    assert measurements(report, "complexity.cc") == {"g": 1}


def test_configured_excludes_and_analyzer_options_apply(cli, make_repo) -> None:
    repo = make_repo()
    repo.commit({
        "pyproject.toml": '[tool.ctoaudit]\nexclude = ["vendor"]\n[tool.ctoaudit.analyzers.complexity]\nexclude = ["tests/*"]\n',
        "vendor/lib.py": COMPLEX, "tests/test_a.py": COMPLEX, "a.py": SIMPLE,
    })  # fmt: skip
    report = run_json(cli, str(repo.path))
    assert measurements(report, "complexity.cc") == {"g": 1}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            "[tool.ctoaudit]\nexclud = []\n",
            "pyproject.toml [tool.ctoaudit]: exclud: Extra inputs are not permitted",
        ),
        (
            "[tool.ctoaudit]\njobs = 'many'\n",
            "pyproject.toml [tool.ctoaudit]: jobs: Input should be a valid integer",
        ),
        (
            "[tool.ctoaudit.analyzers.complexity]\nmulti = 3\n",
            "analyzers.complexity.multi: Input should be a valid boolean",
        ),
        (
            "[tool.ctoaudit.analyzers.complexity]\nnope = 1\n",
            "analyzers.complexity.nope: Extra inputs are not permitted",
        ),
    ],
)
def test_config_errors_name_file_and_key_and_exit_2(
    cli, make_repo, config: str, message: str
) -> None:
    repo = make_repo()
    repo.commit({"pyproject.toml": config, "a.py": SIMPLE})
    result = cli("run", str(repo.path))
    assert result.exit_code == ExitCode.USAGE
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_broken_pyproject_does_not_stop_the_audit(cli, make_repo) -> None:
    repo = make_repo()
    repo.commit({"pyproject.toml": "[project\nname=", "a.py": SIMPLE})
    assert measurements(run_json(cli, str(repo.path)), "complexity.cc") == {"g": 1}


def test_dotfile_config_and_explicit_config(cli, make_repo, tmp_path: Path) -> None:
    repo = make_repo()
    repo.commit({".ctoaudit.toml": 'exclude = ["b.py"]\n', "a.py": SIMPLE, "b.py": COMPLEX})
    assert measurements(run_json(cli, str(repo.path)), "complexity.cc") == {"g": 1}
    other = tmp_path / "other.toml"
    other.write_text('exclude = ["a.py"]\n')
    assert measurements(run_json(cli, str(repo.path), "--config", str(other)), "complexity.cc") == {
        "f": 13
    }
    bad = tmp_path / "bad.toml"
    bad.write_text("exclude = [\n")
    result = cli("run", str(repo.path), "--config", str(bad))
    assert result.exit_code == ExitCode.USAGE
    assert f"{bad}: invalid TOML" in result.stderr


BAD_FILES: dict[str, bytes] = {
    "py2.py": b"print 'hello'\nexec 'x = 1'\n",
    "nul.py": b"x = 1\n\x00\x00\x00",
    "invalid_utf8.py": b"name = '\xe9t\xe9'\n",
    "latin1.py": "# -*- coding: latin-1 -*-\nname = 'Müller'\n\ndef f(x):\n    return x or name\n".encode(
        "latin-1"
    ),
    "good.py": SIMPLE.encode(),
}


def test_bad_files_become_skips_with_reasons(cli, make_repo) -> None:
    repo = make_repo()
    repo.commit(dict(BAD_FILES))
    (repo.path / "huge.py").write_bytes(b"x = 1\n" * 3_500_000)  # 21 MB, untracked
    os.symlink("loop_b.py", repo.path / "loop_a.py")
    os.symlink("loop_a.py", repo.path / "loop_b.py")
    result = cli("run", str(repo.path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    skips = {s["path"]: s["reason"] for s in report["analyzers"]["complexity"]["skips"]}
    assert skips["py2.py"].startswith("syntax error at line 1")
    assert skips["nul.py"] == "binary content (NUL bytes), not Python source"
    assert skips["invalid_utf8.py"] == "not valid utf-8: byte 0xe9 at offset 8"
    assert skips["huge.py"] == "file is 20.0 MB, over max_file_bytes (5.0 MB)"
    assert skips["loop_a.py"] == skips["loop_b.py"] == "symbolic link, not followed"
    assert "latin1.py" not in skips
    assert measurements(report, "complexity.cc") == {"f": 2, "g": 1}
    assert measurements(report, "complexity.files.skipped") == {"repo": 6}
    terminal = cli("run", str(repo.path))
    assert "Skipped (6)" in terminal.stdout


def test_max_file_bytes_is_configurable(cli, make_repo) -> None:
    repo = make_repo()
    repo.commit({"a.py": COMPLEX, "b.py": SIMPLE})
    report = run_json(cli, str(repo.path), "--max-file-bytes", "100")
    skips = {s["path"]: s["reason"] for s in report["analyzers"]["complexity"]["skips"]}
    assert list(skips) == ["a.py"]
    assert "over max_file_bytes" in skips["a.py"]


def test_unreadable_file_is_a_skip_even_as_root(make_repo, monkeypatch) -> None:
    from ctoaudit.config import Settings
    from ctoaudit.analyzers.complexity import ComplexityAnalyzer
    from ctoaudit.engine import run_audit
    from ctoaudit.snapshot import open_snapshot

    repo = make_repo()
    repo.commit({"a.py": SIMPLE, "secret.py": SIMPLE})
    real_read = Path.read_bytes

    def deny(self: Path) -> bytes:
        if self.name == "secret.py":
            raise PermissionError(13, "Permission denied")
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    snapshot = open_snapshot(str(repo.path), cache_root=repo.path / ".cache")
    report = run_audit(snapshot, Settings(jobs=1), {"complexity": ComplexityAnalyzer})
    assert [(s.path, s.reason) for s in report.analyzers["complexity"].skips] == [
        ("secret.py", "permission denied")
    ]


def test_empty_repo_and_empty_folder(cli, make_repo, tmp_path: Path) -> None:
    repo = make_repo()
    report = run_json(cli, str(repo.path))
    assert "commit" not in report["target"]
    assert measurements(report, "complexity.files") == {"repo": 0}
    assert measurements(report, "complexity.cc.max") == {}
    result = cli("run", str(repo.path), "--ref", "HEAD")
    assert result.exit_code == ExitCode.USAGE
    assert "bad ref 'HEAD'" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    assert measurements(run_json(cli, str(empty)), "complexity.files") == {"repo": 0}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/path"], "/no/such/path: no such file or directory"),
        (["--ref", "no-such-branch"], "bad ref 'no-such-branch'"),
        (["--ref", "--upload-pack=evil"], "refs cannot start with '-'"),
        (["--analyzers", "nope"], "unknown analyzer(s): nope"),
        (["-o", "report.weird"], "cannot tell the format of report.weird"),
        (["--jobs", "0"], "jobs: Input should be greater than or equal to 1"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(
    cli, make_repo, args: list[str], message: str
) -> None:
    repo = make_repo()
    repo.commit({"a.py": SIMPLE})
    full = args if args[0].startswith("/") else [str(repo.path), *args]
    result = cli("run", *full)
    assert result.exit_code == ExitCode.USAGE
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_ref_outside_git_is_a_usage_error(cli, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(SIMPLE)
    result = cli("run", str(tmp_path), "--ref", "HEAD")
    assert result.exit_code == ExitCode.USAGE
    assert "not in one" in result.stderr


def test_git_url_is_cloned_once_and_refreshed(
    cli, make_repo, tmp_path: Path, isolated_cache: Path
) -> None:
    upstream = make_repo("upstream")
    upstream.commit({"a.py": SIMPLE})
    url = upstream.path.as_uri()
    first = run_json(cli, url)
    assert first["target"]["url"] == url
    assert measurements(first, "complexity.cc") == {"g": 1}
    clones = list((isolated_cache / "repos").iterdir())
    assert len(clones) == 1
    upstream.commit({"b.py": COMPLEX})
    second = run_json(cli, url)
    assert measurements(second, "complexity.cc") == {"g": 1, "f": 13}
    assert list((isolated_cache / "repos").iterdir()) == clones
    old = run_json(cli, url, "--ref", first["target"]["commit"])
    assert measurements(old, "complexity.cc") == {"g": 1}


def test_unreachable_git_url_exits_2_with_one_line(cli, tmp_path: Path) -> None:
    result = cli("run", (tmp_path / "missing.git").as_uri())
    assert result.exit_code == ExitCode.USAGE
    assert "cannot clone" in result.stderr
    result = cli("run", "http://127.0.0.1:9/nothing.git")
    assert result.exit_code == ExitCode.USAGE
    assert "cannot clone http://127.0.0.1:9/nothing.git" in result.stderr


def test_missing_git_binary_audits_folder_with_a_warning(cli, make_repo, monkeypatch) -> None:
    repo = make_repo()
    repo.commit({"a.py": SIMPLE})
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    report = run_json(cli, str(repo.path))
    assert report["target"]["kind"] == "directory"
    assert report["warnings"] == ["git was not found on PATH: audited the folder as plain files"]
    assert measurements(report, "complexity.cc") == {"g": 1}
    result = cli("run", str(repo.path), "--ref", "HEAD")
    assert result.exit_code == ExitCode.USAGE
    assert "--ref needs git" in result.stderr


def test_subfolder_of_a_repo_is_audited_alone(cli, make_repo) -> None:
    repo = make_repo()
    repo.commit({"app/a.py": SIMPLE, "other/b.py": COMPLEX})
    report = run_json(cli, str(repo.path / "app"))
    assert measurements(report, "complexity.cc") == {"g": 1}
    assert [
        m["path"]
        for m in report["analyzers"]["complexity"]["measurements"]
        if m["metric"] == "complexity.cc"
    ] == ["a.py"]
    old = run_json(cli, str(repo.path / "app"), "--ref", "HEAD")
    assert measurements(old, "complexity.cc") == {"g": 1}


def test_output_file_is_written_atomically(cli, make_repo, tmp_path: Path) -> None:
    repo = make_repo()
    repo.commit({"a.py": SIMPLE})
    out = tmp_path / "reports" / "audit.json"
    result = cli("run", str(repo.path), "-o", str(out))
    assert result.exit_code == 0
    assert json.loads(out.read_text())["schema_version"] == 1
    assert [p.name for p in out.parent.iterdir()] == ["audit.json"]
    assert "wrote" in result.stderr
    quiet = cli("run", str(repo.path), "-o", str(out), "--quiet")
    assert quiet.stderr == ""


def test_terminal_summary_lists_worst_functions_without_color_off_tty(cli, make_repo) -> None:
    repo = make_repo()
    repo.commit({"pkg/a.py": COMPLEX, "pkg/b.py": SIMPLE})
    result = cli("run", str(repo.path))
    assert result.exit_code == 0
    assert "Most complex functions" in result.stdout
    assert "pkg/a.py:1" in result.stdout
    assert "\x1b[" not in result.stdout
    assert result.stderr == ""
