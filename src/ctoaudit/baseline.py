"""The two reports the gate compares, made comparable.

Both sides are judged by one rule set (the current side's) with one set of settings, and audited as of
one instant, so a pull request never fails because a rule file changed on the base branch or because
time passed (dependency ages). The baseline is a saved JSON report or a git ref audited from git
objects; renamed files between the two commits come from `git diff -M`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ctoaudit.analyzers import Analyzer
from ctoaudit.cache import default_cache_dir
from ctoaudit.config import Settings
from ctoaudit.engine import (
    AuditOptions,
    AuditRequest,
    judge,
    load_analyzers,
    load_request_ruleset,
    load_snapshot_settings,
    run_audit,
)
from ctoaudit.errors import ConfigError, TargetError, UsageError
from ctoaudit.gate import GatePolicy, comparable_analyzers, missing_notes
from ctoaudit.model import AuditReport, TargetKind
from ctoaudit.render import json_report
from ctoaudit.rules.model import RuleSet
from ctoaudit.snapshot import CommitSnapshot, RepoSnapshot, open_snapshot

if TYPE_CHECKING:
    import git

GIT = ("git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null")
"""git with nothing from the repository's own config run as a program: diffing a work tree would
otherwise start a configured fsmonitor (never execute code from an audited repository)."""

SHALLOW_ADVICE = (
    "check out the full history (GitHub Actions: actions/checkout with `fetch-depth: 0`; "
    "GitLab CI: `GIT_DEPTH: 0`), or pass --allow-shallow if the baseline commit was fetched"
)


@dataclass(frozen=True)
class BaselineSource:
    """Where the baseline comes from: exactly one of a saved report or a git ref."""

    file: Path | None = None
    ref: str | None = None
    allow_shallow: bool = False
    merge_base: bool = False
    """Compare with the commit where the current one forked from `ref`, not with `ref` itself."""

    def __post_init__(self) -> None:
        if (self.file is None) == (self.ref is None):
            raise UsageError("give exactly one of --baseline FILE and --baseline-ref REF")
        if self.merge_base and self.ref is None:
            raise UsageError("--merge-base needs --baseline-ref")


@dataclass(frozen=True)
class GateInputs:
    """Everything `gate.compare` needs: both judged reports, renames, the as-of instant, the policy.

    `baseline` and `current` hold only the analyzers that ran on both sides, judged again over
    those, so the scores compare like with like; `current_report` is the whole current audit.
    """

    baseline: AuditReport
    current: AuditReport
    current_report: AuditReport
    policy: GatePolicy
    as_of: datetime
    renames: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def align(
    baseline: AuditReport, current: AuditReport, ruleset: RuleSet
) -> tuple[AuditReport, AuditReport, list[str]]:
    """Both reports over the analyzers that ran successfully on both sides, judged by `ruleset`.

    An analyzer missing (or failed) on one side would otherwise move the score: its rules count on
    one side and are skipped on the other.
    """
    common = comparable_analyzers(baseline, current)
    notes = missing_notes(baseline, current, common)

    def keep(report: AuditReport) -> AuditReport:
        if set(report.analyzers) == common:
            return report
        kept = {k: v for k, v in report.analyzers.items() if k in common}
        return judge(report.model_copy(update={"analyzers": kept}), ruleset)

    return keep(baseline), keep(current), notes


def read_baseline_file(path: Path) -> AuditReport:
    """A saved report; corrupt files, other schema versions and unreadable files are config errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: baseline file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the baseline: {exc}") from None
    return json_report.load(text, str(path))


def _git(repo: git.Repo, *args: str) -> str:
    import git  # noqa: PLC0415 - GitPython is slow to import; only git targets need it

    try:
        return str(repo.git.execute([*GIT, *args], strip_newline_in_stdout=False))
    except git.GitCommandError as exc:
        detail = (exc.stderr or "").strip().splitlines()
        raise UsageError(f"git {args[0]} failed: {detail[-1] if detail else exc}") from None


def is_shallow(repo: git.Repo) -> bool:
    """True in a shallow clone, whose history may lack the baseline commit."""
    return _git(repo, "rev-parse", "--is-shallow-repository").strip() == "true"


