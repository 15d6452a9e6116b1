"""The audit pipeline: a snapshot and settings in, one AuditReport out. No printing, no exit codes."""

from __future__ import annotations

import hashlib
import time
import traceback
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ctoaudit import __version__
from ctoaudit.analyzers import (
    AnalysisContext,
    Analyzer,
    LazyAnalyzers,
    NullProgress,
    ProgressSink,
    order_by_requirements,
)
from ctoaudit.cache import NullCache, ResultCache, cache_key, default_cache_dir
from ctoaudit.config import Settings, load_settings, validate_analyzer_options
from ctoaudit.errors import AnalysisError, ConfigError, SnapshotFileError, UsageError
from ctoaudit.filemap import default_jobs
from ctoaudit.memo import once_per_objects
from ctoaudit.model import (
    AnalyzerResult,
    AnalyzerStatus,
    AuditReport,
    Skip,
    TargetKind,
    ToolInfo,
)
from ctoaudit.proposals import propose
from ctoaudit.rules.evaluate import evaluate
from ctoaudit.rules.loader import (
    KnownMetrics,
    load_ruleset,
    load_ruleset_file,
    load_ruleset_text,
)
from ctoaudit.rules.model import Judgement, Rule, RuleOutcome, RuleSet, RuleSetInfo, Score
from ctoaudit.scoring import compute_score
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
    memo: dict[str, object] = field(default_factory=dict)
    as_of: datetime | None = None
    strict: bool = False


def select_analyzers(
    available: Mapping[str, type[Analyzer]], settings: Settings
) -> dict[str, type[Analyzer]]:
    """The analyzers to run: `enable` (default all) minus `disable`; unknown names are a usage error."""
    return {name: available[name] for name in select_names(available, settings)}


def select_names(available: Collection[str], settings: Settings) -> list[str]:
    """The names of the analyzers to run, checked against the installed ones."""
    wanted = list(settings.enable) if settings.enable is not None else sorted(available)
    unknown = sorted({*wanted, *settings.disable} - set(available))
    if unknown:
        raise UsageError(
            f"unknown analyzer(s): {', '.join(unknown)}; installed: {', '.join(sorted(available)) or 'none'}"
        )
    return [name for name in sorted(wanted) if name not in settings.disable]


@dataclass(frozen=True)
class LoadedAnalyzers:
    """The analyzers a run uses, the plugins that failed to load, and the metrics rules may read."""

    chosen: dict[str, type[Analyzer]]
    errors: dict[str, str]
    known_metrics: KnownMetrics


def load_analyzers(settings: Settings) -> LoadedAnalyzers:
    """Import only the analyzers the settings select (plugins are slow to import).

    Rules may name metrics of any installed analyzer: those of analyzers not loaded in this run are
    accepted as they are and their rules skip, as do the rules of a plugin that failed to load.
    """
    return choose_analyzers(LazyAnalyzers(), settings)


def choose_analyzers(
    available: Mapping[str, type[Analyzer]], settings: Settings
) -> LoadedAnalyzers:
    """What `load_analyzers` gives, picked from `available` (which may load lazily).

    The selected analyzers that load, the errors of those that do not (see LazyAnalyzers), and the
    metrics rules may read.
    """
    chosen: dict[str, type[Analyzer]] = {}
    errors: dict[str, str] = {}
    for name in select_names(available, settings):
        try:
            chosen[name] = available[name]
        except KeyError:
            reasons = available.errors if isinstance(available, LazyAnalyzers) else {}
            errors[name] = reasons.get(name, f"cannot load plugin {name}")
    return LoadedAnalyzers(
        chosen=chosen,
        errors=errors,
        known_metrics=installed_metrics(chosen, set(available) - set(chosen)),
    )


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


def analysis_context(
    snapshot: RepoSnapshot, settings: Settings, options: AuditOptions
) -> AnalysisContext:
    """What every analyzer of one audit sees: the snapshot's files after `exclude`, and the options."""
    return AnalysisContext(
        snapshot=snapshot,
        files=[e for e in snapshot.files() if not matches_any(e.path, settings.exclude)],
        settings=settings,
        cache=options.cache,
        jobs=settings.jobs or default_jobs(),
        clock=options.clock,
        progress=options.progress,
        offline=options.offline,
        memo=options.memo,
        as_of=options.as_of,
        strict=options.strict,
    )


