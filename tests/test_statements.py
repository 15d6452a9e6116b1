"""Figures assembled from statement pieces equal one whole-file parse, and pieces are reused."""

from __future__ import annotations

import textwrap

import pytest

from ctoaudit.analyzers.complexity import _whole_file_figures, analyze_source
from ctoaudit.analyzers.rawcount import count_raw
from ctoaudit.analyzers.statements import FileFigures, StatementAnalysis, StatementMemo

TRICKY = {
    "decorators": """
        import functools

        @functools.cache
        def cached(x):
            return x if x else -x

        @functools.wraps(
            cached,
        )
        @staticmethod
        def wrapped(a, b):
            return [i for i in range(a) if i % 2 and b]
        """,
    "classes": '''
        @dataclass
        class Point:
            """A point."""

            x: int = 0
            y: int = 0

            @property
            def norm(self):
                if self.x > 0 and self.y > 0:
                    return (self.x ** 2 + self.y ** 2) ** 0.5
                return abs(self.x) + abs(self.y)

            if DEBUG:
                def debug(self):
                    return repr(self)
            else:
                debug = None

            class Inner:
                def method(self):
                    def closure(v):
                        return v or 1
                    return closure(self)

        class Bases(
            Point,
            metaclass=Meta,
        ):
            value = compute(
        1, 2)

            def run(self):
                try:
                    return self.value
                except (KeyError, ValueError):
                    return None
                finally:
                    print("done")
        ''',
    "clauses": """
        if sys.version_info >= (3, 11):
            import tomllib
        elif HAVE_TOMLI:
            import tomli as tomllib
        else:
            tomllib = None
        try:
            import ujson as json
        except ImportError:
            import json
        finally:
            READY = True
        for item in items:
            total += item
        else:
            total = 0
        """,
    "col0_inside_constructs": '''
        QUERY = """
        SELECT *
        FROM table
        WHERE x = 1
        """

        values = [
        1,
        2,
        ]
        total = 1 + \\
        2

        def f():
            x = 1
        # a comment at column 0 inside a function
            return x
        ''',
    "match_async_lambda": """
        async def fetch(client, urls):
            async with client:
                async for chunk in client.stream(urls):
                    match chunk:
                        case {"kind": "a"}:
                            yield 1
                        case [x, y] if x > y:
                            yield 2
                        case _:
                            yield 3

        key = lambda item: item[0] if item else None
        assert key, "needs a key"
        """,
}


def _comparable(figures: FileFigures) -> tuple[object, ...]:
    blocks = [
        (b.fullname, b.lineno, b.endline, b.complexity, type(b).__name__) for b in figures.blocks
    ]
    return (figures.total_complexity, blocks, tuple(figures.halstead))


@pytest.mark.parametrize("name", sorted(TRICKY))
@pytest.mark.parametrize("no_assert", [False, True])
def test_pieces_equal_the_whole_file(name: str, no_assert: bool) -> None:
    source = textwrap.dedent(TRICKY[name]).lstrip("\n")
    pieces = StatementAnalysis().figures(source, no_assert=no_assert)
    whole = _whole_file_figures(source, no_assert=no_assert)
    assert isinstance(whole, FileFigures)
    assert pieces is not None
    assert _comparable(pieces) == _comparable(whole)
    assert pieces.raw == count_raw(source)


def test_crlf_files_are_cut_and_lone_cr_files_are_not() -> None:
    source = textwrap.dedent(TRICKY["classes"]).lstrip("\n")
    crlf = source.replace("\n", "\r\n")
    pieces = StatementAnalysis().figures(crlf, no_assert=False)
    whole = _whole_file_figures(crlf, no_assert=False)
    assert pieces is not None
    assert isinstance(whole, FileFigures)
    assert _comparable(pieces) == _comparable(whole)
    assert StatementAnalysis().figures(source.replace("\n", "\r"), no_assert=False) is None


@pytest.mark.parametrize(
    "source",
    [
        "x = 1\ny = (\n",  # unclosed at the end
        "x = 1\nprint 'python 2'\n",  # a piece that never parses
        "def f():\n    pass\n  bad_indent = 1\n",
        "x = 1\n",  # one statement: nothing to share
    ],
)
def test_sources_that_cannot_be_cut_are_left_to_the_whole_file_parse(source: str) -> None:
    assert StatementAnalysis().figures(source, no_assert=False) is None


def test_syntax_errors_are_still_reported_from_the_whole_file() -> None:
    result = analyze_source(b"import os\n\nprint 'hello'\n")
    assert result == {
        "skip": "syntax error at line 3: Missing parentheses in call to 'print'. "
        "Did you mean print(...)? (not Python 3 source?)"
    }


def test_a_new_version_parses_only_its_changed_pieces() -> None:
    version_1 = textwrap.dedent(TRICKY["classes"]).lstrip("\n")
    version_2 = version_1.replace("return abs(self.x) + abs(self.y)", "return abs(self.x)")
    memo = StatementMemo()
    analysis = StatementAnalysis(memo)
    assert analysis.figures(version_1, no_assert=False) is not None
    first = memo.made
    second = analysis.figures(version_2, no_assert=False)
    # the changed member's figures and its raw line counts; nothing else is parsed again
    assert memo.made - first == 2
    whole = _whole_file_figures(version_2, no_assert=False)
    assert isinstance(whole, FileFigures)
    assert second is not None
    assert _comparable(second) == _comparable(whole)


def test_analyze_source_output_is_the_same_either_way() -> None:
    source = textwrap.dedent(TRICKY["classes"]).lstrip("\n").encode()
    whole_only = analyze_source(b"# one statement\n" + b"if True:\n" + b"    pass\n")
    assert "blocks" in whole_only
    pieces = analyze_source(source)
    whole = _whole_file_figures(source.decode(), no_assert=False)
    assert isinstance(whole, FileFigures)
    assert pieces["cc_total"] == whole.total_complexity
    assert [b["line"] for b in pieces["blocks"]] == [b.lineno for b in whole.blocks]
    assert pieces["halstead"]["volume"] == whole.halstead.volume


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_the_analyzer_gives_the_same_result_with_and_without_pieces(name: str) -> None:
    data = textwrap.dedent(TRICKY[name]).lstrip("\n").encode()
    for no_assert in (False, True):
        for multi in (False, True):
            assert analyze_source(data, no_assert=no_assert, multi=multi, pieces=True) == (
                analyze_source(data, no_assert=no_assert, multi=multi, pieces=False)
            )
