"""Where ctoaudit keeps its caches (standard library only: the replay check needs it first)."""

from __future__ import annotations

import os


def default_cache_folder() -> str:
    """`CTOAUDIT_CACHE_DIR`, or the per-user cache folder of the platform."""
    env = os.environ.get("CTOAUDIT_CACHE_DIR")
    if env:
        return os.path.expanduser(env)
    from platformdirs import user_cache_dir  # noqa: PLC0415 - only needed when no folder is given

    return user_cache_dir("ctoaudit", appauthor=False)
