"""radon's complexity and Halstead figures of a file, assembled from its statements.

Most of a file's versions differ from the previous one in a few functions, yet analyzing a version
means parsing and visiting all of it. Here a file is cut into its top-level statements, and a class
at the top level into its members; each piece is parsed and visited once per distinct text (and
class name), and the file's figures are put together from the pieces with radon's own rules:

- cyclomatic complexity: a module visitor's complexity is 1 plus what each statement adds, and its
  functions and classes are those of its statements in order; a class's figures come from the
  visitors of its members (radon's `visit_ClassDef` does exactly that per member);
- Halstead: distinct operators and operands are the union of the pieces' sets (an operand that is
  an AST node is distinct from every other), counts are sums.

A cut is only made at a line that starts at the statement's indentation with something that can
start a statement. A cut in the wrong place (inside a string, brackets or after a backslash) leaves
the first piece unfinished, which the parser rejects; the piece is then joined with the next one.
A file that cannot be cut cleanly is left to the caller, which parses it whole.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

from radon.metrics import HalsteadReport, halstead_visitor_report
from radon.visitors import Class, ComplexityVisitor, Function, HalsteadVisitor

from ctoaudit.analyzers.rawcount import RawCounts, count_raw

_TOP_LEVEL = re.compile(r"^(?=[^\s#)\]}])", re.MULTILINE)
"""A line that may start a top-level statement: not indented, not a comment, not a closing bracket."""
_CLAUSE = re.compile(r"(?:else|elif|except|finally)\b")
"""Lines that continue the statement before them."""
_CLASS_HEAD = re.compile(r"(?:@[^\n]*\n)*class\b[^\n]*\n")
"""A class statement whose decorators each fit on one line."""
_BODY_INDENT = re.compile(r"^([ \t]+)(?=[^\s#)\]}])", re.MULTILINE)
_MAX_JOINS = 64
"""Failed cuts allowed in one file before it is left to a whole-file parse."""
_MEMO_LIMIT = 16 * 1024 * 1024
"""Characters of statement text the memo may hold before it starts over (each worker has one)."""


@dataclass(frozen=True, slots=True)
class Halstead:
    """A piece's operators and operands, as radon's HalsteadVisitor collects them."""

    operators_seen: frozenset[str]
    value_operands: frozenset[Any]
    """(context, name or constant) pairs: equal ones in other pieces are the same operand."""
    node_operands: int
    """Operands that are AST nodes themselves: each is distinct from all others."""
    operators: int
    operands: int

    @classmethod
    def of(cls, nodes: Sequence[ast.AST]) -> Halstead:
        """What one module-level HalsteadVisitor collects from these nodes."""
        visitor = HalsteadVisitor()
        for node in nodes:
            visitor.visit(node)
        values = frozenset(op for op in visitor.operands_seen if not isinstance(op[1], ast.AST))
        return cls(
            frozenset(visitor.operators_seen),
            values,
            len(visitor.operands_seen) - len(values),
            visitor.operators,
            visitor.operands,
        )


def halstead_total(pieces: Sequence[Halstead]) -> HalsteadReport:
    """The report radon gives for the union of the pieces, through radon's own formulas."""
    total = _union(pieces)
    counts = SimpleNamespace(
        distinct_operators=len(total.operators_seen),
        distinct_operands=len(total.value_operands) + total.node_operands,
        operators=total.operators,
        operands=total.operands,
    )
    report: HalsteadReport = halstead_visitor_report(counts)
    return report


@dataclass(frozen=True, slots=True)
class Statement:
    """A top-level statement's share of the module visitor, lines counted from its first line."""

    complexity: int
    functions: tuple[Function, ...]
    classes: tuple[Class, ...]
    halstead: Halstead
    raw: RawCounts | None = None
    """Raw counts when known from smaller pieces (a class's header and members)."""


@dataclass(frozen=True, slots=True)
class Member:
    """A class member's share of radon's class visitor, lines counted from its first line."""

    complexity: int
    max_line: float
    methods: tuple[Function, ...]
    inner_classes: tuple[Class, ...]
    halstead: Halstead


@dataclass(frozen=True, slots=True)
class FileFigures:
    """What the complexity analyzer needs of a file's AST."""

    total_complexity: int
    blocks: list[Function | Class]
    halstead: HalsteadReport
    raw: RawCounts | None = None
    """Raw line counts summed over the statements; None when the caller counts the whole file."""


def _shift_function(func: Function, lines: int) -> Function:
    shifted: Function = func._replace(
        lineno=func.lineno + lines,
        endline=func.endline + lines,
        closures=[_shift_function(c, lines) for c in func.closures],
    )
    return shifted


