"""Read-only views of a repository: a working tree, a plain directory, or a commit's git objects.

Nothing here checks out, resets or stashes: a commit is read blob by blob from the object database, so
the user's working tree and index stay byte-identical, dirty or not.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
import weakref
from collections.abc import Sequence
from enum import StrEnum
from operator import attrgetter
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple, Protocol

from ctoaudit import stamps
from ctoaudit.errors import SnapshotError, SnapshotFileError, TargetError
from ctoaudit.gitenv import SAFE_GIT_CONFIG, WORK_TREE_LISTING
from ctoaudit.model import TargetInfo, TargetKind

# GitPython refuses to import when no git binary is on PATH; we report that ourselves, per target.
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

if TYPE_CHECKING:
    import git

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "env",
    "node_modules",
    "build",
    "dist",
    ".tox",
    ".nox",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".eggs",
    "*.egg-info",
    "site-packages",
)
"""Folder names never walked outside git; inside git, .gitignore decides instead."""

GIT_TIMEOUT_SECONDS = 600
_URL_PATTERN = re.compile(r"^([a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.IGNORECASE)


class EntryKind(StrEnum):
    """What a listed path is; only regular files have content to analyze."""

    FILE = "file"
    SYMLINK = "symlink"
    SUBMODULE = "submodule"


class FileEntry(NamedTuple):
    """One path in a snapshot. `blob_id` is git's object id when it is known without reading.

    A named tuple: immutable like a frozen dataclass, and three times cheaper to create (a trend
    lists tens of thousands of entries).
    """

    path: str
    size: int
    kind: EntryKind = EntryKind.FILE
    blob_id: str | None = None
    stamp: str | None = None
    """For a file on disk: device, inode, size, modification and change time, when the file was
    last changed more than stamps.SETTLED_SECONDS before it was listed. Until the file changes again
    its stamp stays the same, and any change (a write sets both times to now) gives another stamp, so a
    stamp seen before names the same bytes: the content cache can skip reading and hashing it."""


class RepoSnapshot(Protocol):
    """A read-only view of the files of one revision of a repository."""

    @property
    def info(self) -> TargetInfo:
        """Where the files come from."""
        ...

    @property
    def warnings(self) -> list[str]:
        """Things the user should know about how the snapshot was taken."""
        ...

    def files(self) -> Sequence[FileEntry]:
        """Every file in the snapshot, sorted by path (the engine applies configured excludes)."""
        ...

    def read_bytes(self, entry: FileEntry) -> bytes:
        """The file's content; raises SnapshotFileError when it cannot be read."""
        ...

    def git_repo(self) -> git.Repo | None:
        """The git repository behind the snapshot, for analyzers that read history."""
        ...

    def commit(self) -> str | None:
        """The commit whose history analyzers should read (HEAD for a working tree)."""
        ...

    def watch(self) -> stamps.Watch | None:
        """The stamps that pin down the listing and target facts, or None when stamps cannot."""
        ...


def blob_id(data: bytes) -> str:
    """Git's object id for a blob with this content, so working-tree files share cache entries with commits."""
    header = b"blob %d\0" % len(data)
    return hashlib.sha1(header + data, usedforsecurity=False).hexdigest()


@functools.lru_cache(maxsize=64)
def _compile_globs(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(p.rstrip('/'))})" for p in patterns))


def matches_any(path: str, patterns: Sequence[str]) -> bool:
    """True when the path, any folder above it, or one of their names matches a glob pattern.

    `*` crosses folders (as in fnmatch), so `tests/*` covers everything below tests/, and a bare
    name such as `node_modules` matches that folder anywhere in the tree.
    """
    if not patterns:
        return False
    key = tuple(patterns)
    known = _MATCHED.setdefault(key, {})
    if len(known) >= _MATCHED_PER_PATTERNS:
        known.clear()
    return _matches(path, _compile_globs(key), known)


_MATCHED: dict[tuple[str, ...], dict[str, bool]] = {}
"""Answers of matches_any by patterns and path (folders too): a folder is judged once for all the
files below it, and a trend asks the same of each path per revision."""
_MATCHED_PER_PATTERNS = 1 << 17


