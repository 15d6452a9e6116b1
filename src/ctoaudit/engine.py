"""The audit pipeline: a snapshot and settings in, one AuditReport out. No printing, no exit codes."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ctoaudit import __version__
from ctoaudit.analyzers import (
    AnalysisContext,
    Analyzer,
    NullProgress,
    ProgressSink,
    discover_analyzers,
    order_by_requirements,
)
from ctoaudit.cache import NullCache, ResultCache, default_cache_dir
from ctoaudit.config import Settings, load_settings, validate_analyzer_options
from ctoaudit.errors import AnalysisError, SnapshotFileError, UsageError
from ctoaudit.filemap import default_jobs
from ctoaudit.model import AnalyzerResult, AnalyzerStatus, AuditReport, Skip, ToolInfo
from ctoaudit.snapshot import RepoSnapshot, matches_any, open_snapshot


def utc_now() -> datetime:
    """The real clock; tests and reproducible runs inject another."""
    return datetime.now(UTC)


def parse_as_of(text: str) -> datetime:
    """`--as-of`: YYYY-MM-DD is 00:00:00 UTC of that day; an ISO timestamp without zone is UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--as-of {text!r}: expected YYYY-MM-DD or an ISO 8601 timestamp"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class AuditOptions:
    """How to run an audit, beyond the settings: clock, cache, progress and output switches."""

    cache: ResultCache = field(default_factory=NullCache)
    clock: Callable[[], datetime] = utc_now
    progress: ProgressSink = field(default_factory=NullProgress)
    timestamps: bool = False
    offline: bool = False
    as_of: datetime | None = None
    strict: bool = False


def select_analyzers(
    available: Mapping[str, type[Analyzer]], settings: Settings
) -> dict[str, type[Analyzer]]:
    """The analyzers to run: `enable` (default all) minus `disable`; unknown names are a usage error."""
    wanted = list(settings.enable) if settings.enable is not None else sorted(available)
    unknown = sorted({*wanted, *settings.disable} - set(available))
    if unknown:
        raise UsageError(
            f"unknown analyzer(s): {', '.join(unknown)}; installed: {', '.join(sorted(available)) or 'none'}"
        )
    return {name: available[name] for name in sorted(wanted) if name not in settings.disable}


def validate_options(analyzers: Mapping[str, type[Analyzer]], settings: Settings) -> None:
    """Fail fast, before any work, on options for unknown analyzers or with bad keys."""
    for name in sorted(settings.analyzers):
        if name not in analyzers:
            continue  # options for a disabled analyzer are kept for when it is enabled
        validate_analyzer_options(settings, name, analyzers[name].options_model)


def _failed(cls: type[Analyzer], exc: BaseException) -> AnalyzerResult:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" if frame else ""
    message = f"analyzer crashed: {type(exc).__name__}: {exc}{where}"
    return AnalyzerResult(
        name=cls.name,
        version=cls.version,
        status=AnalyzerStatus.FAILED,
        error=message,
        skips=[Skip(analyzer=cls.name, reason=message)],
    )


def run_audit(
    snapshot: RepoSnapshot,
    settings: Settings,
    analyzers: Mapping[str, type[Analyzer]],
    options: AuditOptions | None = None,
    *,
    plugin_errors: Mapping[str, str] | None = None,
) -> AuditReport:
    """Run the analyzers over the snapshot and assemble the report.

    An analyzer that raises becomes a FAILED result with one skip; the audit goes on. Only
    AnalysisError (e.g. --strict incompleteness) stops it.
    """
    opts = options or AuditOptions()
    validate_options(analyzers, settings)
    files = [e for e in snapshot.files() if not matches_any(e.path, settings.exclude)]
    context = AnalysisContext(
        snapshot=snapshot,
        files=files,
        settings=settings,
        cache=opts.cache,
        jobs=settings.jobs or default_jobs(),
        clock=opts.clock,
        progress=opts.progress,
        offline=opts.offline,
        as_of=opts.as_of,
        strict=opts.strict,
    )
    results: dict[str, AnalyzerResult] = {}
    timings: dict[str, float] = {}
    for name in order_by_requirements(analyzers):
        cls = analyzers[name]
        context.results = dict(results)
        started = time.perf_counter()
        try:
            result = cls().analyze(context).sorted()
        except AnalysisError:
            raise
        except Exception as exc:  # noqa: BLE001 - one analyzer's bug must not kill the audit
            result = _failed(cls, exc)
        timings[name] = round(time.perf_counter() - started, 4)
        results[name] = result
    for name, error in sorted((plugin_errors or {}).items()):
        results[name] = AnalyzerResult(
            name=name,
            version="unknown",
            status=AnalyzerStatus.FAILED,
            error=error,
            skips=[Skip(analyzer=name, reason=error)],
        )
    target = snapshot.info.model_copy(update={"files": len(files)})
    return AuditReport(
        tool=ToolInfo(version=__version__),
        target=target,
        warnings=sorted(snapshot.warnings),
        analyzers=dict(sorted(results.items())),
        generated_at=opts.clock() if opts.timestamps else None,
        timings=timings if opts.timestamps else None,
    )


@dataclass(frozen=True)
class AuditRequest:
    """What to audit and how, as the CLI (or a test) states it."""

    target: str = "."
    ref: str | None = None
    config_file: Path | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    cache_dir: Path | None = None


def read_root_file(snapshot: RepoSnapshot, name: str) -> bytes | None:
    """A file at the snapshot's root, or None when absent or unreadable."""
    for entry in snapshot.files():
        if entry.path == name:
            try:
                return snapshot.read_bytes(entry)
            except SnapshotFileError:
                return None
    return None


def load_snapshot_settings(snapshot: RepoSnapshot, request: AuditRequest) -> Settings:
    """Settings for this snapshot: its own config (or --config), then the command line."""
    settings = load_settings(
        lambda name: read_root_file(snapshot, name), config_file=request.config_file
    )
    return settings.with_overrides(**request.overrides)


def audit(request: AuditRequest, options: AuditOptions | None = None) -> AuditReport:
    """Open the target, load its settings, pick the analyzers and run the audit."""
    snapshot = open_snapshot(
        request.target, ref=request.ref, cache_root=request.cache_dir or default_cache_dir()
    )
    settings = load_snapshot_settings(snapshot, request)
    discovered = discover_analyzers()
    chosen = select_analyzers(discovered.analyzers, settings)
    errors = {k: v for k, v in discovered.errors.items() if k not in settings.disable}
    return run_audit(snapshot, settings, chosen, options, plugin_errors=errors)