def _shift_class(cls: Class, lines: int) -> Class:
    shifted: Class = cls._replace(
        lineno=cls.lineno + lines,
        endline=cls.endline + lines,
        methods=[_shift_function(m, lines) for m in cls.methods],
        inner_classes=[_shift_class(c, lines) for c in cls.inner_classes],
    )
    return shifted


class _Unsplittable(Exception):  # noqa: N818 - control flow inside this module
    """The source cannot be cut cleanly: parse it whole."""


_FAILED = object()


class StatementMemo:
    """Pieces by text, for as long as the process lives (a pool worker analyzes many versions)."""

    def __init__(self, limit: int = _MEMO_LIMIT) -> None:
        self._pieces: dict[tuple[object, ...], object] = {}
        self._size = 0
        self._limit = limit
        self.made = 0
        """Pieces parsed (or counted) so far, for tests and benchmarks."""

    def get(self, key: tuple[object, ...], text: str, make: Callable[[], object]) -> object:
        """The piece for `key`, made once; `_FAILED` when the text does not parse on its own."""
        found = self._pieces.get(key)
        if found is None:
            self.made += 1
            try:
                found = make()
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                found = _FAILED
            if self._size + len(text) > self._limit:
                self._pieces.clear()
                self._size = 0
            self._pieces[key] = found
            self._size += len(text)
        return found


def _cuts(text: str, starts: list[int], indent: int = 0) -> list[int]:
    """The first start, and each later one that is not a continuing clause or a decorated line.

    Each start is a line's first offset; its statement begins `indent` characters later.
    """
    cuts = starts[:1]
    decorated = text.startswith("@", starts[0] + indent)
    for start in starts[1:]:
        if _CLAUSE.match(text, start + indent):
            decorated = False
            continue
        if not decorated:
            cuts.append(start)
        decorated = text.startswith("@", start + indent)
    return cuts


def _pieces(text: str, cuts: list[int], make: Callable[[str], object]) -> list[tuple[object, int]]:
    """(piece, first offset) for each run of text between cuts, joining runs that do not parse."""
    bounds = [*cuts, len(text)]
    found: list[tuple[object, int]] = []
    joins = 0
    i = 0
    while i < len(cuts):
        j = i + 1
        while True:
            piece = make(text[bounds[i] : bounds[j]])
            if piece is not _FAILED:
                break
            joins += 1
            if j == len(cuts) or joins > _MAX_JOINS:
                raise _Unsplittable
            j += 1
        found.append((piece, bounds[i]))
        i = j
    return found


class StatementAnalysis:
    """Per-file complexity and Halstead figures from statement pieces, with a memo across files."""

    def __init__(self, memo: StatementMemo | None = None) -> None:
        self._memo = memo or StatementMemo()

    def figures(self, source: str, *, no_assert: bool) -> FileFigures | None:
        """The file's figures, or None when it must be parsed whole (including syntax errors)."""
        if "\r" in source and source.count("\r") != source.count("\r\n"):
            return None  # lone CR line ends: line numbers would not be counted as the parser does
        starts = [m.start() for m in _TOP_LEVEL.finditer(source)]
        cuts = _cuts(source, starts if starts[:1] == [0] else [0, *starts])
        if len(cuts) < 2:  # noqa: PLR2004 - one statement: nothing to share
            return None
        try:
            pieces = _pieces(source, cuts, lambda text: self._statement(text, no_assert))
        except _Unsplittable:
            return None
        module = ComplexityVisitor(no_assert=no_assert)
        halstead: list[Halstead] = []
        line = 0
        offset = 0
        for piece, start in pieces:
            assert isinstance(piece, Statement)  # noqa: S101 - _pieces drops failures
            line += source.count("\n", offset, start)
            offset = start
            module.complexity += piece.complexity
            module.functions.extend(_shift_function(f, line) for f in piece.functions)
            module.classes.extend(_shift_class(c, line) for c in piece.classes)
            halstead.append(piece.halstead)
        try:
            raw = [
                cast("Statement", piece).raw or self._raw(part)
                for piece, part in _with_texts(source, pieces)
            ]
        except _Unsplittable:
            return None
        return FileFigures(
            module.total_complexity,
            module.blocks,
            halstead_total(halstead),
            _sum_raw(raw),
        )

    def _raw(self, text: str) -> RawCounts:
        # A cut that parsed is a statement boundary, so no logical line spans two pieces: radon's
        # line counts of the file are the sums of its pieces'.
        counts = self._memo.get(("raw", text), text, lambda: count_raw(text))
        if not isinstance(counts, RawCounts):
            raise _Unsplittable
        return counts

    def _statement(self, text: str, no_assert: bool) -> object:
        head = _CLASS_HEAD.match(text)
        if head is not None:
            members = [m.start() for m in _BODY_INDENT.finditer(text, head.end())]
            indent = _BODY_INDENT.match(text, members[0]) if members else None
            if indent is not None:
                body = [m for m in members if text.startswith(indent.group(1), m)]
                body = [m for m in body if not text[m + len(indent.group(1))].isspace()]
                piece = self._class(text, body, len(indent.group(1)), no_assert)
                if piece is not None:
                    return piece
        return self._memo.get(
            ("statement", no_assert, text), text, lambda: _statement(text, no_assert)
        )

    def _class(
        self, text: str, members: list[int], indent: int, no_assert: bool
    ) -> Statement | None:
        """A top-level class from its header and members, or None to take it as one statement."""
        header = text[: members[0]]
        try:
            tree = ast.parse(header + " pass\n")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        node = tree.body[0] if len(tree.body) == 1 else None
        if not isinstance(node, ast.ClassDef) or len(node.body) != 1:
            return None
        name = node.name
        cuts = _cuts(text, members, indent)
        try:
            pieces = _pieces(
                text,
                cuts,
                lambda part: self._memo.get(
                    ("member", no_assert, name, part), part, lambda: _member(part, name, no_assert)
                ),
            )
            raw = _sum_raw(
                [self._raw(text[: cuts[0]])] + [self._raw(t) for _, t in _with_texts(text, pieces)]
            )
        except _Unsplittable:
            return None
        return _assemble_class(text, node, pieces, Halstead.of([node]), raw)