def _matches(path: str, regex: re.Pattern[str], known: dict[str, bool]) -> bool:
    found = known.get(path)
    if found is None:
        slash = path.rfind("/")
        found = bool(
            regex.match(path)
            or (slash >= 0 and regex.match(path, slash + 1))
            or (slash > 0 and _matches(path[:slash], regex, known))
        )
        known[path] = found
    return found


def _read_file(root: Path, entry: FileEntry) -> bytes:
    if entry.kind is EntryKind.SYMLINK:
        raise SnapshotFileError("symbolic link, not followed")
    if entry.kind is EntryKind.SUBMODULE:
        raise SnapshotFileError("git submodule, audited separately")
    try:
        return (root / entry.path).read_bytes()
    except PermissionError:
        raise SnapshotFileError("permission denied") from None
    except FileNotFoundError:
        raise SnapshotFileError("file disappeared during the audit") from None
    except OSError as exc:
        raise SnapshotFileError(f"cannot read: {exc.strerror or exc}") from None


def _entry_of(rel: str, st: os.stat_result, listed_ns: int) -> FileEntry | None:
    """The entry of a listed path as lstat found it; None for what is neither file, link nor folder."""
    if stat.S_ISLNK(st.st_mode):
        return FileEntry(rel, st.st_size, EntryKind.SYMLINK)
    if stat.S_ISDIR(st.st_mode):
        return FileEntry(rel, 0, EntryKind.SUBMODULE)
    if not stat.S_ISREG(st.st_mode):
        return None
    return FileEntry(rel, st.st_size, stamp=stamps.stamp(st, listed_ns))


class DirectorySnapshot:
    """A folder outside git: walked without following links, default and configured excludes applied."""

    def __init__(self, root: Path, warnings: Sequence[str] = ()) -> None:
        self._root = root
        self._excludes = DEFAULT_EXCLUDES
        self._warnings = list(warnings)
        self._files: list[FileEntry] | None = None
        self._folders: dict[str, str | None] = {}
        """Folders walked ("" is the root, others end in /) and links listed -> stamp when listed."""

    @property
    def info(self) -> TargetInfo:
        """Where the files come from."""
        return TargetInfo(kind=TargetKind.DIRECTORY, path=str(self._root), files=len(self.files()))

    @property
    def warnings(self) -> list[str]:
        """Notes about the walk."""
        return self._warnings

    def files(self) -> Sequence[FileEntry]:
        """Regular files and symlinks under the root, sorted; links are listed, never followed."""
        if self._files is None:
            found: list[FileEntry] = []
            pending = [""]
            listed_ns = time.time_ns()
            while pending:
                rel_dir = pending.pop()
                self._scan(rel_dir, found, pending, listed_ns)
            self._files = sorted(found, key=lambda e: e.path)
        return self._files

    def _scan(
        self, rel_dir: str, found: list[FileEntry], pending: list[str], listed_ns: int
    ) -> None:
        # A string join: pathlib costs more than the scan itself on trees of thousands of folders.
        folder = os.path.join(self._root, rel_dir)  # noqa: PTH118
        # Stamped before it is read: an entry added or removed later moves the folder's stamp.
        self._folders[rel_dir] = stamps.path_stamp(folder, listed_ns)
        try:
            with os.scandir(folder) as entries:
                for item in entries:  # most entries are files: test for those first
                    if item.is_file(follow_symlinks=False):
                        st = item.stat(follow_symlinks=False)
                        stamp = stamps.stamp(st, listed_ns)
                        found.append(FileEntry(rel_dir + item.name, st.st_size, stamp=stamp))
                    elif item.is_dir(follow_symlinks=False):
                        if not matches_any(item.name, self._excludes):
                            pending.append(rel_dir + item.name + "/")
                    elif item.is_symlink():
                        found.append(FileEntry(rel_dir + item.name, 0, EntryKind.SYMLINK))
                        # not read, but retargeting it changes what the listing says of it
                        self._folders[rel_dir + item.name] = stamps.stamp(
                            item.stat(follow_symlinks=False), listed_ns
                        )
        except OSError as exc:
            self._warnings.append(
                f"cannot list folder {rel_dir or '.'}: {exc.strerror or exc}; its files were skipped"
            )

    def read_bytes(self, entry: FileEntry) -> bytes:
        """The file's bytes."""
        return _read_file(self._root, entry)

    def git_repo(self) -> git.Repo | None:
        """No git behind a plain folder."""
        return None

    def commit(self) -> str | None:
        """No commit behind a plain folder."""
        return None

    def watch(self) -> stamps.Watch:
        """Every folder walked and every file listed, with the stamps they had then."""
        paths = {e.path: e.stamp for e in self.files() if e.kind is EntryKind.FILE}
        paths.update(self._folders)
        return stamps.Watch(root=str(self._root), paths=paths)


