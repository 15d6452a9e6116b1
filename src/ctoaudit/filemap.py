"""Per-file analysis with the content cache in front and a process pool behind.

An analyzer hands over the files it wants and a module-level worker `bytes -> bytes`; this module
reads each file once, looks its content up in the cache (by git blob id, known for free in commits),
analyzes each distinct missing content once, in parallel, and stores the results. Results are opaque
bytes (the analyzer's own serialization) so the cache and the pool never need to know their shape. A
worker sees content only, never the path: its result is cached for every path with the same bytes.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from ctoaudit.analyzers import AnalysisContext
from ctoaudit.cache import cache_key
from ctoaudit.errors import SnapshotFileError
from ctoaudit.snapshot import FileEntry, blob_id

Worker = Callable[[bytes], bytes]

_MIN_FILES_FOR_POOL = 16
"""Below this many files to analyze, starting worker processes costs more than it saves."""


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """A file's cached or fresh result, or the reason it could not be read."""

    entry: FileEntry
    result: bytes | None
    skip_reason: str | None = None
    content_id: str | None = None


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _size_skip(size: int, limit: int) -> str | None:
    if size <= limit:
        return None
    return f"file is {_mb(size)}, over max_file_bytes ({_mb(limit)})"


def _read(context: AnalysisContext, entry: FileEntry) -> tuple[bytes | None, str | None]:
    """The entry's bytes, or the reason they cannot be had."""
    try:
        data = context.snapshot.read_bytes(entry)
    except SnapshotFileError as exc:
        return None, str(exc)
    return (
        (None, reason)
        if (reason := _size_skip(len(data), context.settings.max_file_bytes))
        else (data, None)
    )


def map_files(
    context: AnalysisContext,
    *,
    analyzer: str,
    version: str,
    options: str,
    entries: Sequence[FileEntry],
    worker: Worker,
) -> list[FileOutcome]:
    """Results for every entry, in the entries' order, analyzing each distinct content at most once.

    Commits know each blob id without reading, so cache hits there cost no read at all; so do files
    on disk whose stamp was seen before. Other files are read and hashed first. Only contents
    missing from the cache reach the worker.
    """

    def key_of(content_id: str) -> str:
        return cache_key(analyzer, version, options, content_id)

    outcomes: dict[str, FileOutcome] = {}
    known = _known_ids(context, entries)
    hits = context.cache.get_many(key_of(cid) for cid in known.values())
    read: list[tuple[FileEntry, str, bytes]] = []
    for entry in entries:
        cid = known.get(entry.path)
        cached = hits.get(key_of(cid)) if cid else None
        reason = _size_skip(entry.size, context.settings.max_file_bytes)
        if cached is not None or reason is not None:
            outcomes[entry.path] = FileOutcome(entry, cached, reason, cid)
            continue
        data, reason = _read(context, entry)
        if data is None:
            outcomes[entry.path] = FileOutcome(entry, None, reason)
        else:
            read.append((entry, entry.blob_id or blob_id(data), data))
    context.cache.put_many(
        {_stamp_key(e.path, e.stamp): cid.encode() for e, cid, _ in read if e.stamp is not None}
    )
    hits = context.cache.get_many(key_of(cid) for _, cid, _ in read)
    todo = {cid: data for _, cid, data in read if key_of(cid) not in hits}

    context.progress.start(f"{analyzer}: analyzing", len(entries))
    context.progress.advance(len(entries) - len(todo))
    paths: dict[str, str] = {}
    for entry, cid, _ in read:
        paths.setdefault(cid, entry.path)
    fresh = _run(worker, todo, context, paths)
    context.cache.put_many({key_of(cid): value for cid, value in fresh.items()})
    for entry, cid, _ in read:
        outcomes[entry.path] = FileOutcome(entry, hits.get(key_of(cid)) or fresh[cid], None, cid)
    return [outcomes[e.path] for e in entries]


