"""Key metrics over a repository's history: one audit per selected revision, read from git objects.

Each revision is audited exactly as `ctoaudit run --ref REV` would audit it (its own config, the same
analyzers), through one result cache with a memory layer in front: a file whose blob did not change
between revisions is analyzed once for the whole trend. Nothing is checked out; the working tree,
the index and HEAD are never touched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import Field

from ctoaudit import __version__
from ctoaudit.analyzers import MANY_TREES, NullProgress
from ctoaudit.analyzers.history import (
    SHALLOW_HINT,
    TREND_REVISIONS,
    Span,
    is_shallow,
    parse_span,
)
from ctoaudit.cache import MemoryLayer, default_cache_dir
from ctoaudit.config import CONFIG_FILE, PYPROJECT
from ctoaudit.engine import (
    AuditOptions,
    AuditRequest,
    analysis_context,
    choose_analyzers,
    load_request_ruleset,
    load_snapshot_settings,
    read_root_file,
    run_audit,
    score_of,
    validate_options,
)
from ctoaudit.errors import ConfigError, TargetError, UsageError
from ctoaudit.frozen import Frozen
from ctoaudit.memo import once_per_objects
from ctoaudit.model import AnalyzerResult, AnalyzerStatus, TargetInfo, ToolInfo
from ctoaudit.snapshot import CommitSnapshot, FileEntry, open_snapshot

if TYPE_CHECKING:
    import git

    from ctoaudit.analyzers import Analyzer
    from ctoaudit.config import Settings
    from ctoaudit.rules.loader import KnownMetrics
    from ctoaudit.rules.model import RuleSet

TREND_SCHEMA_VERSION = 1
DEFAULT_LAST = 10
KEY_METRICS: dict[str, str] = {
    "complexity.sloc.total": "SLOC",
    "complexity.cc.mean": "CC mean",
    "complexity.functions.over_10.share": "CC>10 share",
    "complexity.mi.mean": "MI mean",
    "history.commits_per_week": "Commits/week",
    "history.authors.active": "Authors",
    "history.bus_factor": "Bus factor",
}
"""Metrics shown in the table and charts (all repo-level figures are in the JSON), with short labels."""


PREWARM = "prewarm"
"""Method of analyzers whose per-file results can be computed up front for every distinct blob of
the trend, in one process-pool pass, instead of a few files at a time per revision (too few to pay
for a pool). It takes an AnalysisContext and returns nothing; the results land in the cache."""


class TrendPoint(Frozen):
    """One audited revision: its repository-level figures."""

    commit: str
    date: datetime = Field(description="Committer date of the revision, UTC.")
    metrics: dict[str, float] = Field(description="Every repository-level measurement.")
    skips: int = Field(description="Items the audit of this revision skipped.")
    failed: list[str] = Field(default_factory=list, description="Analyzers that crashed.")
    error: str | None = Field(default=None, description="Why the revision could not be audited.")
    score: float | None = Field(
        default=None,
        description="Overall score (0-100) of the revision under its rule set, as `run --ref` gives it.",
    )
    grade: str | None = Field(default=None, description="Grade A-E of the score.")


class TrendReport(Frozen):
    """Key metrics over time, oldest revision first."""

    schema_version: int = TREND_SCHEMA_VERSION
    tool: ToolInfo
    target: str
    head: str
    selection: str
    key_metrics: list[str]
    points: list[TrendPoint]
    warnings: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Selection:
    """Which revisions: the last N first-parent commits, or one per period over a span."""

    last: int | None = None
    since: str | None = None
    every: str | None = None

    def validated(self) -> Selection:
        """Defaults filled in, or a UsageError naming the conflict."""
        if self.last is not None and (self.since or self.every):
            raise UsageError("use either --last N, or --since/--every, not both")
        if self.every and not self.since:
            raise UsageError("--every needs --since (e.g. --since 1y --every month)")
        if self.last is not None and self.last < 1:
            raise UsageError("--last must be at least 1")
        for text in (self.since, self.every):
            if text:
                try:
                    parse_span(_as_span(text))
                except ValueError as exc:
                    raise UsageError(str(exc)) from None
        if self.since:
            return replace(self, every=self.every or "month")
        return replace(self, last=self.last or DEFAULT_LAST)

    def describe(self) -> str:
        """How the revisions were chosen, for the report."""
        if self.since:
            return f"since {self.since}, every {self.every}"
        return f"last {self.last} commits"


def _as_span(text: str) -> str:
    """`month` -> `1 month`: a bare unit means one of it."""
    return f"1 {text}" if text.strip().isalpha() else text


def _first_parent_log(repo: git.Repo, head: str, limit: int | None) -> list[tuple[str, int]]:
    args = ["git", "log", "--first-parent", "--format=%H %ct", head, "--"]
    if limit is not None:
        args.insert(3, f"--max-count={limit}")
    out = str(repo.git.execute(args))
    pairs = (line.split() for line in out.splitlines() if line.strip())
    return [(sha, int(stamp)) for sha, stamp in pairs]


def select_revisions(repo: git.Repo, head: str, selection: Selection) -> list[tuple[str, int]]:
    """(commit, committer time) of the chosen revisions, oldest first, following first parents."""
    if selection.last is not None:
        return _first_parent_log(repo, head, selection.last)[::-1]
    commits = _first_parent_log(repo, head, None)
    if not commits:
        return []
    end = datetime.fromtimestamp(commits[0][1], UTC)
    start = parse_span(_as_span(selection.since or "")).before(end)
    step = parse_span(_as_span(selection.every or ""))
    chosen: list[tuple[str, int]] = []
    k = 0
    moment = end
    while moment >= start:
        limit = int(moment.timestamp())
        found = next((c for c in commits if c[1] <= limit), None)
        if found is not None and found not in chosen:
            chosen.append(found)
        k += 1
        moment = Span(step.amount * k, step.unit).before(end)
    return chosen[::-1]


class _BlobUnion:
    """Each distinct blob of many revisions once, under one of its paths: a snapshot to prewarm with."""

    def __init__(self, head: CommitSnapshot, revisions: Sequence[CommitSnapshot]) -> None:
        self._head = head
        unique: dict[str, FileEntry] = {}
        for snapshot in revisions:
            for entry in snapshot.files():
                unique.setdefault(entry.blob_id or entry.path, entry)
        self._files = sorted(unique.values(), key=lambda e: (e.path, e.blob_id or ""))

    @property
    def info(self) -> TargetInfo:
        """The head's target."""
        return self._head.info

    @property
    def warnings(self) -> list[str]:
        """None."""
        return []

    def files(self) -> Sequence[FileEntry]:
        """The distinct blobs."""
        return self._files

    def read_bytes(self, entry: FileEntry) -> bytes:
        """A blob, from the object database."""
        return self._head.read_bytes(entry)

    def git_repo(self) -> None:
        """No history: this is not a revision."""

    def commit(self) -> None:
        """No commit: this is not a revision."""

    def watch(self) -> None:
        """Nothing on disk to watch."""