def has_commit(repo: git.Repo, commit: str) -> bool:
    """True when the object database holds this commit."""
    import git  # noqa: PLC0415

    try:
        repo.git.execute([*GIT, "cat-file", "-e", f"{commit}^{{commit}}"])
    except git.GitCommandError:
        return False
    return True


def snapshot_prefix(snapshot: RepoSnapshot, repo: git.Repo) -> str:
    """The audited folder relative to the repository root ("" for the root)."""
    top = repo.working_tree_dir
    if top is None or snapshot.info.url:
        return ""
    try:
        rel = Path(snapshot.info.path).resolve().relative_to(Path(top).resolve()).as_posix()
    except ValueError:
        return ""
    return "" if rel == "." else rel


def detect_renames(repo: git.Repo, base: str, head: str | None, prefix: str = "") -> dict[str, str]:
    """Old path -> new path for files git sees renamed from `base` to `head` (None: the work tree).

    Paths are relative to `prefix`, the audited folder; renames into or out of it are left out.
    """
    args = ["diff", "-M", "--name-status", "-z", "--no-ext-diff", "--no-textconv"]
    if prefix:
        args.append(f"--relative={prefix}/")
    args += [base, *([head] if head else []), "--"]
    tokens = _git(repo, *args).split("\0")
    renames: dict[str, str] = {}
    i = 0
    while i < len(tokens) and tokens[i]:
        status = tokens[i]
        if status[0] in "RC":
            if status[0] == "R":
                renames[tokens[i + 1]] = tokens[i + 2]
            i += 3
        else:
            i += 2
    return dict(sorted(renames.items()))


def _current_head(snapshot: RepoSnapshot) -> str | None:
    """The commit to diff against: a commit target's own, or None for a work tree (diff it as is)."""
    return snapshot.commit() if snapshot.info.kind is TargetKind.COMMIT else None


def _open_baseline_commit(repo: git.Repo, ref: str, prefix: str, shown: str) -> CommitSnapshot:
    try:
        return CommitSnapshot(repo, ref, prefix=prefix, display_path=shown)
    except TargetError:
        raise TargetError(
            f"baseline ref {ref!r} not found in {shown}: fetch it first "
            f"(e.g. `git fetch origin {ref.removeprefix('origin/')}`) or check its name"
        ) from None


@dataclass(frozen=True)
class _Auditor:
    """The current side's snapshot, and what judges both sides: settings, analyzers, rule set."""

    snapshot: RepoSnapshot
    settings: Settings
    analyzers: Mapping[str, type[Analyzer]]
    plugin_errors: Mapping[str, str]
    ruleset: RuleSet
    options: AuditOptions

    def audit(self, snapshot: RepoSnapshot, as_of: datetime) -> AuditReport:
        """Audit `snapshot` with the clock stopped at `as_of`."""
        fixed = dataclasses.replace(self.options, clock=lambda: as_of)
        return run_audit(
            snapshot, self.settings, self.analyzers, fixed,
            plugin_errors=self.plugin_errors, ruleset=self.ruleset,
        )  # fmt: skip


def _auditor(request: AuditRequest, options: AuditOptions) -> _Auditor:
    snapshot = open_snapshot(
        request.target, ref=request.ref, cache_root=request.cache_dir or default_cache_dir()
    )
    settings = load_snapshot_settings(snapshot, request)
    loaded = load_analyzers(settings)
    return _Auditor(
        snapshot=snapshot,
        settings=settings,
        analyzers=loaded.chosen,
        plugin_errors=loaded.errors,
        ruleset=load_request_ruleset(snapshot, settings, request, loaded.known_metrics),
        options=options,
    )


def merge_base(repo: git.Repo, ref_commit: str, head: str, ref: str) -> str:
    """The best common ancestor of the baseline ref and the current commit."""
    import git  # noqa: PLC0415

    try:
        return str(repo.git.execute([*GIT, "merge-base", ref_commit, head])).strip()
    except git.GitCommandError:
        raise UsageError(
            f"no merge base between {ref!r} and {head}: the histories are unrelated or not "
            f"fetched; {SHALLOW_ADVICE}"
        ) from None


