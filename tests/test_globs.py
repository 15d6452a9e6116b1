"""`matches_any`: a path is covered when it, a folder above it, or one of their names matches."""

from __future__ import annotations

import pytest

from ctoaudit.snapshot import matches_any


@pytest.mark.parametrize(
    ("path", "patterns", "expected"),
    [
        ("a/b.py", ["*.py"], True),
        ("x.py/readme.txt", ["*.py"], True),  # a folder named like a match covers what is in it
        ("a/b.txt", ["*.py"], False),
        ("tests/a.py", ["tests/*"], True),
        ("tests/deep/er/a.py", ["tests/*"], True),
        ("src/tests.py", ["tests/*"], False),
        ("a/node_modules/pkg/index.js", ["node_modules"], True),
        ("a/node_modules_old/index.js", ["node_modules"], False),
        ("rebuild/a.py", ["build"], False),
        ("build/a.py", ["build/"], True),
        ("docs/conf.py", ["docs/conf.py"], True),
        ("other/docs/conf.py", ["docs/conf.py"], False),
        ("a/b/c/d.py", ["a/b"], True),
        ("a/bc/d.py", ["a/b"], False),
        ("a/b/c/d.py", ["c"], True),
        ("a/b/c/d.py", [], False),
        ("a/b/c/d.py", ["zzz", "*/c/*"], True),
    ],
)
def test_matches_any(path: str, patterns: list[str], expected: bool) -> None:
    assert matches_any(path, patterns) is expected
    # asked again (answers are remembered per folder): the same answer
    assert matches_any(path, patterns) is expected