def _open_repo(path: Path) -> git.Repo:
    import git  # noqa: PLC0415 - GitPython is slow to import; only git targets need it

    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise TargetError(f"{path}: not a git repository") from exc
    # A repository's own config may name programs git runs while reading a work tree (an fsmonitor
    # on `status`/`diff`, hooks): switch them off for every git command ctoaudit runs on it.
    repo.git.update_environment(**SAFE_GIT_CONFIG)
    return repo


def _git_output(repo: git.Repo, *args: str) -> str:
    import git  # noqa: PLC0415

    try:
        return str(repo.git.execute(["git", *args], strip_newline_in_stdout=False))
    except git.GitCommandError as exc:
        detail = (exc.stderr or "").strip().splitlines()
        raise SnapshotError(f"git {args[0]} failed: {detail[-1] if detail else exc}") from exc


class WorkingTreeSnapshot:
    """A git work tree as it is on disk: tracked files plus untracked files git does not ignore."""

    def __init__(self, repo: git.Repo, root: Path) -> None:
        self._repo = repo
        self._root = root
        self._files: list[FileEntry] | None = None
        self._warnings: list[str] = []
        self._stamps: dict[str, str | None] = {}
        self._git_stamps: dict[str, str | None] = {}

    @property
    def info(self) -> TargetInfo:
        """Path, HEAD commit and whether the tree differs from it."""
        head = _head_commit(self._repo)
        dirty = self._repo.is_dirty(untracked_files=True) if head else bool(self.files())
        return TargetInfo(
            kind=TargetKind.WORKING_TREE,
            path=str(self._root),
            ref=_branch_name(self._repo),
            commit=head,
            dirty=dirty,
            files=len(self.files()),
        )

    @property
    def warnings(self) -> list[str]:
        """Notes about the listing."""
        return self._warnings

    def files(self) -> Sequence[FileEntry]:
        """Tracked and untracked-but-not-ignored files that exist on disk, sorted."""
        if self._files is None:
            # git's own files are stamped before git reads them, the listed paths right after
            self._git_stamps = _git_metadata_stamps(self._repo, self._root, time.time_ns())
            out = _git_output(self._repo, "-C", str(self._root), *WORK_TREE_LISTING)
            names = sorted({n for n in out.split("\0") if n})
            listed_ns = time.time_ns()
            files: list[FileEntry] = []
            for name in names:
                try:
                    st = os.lstat(os.path.join(self._root, name))  # noqa: PTH118 - per file: cheaper than pathlib
                except OSError as exc:
                    # tracked but deleted: its coming back is a change too
                    gone = isinstance(exc, FileNotFoundError | NotADirectoryError)
                    self._stamps[name] = stamps.MISSING if gone else None
                    continue
                entry = _entry_of(name, st, listed_ns)
                self._stamps[name] = (
                    None  # a submodule's state is its own repository's
                    if entry is not None and entry.kind is EntryKind.SUBMODULE
                    else stamps.stamp(st, listed_ns)
                )
                if entry is not None:
                    files.append(entry)
            self._files = files
        return self._files

    def watch(self) -> stamps.Watch | None:
        """Every listed path and git's HEAD, refs, index and config files, as stamped when listed.

        None for a folder inside a work tree: whether the tree is dirty depends on files outside it.
        """
        self.files()
        toplevel = self._repo.working_tree_dir
        if toplevel is None or Path(toplevel).resolve() != self._root:
            return None
        return stamps.Watch(
            root=str(self._root),
            paths=dict(self._stamps),
            outside=dict(self._git_stamps),
            git_listing=stamps.listing_digest(self._stamps),
        )

    def read_bytes(self, entry: FileEntry) -> bytes:
        """The file's bytes as they are on disk."""
        return _read_file(self._root, entry)

    def git_repo(self) -> git.Repo | None:
        """The repository, for history."""
        return self._repo

    def commit(self) -> str | None:
        """HEAD, or None in a repository without commits."""
        return _head_commit(self._repo)


