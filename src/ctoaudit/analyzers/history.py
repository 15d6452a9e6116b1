"""Git history: churn, hotspots (churn x complexity), knowledge concentration and activity.

One streamed `git log --numstat` pass over the window, never a Python loop over commit objects. The
window ends at the audited commit and starts `since` before that commit's committer date, so auditing
the same commit gives the same figures on any day (the wall clock is never read). Merge commits are
left out: their changes are counted once, in the commits that made them. Renames are followed so a
file's history includes the commits made under its older names; `.mailmap` is honoured.
"""

from __future__ import annotations

import calendar
import re
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ctoaudit.analyzers import MANY_TREES, AnalysisContext
from ctoaudit.errors import SnapshotError
from ctoaudit.memo import once_per_objects
from ctoaudit.model import (
    AnalyzerResult,
    AnalyzerStatus,
    Direction,
    Measurement,
    MetricSpec,
    Skip,
    metric_spec,
)
from ctoaudit.snapshot import GIT_TIMEOUT_SECONDS, EntryKind

if TYPE_CHECKING:
    import git

NAME = "history"
SECONDS_PER_DAY = 86_400
SHALLOW_HINT = (
    "shallow clone: the history is cut off, so churn and authorship would be wrong; fetch the full "
    "history (GitHub Actions: actions/checkout with `fetch-depth: 0`; else `git fetch --unshallow`)"
)

MIN_FILE_COMMITS = 5
"""Commits a file needs in the window before its ownership figures are judged (label `enough_history`):
with fewer, one author owning it all is the normal case, not a knowledge island. Our own judgement."""

_SPAN = re.compile(r"^\s*(\d+)\s*(d|days?|w|weeks?|m|months?|y|years?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """A calendar length such as "12 months" or "1y", as options and `trend --since` spell it."""

    amount: int
    unit: str  # "days", "weeks", "months" or "years"

    def before(self, moment: datetime) -> datetime:
        """The moment this span before `moment`; months and years move the calendar (day clamped)."""
        if self.unit == "days":
            return moment - timedelta(days=self.amount)
        if self.unit == "weeks":
            return moment - timedelta(weeks=self.amount)
        months = self.amount * (12 if self.unit == "years" else 1)
        index = moment.year * 12 + moment.month - 1 - months
        year, month = divmod(index, 12)
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        return moment.replace(year=year, month=month + 1, day=day)


def parse_span(text: str) -> Span:
    """`"12 months"`, `"1y"`, `"6w"`, `"90 days"` -> Span; ValueError names the accepted forms."""
    match = _SPAN.match(text)
    if not match or int(match.group(1)) <= 0:
        raise ValueError(
            f"{text!r} is not a length of time; use e.g. '90 days', '6w', '12 months', '1y'"
        )
    unit = {"d": "days", "w": "weeks", "m": "months", "y": "years"}[match.group(2)[0].lower()]
    return Span(int(match.group(1)), unit)


class HistoryOptions(BaseModel):
    """`[tool.ctoaudit.analyzers.history]`."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    since: str = Field(
        default="12 months",
        description="Length of the window, ending at the audited commit's date: '12 months', '1y', '90 days'.",
    )

    @field_validator("since")
    @classmethod
    def _valid_span(cls, value: str) -> str:
        parse_span(value)
        return value


LOWER, HIGHER, INFO = Direction.LOWER, Direction.HIGHER, Direction.INFO
METRICS: tuple[MetricSpec, ...] = (
    metric_spec("history.commits", "Commits that changed the file in the window", INFO, "commits", "file"),
    metric_spec("history.authors", "Distinct authors of those commits", HIGHER, "authors", "file"),
    metric_spec("history.lines_added", "Lines added to the file in the window", INFO, "lines", "file"),
    metric_spec("history.lines_deleted", "Lines deleted from the file in the window", INFO, "lines", "file"),
    metric_spec("history.churn", "Lines added plus lines deleted in the window", INFO, "lines", "file"),
    metric_spec("history.top_author_share", "Share of the file's commits made by its most active author", LOWER, "ratio", "file"),
    metric_spec("history.last_change_days", "Days from the file's last change to the audited commit", INFO, "days", "file"),
    metric_spec("history.owner_inactive_days", "Days from the last commit (to any file) of the file's most active author to the audited commit", LOWER, "days", "file"),
    metric_spec("history.hotspot_score", "Churn x cyclomatic complexity (complexity.cc_total); labels: churn, cc_total, sloc", LOWER, "", "file"),
    metric_spec("history.hotspot_rank", "Rank by hotspot score, 1 = the file to refactor first", INFO, "", "file"),
    metric_spec("history.commits.total", "Non-merge commits in the window", INFO, "commits", "repo"),
    metric_spec("history.commits_per_week", "Non-merge commits per week over the window", INFO, "commits/week", "repo"),
    metric_spec("history.authors.active", "Distinct authors with a commit in the window", HIGHER, "authors", "repo"),
    metric_spec("history.bus_factor", "Fewest authors who made half of the window's commits (CHAOSS)", HIGHER, "authors", "repo"),
    metric_spec("history.files.changed", "Files of the audited tree changed in the window", INFO, "files", "repo"),
    metric_spec("history.files.single_owner", "Changed files whose commits in the window are all by one author", LOWER, "files", "repo"),
    metric_spec("history.files.single_owner.share", "Share of changed files with a single author", LOWER, "ratio", "repo"),
    metric_spec("history.churn.total", "Lines added plus deleted in the window, over the audited tree's files", INFO, "lines", "repo"),
    metric_spec("history.window_days", "Length of the window in days", INFO, "days", "repo"),
)  # fmt: skip