def run_audit(
    snapshot: RepoSnapshot,
    settings: Settings,
    analyzers: Mapping[str, type[Analyzer]],
    options: AuditOptions | None = None,
    *,
    plugin_errors: Mapping[str, str] | None = None,
    ruleset: RuleSet | None = None,
) -> AuditReport:
    """Run the analyzers over the snapshot, judge the results by `ruleset`, and assemble the report.

    An analyzer that raises becomes a FAILED result with one skip; the audit goes on. Only
    AnalysisError (e.g. --strict incompleteness) stops it. Without a rule set the report has
    measurements only (no outcomes, score or proposals).
    """
    opts = options or AuditOptions()
    validate_options(analyzers, settings)
    context = analysis_context(snapshot, settings, opts)
    files = context.files
    results: dict[str, AnalyzerResult] = {}
    timings: dict[str, float] = {}
    for name in order_by_requirements(analyzers):
        cls = analyzers[name]
        context.results = dict(results)
        started = time.perf_counter()
        try:
            result = _canonical(cls().analyze(context), opts.memo)
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
    report = AuditReport(
        tool=ToolInfo(version=__version__),
        target=target,
        warnings=sorted(snapshot.warnings),
        analyzers=dict(sorted(results.items())),
        generated_at=opts.clock() if opts.timestamps else None,
        timings=timings if opts.timestamps else None,
    )
    return judge(report, ruleset, opts.memo, opts.cache) if ruleset is not None else report


def _canonical(result: AnalyzerResult, memo: dict[str, object]) -> AnalyzerResult:
    """`result.sorted()`, once per result object."""
    return once_per_objects(memo, "engine.sorted", [result], result.sorted)


def judge(
    report: AuditReport,
    ruleset: RuleSet,
    memo: dict[str, object] | None = None,
    cache: ResultCache | None = None,
) -> AuditReport:
    """The report with the rule set's outcomes, findings, score and proposals filled in.

    Judging is pure: with a `memo`, the same rule set and result objects are judged once per
    process; with a `cache`, results whose analyzers name their content (`content_key`) are judged
    once per rule set across runs.
    """
    judgement = once_per_objects(
        memo,
        "engine.judged",
        [ruleset, *report.analyzers, *report.analyzers.values()],
        lambda: _judgement(report, ruleset, cache),
    )
    return report.model_copy(
        update={
            "ruleset": RuleSetInfo(
                name=ruleset.name, version=ruleset.version, sources=ruleset.sources
            ),
            "outcomes": judgement.outcomes,
            "findings": judgement.findings,
            "score": judgement.score,
            "proposals": judgement.proposals,
        }
    )


def _judgement(report: AuditReport, ruleset: RuleSet, cache: ResultCache | None) -> Judgement:
    stored_key = _judgement_key(report, ruleset) if cache is not None else None
    if cache is not None and stored_key is not None:
        stored = cache.get_many([stored_key]).get(stored_key)
        if stored is not None:
            try:
                return Judgement.model_validate_json(stored)
            except ValidationError:
                pass  # written by another build of this version: judge again, store anew
    evaluation = evaluate(ruleset, report.analyzers)
    judgement = Judgement(
        outcomes=evaluation.outcomes,
        findings=evaluation.findings,
        score=compute_score(evaluation.outcomes, ruleset.families),
        proposals=propose(ruleset, evaluation),
    )
    if cache is not None and stored_key is not None:
        cache.put_many({stored_key: judgement.model_dump_json().encode()})
    return judgement


def _judgement_key(report: AuditReport, ruleset: RuleSet) -> str | None:
    """A key for judging these results by this rule set, or None when a result has no content key."""
    parts = []
    for name, result in sorted(report.analyzers.items()):
        if result.content_key is None:
            return None
        parts.append(f"{name}={result.content_key}")
    rules = hashlib.sha256(ruleset.model_dump_json().encode()).hexdigest()
    return cache_key(
        "judgement", __version__, rules, hashlib.sha256("\n".join(parts).encode()).hexdigest()
    )


def score_of(report: AuditReport, ruleset: RuleSet, memo: dict[str, object]) -> Score:
    """The score `judge` would give the report, without its findings and proposals (for `trend`).

    A rule's outcome depends only on its analyzer's result and on the rules it requires, so the
    rules are judged per analyzer, each group once per result object: a revision whose complexity
    result is shared with others re-judges only the rules of the analyzers whose results are new.
    """
    groups = once_per_objects(memo, "engine.rule_groups", [ruleset], lambda: _by_analyzer(ruleset))
    if groups is None:  # a rule requires one of another analyzer: judge them all together
        outcomes = once_per_objects(
            memo,
            "engine.outcomes",
            [ruleset, *report.analyzers, *report.analyzers.values()],
            lambda: evaluate(ruleset, report.analyzers, with_findings=False).outcomes,
        )
    else:
        outcomes = []
        for name, rules in groups.items():
            result = report.analyzers.get(name)
            outcomes += once_per_objects(
                memo, "engine.outcomes", [rules, result], partial(_outcomes, rules, name, result)
            )
        outcomes.sort(key=lambda o: o.rule_id)
    return compute_score(outcomes, ruleset.families)