def _git_metadata_stamps(repo: git.Repo, root: Path, now_ns: int) -> dict[str, str | None]:
    """Stamps of the files that decide HEAD, the branch and how git compares the tree with it."""
    git_dir = Path(repo.git_dir)
    common = Path(repo.common_dir)
    home = Path.home()
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    paths = [
        git_dir / "HEAD",
        git_dir / "index",
        git_dir / "config.worktree",
        common / "config",
        common / "info" / "attributes",
        common / "packed-refs",
        common / "reftable" / "tables.list",
        home / ".gitconfig",
        xdg / "git" / "config",
        xdg / "git" / "attributes",
        Path("/etc/gitconfig"),
    ]
    if (root / ".git").is_file():
        paths.append(root / ".git")  # a linked work tree: the file says where its git folder is
    # (a .git folder's own stamp moves whenever git takes its index lock, even to change nothing)
    found = {str(path): stamps.path_stamp(str(path), now_ns) for path in paths}
    with contextlib.suppress(OSError, UnicodeDecodeError):
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        if head.startswith("ref: "):
            ref_file = str(common / head.removeprefix("ref: "))
            found[ref_file] = stamps.path_stamp(ref_file, now_ns)
    return found


def _head_commit(repo: git.Repo) -> str | None:
    try:
        return repo.head.commit.hexsha
    except ValueError:  # a repository without commits
        return None


def _branch_name(repo: git.Repo) -> str | None:
    try:
        return None if repo.head.is_detached else repo.active_branch.name
    except (TypeError, ValueError):
        return None


def resolve_commit(repo: git.Repo, ref: str) -> str:
    """The full commit id of `ref`, or a TargetError naming the ref."""
    import git  # noqa: PLC0415

    if ref.startswith("-"):
        raise TargetError(f"bad ref {ref!r}: refs cannot start with '-'")
    try:
        return repo.commit(ref).hexsha
    except (git.BadName, git.BadObject, ValueError, git.GitCommandError) as exc:
        raise TargetError(
            f"bad ref {ref!r}: no such commit, branch or tag in {repo.git_dir}"
        ) from exc


_FULL_COMMIT_ID = re.compile(r"[0-9a-f]{40}")
_COMMIT_TREE_LINE = re.compile(rb"tree [0-9a-f]{40}")
_ID_BYTES = 20
_MAX_TREE_DEPTH = 400
_TYPE_BITS = 0o170000
_KIND_BY_TYPE: dict[int, EntryKind | None] = {
    0o100000: EntryKind.FILE,
    0o120000: EntryKind.SYMLINK,
    0o040000: None,
}
"""What a tree entry's mode means (None: a folder); git reads any other type bits as a gitlink."""

_TreeEntry = tuple[EntryKind | None, bytes, bytes]
"""A parsed tree entry: its kind (None for a folder), its name, its binary object id."""


_TREE_ENTRY = re.compile(rb"([0-7]+) ([^\0]+)\0(.{20})", re.DOTALL)


def _parse_tree(data: bytes) -> list[_TreeEntry]:
    """Entries of a raw tree object: `<octal mode> SP <name> NUL <20-byte id>`, repeated."""
    kinds: dict[bytes, EntryKind | None] = {}
    entries: list[_TreeEntry] = []
    covered = 0
    for mode, name, object_id in _TREE_ENTRY.findall(data):
        if mode not in kinds:
            kinds[mode] = _KIND_BY_TYPE.get(int(mode, 8) & _TYPE_BITS, EntryKind.SUBMODULE)
        entries.append((kinds[mode], name, object_id))
        covered += len(mode) + len(name) + 2 + _ID_BYTES
    if covered != len(data):  # matches are disjoint: any byte they skip is a malformed entry
        raise ValueError("malformed entry")
    return entries


