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


LEXER_CASES = {
    "prefixes": 'a = rb"x" + Rb"y" + bR\'z\' + f"{a}" + fr"\\d" + RF"q" + u"u" + B"b"\n',
    "prefixed docstring": 'def f():\n    rb"""raw\n    bytes"""\n    return 1\n',
    "escaped quotes": "s = \"a \\\" b # not a comment\"  # a comment\nt = 'it\\'s'\n",
    "raw with escaped quote": "r = r\"\\\"\" ; q = r'\\''\n",
    "triple with quotes and hash": 'x = """ "quoted" \'\' # not a comment\n""" # yes\n',
    "triple quote run": "x = '''a'''' b'\ny = \"\"\"q\"\"\"\" x\"\n",
    "hash in strings": "x = '#'\ny = \"#\" # c\n# '\"\n",
    "dict colon": "d = {1: 2, 3: {4: 5}}\n",
    "lambda colon": "f = lambda x: x\ng = lambda: 0\n",
    "slice colon": "a = b[1:2]\nc = b[::2]\nd = b[x:]\n",
    "annotations": "x: int = 1\ndef f(a: int, *, b: str = 'x') -> None: ...\n",
    "fstring spec": "s = f'{x:>10}'\nt = f\"{y!r:{w}}\"\nif s: print(f'{s:3}')\n",
    "walrus": "if (n := len(a)) > 10: pass\nwhile x := f():\n    pass\n[y := 1, y**2]\n",
    "semicolons": "a = 1; b = 2\nc = 3;\nif x: y; z\nif x: y = 1; z = 2\nif a: b\nfor i in r: p(i); q(i)\n",
    "semicolon after colon part": "if x: pass; y = {1: 2}; z\nd = {1: 2}; e = 3\nf = a[1:]; g\n",
    "continuations": "x = 1 + \\\n    2 + \\\n    3\nif a and \\\n   b:\n    pass\nassert x, \\\n  'message'\n",
    "continued string": "s = 'abc\\\ndef'\nt = 'one' \\\n    'two'\n",
    "comments in brackets": "v = [  # open\n    1,  # one\n    # alone\n    2,\n]  # close\n",
    "blank lines in brackets": "v = (\n\n    1,\n\n)\nw = {\n\n}\n",
    "decorators": "@dec\n@dec.attr(1, k=2)\ndef f(): pass\n@property\ndef g(self):\n    return 1\n",
    "docstrings": 'class A:\n    """One line."""\n    x = 1\n    """Two\n\n    lines."""\n    "a" "b"\n    """s""".strip()\n',
    "string then comment": '"""doc"""  # comment\n"x"  # c\n',
    "no trailing newline": "def f():\n    return {1: 2}",
    "no trailing newline comment": "x = 1\n# last",
    "trailing spaces": "x = 1\n   ",
    "indented comments": "def f():\n    # c\n\n        # deeper\n    return 1\n",
    "nested brackets": "x = f(g(h(i(1))), [{(2)}])\ny = a[b[c[d[0]]]]\n",
    "ellipsis and ops": "x = ...\ny = a @ b ** c // d != e <= f >= g -> h\nz = ~a ^ b | c & d << 1 >> 2\n",
    "unicode names": "café = 1\nπ = 3.14\ns = 'é€'\n",
    "numbers": "x = [1_000, 0x1F, 1e-5, 1.5j, 0o7, 0b1, .5, 5.]\n",
    "match": "match p:\n    case [x, y]: pass\n    case {'k': v}:\n        pass\n",
    "class on one line": "class A: x = 1\nclass B(A): pass\nwith a as b, c as d: pass\n",
    "try one liners": "try: import json\nexcept ImportError: json = None\nelse: pass\nfinally: x = 1\n",
    "colon at end of part": "x = y[1:]\nelse_: int\n",
    "empty": "",
    "only newlines": "\n\n\n",
    "only spaces": "   \n\t\n",
    "crlf": "x = 1\r\nif x:\r\n    y = {1: 2}\r\n    '''a\r\n\r\nb'''\r\n",
    "form feed": "x = 1\n\x0c\ndef f(): pass\n",
}


@pytest.mark.parametrize("source", list(LEXER_CASES.values()), ids=list(LEXER_CASES))
def test_lexer_equals_radon(source: str) -> None:
    assert tuple(count_raw(source)) == tuple(analyze(source))
    lexed = rawcount._lexed(source)
    if lexed is not None:
        assert tuple(lexed) == tuple(analyze(source))


@pytest.mark.parametrize(
    "source",
    [
        "x = 'unterminated\n",
        "x = (1,\n",
        "s = '''never closed\n",
        "x = 1 \\\n",
        "a = $b\n",
        "x = 1\x0cy = 2\n",
        "a = 1\rb = 2\n",
        "print'x'\n",
        "x = 1 \\ \ny = 2\n",
        "x = )\n",
    ],
)
def test_lexer_defers_on_what_it_does_not_model(source: str) -> None:
    assert rawcount._lexed(source) is None


def test_lexer_handles_the_common_cases_itself() -> None:
    for name in [
        "prefixes",
        "semicolons",
        "continuations",
        "comments in brackets",
        "fstring spec",
        "crlf",
    ]:
        assert rawcount._lexed(LEXER_CASES[name]) is not None, name
