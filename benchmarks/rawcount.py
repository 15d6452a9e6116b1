"""Benchmark and differential check: `count_raw` against `radon.raw.analyze`, file by file.

Corpora: (a) the running interpreter's standard library, (b) Django 5.1.4's sdist (downloaded once
into benchmarks/.work with pip, like benchmarks/complexity.py), (c) every version of every .py file
in the last 200 commits of psf/requests (a local clone given with --requests, read with git only).
For each corpus prints files compared, mismatches (must be 0), how often the regex lexer and the
tokenize path each deferred, and the time of radon, the tokenize path and `count_raw`.
Run: python benchmarks/rawcount.py [--requests PATH] [--django PATH] [--stdlib PATH]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from radon.raw import analyze

from complexity import fetch_django  # the same download, in benchmarks/

from ctoaudit.analyzers import rawcount
from ctoaudit.analyzers.rawcount import RawCounts


def stdlib_sources(root: Path) -> list[tuple[str, str]]:
    """Every readable .py file of the standard library under `root` (not site-packages)."""
    return [
        (name, text) for name, text in _read_tree(root) if "site-packages" not in Path(name).parts
    ]


def _read_tree(root: Path) -> list[tuple[str, str]]:
    sources = []
    for path in sorted(root.rglob("*.py")):
        try:
            sources.append((str(path), path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, OSError):
            continue
    return sources


def django_root(given: Path | None) -> Path:
    """Django's unpacked sdist, downloaded into benchmarks/.work unless given."""
    return given if given is not None else fetch_django().parent


def history_sources(repo: Path, commits: int) -> list[tuple[str, str]]:
    """Each distinct version (blob) of each .py file in the last `commits` commits."""
    git = ["git", "-C", str(repo)]
    revs = subprocess.run(
        [*git, "rev-list", f"--max-count={commits}", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    )
    blobs: dict[str, str] = {}
    for rev in revs.stdout.split():
        tree = subprocess.run(
            [*git, "ls-tree", "-r", rev], capture_output=True, text=True, check=True
        )
        for row in tree.stdout.splitlines():
            meta, path = row.split("\t", 1)
            _mode, kind, sha = meta.split()
            if kind == "blob" and path.endswith(".py"):
                blobs.setdefault(sha, path)
    batch = subprocess.run(
        [*git, "cat-file", "--batch"],
        input="\n".join(blobs).encode() + b"\n",
        capture_output=True,
        check=True,
    ).stdout
    sources = []
    offset = 0
    for sha in blobs:
        header_end = batch.index(b"\n", offset)
        size = int(batch[offset:header_end].split()[2])
        body = batch[header_end + 1 : header_end + 1 + size]
        offset = header_end + 1 + size + 1
        try:
            sources.append((f"{blobs[sha]}@{sha[:10]}", body.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return sources


def _timed(function, sources):  # type: ignore[no-untyped-def]
    results = []
    start = time.perf_counter()
    for _name, source in sources:
        try:
            results.append(tuple(function(source)))
        except (SyntaxError, ValueError) as error:  # radon's own errors, compared as such
            results.append(type(error).__name__)
    return results, time.perf_counter() - start


def _tokenize_path(source: str) -> RawCounts:
    """The previous path: one tokenize pass, radon where it defers."""
    try:
        counts = rawcount._fast(source)  # noqa: SLF001
    except (SyntaxError, rawcount.tokenize.TokenError):
        counts = None
    return counts if counts is not None else RawCounts(*analyze(source))


def _lexer_path(source: str) -> RawCounts:
    """The regex lexer, then the tokenize path where it defers (as count_raw on Python 3.11)."""
    counts = rawcount._lexed(source)  # noqa: SLF001
    return counts if counts is not None else _tokenize_path(source)


def _deferred(sources: list[tuple[str, str]]) -> tuple[int, int]:
    lexer = tokenizer = 0
    for _name, source in sources:
        lexer += rawcount._lexed(source) is None  # noqa: SLF001
        try:
            tokenizer += rawcount._fast(source) is None  # noqa: SLF001
        except (SyntaxError, rawcount.tokenize.TokenError):
            tokenizer += 1
    return lexer, tokenizer


def compare(label: str, sources: list[tuple[str, str]]) -> int:
    """Print the figures for one corpus; return its number of mismatches."""
    radon, radon_time = _timed(analyze, sources)
    tokenized, tokenize_time = _timed(_tokenize_path, sources)
    lexed, lexer_time = _timed(_lexer_path, sources)
    mismatches = [name for (name, _s), a, b in zip(sources, radon, lexed, strict=True) if a != b]
    token_mismatches = sum(1 for a, b in zip(radon, tokenized, strict=True) if a != b)
    lexer_deferred, tokenize_deferred = _deferred(sources)
    lines = sum(s.count("\n") for _n, s in sources)
    print(f"{label}: {len(sources)} files, {lines} lines")
    print(
        f"  mismatches lexer path vs radon: {len(mismatches)} (tokenize path: {token_mismatches})"
    )
    for name in mismatches[:10]:
        print(f"    {name}")
    print(f"  deferred: lexer -> tokenize {lexer_deferred}, tokenize -> radon {tokenize_deferred}")
    print(
        f"  time: radon {radon_time:.2f}s, tokenize path {tokenize_time:.2f}s,"
        f" lexer path {lexer_time:.2f}s (x{tokenize_time / lexer_time:.2f} vs tokenize path,"
        f" x{radon_time / lexer_time:.1f} vs radon)",
        flush=True,
    )
    return len(mismatches)


def main() -> int:
    """Run the three corpora; exit status 1 when any file's counts differ from radon's."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stdlib", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--django", type=Path, default=None)
    parser.add_argument("--requests", type=Path, default=None, help="a clone of psf/requests")
    parser.add_argument("--commits", type=int, default=200)
    parser.add_argument("--corpus", nargs="+", default=["stdlib", "django", "requests"])
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, count_raw uses the lexer: {rawcount._LEXER_APPLIES}")  # noqa: SLF001
    total = 0
    if "stdlib" in args.corpus:
        total += compare(f"stdlib {args.stdlib}", stdlib_sources(args.stdlib))
    if "django" in args.corpus:
        total += compare("Django 5.1.4", _read_tree(django_root(args.django)))
    if "requests" in args.corpus and args.requests is not None:
        total += compare(
            f"requests, last {args.commits} commits", history_sources(args.requests, args.commits)
        )
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