def _against_ref(auditor: _Auditor, source: BaselineSource, target: str) -> GateInputs:
    ref = source.ref or "HEAD"
    snapshot = auditor.snapshot
    repo = snapshot.git_repo()
    if repo is None:
        raise UsageError(f"--baseline-ref needs a git repository; {target} is not in one")
    if is_shallow(repo) and not source.allow_shallow:
        raise UsageError(
            f"{target} is a shallow clone: the baseline ref {ref!r} and its history may be "
            f"missing; {SHALLOW_ADVICE}"
        )
    prefix = snapshot_prefix(snapshot, repo)
    base_snapshot = _open_baseline_commit(repo, ref, prefix, snapshot.info.path)
    if source.merge_base:
        fork = merge_base(repo, base_snapshot.commit_id, snapshot.commit() or "HEAD", ref)
        base_snapshot = CommitSnapshot(repo, fork, prefix=prefix, display_path=snapshot.info.path)
    as_of = auditor.options.clock()  # one instant for both sides: dependency ages compare fairly
    baseline = auditor.audit(base_snapshot, as_of)
    current = auditor.audit(snapshot, as_of)
    renames = detect_renames(repo, base_snapshot.commit_id, _current_head(snapshot), prefix)
    old, new, notes = align(baseline, current, auditor.ruleset)
    return GateInputs(old, new, current, auditor.settings.gate, as_of, renames, notes)


def _against_file(auditor: _Auditor, saved: AuditReport, path: Path) -> GateInputs:
    notes: list[str] = []
    if saved.generated_at is not None:
        as_of = saved.generated_at
    else:
        as_of = auditor.options.clock()
        notes.append(
            f"{path} records no generated_at: the current side was audited as of now, "
            "not as of the baseline (write baselines with `ctoaudit baseline write`)"
        )
    current = auditor.audit(auditor.snapshot, as_of)
    # The saved report is judged again by today's rule set (always, even with the same analyzers).
    baseline = judge(saved, auditor.ruleset)
    renames = _renames_from_saved(auditor.snapshot.git_repo(), auditor.snapshot, saved, notes)
    old, new, missing = align(baseline, current, auditor.ruleset)
    return GateInputs(old, new, current, auditor.settings.gate, as_of, renames, [*notes, *missing])


def prepare(
    request: AuditRequest, source: BaselineSource, options: AuditOptions | None = None
) -> GateInputs:
    """Audit the current side (and the baseline ref), or read the baseline file, ready to compare."""
    # a bad baseline file fails before any analysis
    saved = read_baseline_file(source.file) if source.file is not None else None
    auditor = _auditor(request, options or AuditOptions())
    if source.ref is not None:
        return _against_ref(auditor, source, request.target)
    if saved is None or source.file is None:  # pragma: no cover - BaselineSource ensures one
        raise UsageError("give exactly one of --baseline FILE and --baseline-ref REF")
    return _against_file(auditor, saved, source.file)


def _renames_from_saved(
    repo: git.Repo | None, snapshot: RepoSnapshot, saved: AuditReport, notes: list[str]
) -> dict[str, str]:
    commit = saved.target.commit
    if repo is None:
        return {}
    if commit is None:
        notes.append("renamed files not followed: the baseline records no commit")
        return {}
    if not has_commit(repo, commit):
        notes.append(
            f"renamed files not followed: the baseline commit {commit[:12]} is not in this "
            "repository (fetch it, or check out the full history)"
        )
        return {}
    prefix = snapshot_prefix(snapshot, repo)
    return detect_renames(repo, commit, _current_head(snapshot), prefix)


def write_baseline(request: AuditRequest, options: AuditOptions | None = None) -> AuditReport:
    """The report to save as a baseline: the canonical audit, with the as-of instant recorded."""
    from ctoaudit.engine import audit  # noqa: PLC0415 - kept next to its only use

    opts = dataclasses.replace(options or AuditOptions(), timestamps=True)
    # generated_at is the instant the analyzers read from the clock; timings would only add noise.
    return audit(request, opts).model_copy(update={"timings": None})
