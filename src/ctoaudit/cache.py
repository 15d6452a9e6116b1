"""A content-addressed result cache in SQLite, shared by every run and every revision.

Keys combine the analyzer's name, its version, a hash of its options and the content's git blob id, so a
file whose bytes did not change is never analyzed twice, whichever commit or working tree it comes from.
SQLite in WAL mode makes concurrent runs safe; every write is a transaction, so a crash loses at most
the results of the batch in flight, never the file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ctoaudit.cachedir import default_cache_folder

if TYPE_CHECKING:
    from pydantic import BaseModel

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID
"""
_BATCH = 500


def default_cache_dir() -> Path:
    """`CTOAUDIT_CACHE_DIR`, or the per-user cache folder of the platform."""
    return Path(default_cache_folder())


def options_hash(options: BaseModel | None) -> str:
    """A short stable hash of an options model, part of every cache key."""
    if options is None:
        return "none"
    text = json.dumps(options.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_key(analyzer: str, version: str, options: str, content_id: str) -> str:
    """The key of one analyzer's result for one content."""
    return f"{analyzer}\x1f{version}\x1f{options}\x1f{content_id}"


class ResultCache(Protocol):
    """Where analyzers keep per-content results between runs."""

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The stored values of the keys that are present."""
        ...

    def put_many(self, items: Mapping[str, bytes]) -> None:
        """Store values, replacing older ones."""
        ...

    def close(self) -> None:
        """Release the storage."""
        ...


class NullCache:
    """The cache used with --no-cache, or when the cache cannot be opened (`reason` says why)."""

    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:  # noqa: ARG002 - protocol signature
        """Nothing is ever present."""
        return {}

    def put_many(self, items: Mapping[str, bytes]) -> None:
        """Drop the values."""

    def close(self) -> None:
        """Nothing to release."""


class SqliteCache:
    """The persistent cache: one SQLite file in the cache folder."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "results-v1.sqlite3"
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        """Look keys up in batches (SQLite limits the number of parameters)."""
        wanted = list(keys)
        found: dict[str, bytes] = {}
        for start in range(0, len(wanted), _BATCH):
            chunk = wanted[start : start + _BATCH]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key, value FROM results WHERE key IN ({marks})", chunk)  # noqa: S608 - only placeholders are interpolated
            found.update((k, bytes(v)) for k, v in rows)
        return found

    def put_many(self, items: Mapping[str, bytes]) -> None:
        """Insert or replace, in one transaction."""
        if not items:
            return
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO results (key, value) VALUES (?, ?)", items.items()
            )

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


def open_cache(directory: Path | None, *, enabled: bool = True) -> ResultCache:
    """The cache for a run: SQLite in `directory` (or the default folder), or nothing with --no-cache."""
    if not enabled:
        return NullCache()
    folder = directory or default_cache_dir()
    try:
        return SqliteCache(folder)
    except (OSError, sqlite3.Error) as exc:
        # An unwritable or corrupt cache must not stop an audit; it only makes it slower.
        return NullCache(f"cache disabled: cannot use {folder}: {exc}")


class MemoryLayer:
    """A dict in front of another cache, for runs that look the same contents up many times.

    `trend` audits many revisions of one repository; most files are the same blob in each, so after
    the first revision their results come from memory instead of another SQLite query and decode.
    """

    def __init__(self, inner: ResultCache) -> None:
        self._inner = inner
        self._memory: dict[str, bytes] = {}

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        """Values from memory, the rest from the inner cache (then kept in memory)."""
        wanted = list(keys)
        found = {k: self._memory[k] for k in wanted if k in self._memory}
        missing = [k for k in wanted if k not in found]
        if missing:
            more = self._inner.get_many(missing)
            self._memory.update(more)
            found.update(more)
        return found

    def put_many(self, items: Mapping[str, bytes]) -> None:
        """Store in memory and in the inner cache."""
        self._memory.update(items)
        self._inner.put_many(items)

    def close(self) -> None:
        """Close the inner cache."""
        self._inner.close()