def _batches(
    todo: dict[str, bytes], paths: dict[str, str], size: int
) -> list[list[tuple[str, bytes]]]:
    """Contents in batches of about `size`, largest first; the versions of one path stay together.

    Largest first, so no worker is left with one big file at the end. A worker may keep what it
    learnt from one version for the next (the complexity worker keeps statement pieces), so all
    versions of a path go to the same worker.
    """
    groups: dict[str, list[tuple[str, bytes]]] = {}
    for cid, data in todo.items():
        groups.setdefault(paths.get(cid, cid), []).append((cid, data))
    ordered = sorted(
        (sorted(group, key=lambda item: (-len(item[1]), item[0])) for group in groups.values()),
        key=lambda group: (-sum(len(data) for _, data in group), group[0][0]),
    )
    batches: list[list[tuple[str, bytes]]] = []
    current: list[tuple[str, bytes]] = []
    for group in ordered:
        current.extend(group)
        if len(current) >= size:
            batches.append(current)
            current = []
    return [*batches, current] if current else batches


def known_outcomes(
    context: AnalysisContext, entries: Sequence[FileEntry]
) -> list[FileOutcome] | None:
    """Outcomes without results, when every entry's content id is known without reading it.

    Their tree_key equals that of map_files' outcomes for the same files, so an analyzer can look
    up its whole result before any per-file work. None when a file would have to be read.
    """
    known = _known_ids(context, entries)
    outcomes: list[FileOutcome] = []
    for entry in entries:
        cid = known.get(entry.path)
        reason = _size_skip(entry.size, context.settings.max_file_bytes)
        if reason is None and cid is None:
            return None
        outcomes.append(FileOutcome(entry, None, reason, cid))
    return outcomes


def _stamp_key(path: str, stamp: str) -> str:
    return cache_key("stamp", "1", "", f"{path}\x1f{stamp}")


def _known_ids(context: AnalysisContext, entries: Sequence[FileEntry]) -> dict[str, str]:
    """Content ids known without reading: from git, or from the stamp of an unchanged file.

    A file on disk whose stamp (inode, size and times) was seen before has the content id it had
    then, as the git index knows unchanged files.
    """
    known = {e.path: e.blob_id for e in entries if e.blob_id}
    stamped = {_stamp_key(e.path, e.stamp): e.path for e in entries if not e.blob_id and e.stamp}
    for key, value in context.cache.get_many(stamped).items():
        known[stamped[key]] = value.decode("ascii", "replace")
    return known


def _run(
    worker: Worker, todo: dict[str, bytes], context: AnalysisContext, paths: dict[str, str]
) -> dict[str, bytes]:
    """Analyze each content id once: in this process for a few files, else in a process pool."""
    results: dict[str, bytes] = {}
    if context.jobs <= 1 or len(todo) < _MIN_FILES_FOR_POOL:
        for cid, data in todo.items():
            results[cid] = worker(data)
            context.progress.advance()
        return results
    # Batches are collected as they finish, so the progress bar moves steadily.
    batches = _batches(todo, paths, max(1, min(32, len(todo) // (context.jobs * 8))))
    methods = multiprocessing.get_all_start_methods()
    mp_context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    with ProcessPoolExecutor(max_workers=context.jobs, mp_context=mp_context) as pool:
        futures = {
            pool.submit(_run_batch, worker, [data for _, data in batch]): batch for batch in batches
        }
        for future in as_completed(futures):
            batch = futures[future]
            for (cid, _), value in zip(batch, future.result(), strict=True):
                results[cid] = value
            context.progress.advance(len(batch))
    return results


def _run_batch(worker: Worker, blobs: list[bytes]) -> list[bytes]:
    """Runs in a worker process: one batch of contents."""
    return [worker(data) for data in blobs]


def tree_key(outcomes: Sequence[FileOutcome], *parts: str) -> str:
    """A content id for a whole set of files (paths, contents, read failures) plus `parts`.

    Lets an analyzer reuse its complete result when nothing it reads has changed, instead of
    re-assembling thousands of per-file results.
    """
    digest = hashlib.sha256("\x1f".join(parts).encode())
    for outcome in outcomes:
        digest.update(
            f"\x1e{outcome.entry.path}\x1f{outcome.content_id}\x1f{outcome.skip_reason}".encode(
                "utf-8", "surrogateescape"
            )
        )
    return digest.hexdigest()
