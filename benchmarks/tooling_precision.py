"""Precision and recall of tool detection on the fixtures in tests/fixtures/tooling.

Each fixture's expected.toml lists the tools a person confirmed by reading the repository's files
(`tools`) and tool names that appear only as traps (`absent`: comments, rule families, commented-out
steps). Run: `python benchmarks/tooling_precision.py`.
"""

from __future__ import annotations

import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from ctoaudit.analyzers.tooling import ToolingAnalyzer
from ctoaudit.config import Settings
from ctoaudit.engine import AuditOptions, run_audit
from ctoaudit.snapshot import DirectorySnapshot

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "tooling"
AUDIT_DAY = datetime(2026, 11, 26, tzinfo=UTC)


def detected_tools(root: Path) -> set[str]:
    """Catalogue ids the analyzer reports for a fixture folder."""
    report = run_audit(
        DirectorySnapshot(root),
        Settings(jobs=1),
        {"tooling": ToolingAnalyzer},
        AuditOptions(clock=lambda: AUDIT_DAY),
    )
    facts = report.analyzers["tooling"].facts
    return {f.scope for f in facts if f.key == "tooling.detected"}


def main() -> int:
    """Print a row per fixture and the totals; exit 1 when a trap was detected."""
    total_tp = total_fp = total_fn = trap_hits = traps = 0
    print(
        f"{'fixture':<14}{'expected':>9}{'found':>7}{'TP':>5}{'FP':>5}{'FN':>5}{'traps':>7}{'trap FP':>9}"
    )
    for folder in sorted(p for p in FIXTURES.iterdir() if (p / "expected.toml").is_file()):
        expected = tomllib.loads((folder / "expected.toml").read_text(encoding="utf-8"))
        want, absent = set(expected["tools"]), set(expected["absent"])
        found = detected_tools(folder)
        tp, fp, fn = len(found & want), len(found - want), len(want - found)
        hits = found & absent
        total_tp, total_fp, total_fn = total_tp + tp, total_fp + fp, total_fn + fn
        traps, trap_hits = traps + len(absent), trap_hits + len(hits)
        print(
            f"{folder.name:<14}{len(want):>9}{len(found):>7}{tp:>5}{fp:>5}{fn:>5}{len(absent):>7}{len(hits):>9}"
        )
        for tool in sorted(found - want):
            print(f"  false positive: {tool}")
        for tool in sorted(want - found):
            print(f"  missed: {tool}")
    precision = total_tp / (total_tp + total_fp) if total_tp + total_fp else 1.0
    recall = total_tp / (total_tp + total_fn) if total_tp + total_fn else 1.0
    print(
        f"precision {precision:.3f}  recall {recall:.3f}  ({total_tp} TP, {total_fp} FP, {total_fn} FN)"
    )
    print(
        f"traps: {traps} tool names planted or found in comments/rule families/commented steps, {trap_hits} detected"
    )
    return 1 if trap_hits else 0


if __name__ == "__main__":
    sys.exit(main())
