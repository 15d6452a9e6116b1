"""Benchmark: `ctoaudit trend` vs `wily build`, and the history analyzer over five years.

Usage:
    python benchmarks/history.py REPO [--revisions 200] [--wily-venv DIR] [--skip-wily]

REPO is a local git repository with years of history (a bare mirror is fine), e.g. psf/requests.
The script works on clones in a temporary folder and never changes REPO:
- trend: `ctoaudit trend --last N` on a bare clone, cold cache (a fresh cache folder each time,
  median of --runs), complexity only (what wily measures), then warm, then complexity + history;
- wily: installed in a venv of its own (it pins radon < 5.2), `wily build -n N .` in a working clone
  (wily checks revisions out into the work tree, so it never runs on REPO);
- history analyzer: `since = "5 years"` at the head commit, best of three runs.
Targets: trend at least 10x faster than wily; history analyzer over five years under 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(args: list[str], cwd: Path | None = None) -> float:
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{proc.stderr[-2000:]}")
    return elapsed


def _load() -> str:
    """1, 5 and 15 minute load averages: the machine may be shared, so figures need this context."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def clone(source: Path, dest: Path, *, bare: bool) -> None:
    args = ["git", "-c", "safe.directory=*", "clone", "-q", "--no-local"]
    run([*args, *(["--bare"] if bare else []), str(source), str(dest)])


def trend_seconds(bare: Path, cache: Path, revisions: int, analyzers: str, out: Path) -> float:
    return run(
        [sys.executable, "-m", "ctoaudit", "trend", str(bare), "--last", str(revisions),
         "--analyzers", analyzers, "--cache-dir", str(cache), "-q", "-f", "json", "-o", str(out)]
    )  # fmt: skip


def wily_seconds(work: Path, venv: Path, revisions: int) -> float:
    if not (venv / "bin" / "wily").exists():
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(venv / "bin" / "pip"), "install", "-q", "wily"])
    return run([str(venv / "bin" / "wily"), "build", "-n", str(revisions), "."], cwd=work)


def history_seconds(bare: Path) -> tuple[float, float, float]:
    import git  # noqa: PLC0415

    from ctoaudit.analyzers.history import HistoryAnalyzer  # noqa: PLC0415
    from ctoaudit.config import Settings  # noqa: PLC0415
    from ctoaudit.engine import run_audit  # noqa: PLC0415
    from ctoaudit.snapshot import CommitSnapshot  # noqa: PLC0415

    settings = Settings.model_validate({"analyzers": {"history": {"since": "5 years"}}})
    best = float("inf")
    commits = files = 0.0
    for _ in range(3):
        snapshot = CommitSnapshot(git.Repo(bare), "HEAD")
        started = time.perf_counter()
        report = run_audit(snapshot, settings, {"history": HistoryAnalyzer})
        best = min(best, time.perf_counter() - started)
        result = report.analyzers["history"]
        commits = result.repo_value("history.commits.total") or 0
        files = result.repo_value("history.files.changed") or 0
    return best, commits, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--revisions", type=int, default=200)
    parser.add_argument("--wily-venv", type=Path, help="Reuse a venv with wily installed.")
    parser.add_argument("--skip-wily", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="ctoaudit runs to take the median of")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ctoaudit-bench-") as tmp_name:
        tmp = Path(tmp_name)
        bare, work = tmp / "repo.git", tmp / "work"
        clone(args.repo, bare, bare=True)
        head = subprocess.run(
            ["git", "-C", str(bare), "log", "-1", "--format=%h %ci"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"repository: {args.repo} (head {head}), {args.revisions} revisions")
        print(f"load average before: {_load()} ({os.cpu_count()} cores)")

        # The machine may be shared and its speed varies (this VM's by up to 70% within minutes):
        # cold runs, each with a cache folder of its own, are taken half before and half after
        # wily, so both tools see the same conditions; figures are medians.
        def cold_run(i: int) -> float:
            return trend_seconds(
                bare, tmp / f"cold{i}", args.revisions, "complexity", tmp / "t1.json"
            )

        colds = [cold_run(i) for i in range(args.runs)]
        warm = statistics.median(
            trend_seconds(bare, tmp / "cold0", args.revisions, "complexity", tmp / "t1.json")
            for _ in range(args.runs)
        )
        both = trend_seconds(
            bare, tmp / "both", args.revisions, "complexity,history", tmp / "t2.json"
        )
        points = len(json.loads((tmp / "t2.json").read_text())["points"])
        wily = None
        if not args.skip_wily:
            clone(args.repo, work, bare=False)
            wily = wily_seconds(work, args.wily_venv or tmp / "wily-venv", args.revisions)
            colds += [cold_run(args.runs + i) for i in range(args.runs)]
        cold = statistics.median(colds)
        print(
            f"ctoaudit trend --last {args.revisions}, complexity, cold cache: {cold:7.2f} s median "
            f"of {len(colds)} (min {min(colds):.2f}, max {max(colds):.2f}; {points} revisions)"
        )
        print(f"ctoaudit trend --last {args.revisions}, complexity, warm cache: {warm:7.2f} s")
        print(f"ctoaudit trend --last {args.revisions}, complexity + history, cold: {both:7.2f} s")
        if wily is not None:
            print(f"wily build -n {args.revisions}:                          {wily:7.2f} s")
            print(f"speed-up, complexity only, cold: {wily / cold:5.1f}x (target >= 10x)")
            print(f"speed-up, complexity + history, cold: {wily / both:5.1f}x")

        seconds, commits, files = history_seconds(bare)
        print(
            f"history analyzer, 5 years: {seconds:.3f} s for {commits:.0f} commits, {files:.0f} files (target < 2 s)"
        )
        print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
