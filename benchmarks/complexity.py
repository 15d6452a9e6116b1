"""Benchmark: ctoaudit's complexity audit against radon's own four commands, on Django's source.

Downloads Django 5.1.4's sdist (pip download --no-deps --no-binary :all:), then times on its
`django/` package:
  - ctoaudit cold (empty cache) and warm (nothing changed: replayed), whole command, JSON output;
  - ctoaudit warm after touching one file (its stamp moves, its bytes do not): no replay, so the
    engine's content cache answers, and the whole command runs;
  - `radon cc -j`, `radon mi -j`, `radon raw -j`, `radon hal -j`;
and cross-checks that ctoaudit's per-function cyclomatic complexity and per-file maintainability
index equal radon's. Prints figures and ratios. Run: python benchmarks/complexity.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

DJANGO = "django==5.1.4"
WORK = Path(__file__).resolve().parent / ".work"
COLD_TARGET = 0.30
WARM_TARGET = 0.05


def fetch_django() -> Path:
    """The unpacked sdist's django/ folder, downloaded once into benchmarks/.work."""
    WORK.mkdir(exist_ok=True)
    existing = sorted(WORK.glob("[Dd]jango-5.1.4/django"))
    if existing:
        return existing[0]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            DJANGO,
            "-d",
            str(WORK),
        ],
        check=True,
    )
    archive = next(WORK.glob("[Dd]jango-5.1.4.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(WORK, filter="data")
    return next(WORK.glob("[Dd]jango-5.1.4/django"))


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def radon_bin() -> str:
    found = shutil.which("radon", path=str(Path(sys.executable).parent)) or shutil.which("radon")
    if found is None:
        raise SystemExit("radon is not installed in this environment")
    return found


def ctoaudit_bin() -> str:
    found = shutil.which("ctoaudit", path=str(Path(sys.executable).parent)) or shutil.which(
        "ctoaudit"
    )
    if found is None:
        raise SystemExit("ctoaudit is not installed in this environment (pip install -e .)")
    return found


def _relative(path: str) -> str:
    """radon names files as given on its command line (django/x.py); ctoaudit relative to the root."""
    return path.removeprefix("django/")


def cross_check(report: dict, radon_cc: dict, radon_mi: dict) -> tuple[int, int, list[str]]:
    """Compare per-function cc (name, line, value) and per-file MI; returns counts and mismatches."""
    ours_cc: set[tuple[str, str, int, int]] = set()
    ours_mi: dict[str, float] = {}
    for m in report["analyzers"]["complexity"]["measurements"]:
        if m["metric"] == "complexity.cc":
            ours_cc.add((m["path"], m["scope"], m["line"], int(m["value"])))
        elif m["metric"] == "complexity.mi":
            ours_mi[m["path"]] = m["value"]
    theirs_cc: set[tuple[str, str, int, int]] = set()
    radon_cc = {_relative(p): v for p, v in radon_cc.items()}
    radon_mi = {_relative(p): v for p, v in radon_mi.items()}
    # radon also reads files without a .py suffix that start with a Python shebang (Django's
    # manage.py-tpl); ctoaudit reads its include globs (default *.py). Compare the files both read.
    extra = sorted(p for p in radon_mi if not p.endswith(".py"))
    radon_mi = {p: v for p, v in radon_mi.items() if p.endswith(".py")}
    radon_cc = {p: v for p, v in radon_cc.items() if p.endswith(".py")}
    if extra:
        print(
            f"cross-check: radon also read {len(extra)} file(s) without .py (shebang): {', '.join(extra)}; not compared"
        )
    for path, blocks in radon_cc.items():
        if isinstance(blocks, dict):  # {"error": ...}
            continue
        for block in blocks:
            name = (
                f"{block['classname']}.{block['name']}" if block.get("classname") else block["name"]
            )
            theirs_cc.add((path, name, block["lineno"], block["complexity"]))
            for method in block.get("methods", []):
                theirs_cc.add(
                    (
                        path,
                        f"{block['name']}.{method['name']}",
                        method["lineno"],
                        method["complexity"],
                    )
                )
    theirs_mi = {p: v["mi"] for p, v in radon_mi.items() if "mi" in v}
    problems = [f"cc only in ctoaudit: {x}" for x in sorted(ours_cc - theirs_cc)[:5]]
    problems += [f"cc only in radon: {x}" for x in sorted(theirs_cc - ours_cc)[:5]]
    problems += [
        f"mi differs for {p}: {ours_mi.get(p)} vs {v}"
        for p, v in sorted(theirs_mi.items())
        if abs(ours_mi.get(p, -1) - v) > 1e-9
    ][:5]
    if set(ours_mi) != set(theirs_mi):
        problems.append(f"files with MI differ: {sorted(set(ours_mi) ^ set(theirs_mi))[:5]}")
    return len(ours_cc), len(ours_mi), problems


IN_PROCESS = """
import gc, json, statistics, sys, time
from pathlib import Path
from ctoaudit.cache import SqliteCache
from ctoaudit.cli import GC_THRESHOLDS
gc.set_threshold(*GC_THRESHOLDS)  # as the command line does
from ctoaudit.engine import AuditOptions, AuditRequest, audit
tree, cache_dir, runs = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
request = AuditRequest(target=tree, overrides={"enable": ["complexity"]}, cache_dir=cache_dir)
def once():
    cache = SqliteCache(cache_dir)
    started = time.perf_counter()
    audit(request, AuditOptions(cache=cache))
    cache.close()
    return time.perf_counter() - started
if __name__ == "__main__":
    cold = once()
    warm = statistics.median(once() for _ in range(runs))
    print(json.dumps({"cold": cold, "warm": warm}))
"""
"""The audit itself, cold then warm, timed inside one process: what the engine controls."""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="warm runs to take the median of")
    args = parser.parse_args()
    # Start-up counts in warm runs: make sure ctoaudit's own bytecode is compiled, as `pip install`
    # does, also where PYTHONDONTWRITEBYTECODE is set (an editable install would recompile each run).
    import ctoaudit  # noqa: PLC0415

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(ctoaudit.__file__).parent)], check=True
    )
    tree = fetch_django()
    parent = tree.parent
    radon = radon_bin()
    ctoaudit = ctoaudit_bin()
    files = sum(1 for _ in tree.rglob("*.py"))
    print(f"tree: {tree} ({files} Python files)")

    radon_times: dict[str, float] = {}
    radon_out: dict[str, dict] = {}
    for cmd in ("cc", "mi", "raw", "hal"):
        elapsed, out = timed([radon, cmd, "-j", "django"], parent)
        radon_times[cmd] = elapsed
        radon_out[cmd] = json.loads(out)
        print(f"radon {cmd} -j: {elapsed:7.2f} s")
    radon_total = sum(radon_times.values())
    print(f"radon, four commands: {radon_total:7.2f} s")

    with tempfile.TemporaryDirectory() as cache:
        env = {**__import__("os").environ, "CTOAUDIT_CACHE_DIR": cache}
        out_file = Path(cache) / "report.json"
        # The complexity audit: what radon's commands measure (other analyzers have their own benchmarks).
        cmd = [
            ctoaudit,
            "run",
            "django",
            "--analyzers",
            "complexity",
            "--quiet",
            "--format",
            "json",
            "-o",
            str(out_file),
        ]
        # The machine's speed varies: cold is the median of runs, each with an empty cache of its own.
        colds = []
        for i in range(args.runs):
            cold_env = {**env, "CTOAUDIT_CACHE_DIR": str(Path(cache) / f"cold{i}")}
            colds.append(timed(cmd, parent, cold_env)[0])
        cold = statistics.median(colds)
        env["CTOAUDIT_CACHE_DIR"] = str(Path(cache) / "cold0")
        report = json.loads(out_file.read_text())
        cold_bytes = out_file.read_bytes()
        warm_runs = [timed(cmd, parent, env)[0] for _ in range(args.runs)]
        if out_file.read_bytes() != cold_bytes:
            raise SystemExit("the warm run's report differs from the cold run's")
        terminal_cmd = [ctoaudit, "run", "django", "--analyzers", "complexity", "--quiet"]
        timed(terminal_cmd, parent, env)  # its first run is recorded: the JSON one was
        terminal_runs = [timed(terminal_cmd, parent, env)[0] for _ in range(args.runs)]
        touched = tree / "__init__.py"
        engine_runs = []
        for _ in range(args.runs):
            touched.touch()  # a new stamp: the replay check fails, the content cache still hits
            engine_runs.append(timed(cmd, parent, env)[0])
        if out_file.read_bytes() != cold_bytes:
            raise SystemExit("the engine-cache run's report differs from the cold run's")
        in_process = json.loads(
            subprocess.run(
                [sys.executable, "-c", IN_PROCESS, str(tree), str(Path(cache) / "in-process"), str(args.runs)],
                capture_output=True, text=True, check=True,
            ).stdout
        )  # fmt: skip
    warm = statistics.median(warm_runs)
    warm_engine = statistics.median(engine_runs)
    warm_terminal = statistics.median(terminal_runs)
    print(
        f"engine.audit in one process (no interpreter start-up or imports): cold {in_process['cold']:.2f} s, "
        f"warm {in_process['warm']:.3f} s = {in_process['warm'] / in_process['cold']:.3f} x cold"
    )
    print(
        f"ctoaudit cold (JSON, median of {len(colds)}): {cold:7.2f} s = {cold / radon_total:.3f} x radon "
        f"(target <= {COLD_TARGET}; min {min(colds):.2f}, max {max(colds):.2f})"
    )
    print(
        f"ctoaudit warm (JSON, median):  {warm:7.2f} s   = {warm / cold:.3f} x cold (target <= {WARM_TARGET})"
    )
    print(
        f"ctoaudit warm (terminal):      {warm_terminal:7.2f} s   = {warm_terminal / cold:.3f} x cold"
    )
    print(
        f"ctoaudit, one file touched:    {warm_engine:7.2f} s   = {warm_engine / cold:.3f} x cold "
        "(no replay: whole command, content cache)"
    )

    functions, mi_files, problems = cross_check(report, radon_out["cc"], radon_out["mi"])
    print(
        f"cross-check: {functions} functions/methods/classes and {mi_files} files' MI compared with radon"
    )
    for problem in problems:
        print(f"  MISMATCH {problem}")
    print("cross-check: identical" if not problems else "cross-check: FAILED")
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
