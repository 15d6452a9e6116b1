"""The console script replays an unchanged `run`, and runs again after any change that matters."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import ctoaudit.cli as cli_module
import ctoaudit.stamps as stamps_module
from ctoaudit import entry, replay
from ctoaudit.stamps import Watch

from conftest import GitRepo

COMPLEX = """\
def grade(score, curve, strict):
    if score > 90 and curve:
        return "A"
    elif score > 80 or strict:
        return "B"
    for bonus in range(curve):
        if bonus > 3:
            score += 1
    return "C"
"""


@dataclass
class ScriptRun:
    exit_code: int
    stdout: str
    stderr: str
    replayed: bool


@pytest.fixture
def script(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., ScriptRun]:
    """Run the console script in-process, telling whether the command line ran or a replay did."""
    # Files in a test are seconds old at most: let "settled" mean "not changed since the listing".
    monkeypatch.setattr(stamps_module, "SETTLED_SECONDS", 0)

    def invoke(*args: str) -> ScriptRun:
        calls: list[str] = []
        real_main = cli_module.main

        def command_line() -> None:
            calls.append("cli")
            real_main()

        capsys.readouterr()
        with monkeypatch.context() as patch:
            patch.setattr(sys, "argv", ["ctoaudit", *args])
            patch.setattr(cli_module, "main", command_line)
            with pytest.raises(SystemExit) as stopped:
                entry.main()
        out = capsys.readouterr()
        code = stopped.value.code
        return ScriptRun(code if isinstance(code, int) else 0, out.out, out.err, not calls)

    return invoke


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A plain folder (outside git) with Python files, one of them in a subfolder."""
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "app.py").write_text(COMPLEX)
    (root / "pkg" / "util.py").write_text("def one():\n    return 1\n")
    time.sleep(0.01)  # past the clock tick of the writes (see SETTLED_SECONDS)
    return root


def complexity_json(*extra: str) -> tuple[str, ...]:
    return ("run", *extra, "--analyzers", "complexity", "--format", "json")