class _CatFile:
    """One long-running `git cat-file --batch` (contents) or `--batch-check` (sizes) process.

    It is asked many ids per round trip: a chunk of requests is written, then its answers are read.
    A chunk stays far below a pipe's buffer, so writing never waits for git while git waits for us.
    The process ends when its owner is collected (or at exit), even from a reference cycle.
    """

    _CHUNK = 200

    def __init__(self, repo: git.Repo, option: str) -> None:
        self._git_dir = str(repo.git_dir)
        self._option = option
        self._process: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize[[subprocess.Popen[bytes], IO[bytes]], _CatFile] | None = (
            None
        )

    def ask(self, ids: Sequence[bytes]) -> list[tuple[bytes, bytes] | None]:
        """What git says about each id, in order; None for an object git cannot give.

        With `--batch` an answer is (type, content); with `--batch-check`, (type, size in digits).
        """
        answers: list[tuple[bytes, bytes] | None] = []
        if not ids:
            return answers
        try:
            stdin, stdout = self._start()
            for start in range(0, len(ids), self._CHUNK):
                chunk = ids[start : start + self._CHUNK]
                stdin.write(b"".join(i.hex().encode() + b"\n" for i in chunk))
                stdin.flush()
                answers += [self._answer(stdout) for _ in chunk]
        except (OSError, ValueError) as exc:
            detail = self._stop() or str(exc)  # the next round starts a new process
            raise SnapshotError(f"git cat-file failed in {self._git_dir}: {detail}") from None
        return answers

    def _start(self) -> tuple[IO[bytes], IO[bytes]]:
        if self._process is None:
            # Errors go to a file: a pipe nobody reads could fill up and stall git.
            errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _end_process
            try:
                self._process = subprocess.Popen(
                    ["git", "--git-dir", self._git_dir, "cat-file", self._option],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=errors,
                    env={**os.environ, **SAFE_GIT_CONFIG},
                )
            except OSError:
                errors.close()
                raise
            self._finalizer = weakref.finalize(self, _end_process, self._process, errors)
        assert self._process.stdin is not None  # noqa: S101 - both are pipes, as asked
        assert self._process.stdout is not None  # noqa: S101
        return self._process.stdin, self._process.stdout

    def _stop(self) -> str:
        """End the process; its last words on stderr, if any."""
        finalizer, self._finalizer, self._process = self._finalizer, None, None
        if finalizer is None:
            return ""
        return finalizer() or ""

    def _answer(self, stdout: IO[bytes]) -> tuple[bytes, bytes] | None:
        header = stdout.readline()
        if not header:
            raise ValueError("git stopped answering")
        parts = header.split()
        if len(parts) != 3:  # noqa: PLR2004 - `<id> missing` instead of `<id> <type> <size>`
            return None
        if self._option == "--batch-check":
            return parts[1], parts[2]
        size = int(parts[2])
        data = stdout.read(size + 1)
        if len(data) != size + 1:
            raise ValueError("git stopped in the middle of an object")
        return parts[1], data[:size]


def _end_process(process: subprocess.Popen[bytes], errors: IO[bytes]) -> str:
    """End a cat-file process (closing its input ends it) and return its last line of errors."""
    try:
        process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
    with errors:
        errors.seek(0)
        lines = errors.read().decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else ""


