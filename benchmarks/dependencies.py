"""Dependency age: 150 pinned PyPI dependencies through a loopback registry, cold and warm cache.

Starts tests/registry_server.py as its own process (so it does not share this interpreter's GIL),
answering every request after ~1 ms with recorded PyPI JSON (tests/fixtures/registry, cycled over 150
distinct names), then audits a folder whose requirements.txt pins 150 dependencies:

  cold  fresh cache folder: 150 registry requests, parse, store
  warm  same cache folder again: no requests

Both in-process (the analyzer through run_audit) and end to end (`ctoaudit run` as a subprocess,
interpreter start-up included). Targets (issue 4): cold <= 1.5 s wall, warm <= 0.3 s, on 2 cores.

    python benchmarks/dependencies.py [--runs 3] [--docs DIR]

--docs DIR serves full, untrimmed documents (DIR/NAME.json as saved from pypi.org/pypi/NAME/json)
instead of the trimmed fixtures, to see the cost of real document sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from packaging.version import InvalidVersion, Version

from ctoaudit.analyzers.dependencies import DependencyAgeAnalyzer
from ctoaudit.cache import SqliteCache
from ctoaudit.config import Settings
from ctoaudit.engine import AuditOptions, run_audit
from ctoaudit.snapshot import DirectorySnapshot

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "registry" / "pypi"
COUNT = 150


def pick_version(doc: dict) -> str:
    """A final release from the middle of the project's history: realistic libyears."""
    versions = []
    for text, files in doc["releases"].items():
        try:
            v = Version(text)
        except InvalidVersion:
            continue
        if files and not v.is_prerelease:
            versions.append((v, text))
    versions.sort()
    return versions[len(versions) // 2][1]


def prepare(work: Path, docs: Path) -> tuple[Path, Path]:
    sources = sorted(docs.glob("*.json"))
    routes: dict[str, str] = {}
    pins = []
    served = work / "served"
    served.mkdir()
    for i in range(COUNT):
        source = sources[i % len(sources)]
        name = f"bench-{i:03d}-{source.stem}"
        target = served / f"{name}.json"
        shutil.copyfile(source, target)
        routes[f"/pypi/{name}/json"] = str(target)
        pins.append(f"{name}=={pick_version(json.loads(source.read_text()))}")
    repo = work / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("\n".join(pins) + "\n")
    routes_file = work / "routes.json"
    routes_file.write_text(json.dumps(routes))
    return repo, routes_file


def start_server(routes: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "registry_server.py"),
            "--routes",
            str(routes),
            "--latency",
            "0.001",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    return proc, url


def run_in_process(repo: Path, cache_dir: Path) -> tuple[float, dict[str, float]]:
    cache = SqliteCache(cache_dir)
    options = AuditOptions(cache=cache, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    started = time.perf_counter()
    report = run_audit(
        DirectorySnapshot(repo), Settings(), {"dependencies": DependencyAgeAnalyzer}, options
    )
    elapsed = time.perf_counter() - started
    cache.close()
    result = report.analyzers["dependencies"]
    return elapsed, {
        k: result.repo_value(k) or 0.0
        for k in ("dependencies.resolved", "dependencies.libyears.total")
    }


def run_cli(repo: Path, cache_dir: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ctoaudit", "run", str(repo), "--analyzers", "dependencies", "-f", "json",
         "-q", "--cache-dir", str(cache_dir)],
        env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--docs", type=Path, default=FIXTURES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ctoaudit-bench-") as tmp:
        work = Path(tmp)
        repo, routes = prepare(work, args.docs)
        server, url = start_server(routes)
        os.environ["CTOAUDIT_PYPI_URL"] = url
        env = {**os.environ, "CTOAUDIT_PYPI_URL": url}
        sizes = [p.stat().st_size for p in (work / "served").glob("*.json")]
        print(f"{COUNT} pinned dependencies, documents {statistics.mean(sizes) / 1024:.0f} KiB on average"
              f" ({sum(sizes) / 1024 / 1024:.1f} MiB in all), registry {url} with 1 ms latency, {os.cpu_count()} cores")  # fmt: skip
        try:
            figures: dict[str, list[float]] = {
                "cold": [],
                "warm": [],
                "cli cold": [],
                "cli warm": [],
                "cli empty": [],
            }
            empty = work / "empty"
            empty.mkdir()
            for run in range(args.runs):
                cache = work / f"cache-{run}"
                cold, values = run_in_process(repo, cache)
                warm, again = run_in_process(repo, cache)
                assert values == again, (values, again)
                assert values["dependencies.resolved"] == COUNT, values
                figures["cold"].append(cold)
                figures["warm"].append(warm)
                cli_cache = work / f"cli-cache-{run}"
                figures["cli cold"].append(run_cli(repo, cli_cache, env))
                figures["cli warm"].append(run_cli(repo, cli_cache, env))
                figures["cli empty"].append(run_cli(empty, cli_cache, env))
            print(
                f"resolved {values['dependencies.resolved']:.0f}, libyears total {values['dependencies.libyears.total']:.1f}"
            )
            print(
                "in process: the analyzer through run_audit; cli: `ctoaudit run` as a subprocess;"
                " cli empty: the same command on an empty folder (interpreter and import start-up)"
            )
            for label, target in (
                ("cold", 1.5),
                ("warm", 0.3),
                ("cli cold", 1.5),
                ("cli warm", 0.3),
                ("cli empty", 0.0),
            ):
                runs = figures[label]
                verdict = (
                    ""
                    if not target
                    else f"  (target <= {target} s: {'ok' if min(runs) <= target else 'OVER TARGET'})"
                )
                print(
                    f"{label:9s} min {min(runs):.3f} s  median {statistics.median(runs):.3f} s{verdict}"
                )
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