def test_an_unchanged_folder_is_replayed_byte_for_byte(
    script: Callable[..., ScriptRun], project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    first = script(*complexity_json(str(project)), "-o", str(out))
    written = out.read_bytes()
    out.unlink()
    second = script(*complexity_json(str(project)), "-o", str(out))

    assert not first.replayed
    assert second.replayed
    assert (second.exit_code, second.stdout, second.stderr) == (0, first.stdout, first.stderr)
    assert second.stderr == f"wrote {out} (json)\n"
    assert out.read_bytes() == written  # the report file is written again, identical
    report = json.loads(written)
    assert report["analyzers"]["complexity"]["status"] == "ok"

    to_stdout = script(*complexity_json(str(project)))
    again = script(*complexity_json(str(project)))
    assert not to_stdout.replayed  # other arguments: another record
    assert again.replayed
    assert again.stdout == to_stdout.stdout
    assert json.loads(again.stdout) == report


@pytest.mark.parametrize(
    "change",
    [
        "edit a file, same size",
        "add a file to an empty folder",
        "remove a file",
        "rename a folder",
        "replace a file by a link",
    ],
)
def test_a_change_in_the_folder_runs_the_audit_again(
    script: Callable[..., ScriptRun], project: Path, change: str
) -> None:
    args = complexity_json(str(project))
    first = script(*args)
    assert script(*args).replayed

    time.sleep(0.01)
    if change == "edit a file, same size":
        text = (project / "pkg" / "util.py").read_text()
        (project / "pkg" / "util.py").write_text(text.replace("def one", "def two"))
    elif change == "add a file to an empty folder":
        (project / "empty" / "new.py").write_text(COMPLEX)
    elif change == "remove a file":
        (project / "pkg" / "util.py").unlink()
    elif change == "rename a folder":
        (project / "pkg").rename(project / "lib")
    else:
        (project / "pkg" / "util.py").unlink()
        (project / "pkg" / "util.py").symlink_to(project / "app.py")
    time.sleep(0.01)

    after = script(*args)
    assert not after.replayed
    assert after.stdout != first.stdout
    assert script(*args).replayed  # the new state is recorded in turn


def test_a_link_to_the_target_pointed_elsewhere_runs_the_audit_again(
    script: Callable[..., ScriptRun], project: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "lib.py").write_text(COMPLEX.replace("grade", "other_grade"))
    link = tmp_path / "current"
    link.symlink_to(project)
    time.sleep(0.01)
    args = complexity_json(str(link))
    first = script(*args)
    assert script(*args).replayed

    link.unlink()
    link.symlink_to(other)
    after = script(*args)
    assert not after.replayed
    assert "other_grade" in after.stdout
    assert "other_grade" not in first.stdout


def test_other_environment_or_working_folder_is_another_record(
    script: Callable[..., ScriptRun],
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    args = complexity_json(str(project))
    script(*args)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not script(*args).replayed
    assert script(*args).replayed
    monkeypatch.chdir(tmp_path)
    assert not script(*args).replayed


def test_no_cache_neither_replays_nor_records(
    script: Callable[..., ScriptRun], project: Path, isolated_cache: Path
) -> None:
    args = complexity_json(str(project), "--no-cache")
    script(*args)
    assert not script(*args).replayed
    assert not (isolated_cache / replay.FOLDER).exists()


def test_results_not_fixed_by_the_files_alone_are_never_replayed(
    script: Callable[..., ScriptRun], project: Path, isolated_cache: Path
) -> None:
    # tooling reads the clock (end-of-life dates); --timestamps records the time of the run
    for args in (
        ("run", str(project), "--analyzers", "complexity,tooling", "--format", "json"),
        (*complexity_json(str(project)), "--timestamps"),
    ):
        script(*args)
        assert not script(*args).replayed
    assert not list((isolated_cache / replay.FOLDER).glob("*"))


def test_a_failed_gate_is_replayed_with_its_message_and_exit_code(
    script: Callable[..., ScriptRun], project: Path
) -> None:
    branches = "".join(f"    if x == {n}:\n        return {n}\n" for n in range(40))
    (project / "tangled.py").write_text(f"def tangled(x):\n{branches}    return -1\n")
    time.sleep(0.01)
    args = ("run", str(project), "--analyzers", "complexity", "--fail-under", "100", "-q")
    first = script(*args)
    second = script(*args)
    assert first.exit_code == 1
    assert first.stderr.startswith("ctoaudit: score ")
    assert second.replayed
    assert (second.exit_code, second.stdout, second.stderr) == (1, first.stdout, first.stderr)


def test_usage_errors_are_not_recorded(
    script: Callable[..., ScriptRun], project: Path, isolated_cache: Path
) -> None:
    args = ("run", str(project), "--analyzers", "nosuch")
    first = script(*args)
    assert first.exit_code == 2
    assert not script(*args).replayed


def test_a_changed_config_or_rule_file_runs_the_audit_again(
    script: Callable[..., ScriptRun], project: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('name = "team"\nextends = "default"\n')
    config = tmp_path / "audit.toml"
    config.write_text("exclude = []\n")
    time.sleep(0.01)
    args = (*complexity_json(str(project)), "--config", str(config), "--rules", str(rules))
    script(*args)
    assert script(*args).replayed

    time.sleep(0.01)
    config.write_text('exclude = ["pkg/**"]\n')
    after_config = script(*args)
    assert not after_config.replayed
    assert json.loads(after_config.stdout)["target"]["files"] == 1
    assert script(*args).replayed

    time.sleep(0.01)
    rules.write_text('name = "team"\nextends = "default"\nignore = ["CX101"]\n')
    assert not script(*args).replayed


def test_a_damaged_record_means_running_again(
    script: Callable[..., ScriptRun], project: Path, isolated_cache: Path
) -> None:
    args = complexity_json(str(project))
    first = script(*args)
    (record,) = (isolated_cache / replay.FOLDER).iterdir()
    record.write_bytes(record.read_bytes()[:100])
    again = script(*args)
    assert not again.replayed
    assert again.stdout == first.stdout
    assert again.stderr == ""


def test_a_file_changed_during_the_run_is_not_recorded(tmp_path: Path) -> None:
    target = tmp_path / "a.py"
    target.write_text("x = 1\n")
    before = stamps_module.path_stamp(str(target))
    time.sleep(0.01)
    target.write_text("x = 22\n")  # after the listing stamped it, before the run ended
    invocation = replay.Invocation(("run",), "facts", str(tmp_path / "record"))
    outputs = replay.Outputs("{}", "", (), 0)
    root = str(tmp_path)

    assert not replay.record(invocation, root, Watch(root, {"a.py": before}), {}, outputs)
    assert not (tmp_path / "record").exists()
    current = stamps_module.path_stamp(str(target))
    assert replay.record(invocation, root, Watch(root, {"a.py": current}), {}, outputs)
    assert not replay.record(invocation, root, Watch(root, {"a.py": None}), {}, outputs)


def test_old_records_are_pruned(tmp_path: Path) -> None:
    outputs = replay.Outputs("", "", (), 0)
    for n in range(replay.MAX_RECORDS + 5):
        invocation = replay.Invocation(("run",), str(n), str(tmp_path / "records" / f"{n:04d}"))
        assert replay.record(invocation, str(tmp_path), Watch(str(tmp_path), {}), {}, outputs)
        os.utime(invocation.path, ns=(n * 10**9, n * 10**9))
    kept = sorted(p.name for p in (tmp_path / "records").iterdir())
    assert len(kept) == replay.MAX_RECORDS
    assert kept[0] == f"{5:04d}"  # the least recently used went first


def git_repo_with_code(make_repo: Callable[..., GitRepo]) -> GitRepo:
    repo = make_repo()
    repo.commit({"app.py": COMPLEX, "pkg/util.py": "def one():\n    return 1\n", ".gitignore": "*.log\n"})
    time.sleep(0.01)
    return repo


@pytest.mark.parametrize(
    "change",
    [
        "edit a tracked file",
        "stage a file",
        "commit",
        "switch branch",
        "add an untracked file in a new folder",
        "ignore a tracked pattern",
    ],
)
def test_a_git_work_tree_is_replayed_until_git_sees_a_change(
    script: Callable[..., ScriptRun], make_repo: Callable[..., GitRepo], change: str
) -> None:
    repo = git_repo_with_code(make_repo)
    args = complexity_json(str(repo.path))
    first = script(*args)
    second = script(*args)
    assert second.replayed
    assert second.stdout == first.stdout
    assert json.loads(first.stdout)["target"]["dirty"] is False

    time.sleep(0.01)
    if change == "edit a tracked file":
        repo.write({"pkg/util.py": "def one():\n    return 2\n"})
    elif change == "stage a file":
        repo.write({"notes.txt": "hello\n"})
        repo.git("add", "notes.txt")
    elif change == "commit":
        repo.commit({"pkg/util.py": "def one():\n    return 3\n"})
    elif change == "switch branch":
        repo.git("checkout", "-q", "-b", "feature")
    elif change == "add an untracked file in a new folder":
        repo.write({"newpkg/mod.py": COMPLEX})
    else:
        repo.write({".gitignore": "*.log\npkg/\n"})
    time.sleep(0.01)

    after = script(*args)
    assert not after.replayed
    assert after.stdout != first.stdout


def test_an_ignored_file_does_not_stop_the_replay(
    script: Callable[..., ScriptRun], make_repo: Callable[..., GitRepo]
) -> None:
    repo = git_repo_with_code(make_repo)
    args = complexity_json(str(repo.path))
    first = script(*args)
    time.sleep(0.01)
    repo.write({"debug.log": "noise\n"})  # git ignores it: the audit would not see it either
    second = script(*args)
    assert second.replayed
    assert second.stdout == first.stdout


def test_a_folder_inside_a_work_tree_is_not_recorded(
    script: Callable[..., ScriptRun], make_repo: Callable[..., GitRepo], isolated_cache: Path
) -> None:
    # whether the tree is dirty depends on files outside the folder, which no stamp covers here
    repo = git_repo_with_code(make_repo)
    args = complexity_json(str(repo.path / "pkg"))
    script(*args)
    assert not script(*args).replayed
    assert not list((isolated_cache / replay.FOLDER).glob("*"))


def test_a_ref_is_never_replayed(
    script: Callable[..., ScriptRun], make_repo: Callable[..., GitRepo]
) -> None:
    repo = git_repo_with_code(make_repo)
    args = (*complexity_json(str(repo.path)), "--ref", "main")
    script(*args)
    assert not script(*args).replayed


def test_auditing_a_work_tree_leaves_its_git_index_untouched(
    cli: Callable[..., object], make_repo: Callable[..., GitRepo]
) -> None:
    # Right after a commit the index is "racily clean": `git status` would rewrite it to refresh
    # its stat data, unless told to take no optional locks.
    repo = make_repo()
    repo.commit({"app.py": COMPLEX})
    index = repo.path / ".git" / "index"
    before = (index.read_bytes(), index.stat().st_mtime_ns, index.stat().st_ino)
    repo.write({"untracked.py": "x = 1\n"})
    cli("run", str(repo.path), "--analyzers", "complexity", "-q")
    assert (index.read_bytes(), index.stat().st_mtime_ns, index.stat().st_ino) == before


def test_the_console_script_replays_without_importing_the_command_line(
    tmp_path: Path, isolated_cache: Path
) -> None:
    import subprocess  # noqa: PLC0415

    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(COMPLEX)
    time.sleep(stamps_module.SETTLED_SECONDS + 0.1)  # a real process: files must be settled
    command = [sys.executable, "-X", "importtime", "-m", "ctoaudit", *complexity_json(str(project))]
    env = {**os.environ, "CTOAUDIT_CACHE_DIR": str(isolated_cache)}
    runs = [
        subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        for _ in range(2)
    ]
    assert [run.returncode for run in runs] == [0, 0]
    assert runs[1].stdout == runs[0].stdout
    assert json.loads(runs[1].stdout)["target"]["files"] == 1

    def imported(run: subprocess.CompletedProcess[str]) -> set[str]:
        return {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()}

    assert {"typer", "pydantic", "rich.console"} <= imported(runs[0])
    assert not {"typer", "pydantic", "rich", "ctoaudit.engine"} & imported(runs[1])


def test_ctrl_c_during_the_replay_check_exits_130_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    def interrupted(invocation: replay.Invocation) -> int | None:
        raise KeyboardInterrupt

    monkeypatch.setattr(replay, "replay", interrupted)
    monkeypatch.setattr(sys, "argv", ["ctoaudit", *complexity_json(str(project))])
    with pytest.raises(SystemExit) as stopped:
        entry.main()
    assert stopped.value.code == 130
    assert capsys.readouterr().err == "ctoaudit: error: interrupted\n"


def test_a_deleted_working_folder_is_a_usage_error(
    script: Callable[..., ScriptRun], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    result = script(*complexity_json("."))
    assert result.exit_code == 2
    assert result.stderr == "ctoaudit: error: .: cannot resolve the path: No such file or directory\n"