class GitTreeReader:
    """Lists commits' files for every snapshot of one repository, in a few batched rounds.

    Objects come from two long-running `git cat-file` processes (contents and sizes), never one
    `git ls-tree` per revision. Commits announced with `expect()` (by `CommitSnapshot.at`) are read
    together, level by level, on the first listing. Parsed trees, flattened folders and blob sizes
    are kept by object id, so revisions that share folders read and list them once.
    """

    def __init__(self, repo: git.Repo) -> None:
        self._repo = repo
        self._objects = _CatFile(repo, "--batch")
        self._headers = _CatFile(repo, "--batch-check")
        self._trees: dict[bytes, list[_TreeEntry]] = {}
        self._folders: dict[tuple[bytes, str], list[FileEntry]] = {}
        self._sizes: dict[bytes, int] = {}
        self._root_trees: dict[str, bytes] = {}
        self._expected: dict[tuple[str, str], None] = {}
        self.trees_read = 0
        """How many tree objects were read from git rather than from memory (tests watch it)."""

    def expect(self, commit_id: str, prefix: str = "") -> None:
        """Note a commit (a full id) that will be listed, so one round reads it with the others."""
        self._expected[commit_id, prefix] = None

    def files(self, commit_id: str, prefix: str = "") -> list[FileEntry]:
        """The commit's files (below `prefix`, relative to it), as `git ls-tree -r --long` lists them.

        A prefix that is not a folder in this commit (missing, a file, a submodule) lists nothing.
        """
        if commit_id not in self._root_trees:
            self.expect(commit_id, prefix)
        if self._expected:
            with contextlib.suppress(SnapshotError):  # a failure is reported below, for this commit
                self._prefetch()
        tree: bytes | None = self._root_tree(commit_id)
        for name in _prefix_names(prefix):
            tree = self._subtree(tree, name) if tree is not None else None
        if tree is None:
            return []
        return sorted(self._folder(tree, "", 0), key=attrgetter("path"))

    def _prefetch(self) -> None:
        """Read what the expected commits need, one batched round per folder level."""
        expected, self._expected = self._expected, {}
        commits = [c for c, _ in expected if c not in self._root_trees]
        for commit, answer in zip(
            commits, self._objects.ask([_binary_id(c) for c in commits]), strict=True
        ):
            if answer is not None and answer[0] == b"commit":
                self._root_trees[commit] = _tree_of_commit(commit, answer[1])
        roots: dict[str, list[bytes]] = {}
        for commit, prefix in expected:
            if commit in self._root_trees:
                roots.setdefault(prefix, []).append(self._root_trees[commit])
        for prefix, trees in roots.items():
            level = trees
            for name in _prefix_names(prefix):
                self._load_trees(level)
                level = [t for t in (self._subtree(t, name) for t in level) if t is not None]
            self._load_below(level)

    def _load_below(self, level: list[bytes]) -> None:
        while level:
            self._load_trees(level)
            subtrees: dict[bytes, None] = {}
            blobs: dict[bytes, None] = {}
            for tree in level:
                for kind, _, object_id in self._trees.get(tree, ()):
                    if kind is None:
                        subtrees[object_id] = None
                    elif kind is not EntryKind.SUBMODULE:
                        blobs[object_id] = None
            self._load_sizes([b for b in blobs if b not in self._sizes])
            level = [t for t in subtrees if t not in self._trees]

    def _load_trees(self, ids: Sequence[bytes]) -> None:
        wanted = [t for t in dict.fromkeys(ids) if t not in self._trees]
        for tree, answer in zip(wanted, self._objects.ask(wanted), strict=True):
            if answer is not None and answer[0] == b"tree":
                with contextlib.suppress(ValueError):  # corrupt: reported when listed on its own
                    self._trees[tree] = _parse_tree(answer[1])
                    self.trees_read += 1

    def _load_sizes(self, ids: Sequence[bytes]) -> None:
        for blob, answer in zip(ids, self._headers.ask(ids), strict=True):
            if answer is not None:
                self._sizes[blob] = int(answer[1])

    def _root_tree(self, commit_id: str) -> bytes:
        tree = self._root_trees.get(commit_id)
        if tree is None:
            _, data = self._read(_binary_id(commit_id), "commit")
            tree = self._root_trees[commit_id] = _tree_of_commit(commit_id, data)
        return tree

    def _subtree(self, tree: bytes, name: bytes) -> bytes | None:
        for kind, entry_name, object_id in self._entries(tree):
            if entry_name == name:
                return object_id if kind is None else None
        return None

    def _folder(self, tree: bytes, base: str, depth: int) -> list[FileEntry]:
        """Every file below `tree`, paths prefixed with `base`; kept per (tree, base)."""
        found = self._folders.get((tree, base))
        if found is not None:
            return found
        if depth > _MAX_TREE_DEPTH:
            raise SnapshotError(f"cannot list {base}: folders nested over {_MAX_TREE_DEPTH} deep")
        found = []
        for kind, name, object_id in self._entries(tree):
            path = base + name.decode("utf-8", "surrogateescape")
            if kind is None:
                found += self._folder(object_id, path + "/", depth + 1)
            elif kind is EntryKind.SUBMODULE:
                found.append(FileEntry(path, 0, kind, object_id.hex()))
            else:
                found.append(FileEntry(path, self._size(object_id), kind, object_id.hex()))
        self._folders[tree, base] = found
        return found

    def _entries(self, tree: bytes) -> list[_TreeEntry]:
        entries = self._trees.get(tree)
        if entries is None:
            _, data = self._read(tree, "tree")
            try:
                entries = self._trees[tree] = _parse_tree(data)
            except ValueError as exc:
                raise SnapshotError(
                    f"cannot read tree {tree.hex()}: corrupt object ({exc})"
                ) from None
            self.trees_read += 1
        return entries

    def _size(self, blob: bytes) -> int:
        size = self._sizes.get(blob)
        if size is None:
            (answer,) = self._headers.ask([blob])
            if answer is None:
                raise SnapshotError(
                    f"cannot read blob {blob.hex()}: missing or unreadable in {self._repo.git_dir}"
                )
            size = self._sizes[blob] = int(answer[1])
        return size

    def _read(self, object_id: bytes, wanted: str) -> tuple[bytes, bytes]:
        (answer,) = self._objects.ask([object_id])
        if answer is None:
            raise SnapshotError(
                f"cannot read {wanted} {object_id.hex()}: missing or unreadable in {self._repo.git_dir}"
            )
        if answer[0] != wanted.encode():
            raise SnapshotError(
                f"cannot read {wanted} {object_id.hex()}: it is a {answer[0].decode()}, not a {wanted}"
            )
        return answer


