"""Time the tooling analyzer on a synthetic repository with a CI file near the 2 MiB size limit.

Run: `python benchmarks/tooling_speed.py`. Prints seconds for the audit and the evidence found.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from ctoaudit.analyzers.tooling import ToolingAnalyzer
from ctoaudit.config import Settings
from ctoaudit.engine import AuditOptions, run_audit
from ctoaudit.snapshot import DirectorySnapshot


def build(root: Path, steps: int, files: int) -> int:
    """Write a workflow with `steps` steps and `files` other files; return the workflow's size."""
    workflow = root / ".github" / "workflows" / "ci.yml"
    workflow.parent.mkdir(parents=True)
    body = "".join(
        f"      - name: step {i}\n        run: |\n          pip install -r req{i % 7}.txt\n          pytest -k t{i} && ruff check src/{i}\n"
        for i in range(steps)
    )
    workflow.write_text("on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n" + body)
    for i in range(files):
        (root / f"m{i}.py").write_text("x = 1\n")
    return workflow.stat().st_size


def main() -> None:
    """Print timings."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        size = build(root, steps=13_000, files=2_000)
        started = time.perf_counter()
        report = run_audit(
            DirectorySnapshot(root),
            Settings(jobs=1),
            {"tooling": ToolingAnalyzer},
            AuditOptions(clock=lambda: datetime(2026, 11, 26, tzinfo=UTC)),
        )
        elapsed = time.perf_counter() - started
        result = report.analyzers["tooling"]
        tools = sorted(f.scope for f in result.facts if f.key == "tooling.detected")
        evidence = sum(int(str(f.data.get("evidence_total", 0))) for f in result.facts)
        print(f"workflow {size / 1024 / 1024:.2f} MiB, 2,000 other files: {elapsed:.2f} s")
        print(f"tools {tools}, {evidence:,} pieces of evidence, skips {len(result.skips)}")


if __name__ == "__main__":
    main()
