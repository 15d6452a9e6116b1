"""Writing a report file whole or not at all.

Standard library only, and os functions rather than pathlib: a replayed run (ctoaudit.replay) writes
its report with this before anything else is imported.
"""

from __future__ import annotations

import os
import stat

from ctoaudit.errors import UsageError


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write the whole file or nothing: a temporary file in the same folder, then a rename."""
    target = os.path.expanduser(os.fspath(path))
    try:
        mode = os.stat(target).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        # /dev/null, /dev/stdout, a FIFO: write into it; a rename would replace the device itself.
        try:
            with open(target, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return
    folder, name = os.path.split(target)
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    try:
        if folder:
            os.makedirs(folder, exist_ok=True)
        # The name is this process's own: one left by a crashed process with the same id is stale.
        if os.path.lexists(temporary):
            os.unlink(temporary)
        # O_EXCL: never write through a link someone put in the way; the umask sets the mode
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            os.replace(temporary, target)
        except BaseException:
            if os.path.lexists(temporary):
                os.unlink(temporary)
            raise
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
