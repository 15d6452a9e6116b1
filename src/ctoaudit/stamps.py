"""File stamps, and the record of every file a run's answer depends on.

A stamp (device, inode, size, modification and change time) names a file's bytes without reading
them, as the git index does: any write sets both times to now, and the change time cannot be set
back. A folder's stamp moves whenever an entry is added, removed or renamed in it.

Standard library only, and little of it: the replay check (ctoaudit.replay) uses this module before
anything heavy is imported.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False  # typing itself is not imported on the replay path
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from types import TracebackType

SETTLED_SECONDS = 2
"""A file changed more recently than this may change again within the clock's granularity without
its times moving on (git calls such index entries racily clean): it gets no stamp."""

MISSING = "-"
"""The stamp of a path that does not exist: its appearing later is a change too."""


def stamp(st: os.stat_result, listed_ns: int | None = None) -> str | None:
    """The stamp of a stat result; None when it changed within SETTLED_SECONDS before `listed_ns`."""
    if (
        listed_ns is not None
        and listed_ns - max(st.st_mtime_ns, st.st_ctime_ns) <= SETTLED_SECONDS * 1_000_000_000
    ):
        return None
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def path_stamp(path: str, listed_ns: int | None = None) -> str | None:
    """The stamp of the path itself (links are not followed), MISSING when absent, None when unknown."""
    try:
        return stamp(os.lstat(path), listed_ns)
    except (FileNotFoundError, NotADirectoryError):
        return MISSING
    except OSError:
        return None


class Watch:
    """What a snapshot's listing and target facts depend on, stamped when it was listed.

    Equal stamps later mean the same files with the same bytes, and the same target facts.
    A stamp of None (changed too recently, or not stat-able) means the listing cannot be vouched for.
    """

    __slots__ = ("git_listing", "outside", "paths", "root")

    def __init__(
        self,
        root: str,
        paths: Mapping[str, str | None],
        outside: Mapping[str, str | None] | None = None,
        git_listing: str | None = None,
    ) -> None:
        self.root = root
        """The folder `paths` are relative to."""
        self.paths = paths
        """Root-relative path ("" is the root) -> stamp: every listed file and every folder walked."""
        self.outside: Mapping[str, str | None] = outside or {}
        """Absolute path -> stamp, for files outside the tree (git's HEAD, refs and index)."""
        self.git_listing = git_listing
        """For a git work tree: the digest of `git ls-files`' answer, which a check asks git
        again (git decides which untracked files count, by rules spread over many files)."""

    def vouched(self) -> bool:
        """True when every stamp was taken of a settled path."""
        return None not in self.paths.values() and None not in self.outside.values()


def listing_digest(names: Iterable[str]) -> str:
    """The digest of a set of listed names, as `Watch.git_listing` stores it."""
    import hashlib  # noqa: PLC0415 - only git work trees need it

    digest = hashlib.sha256()
    for name in sorted(set(names)):
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest()


_noted: dict[str, str | None] | None = None


class noting_inputs:  # noqa: N801 - used as a function: `with noting_inputs() as inputs`
    """Collect, while the block runs, the files outside the snapshot a run reads (see note_input)."""

    def __enter__(self) -> dict[str, str | None]:
        global _noted  # noqa: PLW0603 - one run per process; loaders deep down need no parameter
        self._outer = _noted
        _noted = {}
        return _noted

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _noted  # noqa: PLW0603
        _noted = self._outer


def note_input(path: os.PathLike[str] | str) -> None:
    """Record that the run reads this file (a --config or rule file), stamped before it is read."""
    if _noted is not None:
        absolute = os.path.abspath(path)
        _noted.setdefault(absolute, path_stamp(absolute, time.time_ns()))