def _with_texts(text: str, pieces: list[tuple[object, int]]) -> list[tuple[object, str]]:
    """Each piece with its text: from its offset to the next piece's, the last to the end."""
    ends = [start for _, start in pieces[1:]] + [len(text)]
    return [(piece, text[start:end]) for (piece, start), end in zip(pieces, ends, strict=True)]


def _sum_raw(parts: list[RawCounts]) -> RawCounts:
    return RawCounts(*(sum(column) for column in zip(*parts, strict=True)))


def _statement(text: str, no_assert: bool) -> Statement:
    tree = ast.parse(text)
    visitor = ComplexityVisitor.from_ast(tree, no_assert=no_assert)
    # Each piece's module visitor starts at 1; the file's module visitor counts that 1 once.
    share = visitor.complexity - 1
    return Statement(
        share,
        tuple(visitor.functions),
        tuple(visitor.classes),
        Halstead.of(tree.body),
    )


def _member(text: str, classname: str, no_assert: bool) -> Member:
    """One member of a class, parsed inside `if 1:` so its indentation stands (lines shift by 1)."""
    tree = ast.parse("if 1:\n" + text)
    wrapper = tree.body[0]
    if len(tree.body) != 1 or not isinstance(wrapper, ast.If):
        raise SyntaxError("not one indented block")
    complexity = 0
    max_line = float("-inf")
    methods: list[Function] = []
    inner: list[Class] = []
    for child in wrapper.body:
        visitor = ComplexityVisitor(
            to_method=True, classname=classname, off=False, no_assert=no_assert
        )
        visitor.visit(child)
        complexity += visitor.complexity + visitor.functions_complexity + len(visitor.functions)
        max_line = max(max_line, visitor.max_line - 1)
        methods.extend(_shift_function(f, -1) for f in visitor.functions)
        inner.extend(_shift_class(c, -1) for c in visitor.classes)
    return Member(complexity, max_line, tuple(methods), tuple(inner), Halstead.of(wrapper.body))


def _assemble_class(
    text: str,
    node: ast.ClassDef,
    pieces: list[tuple[object, int]],
    header: Halstead,
    raw: RawCounts,
) -> Statement:
    """Radon's Class for the statement, as visit_ClassDef builds it from its members' visitors."""
    complexity = 1
    max_lines: list[float] = [node.lineno]
    methods: list[Function] = []
    inner: list[Class] = []
    halstead = [header]
    for piece, start in pieces:
        assert isinstance(piece, Member)  # noqa: S101 - _pieces drops failures
        line = text.count("\n", 0, start)
        complexity += piece.complexity
        max_lines.append(piece.max_line + line)
        methods.extend(_shift_function(f, line) for f in piece.methods)
        inner.extend(_shift_class(c, line) for c in piece.inner_classes)
        halstead.append(piece.halstead)
    endline = max(max_lines + [m.endline for m in methods])
    cls = Class(node.name, node.lineno, node.col_offset, endline, methods, inner, complexity)
    return Statement(0, (), (cls,), _union(halstead), raw)


def _union(pieces: Sequence[Halstead]) -> Halstead:
    """One piece's worth of operators and operands for all of them: sets united, counts summed."""
    operators: set[str] = set()
    values: set[Any] = set()
    for piece in pieces:
        operators |= piece.operators_seen
        values |= piece.value_operands
    return Halstead(
        frozenset(operators),
        frozenset(values),
        sum(p.node_operands for p in pieces),
        sum(p.operators for p in pieces),
        sum(p.operands for p in pieces),
    )
