r"""Helpers for plugin authors: run one analyzer over a few in-memory files.

from ctoaudit.testing import run_analyzer

result = run_analyzer("complexity", files={"a.py": "def f():\\n    return 1\\n"})
assert result.repo_value("complexity.functions") == 1
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ctoaudit.analyzers import Analyzer, discover_analyzers
from ctoaudit.config import Settings
from ctoaudit.engine import AuditOptions, run_audit
from ctoaudit.errors import UsageError
from ctoaudit.model import AnalyzerResult
from ctoaudit.snapshot import DirectorySnapshot

FIXED_CLOCK = datetime(2025, 1, 1, tzinfo=UTC)


def run_analyzer(
    analyzer: str | type[Analyzer],
    files: Mapping[str, str | bytes],
    *,
    options: Mapping[str, Any] | None = None,
    clock: Callable[[], datetime] = lambda: FIXED_CLOCK,
) -> AnalyzerResult:
    """Write `files` to a temporary folder and run one analyzer (by entry-point name or class) on it.

    No cache, one worker, a fixed clock: results depend on the files and options only.
    """
    if isinstance(analyzer, str):
        found = discover_analyzers()
        if analyzer not in found.analyzers:
            raise UsageError(f"no installed analyzer named {analyzer!r}")
        cls = found.analyzers[analyzer]
    else:
        cls = analyzer
    settings = Settings(jobs=1, analyzers={cls.name: dict(options or {})})
    with tempfile.TemporaryDirectory(prefix="ctoaudit-test-") as tmp:
        root = Path(tmp)
        for name, content in files.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        report = run_audit(
            DirectorySnapshot(root), settings, {cls.name: cls}, AuditOptions(clock=clock)
        )
    return report.analyzers[cls.name]