def _outcomes(rules: RuleSet, name: str, result: AnalyzerResult | None) -> list[RuleOutcome]:
    """The outcomes of rules that read one analyzer, judged by its result alone."""
    only = {name: result} if result is not None else {}
    return evaluate(rules, only, with_findings=False).outcomes


def _by_analyzer(ruleset: RuleSet) -> dict[str, RuleSet] | None:
    """The rule set split by the analyzer each rule reads.

    None when a rule requires a rule of another analyzer: then the parts cannot be judged apart.
    """
    parts: dict[str, list[Rule]] = {}
    for rule in ruleset.rules:
        parts.setdefault(rule.metric.split(".", 1)[0], []).append(rule)
    analyzer_of = {rule.id: name for name, rules in parts.items() for rule in rules}
    for name, rules in parts.items():
        if any(analyzer_of.get(parent, name) != name for rule in rules for parent in rule.requires):
            return None
    return {
        name: ruleset.model_copy(update={"rules": rules}) for name, rules in sorted(parts.items())
    }


@dataclass(frozen=True)
class AuditRequest:
    """What to audit and how, as the CLI (or a test) states it."""

    target: str = "."
    ref: str | None = None
    config_file: Path | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    cache_dir: Path | None = None
    rules: str | None = None
    """`--rules`: a TOML path (relative to the working directory) or a rule-set name."""


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


def installed_metrics(
    analyzers: Mapping[str, type[Analyzer]], unloadable: Iterable[str] = ()
) -> KnownMetrics:
    """Every metric key the installed analyzers declare: what a rule may read."""
    return KnownMetrics(
        metrics=frozenset(spec.key for cls in analyzers.values() for spec in cls.metrics),
        unloadable=frozenset(unloadable),
    )


def _looks_like_path(spec: str) -> bool:
    return spec.endswith(".toml") or "/" in spec


def load_request_ruleset(
    snapshot: RepoSnapshot,
    settings: Settings,
    request: AuditRequest,
    known_metrics: KnownMetrics,
) -> RuleSet:
    """The rule set: --rules, else the config's `rules` (a file in the target or next to --config)."""
    if request.rules is not None:
        return load_ruleset(request.rules, known_metrics=known_metrics)
    spec = settings.rules
    if spec is None or not _looks_like_path(spec):
        return load_ruleset(spec, known_metrics=known_metrics)
    if request.config_file is not None:
        return load_ruleset_file(request.config_file.parent / spec, known_metrics=known_metrics)
    info = snapshot.info
    if info.kind is not TargetKind.COMMIT and (Path(info.path) / spec).is_file():
        # on disk: read as a file, so a relative `extends` resolves next to it
        return load_ruleset_file(Path(info.path) / spec, known_metrics=known_metrics)
    raw = read_root_file(snapshot, spec)
    if raw is None:
        raise ConfigError(f"{settings.source}: rules: {spec} is not a file in the target")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{spec}: not valid UTF-8: {exc}") from exc
    return load_ruleset_text(text, spec, known_metrics=known_metrics)


def audit(request: AuditRequest, options: AuditOptions | None = None) -> AuditReport:
    """Open the target, load its settings and rule set, pick the analyzers and run the audit."""
    return audit_target(request, options)[0]


def audit_target(
    request: AuditRequest, options: AuditOptions | None = None
) -> tuple[AuditReport, RepoSnapshot]:
    """What `audit` does, with the snapshot it audited (it can say what its listing depends on)."""
    snapshot = open_snapshot(
        request.target, ref=request.ref, cache_root=request.cache_dir or default_cache_dir()
    )
    settings = load_snapshot_settings(snapshot, request)
    loaded = load_analyzers(settings)
    ruleset = load_request_ruleset(snapshot, settings, request, loaded.known_metrics)
    report = run_audit(
        snapshot, settings, loaded.chosen, options, plugin_errors=loaded.errors, ruleset=ruleset
    )
    return report, snapshot


def replayable(report: AuditReport) -> bool:
    """True when the report follows from the snapshot's files, settings and rules alone.

    That is when every analyzer result names everything it was computed from (`content_key`: no
    clock, registry or history behind it) and no wall-clock value was asked for. Such a report
    can be replayed while the files it was computed from keep their stamps (ctoaudit.replay).
    """
    return report.generated_at is None and all(
        result.content_key is not None for result in report.analyzers.values()
    )
