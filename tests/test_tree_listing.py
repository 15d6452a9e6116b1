"""A commit's files come from batched cat-file reads and equal what `git ls-tree -r --long` lists."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import git as gitpython
import git.cmd
import pytest
from conftest import CliResult, GitRepo

import ctoaudit.snapshot
from ctoaudit.errors import SnapshotError, TargetError
from ctoaudit.snapshot import CommitSnapshot, EntryKind, FileEntry

LATIN1_NAME = os.fsdecode(b"caf\xe9.txt")  # not UTF-8: git stores the bytes as they are


def ls_tree(repo: GitRepo, commit: str, prefix: str = "") -> list[FileEntry]:
    """The reference listing: `git ls-tree -r -z --long --full-tree`, paths relative to `prefix`."""
    args = ["ls-tree", "-r", "-z", "--long", "--full-tree", commit]
    if prefix:
        args += ["--", prefix + "/"]
    out = gitpython.Git(repo.path).execute(["git", *args], stdout_as_string=False)
    assert isinstance(out, bytes)
    found = []
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, _, object_id, size = meta.decode().split()
        path = raw_path.decode("utf-8", "surrogateescape")[len(prefix) + 1 if prefix else 0 :]
        kinds = {"160000": EntryKind.SUBMODULE, "120000": EntryKind.SYMLINK}
        kind = kinds.get(mode, EntryKind.FILE)
        found.append(FileEntry(path, 0 if size == "-" else int(size), kind, object_id))
    return sorted(found, key=lambda e: e.path)


def build_tree_history(make_repo: Callable[..., GitRepo]) -> tuple[GitRepo, list[str]]:
    """Four commits over nested folders, a symlink, an executable, a gitlink and odd names."""
    repo = make_repo()
    repo.write(
        {
            "README.md": "# demo\n",
            "src/pkg/__init__.py": "",
            "src/pkg/core.py": "def f():\n    return 1\n",
            "src/pkg/sub/deep.py": "X = 1\n",
            "src/pkg-extra.py": "Y = 2\n",
            "docs/my notes ü.md": "notes\n",
            "données/été.txt": "chaud\n",
            "bin/run.sh": "#!/bin/sh\necho hi\n",
            LATIN1_NAME: b"latin-1 name\n",
        }
    )
    (repo.path / "bin/run.sh").chmod(0o755)
    (repo.path / "link").symlink_to("src/pkg")
    (repo.path / "vendor/lib").mkdir(parents=True)  # where a submodule would be checked out
    first = repo.commit(message="first")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{first},vendor/lib")
    commits = [repo.commit(message="add a submodule")]
    commits.append(repo.commit({"src/pkg/sub/deep.py": "X = 2\n"}, "one deep change"))
    (repo.path / "README.md").unlink()
    commits.append(repo.commit({"src/pkg/new.py": "Z = 3\n", "top.txt": "t\n"}, "add, delete"))
    return repo, commits


def test_listing_equals_ls_tree_for_each_commit(make_repo: Callable[..., GitRepo]) -> None:
    repo, commits = build_tree_history(make_repo)
    handle = gitpython.Repo(repo.path)
    head = CommitSnapshot(handle, "HEAD")
    for commit in commits:
        expected = ls_tree(repo, commit)
        assert list(head.at(commit).files()) == expected
        assert list(CommitSnapshot(handle, commit).files()) == expected
    files = {e.path: e for e in head.files()}
    gitlink = repo.git("rev-parse", f"{commits[0]}~1").strip()
    assert files["vendor/lib"] == FileEntry("vendor/lib", 0, EntryKind.SUBMODULE, gitlink)
    assert files["link"].kind is EntryKind.SYMLINK
    assert files["link"].size == len("src/pkg")
    assert files["bin/run.sh"].kind is EntryKind.FILE
    assert files["docs/my notes ü.md"].size == len("notes\n")
    assert LATIN1_NAME in files
    assert head.read_bytes(files[LATIN1_NAME]) == b"latin-1 name\n"


@pytest.mark.parametrize("prefix", ["src", "src/pkg", "src/pkg/sub", "docs", "données"])
def test_prefix_lists_that_folder_like_ls_tree(
    make_repo: Callable[..., GitRepo], prefix: str
) -> None:
    repo, commits = build_tree_history(make_repo)
    head = CommitSnapshot(gitpython.Repo(repo.path), "HEAD", prefix=prefix)
    for commit in commits:
        expected = ls_tree(repo, commit, prefix)
        assert expected, "the prefix exists in every commit"
        assert list(head.at(commit).files()) == expected


@pytest.mark.parametrize("prefix", ["missing", "README.md", "link", "src/pkg/core.py/x"])
def test_prefix_that_is_no_folder_lists_nothing(
    make_repo: Callable[..., GitRepo], prefix: str
) -> None:
    repo, commits = build_tree_history(make_repo)
    snapshot = CommitSnapshot(gitpython.Repo(repo.path), commits[0], prefix=prefix)
    assert ls_tree(repo, commits[0], prefix) == []
    assert list(snapshot.files()) == []


def test_submodule_prefix_lists_nothing(make_repo: Callable[..., GitRepo]) -> None:
    # ls-tree lists the gitlink itself under an empty name; its files are in another repository.
    repo, commits = build_tree_history(make_repo)
    assert [e.path for e in ls_tree(repo, commits[0], "vendor/lib")] == [""]
    snapshot = CommitSnapshot(gitpython.Repo(repo.path), commits[0], prefix="vendor/lib")
    assert list(snapshot.files()) == []


def test_at_takes_full_ids_without_resolving_them(
    make_repo: Callable[..., GitRepo], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, commits = build_tree_history(make_repo)
    head = CommitSnapshot(gitpython.Repo(repo.path), "HEAD")
    head.files()
    started: list[object] = []
    real_popen = subprocess.Popen

    def counting_popen(*args: object, **kwargs: object) -> object:
        started.append(args)
        return real_popen(*args, **kwargs)  # type: ignore[call-overload]

    def no_resolving(*_: object) -> str:
        raise AssertionError("a full commit id was resolved again")

    monkeypatch.setattr(git.cmd, "Popen", counting_popen)  # gitpython's commands
    monkeypatch.setattr(subprocess, "Popen", counting_popen)  # everything else
    monkeypatch.setattr(ctoaudit.snapshot, "resolve_commit", no_resolving)
    snapshots = [head.at(c) for c in commits]
    listed = [[e.path for e in s.files()] for s in snapshots]
    assert started == []
    assert [s.commit_id for s in snapshots] == commits
    assert "README.md" in listed[0]
    assert "README.md" not in listed[2]
    assert "src/pkg/new.py" in listed[2]
    assert "src/pkg/new.py" not in listed[1]


def test_at_resolves_other_refs(make_repo: Callable[..., GitRepo]) -> None:
    repo, commits = build_tree_history(make_repo)
    head = CommitSnapshot(gitpython.Repo(repo.path), "HEAD")
    assert head.at("HEAD~2").commit_id == commits[0]
    assert head.at(commits[1][:10]).commit_id == commits[1]
    with pytest.raises(TargetError, match="bad ref 'nope'"):
        head.at("nope")


def test_shared_folders_are_read_once(make_repo: Callable[..., GitRepo]) -> None:
    repo, commits = build_tree_history(make_repo)
    head = CommitSnapshot(gitpython.Repo(repo.path), commits[0])
    head.files()
    reader = head.tree_reader
    # root, bin, docs, données, src, src/pkg, src/pkg/sub, vendor
    assert reader.trees_read == 8
    head.at(commits[1]).files()  # deep.py changed: root, src, src/pkg and src/pkg/sub are new
    assert reader.trees_read == 8 + 4
    head.at(commits[1]).files()
    head.at(commits[0]).files()
    assert reader.trees_read == 8 + 4


def test_revisions_announced_by_at_are_read_in_one_batch(make_repo: Callable[..., GitRepo]) -> None:
    repo, commits = build_tree_history(make_repo)
    head = CommitSnapshot(gitpython.Repo(repo.path), "HEAD")
    snapshots = [head.at(c) for c in commits]
    snapshots[0].files()
    read_for_all = head.tree_reader.trees_read
    assert read_for_all == 8 + 4 + 3  # the last commit adds top.txt and src/pkg/new.py
    for snapshot in snapshots:
        snapshot.files()
    assert head.tree_reader.trees_read == read_for_all


def loose_object(repo: GitRepo, object_id: str) -> Path:
    return repo.path / ".git" / "objects" / object_id[:2] / object_id[2:]


def test_missing_tree_is_a_snapshot_error(make_repo: Callable[..., GitRepo]) -> None:
    repo, commits = build_tree_history(make_repo)
    tree = repo.git("rev-parse", f"{commits[0]}:src/pkg/sub").strip()
    loose_object(repo, tree).unlink()
    snapshot = CommitSnapshot(gitpython.Repo(repo.path), commits[0])
    with pytest.raises(SnapshotError, match=f"cannot read tree {tree}: missing or unreadable in "):
        snapshot.files()
    # Other revisions that do not need the missing folder still list.
    assert list(snapshot.at(commits[1]).files()) == ls_tree(repo, commits[1])


def test_corrupt_tree_is_a_snapshot_error(make_repo: Callable[..., GitRepo]) -> None:
    repo, commits = build_tree_history(make_repo)
    tree = repo.git("rev-parse", f"{commits[0]}:src/pkg/sub").strip()
    path = loose_object(repo, tree)
    path.chmod(stat.S_IWUSR | stat.S_IRUSR)
    path.write_bytes(b"not zlib at all")
    snapshot = CommitSnapshot(gitpython.Repo(repo.path), commits[0])
    with pytest.raises(SnapshotError, match=f"cannot read tree {tree}: missing or unreadable in "):
        snapshot.files()
    # The failed git process is replaced: a revision without that folder still lists.
    assert list(snapshot.at(commits[1]).files()) == ls_tree(repo, commits[1])


def test_full_id_of_no_commit_is_a_snapshot_error(make_repo: Callable[..., GitRepo]) -> None:
    repo, _ = build_tree_history(make_repo)
    head = CommitSnapshot(gitpython.Repo(repo.path), "HEAD")
    blob = repo.git("rev-parse", "HEAD:top.txt").strip()
    with pytest.raises(SnapshotError, match=f"cannot read commit {blob}: it is a blob"):
        head.at(blob).files()
    with pytest.raises(SnapshotError, match="cannot read commit 0{40}: missing or unreadable in "):
        head.at("0" * 40).files()
    assert [e.path for e in head.files()][:1] == ["bin/run.sh"]


def test_corrupt_repository_exits_with_analysis_error(
    make_repo: Callable[..., GitRepo], cli: Callable[..., CliResult]
) -> None:
    repo, commits = build_tree_history(make_repo)
    tree = repo.git("rev-parse", f"{commits[-1]}:src/pkg").strip()
    loose_object(repo, tree).unlink()
    result = cli("run", str(repo.path), "--ref", "HEAD", "--analyzers", "complexity")
    assert result.exit_code == 3
    assert f"cannot read tree {tree}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_malformed_tree_is_a_snapshot_error(make_repo: Callable[..., GitRepo]) -> None:
    repo, _ = build_tree_history(make_repo)
    proc = subprocess.run(
        ["git", "hash-object", "-t", "tree", "--literally", "-w", "--stdin"],
        cwd=repo.path,
        input=b"100644 truncated\0abc",
        capture_output=True,
        check=True,
    )
    tree = proc.stdout.decode().strip()
    commit = repo.git("commit-tree", tree, "-m", "bad tree").strip()
    snapshot = CommitSnapshot(gitpython.Repo(repo.path), commit)
    with pytest.raises(SnapshotError, match=f"cannot read tree {tree}: corrupt object"):
        snapshot.files()


def test_folders_nested_too_deep_are_a_snapshot_error(
    make_repo: Callable[..., GitRepo], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = build_tree_history(make_repo)
    monkeypatch.setattr(ctoaudit.snapshot, "_MAX_TREE_DEPTH", 1)
    snapshot = CommitSnapshot(gitpython.Repo(repo.path), "HEAD")
    with pytest.raises(SnapshotError, match="cannot list src/pkg/: folders nested over 1 deep"):
        snapshot.files()
