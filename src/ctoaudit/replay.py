"""Replaying a finished `ctoaudit run` whose inputs have not changed.

A warm audit of an unchanged tree spends most of its time before it starts: starting Python and
importing typer, pydantic, rich and the plugin machinery takes longer than the audit itself. So the
console script first asks, with the standard library only: was this exact command run before, from
this folder, with this environment and this installed code, and does every file it depended on
have the stamp it had then? If so it writes the recorded output and exits with the recorded code.
Otherwise the command runs as usual, and records itself when its answer is a function of stamped
inputs alone (see `ctoaudit.engine.replayable`).

What a record is checked against:
- its key: the arguments, the working directory, the whole environment, the Python interpreter and
  its import path, which of stdin/stdout/stderr are terminals and their size, the stamps of
  ctoaudit's own files and of every folder on the import path (installing or removing a package,
  a plugin among them, changes its folder's stamp);
- the target: the path as given must still lead to the folder that was audited;
- the snapshot's watch: every listed file and walked folder (plain folders), or every listed path,
  git's HEAD, refs, index and config files, and git's listing asked again (git work trees);
- the files read besides the snapshot: `--config` and rule files.

A record's file is named by a checksum of its key and holds the key in full: two keys with the same
checksum only take turns in one file, and are never mistaken for each other.
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib

from ctoaudit.stamps import listing_digest, path_stamp

TYPE_CHECKING = False  # typing itself is not imported on the replay path
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from ctoaudit.stamps import Watch

FORMAT = 2
FOLDER = "replay-v1"
MAX_RECORDS = 32
"""Records kept per cache folder; the least recently used go first."""

GIT_TIMEOUT_SECONDS = 60
ANALYSIS_ERROR = 3
"""ctoaudit.exitcodes.ExitCode.ANALYSIS_ERROR (that module is not imported here)."""


class Invocation:
    """One command line as the console script received it, and where its record lives."""

    __slots__ = ("argv", "facts", "path")

    def __init__(self, argv: tuple[str, ...], facts: str, path: str) -> None:
        self.argv = argv
        self.facts = facts
        """Everything besides the watched files that may change what the command prints."""
        self.path = path
        """The record's file: named by a checksum of the facts, which the record holds in full."""


class Outputs:
    """What a run wrote: standard output and error as text, report files, and its exit code."""

    __slots__ = ("exit_code", "files", "stderr", "stdout")

    def __init__(
        self, stdout: str, stderr: str, files: tuple[tuple[str, str], ...], exit_code: int
    ) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.files = files
        """(path as given to -o, text) of each report file written."""
        self.exit_code = exit_code


_current: Invocation | None = None


def begin(argv: Sequence[str]) -> Invocation | None:
    """The invocation of a `run` command line that may be replayed or recorded, else None.

    It is remembered for `current()`, so the command can record itself when it finishes.
    """
    global _current  # noqa: PLW0603 - set once by the console script, read once by the command
    _current = None
    if not argv or argv[0] != "run" or any(arg in ("--help", "--version") for arg in argv):
        return None
    folder = _cache_folder(argv[1:])
    if folder is None:
        return None
    facts = _facts(argv)
    name = f"{zlib.crc32(facts.encode('utf-8', 'surrogatepass')):08x}"
    _current = Invocation(tuple(argv), facts, os.path.join(folder, FOLDER, name))
    return _current


def current() -> Invocation | None:
    """The invocation `begin` accepted for this process's command line, if any."""
    if _current is None or _current.argv != tuple(sys.argv[1:]):
        return None  # e.g. a command driven in-process by a test, after another was begun
    return _current


def replay(invocation: Invocation) -> int | None:
    """Write the recorded output and return its exit code, or None when it must run again.

    Any doubt (no record, other facts, a changed stamp, an unreadable record) means None.
    """
    try:
        outputs = _still_valid(invocation)
        if outputs is None:
            return None
        if outputs.files:
            from ctoaudit.atomic import write_atomic  # noqa: PLC0415 - only with -o

            for name, text in outputs.files:
                write_atomic(name, text)
    except Exception:  # noqa: BLE001 - any doubt about a record means running the command
        return None
    try:
        os.utime(invocation.path)  # recently used: kept when old records are pruned
    except OSError:
        pass
    try:
        sys.stderr.write(outputs.stderr)
        sys.stderr.flush()
        sys.stdout.write(outputs.stdout)
        sys.stdout.flush()
    except OSError as exc:  # a closed pipe: as the command line reports it
        sys.stderr.write(f"ctoaudit: error: internal error: {type(exc).__name__}: {exc}\n")
        return ANALYSIS_ERROR
    return outputs.exit_code


def _still_valid(invocation: Invocation) -> Outputs | None:
    """The record's outputs when it is of these facts and every stamp and listing still holds."""
    with open(invocation.path, "rb") as handle:
        fields = marshal.loads(handle.read())  # noqa: S302 - the user's own cache folder
    (form, facts, target, root, paths, outside, listing, inputs, code, stdout, stderr, files) = (
        fields
    )
    valid = (
        form == FORMAT
        and facts == invocation.facts
        and os.path.realpath(target) == root
        and isinstance(stdout, str)
        and isinstance(stderr, str)
        and type(code) is int
        and _stamps_hold(root, paths, outside, inputs)
        and (listing is None or listing == _git_listing(root))
    )
    return Outputs(stdout, stderr, tuple(files), code) if valid else None