def _prefix_names(prefix: str) -> list[bytes]:
    return prefix.encode("utf-8", "surrogateescape").split(b"/") if prefix else []


def _binary_id(object_id: str) -> bytes:
    try:
        return bytes.fromhex(object_id)
    except ValueError:
        raise SnapshotError(f"{object_id!r} is not an object id") from None


def _tree_of_commit(commit_id: str, data: bytes) -> bytes:
    """The root tree named on a commit object's first line, `tree <hex id>`."""
    line = data.split(b"\n", 1)[0]
    if not _COMMIT_TREE_LINE.fullmatch(line):
        raise SnapshotError(f"cannot read commit {commit_id}: no tree line in the object")
    return bytes.fromhex(line[5:].decode("ascii"))


class CommitSnapshot:
    """The tree of one commit, read from git objects only."""

    def __init__(
        self,
        repo: git.Repo,
        ref: str,
        *,
        prefix: str = "",
        url: str | None = None,
        display_path: str | None = None,
        reader: GitTreeReader | None = None,
        commit_id: str | None = None,
    ) -> None:
        self._repo = repo
        self._ref = ref
        self._commit = commit_id or resolve_commit(repo, ref)
        self._prefix = prefix.strip("/")
        self._url = url
        self._display_path = display_path or str(Path(repo.git_dir).parent)
        self._reader = reader or GitTreeReader(repo)
        self._files: list[FileEntry] | None = None
        self._warnings: list[str] = []

    @property
    def info(self) -> TargetInfo:
        """Path, ref and commit."""
        return TargetInfo(
            kind=TargetKind.COMMIT,
            path=self._display_path,
            url=self._url,
            ref=self._ref,
            commit=self._commit,
            files=len(self.files()),
        )

    @property
    def warnings(self) -> list[str]:
        """Notes about the listing."""
        return self._warnings

    @property
    def repo(self) -> git.Repo:
        """The repository the commit is read from."""
        return self._repo

    @property
    def commit_id(self) -> str:
        """The audited commit."""
        return self._commit

    @property
    def tree_reader(self) -> GitTreeReader:
        """The reader this snapshot and the ones made by `at()` share."""
        return self._reader

    def at(self, ref: str) -> CommitSnapshot:
        """The same repository, folder and display path at another commit (for `trend`).

        A full commit id, as `git log` prints it, is taken as it is, without starting git to
        resolve it; the snapshots share one reader, which lists them together on first use (a
        wrong id is reported then). Any other ref is resolved as usual.
        """
        commit_id = ref if _FULL_COMMIT_ID.fullmatch(ref) else None
        if commit_id:
            self._reader.expect(commit_id, self._prefix)
        return CommitSnapshot(
            self._repo,
            ref,
            prefix=self._prefix,
            url=self._url,
            display_path=self._display_path,
            reader=self._reader,
            commit_id=commit_id,
        )

    def files(self) -> Sequence[FileEntry]:
        """Every blob of the commit's tree with its id and size, sorted."""
        if self._files is None:
            self._files = self._reader.files(self._commit, self._prefix)
        return self._files

    def read_bytes(self, entry: FileEntry) -> bytes:
        """The blob's bytes from the object database."""
        if entry.kind is not EntryKind.FILE or entry.blob_id is None:
            return _read_file(Path(), entry)
        try:
            return bytes(self._repo.odb.stream(bytes.fromhex(entry.blob_id)).read())
        except (ValueError, OSError) as exc:
            raise SnapshotFileError(f"cannot read blob {entry.blob_id}: {exc}") from None

    def git_repo(self) -> git.Repo | None:
        """The repository, for history."""
        return self._repo

    def commit(self) -> str | None:
        """The audited commit."""
        return self._commit

    def watch(self) -> None:
        """None: a ref may move, and a URL is fetched again; stamps cannot tell either."""
        return


