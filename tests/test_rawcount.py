"""One-pass raw counts equal radon's `raw.analyze`, including its quirks."""

from __future__ import annotations

import inspect
import json
import tokenize
from pathlib import Path

import pytest
from radon.raw import analyze

from ctoaudit.analyzers import rawcount
from ctoaudit.analyzers.rawcount import _fast, count_raw

TRICKY = '''\
#!/usr/bin/env python
# -*- coding: utf-8 -*-
"""Module docstring
spanning lines.

"""
import os; import sys
x = {1: 2}  # a dict literal: radon counts 2 logical lines (rightmost colon)
if x: y = 1
if x:  # trailing comment
    pass
f = lambda a: a
call(1,

     2)  # blank line inside brackets
s = """inner
   'unbalanced
"""
total = 1 + \\
    2
class A:
    \'\'\'Doc.\'\'\'

    def m(self): return 1; z = 2
    # indented comment

    "single-line string statement"
    r"""raw
    multi"""
values = [
    # comment inside brackets
    1,
]
try: import json
except ImportError: json = None
'''


@pytest.mark.parametrize(
    "source",
    [
        TRICKY,
        "",
        "\n\n",
        "x = 1",
        "# only\n",
        "'''\n'''",
        "def f():\n    return 1\n\n\n",
        "a = (\n  1\n)\n# end",
    ],
)
def test_fast_path_equals_radon(source: str) -> None:
    assert _fast(source) is not None
    assert tuple(count_raw(source)) == tuple(analyze(source))


@pytest.mark.parametrize("source", ["x = 1\r\ny = 2\r\n", "x = 1\x0cy = 2\n", "a = 1\rb = 2\n"])
def test_unusual_line_separators_defer_to_radon(source: str) -> None:
    assert tuple(count_raw(source)) == tuple(analyze(source))


@pytest.mark.parametrize("module", [json, tokenize, inspect])
def test_equal_on_real_stdlib_modules(module: object) -> None:
    source = Path(inspect.getfile(module)).read_text(encoding="utf-8")  # type: ignore[arg-type]
    assert tuple(count_raw(source)) == tuple(analyze(source))


def test_equal_on_own_source() -> None:
    for path in sorted(Path(rawcount.__file__).parents[1].rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert tuple(count_raw(source)) == tuple(analyze(source)), path
