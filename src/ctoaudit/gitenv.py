"""How ctoaudit runs git on a repository it audits (standard library only, for the replay check)."""

from __future__ import annotations

SAFE_GIT_CONFIG = {
    "GIT_CONFIG_COUNT": "2",
    "GIT_CONFIG_KEY_0": "core.fsmonitor",
    "GIT_CONFIG_VALUE_0": "false",
    "GIT_CONFIG_KEY_1": "core.hooksPath",
    "GIT_CONFIG_VALUE_1": "/dev/null",
    "GIT_OPTIONAL_LOCKS": "0",
}
"""Environment for git (2.31+) that overrides repository config which would run programs, and
keeps `git status` from rewriting the index on its own (as background tools do): an audit leaves
the repository as it found it."""

WORK_TREE_LISTING = ("ls-files", "-z", "--cached", "--others", "--exclude-standard")
"""The git arguments that list a work tree: tracked files plus untracked files git does not ignore."""