@dataclass
class FileHistory:
    """What the window's commits did to one file (under its current name)."""

    commits: int = 0
    added: int = 0
    deleted: int = 0
    last_change: int = 0
    by_author: Counter[str] = field(default_factory=Counter)


@dataclass
class History:
    """The window's commits, aggregated per author and per file."""

    commits: int = 0
    by_author: Counter[str] = field(default_factory=Counter)
    files: dict[str, FileHistory] = field(default_factory=dict)
    last_commit: dict[str, int] = field(default_factory=dict)
    """Each author's newest commit time in the window."""


def _git_log_chunks(repo: git.Repo, args: list[str]) -> Iterator[bytes]:
    """Stdout of `git log` in blocks as git writes it, so the log is never held whole."""
    handle = repo.git.execute(args, as_process=True)
    proc = handle.proc
    if proc is None or proc.stdout is None or proc.stderr is None:  # pragma: no cover
        raise SnapshotError("git log gave no output stream")
    # Drain stderr meanwhile: rename-limit warnings on huge commits could fill the pipe and stall git.
    errors: list[bytes] = []
    stderr = proc.stderr
    drain = threading.Thread(target=lambda: errors.append(stderr.read()), daemon=True)
    drain.start()
    while block := proc.stdout.read(1 << 16):
        yield block
    drain.join()
    if proc.wait() != 0:
        lines = b"".join(errors).decode("utf-8", errors="replace").strip().splitlines()
        raise SnapshotError(f"git log failed: {lines[-1] if lines else f'exit {proc.returncode}'}")