def record(
    invocation: Invocation,
    target: str,
    watch: Watch,
    inputs: Mapping[str, str | None],
    outputs: Outputs,
) -> bool:
    """Store the run for replay, when every stamp taken before it still holds; True when stored.

    `target` is the audited path as given, made absolute: a replay checks that it still leads to
    the watched folder (a link may be pointed elsewhere). A file changed while the run read it
    would otherwise be recorded with its new stamp but old content: checking the stamps again
    after the run rules that out.
    """
    if not watch.vouched() or None in inputs.values():
        return False
    if os.path.realpath(target) != watch.root:
        return False
    paths, outside, noted = dict(watch.paths), dict(watch.outside), dict(inputs)
    if not _stamps_hold(watch.root, paths, outside, noted):
        return False
    fields = (
        FORMAT,
        invocation.facts,
        target,
        watch.root,
        paths,
        outside,
        watch.git_listing,
        noted,
        int(outputs.exit_code),
        outputs.stdout,
        outputs.stderr,
        tuple(outputs.files),
    )
    folder = os.path.dirname(invocation.path)
    temporary = f"{invocation.path}.{os.getpid()}.tmp"
    try:
        os.makedirs(folder, exist_ok=True)
        with open(temporary, "wb") as handle:
            handle.write(marshal.dumps(fields))
        os.replace(temporary, invocation.path)
        _prune(folder)
    except (OSError, ValueError):
        # a replay only saves time: a full disk or an odd value must not fail the audit
        if os.path.lexists(temporary):
            os.unlink(temporary)
        return False
    return True


def _prune(folder: str) -> None:
    with os.scandir(folder) as entries:
        records = [(e.stat().st_mtime_ns, e.path) for e in entries if not e.name.endswith(".tmp")]
    for _, old in sorted(records, reverse=True)[MAX_RECORDS:]:
        try:
            os.unlink(old)
        except OSError:
            pass  # pruned by another run


def _stamps_hold(
    root: str,
    paths: Mapping[str, str | None],
    outside: Mapping[str, str | None],
    inputs: Mapping[str, str | None],
) -> bool:
    prefix = root + os.sep
    for rel, known in paths.items():
        if path_stamp(prefix + rel if rel else root) != known:
            return False
    return all(path_stamp(name) == known for name, known in (*outside.items(), *inputs.items()))


def _git_listing(root: str) -> str | None:
    """The digest of the paths git lists in the work tree now, as the snapshot listed them."""
    import subprocess  # noqa: PLC0415 - only git work trees need it

    from ctoaudit.gitenv import SAFE_GIT_CONFIG, WORK_TREE_LISTING  # noqa: PLC0415

    done = subprocess.run(
        ["git", "-C", root, *WORK_TREE_LISTING],
        capture_output=True,
        env={**os.environ, **SAFE_GIT_CONFIG},
        timeout=GIT_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        return None
    names = (n.decode("utf-8", "surrogateescape") for n in done.stdout.split(b"\0") if n)
    return listing_digest(names)


def _cache_folder(args: Sequence[str]) -> str | None:
    """The cache folder `run` will use with these arguments; None when it uses none."""
    if os.environ.get("CTOAUDIT_NO_CACHE"):
        return None
    folder: str | None = None
    tokens = iter(args)
    for arg in tokens:
        if arg == "--":
            break
        if arg == "--no-cache":
            return None
        if arg == "--cache-dir":
            folder = next(tokens, None)
        elif arg.startswith("--cache-dir="):
            folder = arg.removeprefix("--cache-dir=")
    if folder:
        return os.path.expanduser(folder)
    from ctoaudit.cachedir import default_cache_folder  # noqa: PLC0415

    return default_cache_folder()


def _facts(argv: Sequence[str]) -> str:
    """Everything besides the watched files that may change what the command prints, as text."""
    sizes = []
    for fd in (1, 2):
        try:
            sizes.append(repr(tuple(os.get_terminal_size(fd))))
        except OSError:
            sizes.append("-")
    stdout = sys.stdout
    lines = [
        f"format {FORMAT}",
        f"argv {list(argv)!r}",
        f"cwd {os.getcwd()!r}",
        f"env {sorted(os.environ.items())!r}",
        f"python {sys.executable!r} {sys.version!r}",
        f"terminals {[os.isatty(fd) for fd in (0, 1, 2)]!r} {sizes!r}",
        f"stdout {getattr(stdout, 'encoding', None)!r} {getattr(stdout, 'errors', None)!r}",
        *(f"path {entry!r} {path_stamp(entry or '.')}" for entry in sys.path),
        *(f"code {path!r} {stamp}" for path, stamp in _code_stamps()),
    ]
    return "\n".join(lines)


def _code_stamps() -> list[tuple[str, str | None]]:
    """The stamps of ctoaudit's own files (an edit to an editable install is a new program)."""
    package = os.path.dirname(os.path.abspath(__file__))
    found = []
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            path = f"{folder}{os.sep}{name}"
            found.append((path, path_stamp(path)))
    return found
