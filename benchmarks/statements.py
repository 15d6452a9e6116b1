"""Check and time figures assembled from statement pieces against one whole-file parse.

Usage:
    python benchmarks/statements.py FOLDER [FOLDER ...] [--git REPO --revisions N]

For every Python file under each FOLDER (and, with --git, every distinct .py blob of the last N
first-parent commits of REPO), the complexity analyzer's figures from statement pieces (one memo
shared by all files, as a pool worker shares it) must equal those of a whole-file parse: total cc,
every block (name, kind, lines, cc), Halstead totals and raw line counts. Prints how many files were
cut, every mismatch, and the CPU time of both ways. Exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from ctoaudit.analyzers.complexity import _whole_file_figures, decode_source
from ctoaudit.analyzers.rawcount import count_raw
from ctoaudit.analyzers.statements import FileFigures, StatementAnalysis, StatementMemo


def folder_files(folder: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(folder.rglob("*.py")):
        if path.is_file():
            yield str(path), path.read_bytes()


def history_blobs(repo: Path, revisions: int) -> Iterator[tuple[str, bytes]]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
        ).stdout

    seen: set[str] = set()
    for commit in git("log", "--first-parent", f"-{revisions}", "--format=%H").split():
        for line in git("ls-tree", "-r", commit).splitlines():
            meta, _, path = line.partition("\t")
            blob = meta.split()[2]
            if path.endswith(".py") and blob not in seen:
                seen.add(blob)
                data = subprocess.run(
                    ["git", "-C", str(repo), "cat-file", "blob", blob], capture_output=True, check=True
                ).stdout
                yield f"{path}@{blob[:10]}", data


def comparable(figures: FileFigures, raw: object) -> tuple[object, ...]:
    blocks = [(b.fullname, type(b).__name__, b.lineno, b.endline, b.complexity) for b in figures.blocks]
    return (figures.total_complexity, blocks, tuple(figures.halstead), raw)


def check(files: Iterator[tuple[str, bytes]]) -> int:
    memo = StatementMemo()
    analysis = StatementAnalysis(memo)
    total = cut = mismatches = 0
    pieces_cpu = whole_cpu = 0.0
    for name, data in files:
        try:
            source = decode_source(data)
        except ValueError:
            continue
        total += 1
        started = time.process_time()
        try:
            pieces = analysis.figures(source, no_assert=False)
        except Exception as exc:  # noqa: BLE001 - the analyzer falls back to the whole file
            print(f"  raised, would parse whole: {name}: {exc!r}")
            pieces = None
        pieces_cpu += time.process_time() - started
        started = time.process_time()
        whole = _whole_file_figures(source, no_assert=False)
        try:
            raw: object = count_raw(source)
        except Exception as exc:  # noqa: BLE001 - radon's own counter can fail on odd files
            raw = f"raw counts fail: {exc!r}"
        whole_cpu += time.process_time() - started
        if pieces is None:
            continue
        cut += 1
        if isinstance(whole, str) or comparable(pieces, pieces.raw) != comparable(whole, raw):
            mismatches += 1
            print(f"  MISMATCH {name}: {whole if isinstance(whole, str) else raw}")
    print(
        f"{total} files, {cut} cut into pieces ({memo.made} pieces parsed), {mismatches} mismatches; "
        f"CPU: pieces {pieces_cpu:.2f} s, whole files {whole_cpu:.2f} s"
    )
    return mismatches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--git", type=Path, help="a git repository whose history to read")
    parser.add_argument("--revisions", type=int, default=200)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # invalid escapes in old sources
    bad = 0
    for folder in args.folders:
        print(f"{folder}:")
        bad += check(folder_files(folder))
    if args.git:
        print(f"{args.git}, distinct .py blobs of the last {args.revisions} commits:")
        bad += check(history_blobs(args.git, args.revisions))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