def _prewarm(
    head: CommitSnapshot,
    revisions: Sequence[CommitSnapshot],
    request: AuditRequest,
    analyzers: Mapping[str, type[Analyzer]],
    options: AuditOptions,
) -> None:
    """Analyze all distinct blobs at once, with the head's settings; revisions then hit the cache."""
    settings = load_snapshot_settings(head, request)
    chosen = choose_analyzers(analyzers, settings).chosen
    wanted = [cls for cls in chosen.values() if callable(getattr(cls, PREWARM, None))]
    if not wanted or len(revisions) < 2:  # noqa: PLR2004 - one revision gains nothing
        return
    validate_options(chosen, settings)
    context = analysis_context(_BlobUnion(head, revisions), settings, options)
    for cls in wanted:
        getattr(cls(), PREWARM)(context)


class _Rulesets:
    """Each revision's rule set as `run --ref` loads it; one load per distinct source.

    A rule set named by `--rules`, by name, or the default is the same for every revision; one read
    from a file in the revision is keyed by that file's bytes, since it may change along the way.
    """

    def __init__(self, request: AuditRequest) -> None:
        self._request = request
        self._loaded: dict[tuple[str | None, str | None, bytes | None, KnownMetrics], RuleSet] = {}

    def for_revision(
        self, snapshot: CommitSnapshot, settings: Settings, known: KnownMetrics
    ) -> RuleSet:
        """The rule set of this revision; ConfigError when it cannot be loaded."""
        spec = settings.rules
        in_tree = (
            self._request.rules is None and spec is not None and self._request.config_file is None
        )
        content = read_root_file(snapshot, spec) if in_tree and spec else None
        key = (self._request.rules, spec, content, known)
        if key not in self._loaded:
            self._loaded[key] = load_request_ruleset(snapshot, settings, self._request, known)
        return self._loaded[key]


class _SettingsBySource:
    """Each revision's settings as `run --ref` loads them; one load per distinct config content.

    Settings come from the root config files only (or from `--config`, the same for all), so
    revisions whose root config blobs are the same have the same settings.
    """

    def __init__(self, request: AuditRequest) -> None:
        self._request = request
        self._loaded: dict[tuple[tuple[str, str | None], ...], Settings] = {}

    def for_revision(self, snapshot: CommitSnapshot) -> Settings:
        """The settings of this revision; ConfigError or UsageError when they cannot be loaded."""
        key = tuple(
            (e.path, e.blob_id) for e in snapshot.files() if e.path in (CONFIG_FILE, PYPROJECT)
        )
        if key not in self._loaded:
            self._loaded[key] = load_snapshot_settings(snapshot, self._request)
        return self._loaded[key]