def _records(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """One record per commit: the bytes after each 0x01 marker."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\x01")
        yield from (r for r in complete if r)
    if pending:
        yield pending


def _numstat(tokens: list[str]) -> Iterator[tuple[int, int, str, str | None]]:
    """(added, deleted, path, old path of a rename) per changed file; binary files count 0 lines."""
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip("\n")
        i += 1
        if not token:
            continue
        added, deleted, path = token.split("\t", 2)
        old: str | None = None
        if not path:  # a rename: the old and new paths follow as their own tokens
            old, path = tokens[i], tokens[i + 1]
            i += 2
        yield (int(added) if added != "-" else 0, int(deleted) if deleted != "-" else 0, path, old)


@dataclass(frozen=True, slots=True)
class LogCommit:
    """One commit of the log: who, when, its parents, and its numstat lines (none for a merge)."""

    sha: str
    time: int
    author: str
    parents: tuple[str, ...]
    changes: tuple[tuple[int, int, str, str | None], ...]


def parse_commits(chunks: Iterator[bytes]) -> list[LogCommit]:
    """The commits of a `git log -z --numstat` stream in the format of `log_args`, in log order."""
    commits: list[LogCommit] = []
    for record in _records(chunks):
        tokens = record.decode("utf-8", errors="replace").split("\0")
        sha, stamp, name, email, parents = tokens[:5]
        commits.append(
            LogCommit(
                sha=sha,
                time=int(stamp),
                author=email.lower() or name,
                parents=tuple(parents.split()),
                changes=tuple(_numstat(tokens[6:])),
            )
        )
    return commits


class HistoryLog:
    """A parsed log that can answer for any commit in it: one `git log` for all revisions of a trend."""

    def __init__(self, commits: list[LogCommit]) -> None:
        self._order = commits
        self._by_sha = {c.sha: c for c in commits}

    def __contains__(self, sha: object) -> bool:
        return sha in self._by_sha

    def _reachable(self, tip: str, since: int) -> set[str]:
        # git's --since also stops the walk at older commits; the same cut here keeps one code path.
        seen: set[str] = set()
        stack = [tip]
        while stack:
            sha = stack.pop()
            commit = self._by_sha.get(sha)
            if commit is None or sha in seen or commit.time < since:
                continue
            seen.add(sha)
            stack.extend(commit.parents)
        return seen

    def history(self, tip: str, since: int, prefix: str = "") -> History:
        """The window of `tip` (commits since `since` reachable from it), merges left out.

        Walking from new to old, a rename `old -> new` means that older changes to `old` belong to
        the file now called whatever `new` is called at `tip`.
        """
        reachable = self._reachable(tip, since)
        history = History()
        current_name: dict[str, str] = {}
        cut = len(prefix)
        for commit in self._order:
            if commit.sha not in reachable or len(commit.parents) > 1:
                continue
            history.commits += 1
            history.by_author[commit.author] += 1
            last = history.last_commit.get(commit.author, 0)
            history.last_commit[commit.author] = max(last, commit.time)
            for added, deleted, raw_path, old in commit.changes:
                path = current_name.get(raw_path, raw_path)
                if old is not None:
                    current_name[old] = path
                if prefix and not path.startswith(prefix):
                    continue
                entry = history.files.setdefault(path[cut:], FileHistory())
                entry.commits += 1
                entry.added += added
                entry.deleted += deleted
                entry.last_change = max(entry.last_change, commit.time)
                entry.by_author[commit.author] += 1
        return history


def bus_factor(commits_by_author: Mapping[str, int]) -> int:
    """CHAOSS bus factor: the fewest authors whose commits together make at least half of all commits."""
    total = sum(commits_by_author.values())
    covered = 0
    for count, authors in enumerate(sorted(commits_by_author.values(), reverse=True), start=1):
        covered += authors
        if covered * 2 >= total:
            return count
    return 0


def is_shallow(repo: git.Repo) -> bool:
    """True in a shallow clone, whose history is cut off."""
    return (Path(repo.git_dir) / "shallow").exists()


def mailmap_blob(repo: git.Repo, commit: str) -> str | None:
    """The blob id of the commit's own `.mailmap`, if it has one."""
    import git  # noqa: PLC0415

    try:
        return str(
            repo.git.execute(["git", "rev-parse", "--verify", "--quiet", f"{commit}:.mailmap"])
        )
    except git.GitCommandError:
        return None


def mailmap_blobs(repo: git.Repo, commits: Sequence[str]) -> dict[str, str | None]:
    """`mailmap_blob` of many commits with one `git cat-file --batch-check`."""
    query = "".join(f"{c}:.mailmap\n" for c in commits)
    proc = subprocess.run(
        ["git", "--git-dir", str(repo.git_dir), "cat-file", "--batch-check=%(objectname)"],
        input=query, capture_output=True, text=True, check=False, timeout=GIT_TIMEOUT_SECONDS,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SnapshotError(f"git cat-file failed: {proc.stderr.strip()}")
    answers = proc.stdout.splitlines()
    return {
        c: (a if not a.endswith(" missing") else None)
        for c, a in zip(commits, answers, strict=True)
    }


def read_log(
    repo: git.Repo, tips: Sequence[str], since: datetime, mailmap: str | None
) -> HistoryLog:
    """One streamed `git log --numstat` from the tips back to `since`, merges included for ancestry."""
    # mailmap.blob applies the audited commit's own .mailmap even in a bare clone (git also reads a
    # work tree's file). Signatures and diff drivers stay off: they would run configured programs.
    mailmap_args = ["-c", f"mailmap.blob={mailmap}"] if mailmap else []
    args = [
        "git", *mailmap_args, "-c", "log.showSignature=false", "log", "-z", "--numstat", "-M",
        "--date-order", "--no-color", "--no-ext-diff", "--no-textconv",
        "--format=%x01%H%x00%ct%x00%aN%x00%aE%x00%P%x00", f"--since={since.isoformat()}",
        *tips, "--",
    ]  # fmt: skip
    return HistoryLog(parse_commits(_git_log_chunks(repo, args)))


TREND_REVISIONS = "trend.revisions"
"""Key in `AnalysisContext.memo` under which `trend` lists (commit, committer time) of its revisions."""


def _snapshot_prefix(context: AnalysisContext, repo: git.Repo) -> str:
    """The audited folder relative to the repository root ("" at the root), with a trailing slash."""
    if repo.bare or repo.working_tree_dir is None:
        return ""
    try:
        rel = (
            Path(context.snapshot.info.path)
            .resolve()
            .relative_to(Path(repo.working_tree_dir).resolve())
        )
    except ValueError:
        return ""
    text = rel.as_posix()
    return "" if text == "." else text + "/"


def top_author(item: FileHistory) -> str:
    """The file's most active author; ties go to the first address in sort order (deterministic)."""
    return min(item.by_author.items(), key=lambda pair: (-pair[1], pair[0]))[0]


FileSummary = tuple[
    str, tuple[tuple[str, float], ...], tuple[tuple[str, float], ...], tuple[tuple[str, str], ...]
]
"""A file's path, plain figures, ownership figures and ownership labels: all its measurements say."""


def _file_figures_of(
    path: str, item: FileHistory, ref_time: int, last_commit: Mapping[str, int], *, code: bool
) -> FileSummary:
    owner = top_author(item)
    values = (
        ("history.commits", item.commits),
        ("history.authors", len(item.by_author)),
        ("history.lines_added", item.added),
        ("history.lines_deleted", item.deleted),
        ("history.churn", item.added + item.deleted),
        ("history.last_change_days", max(0, (ref_time - item.last_change) // SECONDS_PER_DAY)),
    )
    ownership = (
        ("history.top_author_share", round(item.by_author[owner] / item.commits, 4)),
        ("history.owner_inactive_days", max(0, (ref_time - last_commit[owner]) // SECONDS_PER_DAY)),
    )
    # Ownership rules judge code files with enough commits (not changelogs or CI files); the labels
    # let a rule say so with `where`.
    labels = (
        ("enough_history", "yes" if item.commits >= MIN_FILE_COMMITS else "no"),
        ("code", "yes" if code else "no"),
    )
    return path, values, ownership, labels


def _file_measurements(figures: FileSummary) -> list[Measurement]:
    path, values, ownership, labels = figures
    out = [Measurement(metric=k, value=v, scope=path, path=path) for k, v in values]
    out += [
        Measurement(metric=k, value=v, scope=path, path=path, labels=dict(labels))
        for k, v in ownership
    ]
    return out


def _shared_measurements(context: AnalysisContext) -> dict[FileSummary, list[Measurement]] | None:
    """In a trend, a file whose figures are those of an earlier revision reuses its measurements."""
    if MANY_TREES not in context.memo:
        return None
    table = context.memo.setdefault("history.file_measurements", {})
    return table if isinstance(table, dict) else None


def _repo_measurements(
    history: History, files: Mapping[str, FileHistory], window_days: float
) -> list[Measurement]:
    single = sum(1 for f in files.values() if len(f.by_author) == 1)
    values: dict[str, float] = {
        "history.window_days": round(window_days, 4),
        "history.commits.total": history.commits,
        "history.commits_per_week": round(history.commits / (window_days / 7), 4),
        "history.authors.active": len(history.by_author),
        "history.files.changed": len(files),
        "history.files.single_owner": single,
        "history.churn.total": sum(f.added + f.deleted for f in files.values()),
    }
    if history.commits:
        values["history.bus_factor"] = bus_factor(history.by_author)
    if files:
        values["history.files.single_owner.share"] = round(single / len(files), 4)
    return [Measurement(metric=k, value=v) for k, v in values.items()]


def _file_figures(
    result: AnalyzerResult, metric: str, memo: dict[str, object] | None = None
) -> dict[str, float]:
    """Each file's value of `metric`; in a trend, read once per result (revisions share them)."""
    return once_per_objects(
        memo,
        f"history.figures:{metric}",
        [result],
        lambda: {m.scope: m.value for m in result.measurements if m.metric == metric and m.path},
    )


def hotspots(
    files: Mapping[str, FileHistory],
    complexity: AnalyzerResult,
    memo: dict[str, object] | None = None,
) -> list[Measurement]:
    """Score (churn x total cyclomatic complexity) and rank of every changed file radon measured."""
    cc_total = _file_figures(complexity, "complexity.cc_total", memo)
    sloc = _file_figures(complexity, "complexity.sloc", memo)
    scored: list[tuple[float, str, int, float]] = []
    for path, item in files.items():
        churn = item.added + item.deleted
        if path in cc_total and churn * cc_total[path] > 0:
            scored.append((churn * cc_total[path], path, churn, cc_total[path]))
    scored.sort(key=lambda s: (-s[0], s[1]))
    out: list[Measurement] = []
    for rank, (score, path, churn, cc) in enumerate(scored, start=1):
        labels = {"churn": str(churn), "cc_total": _plain(cc), "sloc": _plain(sloc.get(path, 0))}
        out.append(
            Measurement(
                metric="history.hotspot_score", value=score, scope=path, path=path, labels=labels
            )
        )
        out.append(Measurement(metric="history.hotspot_rank", value=rank, scope=path, path=path))
    return out


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class HistoryAnalyzer:
    """Churn, hotspots, knowledge concentration and activity from one `git log --numstat` pass."""

    name: ClassVar[str] = NAME
    version: ClassVar[str] = "2"
    description: ClassVar[str] = __doc__ or ""
    metrics: ClassVar[tuple[MetricSpec, ...]] = METRICS
    options_model: ClassVar[type[BaseModel]] = HistoryOptions
    requires: ClassVar[tuple[str, ...]] = ("complexity",)

    def _result(
        self, measurements: list[Measurement] | None = None, skips: list[str] | None = None
    ) -> AnalyzerResult:
        return AnalyzerResult(
            name=self.name,
            version=self.version,
            metrics=list(METRICS),
            measurements=measurements or [],
            skips=[Skip(analyzer=self.name, reason=r) for r in skips or []],
        ).sorted()

    def _log(self, context: AnalysisContext, repo: git.Repo, commit: str, span: Span) -> HistoryLog:
        """This commit's log; in a trend, one log read once for every revision with the same .mailmap."""
        revisions = context.memo.get(TREND_REVISIONS)
        if not isinstance(revisions, dict) or commit not in revisions:
            start = span.before(datetime.fromtimestamp(repo.commit(commit).committed_date, UTC))
            return read_log(repo, [commit], start, mailmap_blob(repo, commit))
        mailmaps = context.memo.get("history.mailmaps")
        if not isinstance(mailmaps, dict):
            mailmaps = mailmap_blobs(repo, sorted(revisions))
            context.memo["history.mailmaps"] = mailmaps
        mailmap = mailmaps.get(commit)
        key = f"history.log:{mailmap}:{span}"
        shared = context.memo.get(key)
        if not isinstance(shared, HistoryLog):
            oldest = datetime.fromtimestamp(min(revisions.values()), UTC)
            shared = read_log(repo, sorted(revisions), span.before(oldest), mailmap)
            context.memo[key] = shared
        return shared

    def analyze(self, context: AnalysisContext) -> AnalyzerResult:
        """Read the window's log once and measure every file of the audited tree it touched."""
        options = context.options(self.name, HistoryOptions)
        repo = context.snapshot.git_repo()
        commit = context.snapshot.commit()
        if repo is None:
            return self._result(skips=["not a git repository: no history to read"])
        if commit is None:
            return self._result(skips=["the repository has no commits yet"])
        if is_shallow(repo):
            return self._result(skips=[SHALLOW_HINT])
        ref_time = int(repo.commit(commit).committed_date)
        span = parse_span(options.since)
        end = datetime.fromtimestamp(ref_time, UTC)
        since = int(span.before(end).timestamp())
        log = self._log(context, repo, commit, span)
        history = log.history(commit, since, _snapshot_prefix(context, repo))
        present = {e.path for e in context.files if e.kind is EntryKind.FILE}
        files = {p: f for p, f in sorted(history.files.items()) if p in present}
        window_days = (ref_time - since) / SECONDS_PER_DAY
        measurements = _repo_measurements(history, files, window_days)
        complexity = context.results.get("complexity")
        code = (
            {}
            if complexity is None
            else _file_figures(complexity, "complexity.cc_total", context.memo)
        )
        shared = _shared_measurements(context)
        for path, item in files.items():
            figures = _file_figures_of(path, item, ref_time, history.last_commit, code=path in code)
            made = shared.get(figures) if shared is not None else None
            if made is None:
                made = _file_measurements(figures)
                if shared is not None:
                    shared[figures] = made
            measurements.extend(made)
        skips: list[str] = []
        if not history.commits:
            skips.append(
                f"no commits in the window ({options.since} before {end.date().isoformat()}): "
                "nothing to measure but inactivity"
            )
        if complexity is None or complexity.status is not AnalyzerStatus.OK:
            skips.append("hotspots not computed: the complexity analyzer did not run")
        else:
            measurements.extend(hotspots(files, complexity, context.memo))
        return self._result(measurements, skips)