def looks_like_url(target: str) -> bool:
    """True for `scheme://...` and scp-like `user@host:path` git addresses."""
    return bool(_URL_PATTERN.match(target))


def _run_git(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "SSH_ASKPASS": "true"}
    return subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=GIT_TIMEOUT_SECONDS,
    )


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no details from git"


def clone_or_refresh(url: str, cache_root: Path) -> tuple[Path, list[str]]:
    """A bare clone of `url` under the cache, made once and fetched again on later runs."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:20]
    dest = cache_root / "repos" / f"{digest}.git"
    warnings: list[str] = []
    if dest.is_dir():
        proc = _run_git(
            ["fetch", "--quiet", "--prune", "--tags", "origin", "+refs/heads/*:refs/heads/*"], dest
        )
        if proc.returncode != 0:
            warnings.append(
                f"could not refresh the cached clone of {url} ({_last_line(proc.stderr)}); audited the cached copy"
            )
        return dest, warnings
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".clone-", dir=dest.parent))
    try:
        proc = _run_git(["clone", "--bare", "--quiet", "--", url, str(tmp / "repo.git")])
        if proc.returncode != 0:
            raise TargetError(f"cannot clone {url}: {_last_line(proc.stderr)}")
        try:
            (tmp / "repo.git").rename(dest)
        except OSError:
            if not dest.is_dir():  # another run finished the same clone first; theirs is as good
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest, warnings


def open_snapshot(
    target: str,
    *,
    ref: str | None = None,
    cache_root: Path,
) -> RepoSnapshot:
    """Open what the user named: a git URL, a git work tree (optionally at `ref`), or a folder."""
    if looks_like_url(target):
        _require_git(target)
        repo_dir, warnings = clone_or_refresh(target, cache_root)
        repo = _open_repo(repo_dir)
        snap = CommitSnapshot(repo, ref or "HEAD", url=target, display_path=target)
        snap.warnings.extend(warnings)
        return snap
    path = _local_folder(target)
    if shutil.which("git") is None:
        if ref is not None:
            raise TargetError("--ref needs git, and no git executable was found on PATH")
        return DirectorySnapshot(
            path, ["git was not found on PATH: audited the folder as plain files"]
        )
    toplevel = _git_toplevel(path)
    if toplevel is None and _is_bare_repo(path):
        # A bare clone (a mirror, a CI cache) has no files on disk: audit its commit from objects.
        return CommitSnapshot(_open_repo(path), ref or "HEAD", display_path=str(path))
    if toplevel is None:
        if ref is not None:
            raise TargetError(
                f"{target}: --ref needs a git repository, and this folder is not in one"
            )
        return DirectorySnapshot(path)
    repo = _open_repo(toplevel)
    if ref is not None:
        prefix = path.relative_to(toplevel).as_posix() if path != toplevel else ""
        return CommitSnapshot(repo, ref, prefix=prefix, display_path=str(path))
    return WorkingTreeSnapshot(repo, path)


def _local_folder(target: str) -> Path:
    """The target as an existing folder's resolved path, or a TargetError saying why not."""
    path = Path(target).expanduser()
    if not path.exists():
        raise TargetError(f"{target}: no such file or directory")
    if not path.is_dir():
        raise TargetError(f"{target}: not a directory")
    try:
        return path.resolve()
    except OSError as exc:  # e.g. the working folder was deleted under the shell
        raise TargetError(f"{target}: cannot resolve the path: {exc.strerror or exc}") from None


def _require_git(target: str) -> None:
    if shutil.which("git") is None:
        raise TargetError(
            f"{target}: auditing a git URL needs git, and no git executable was found on PATH"
        )


def _is_bare_repo(path: Path) -> bool:
    proc = _run_git(["rev-parse", "--is-bare-repository"], path)
    return proc.returncode == 0 and proc.stdout.strip() == "true"


def _git_toplevel(path: Path) -> Path | None:
    proc = _run_git(["rev-parse", "--show-toplevel"], path)
    if proc.returncode != 0:
        return None
    return Path(proc.stdout.strip()).resolve()