def _repo_values(result: AnalyzerResult, options: AuditOptions) -> list[tuple[str, float]]:
    """The result's repository-level figures, collected once per result object (revisions share)."""
    return once_per_objects(
        options.memo, "trend.repo_values", [result], lambda: sorted(result.repo_values().items())
    )


def _point(snapshot: CommitSnapshot, when: int, options: AuditOptions,
           analyzers: Mapping[str, type[Analyzer]], rulesets: _Rulesets,
           configs: _SettingsBySource) -> TrendPoint:  # fmt: skip
    try:
        settings = configs.for_revision(snapshot)
        loaded = choose_analyzers(analyzers, settings)
        ruleset = rulesets.for_revision(snapshot, settings, loaded.known_metrics)
    except (ConfigError, UsageError) as exc:
        # `run --ref` of this revision would stop here too; the trend shows the gap and goes on.
        return TrendPoint(
            commit=snapshot.commit_id,
            date=datetime.fromtimestamp(when, UTC),
            metrics={},
            skips=0,
            error=f"not audited: {exc}",
        )
    report = run_audit(snapshot, settings, loaded.chosen, options, plugin_errors=loaded.errors)
    score = score_of(report, ruleset, options.memo)
    metrics = {
        k: v for result in report.analyzers.values() for k, v in _repo_values(result, options)
    }
    failed = [n for n, r in report.analyzers.items() if r.status is AnalyzerStatus.FAILED]
    return TrendPoint(
        commit=snapshot.commit_id,
        date=datetime.fromtimestamp(when, UTC),
        metrics=dict(sorted(metrics.items())),
        skips=len(report.skips),
        failed=failed,
        score=score.overall,
        grade=score.grade,
    )


def _open_head(request: AuditRequest) -> CommitSnapshot:
    """The snapshot of the revision the trend ends at, with messages that speak of history."""
    try:
        snapshot = open_snapshot(
            request.target,
            ref=request.ref or "HEAD",
            cache_root=request.cache_dir or default_cache_dir(),
        )
    except TargetError as exc:
        if "--ref needs" in str(exc):
            raise TargetError(
                f"{request.target}: trend reads git history, and this is not a git repository"
            ) from exc
        if request.ref is None and "bad ref" in str(exc):
            raise TargetError(
                f"{request.target}: no commits yet, so there is no history to trend"
            ) from exc
        raise
    if not isinstance(snapshot, CommitSnapshot):  # pragma: no cover - a ref always gives one
        raise TargetError(f"{request.target}: trend needs a git repository")
    return snapshot


def run_trend(
    request: AuditRequest,
    selection: Selection,
    analyzers: Mapping[str, type[Analyzer]],
    options: AuditOptions | None = None,
) -> TrendReport:
    """Audit and score each selected revision from git objects; collect its repository-level figures."""
    opts = options or AuditOptions()
    chosen_selection = selection.validated()
    head_snapshot = _open_head(request)
    repo = head_snapshot.repo
    revisions = select_revisions(repo, head_snapshot.commit_id, chosen_selection)
    warnings = list(head_snapshot.warnings)
    if is_shallow(repo):
        warnings.append(SHALLOW_HINT)
    per_revision = AuditOptions(
        cache=MemoryLayer(opts.cache),
        clock=opts.clock,
        progress=NullProgress(),
        offline=opts.offline,
        memo={TREND_REVISIONS: dict(revisions), MANY_TREES: True},
    )
    snapshots = [(head_snapshot.at(commit), when) for commit, when in revisions]
    _prewarm(head_snapshot, [s for s, _ in snapshots], request, analyzers, per_revision)
    opts.progress.start("trend", len(revisions))
    rulesets = _Rulesets(request)
    configs = _SettingsBySource(request)
    points: list[TrendPoint] = []
    for snapshot, when in snapshots:
        points.append(_point(snapshot, when, per_revision, analyzers, rulesets, configs))
        opts.progress.advance()
    warnings += [f"{p.commit[:12]} {p.error}" for p in points if p.error]
    present = {k for p in points for k in p.metrics}
    return TrendReport(
        tool=ToolInfo(version=__version__),
        target=head_snapshot.info.url or head_snapshot.info.path,
        head=head_snapshot.commit_id,
        selection=chosen_selection.describe(),
        key_metrics=[k for k in KEY_METRICS if k in present],
        points=points,
        warnings=sorted(warnings),
    )


def key_values(points: Sequence[TrendPoint], key: str) -> list[float | None]:
    """The metric's value at each point, None where it was not measured."""
    return [p.metrics.get(key) for p in points]
