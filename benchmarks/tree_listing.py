"""Benchmark: listing many revisions' files, one `git ls-tree` per revision vs the shared tree reader.

Times, on a repository you name (a bare mirror is fine, it is only read), listing the last N
first-parent commits (`git log --first-parent --format=%H -N HEAD`):
  - the former way: `git ls-tree -r -z --long --full-tree COMMIT` per revision, parsed as before;
  - `CommitSnapshot.at(commit).files()` for each, all sharing one GitTreeReader, both with all
    snapshots made first (as `trend` does: one batched read for all) and one at a time;
checks both give the same FileEntry lists and prints figures and the target.
Run: python benchmarks/tree_listing.py REPO [--last 200] [--prefix FOLDER]
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

import git

from ctoaudit.snapshot import SAFE_GIT_CONFIG, CommitSnapshot, EntryKind, FileEntry

TARGET_SECONDS = 0.2


def ls_tree_files(repo: git.Repo, commit: str, prefix: str) -> list[FileEntry]:
    """What CommitSnapshot.files() returned before the tree reader: one git process per revision."""
    args = ["git", "ls-tree", "-r", "-z", "--long", "--full-tree", commit]
    if prefix:
        args += ["--", prefix + "/"]
    out = str(repo.git.execute(args, strip_newline_in_stdout=False))
    cut = len(prefix) + 1 if prefix else 0
    found = []
    for record in out.split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")
        mode, _type, obj, size = meta.split()
        if mode == "160000":
            found.append(FileEntry(path[cut:], 0, EntryKind.SUBMODULE, obj))
        else:
            kind = EntryKind.SYMLINK if mode == "120000" else EntryKind.FILE
            found.append(FileEntry(path[cut:], int(size), kind, obj))
    return sorted(found, key=lambda e: e.path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--last", type=int, default=200)
    parser.add_argument("--prefix", default="")
    args = parser.parse_args()
    repo = git.Repo(args.repo)
    repo.git.update_environment(**SAFE_GIT_CONFIG)
    log = ["git", "-C", str(args.repo), "log", "--first-parent", "--format=%H", f"-{args.last}"]
    commits = subprocess.run(
        [*log, "HEAD"], capture_output=True, text=True, check=True
    ).stdout.split()

    start = time.perf_counter()
    before = [ls_tree_files(repo, c, args.prefix) for c in commits]
    old = time.perf_counter() - start

    start = time.perf_counter()
    head = CommitSnapshot(repo, "HEAD", prefix=args.prefix)
    snapshots = [head.at(c) for c in commits]  # as `trend` does: all revisions known up front
    after = [list(s.files()) for s in snapshots]
    new = time.perf_counter() - start

    start = time.perf_counter()
    alone = CommitSnapshot(repo, "HEAD", prefix=args.prefix)
    one_by_one = [list(alone.at(c).files()) for c in commits]
    serial = time.perf_counter() - start

    per = len(commits) / 1000
    print(f"{len(commits)} revisions, {len(after[0])} files at HEAD")
    print(f"same listing as ls-tree: {before == after == one_by_one}")
    print(f"git ls-tree per revision:           {old:.3f} s ({old / per:.2f} ms each)")
    print(f"tree reader, revisions known first: {new:.3f} s ({new / per:.2f} ms each)")
    print(f"tree reader, one revision at a time: {serial:.3f} s ({serial / per:.2f} ms each)")
    print(f"trees read: {head.tree_reader.trees_read}; target < {TARGET_SECONDS} s")


if __name__ == "__main__":
    main()
