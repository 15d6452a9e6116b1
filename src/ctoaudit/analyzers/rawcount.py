"""radon's raw line counts (LOC, LLOC, SLOC, comments, multi, blank) from one tokenizer pass.

`radon.raw.analyze` re-tokenizes every stripped line on its own and, for a statement spanning several
lines, re-tokenizes a growing buffer until it closes: most of the time radon needs for a file. A
logical line is exactly what radon's buffer grows to, so one tokenizer pass over the whole file gives
the same groups of lines and the same tokens (less INDENT/DEDENT, which radon's indentation-free
buffers never contain). The counting rules below are radon's, applied to those groups. Where the two
could part (unusual line separators, error tokens, tokenizer errors), `count_raw` defers to radon.

On Python 3.11, where `tokenize` is pure Python, a regex lexer (`_lexed`) comes first and defers to
the tokenize pass for anything it does not model. `benchmarks/rawcount.py` checks all three against
radon on the standard library, Django and the history of psf/requests.
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Callable

_SKIPPED = {tokenize.INDENT, tokenize.DEDENT}
_LINE_ENDS = {tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER}
_OPEN, _CLOSE = set("([{"), set(")]}")


class RawCounts(NamedTuple):
    """Raw metrics in radon's definitions."""

    loc: int
    lloc: int
    sloc: int
    comments: int
    multi: int
    blank: int
    single_comments: int


_NOT_CODE = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE)


def _logical_lines(tokens: list[tokenize.TokenInfo]) -> int:
    """Radon's `_logical`: 1 per statement, 2 when a statement follows a colon on the same line."""
    total = 0
    part: list[tokenize.TokenInfo] = []
    for tok in tokens:
        if tok.type == tokenize.OP and tok.string == ";":
            total += _statement_lines(part)
            part = []
        elif tok.type not in _NOT_CODE:
            part.append(tok)
    return total + _statement_lines(part)


def _statement_lines(processed: list[tokenize.TokenInfo]) -> int:
    last = len(processed) - 1
    for i in range(last, -1, -1):
        tok = processed[i]
        if tok.type == tokenize.OP and tok.string == ":":
            # radon's quirk, kept for equal figures: the rightmost colon, anywhere, makes it 2.
            return 2 - (i == last - 1)
    return 1 if any(t.type not in _LINE_ENDS for t in processed) else 0


def _only(kind: int, tokens: list[tokenize.TokenInfo]) -> bool:
    return tokens[0].type == kind and all(t.type in _LINE_ENDS for t in tokens[1:])


class _Totals:
    def __init__(self) -> None:
        self.lloc = self.sloc = self.comments = self.multi = self.blank = self.single = 0

    def add(self, tokens: list[tokenize.TokenInfo], lines: list[str]) -> None:
        self.comments += sum(1 for t in tokens if t.type == tokenize.COMMENT)
        if _only(tokenize.COMMENT, tokens):
            self.single += 1
        elif _only(tokenize.STRING, tokens):
            if tokens[0].start[0] == tokens[0].end[0]:
                self.single += 1
            else:
                self.multi += sum(1 for line in lines if line)
                self.blank += sum(1 for line in lines if not line)
        else:
            self.sloc += sum(1 for line in lines if line)
            self.blank += sum(1 for line in lines if not line)
        self.lloc += _logical_lines(tokens)


def _fast(source: str) -> RawCounts | None:
    physical = source.split("\n")
    if physical and physical[-1] == "":
        physical.pop()
    stripped = [line.strip() for line in source.splitlines()]
    if len(stripped) != len(physical):
        return None  # \r, \f or another separator splitlines() honours and the tokenizer does not
    totals = _Totals()
    chunk: list[tokenize.TokenInfo] = []
    start_row = 1
    depth = 0
    endmarker = tokenize.TokenInfo(tokenize.ENDMARKER, "", (0, 0), (0, 0), "")
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.ERRORTOKEN:
            return None
        if tok.type in _SKIPPED or tok.type == tokenize.ENDMARKER:
            continue
        if tok.type == tokenize.OP:
            depth += (tok.string in _OPEN) - (tok.string in _CLOSE)
        chunk.append(tok)
        if tok.type == tokenize.NEWLINE or (tok.type == tokenize.NL and depth == 0):
            end_row = tok.end[0]
            totals.add([*chunk, endmarker], stripped[start_row - 1 : end_row])
            chunk, start_row = [], end_row + 1
    if chunk:
        return None
    for line in stripped[start_row - 1 :]:  # lines after the last token: radon counts them as blank
        totals.add([endmarker], [line])
    loc = totals.sloc + totals.blank + totals.multi + totals.single
    return RawCounts(
        loc, totals.lloc, totals.sloc, totals.comments, totals.multi, totals.blank, totals.single
    )


# On Python 3.11 `tokenize` is pure Python and dominates the time; a lexer driven by one regex
# recognises only what radon's rules look at (strings, comments, brackets, colons, semicolons,
# continuations, newlines) and reads runs of other code, or a whole simple line, in one match.
# Python 3.12 tokenizes f-strings into parts (and in C, fast), so the lexer is for 3.11 only.
_LEXER_APPLIES = sys.version_info < (3, 12)
_PREFIX = r"(?:[bB][rR]?|[rR][bBfF]?|[uU]|[fF][rR]?)?"
_STRING = (
    _PREFIX + r"(?:'''[^'\\]*(?:(?:\\[\s\S]|'(?!''))[^'\\]*)*'''"
    r'|"""[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*"""'
    r"|'[^\n'\\]*(?:\\[\s\S][^\n'\\]*)*'"
    r'|"[^\n"\\]*(?:\\[\s\S][^\n"\\]*)*")'
)
# A word never stops right before a quote, so a string's prefix is never read as code.
_ATOM = r"""(?:[.,+\-*/%&@|^=<>~]|!=|:=|\w+(?![\w'"]))"""
_SPACED = rf"(?:[ \t]|{_ATOM})"
_INNER = rf"(?:{_SPACED}|\({_SPACED}*\)|\[{_SPACED}*\]|\{{{_SPACED}*\}})*"
_BALANCED = rf"(?:{_SPACED}|\({_INNER}\)|\[{_INNER}\]|\{{{_INNER}\}})"
_CODE = rf"(?:{_ATOM}|\({_INNER}\)|\[{_INNER}\]|\{{{_INNER}\}}){_BALANCED}*"
_LEXER = re.compile(
    r"[ \t]*(?:"
    rf"(?P<line>(?P<code>{_CODE})?(?P<colon>:[ \t]*)?(?P<comment>#[^\n]*)?\n)"
    rf"|(?P<run>{_CODE})"
    r"|(?P<open>[(\[{])"
    r"|(?P<close>[)\]}])"
    rf"|(?P<string>{_STRING})"
    r"|(?P<colon_op>:(?!=))"
    r"|(?P<hash>#[^\n]*)"
    r"|(?P<semicolon>;)"
    r"|(?P<continuation>\\\n)"
    r"|(?P<other>[^ \t])"
    r")"
)
_NOTHING, _COMMENT_FIRST, _STRING_FIRST, _CODE_FIRST = range(4)


class _Unsupported(Exception):  # noqa: N818 - control flow, never leaves this module
    """The lexer met something it does not model; the tokenize path decides."""


class _Lexer:
    """Radon's counts from the lexer's matches; one method per kind of match."""

    def __init__(self, stripped: list[str]) -> None:
        self.stripped = stripped
        self.totals = _Totals()
        self.row = self.start = self.depth = 0
        self.fresh = True
        self._reset_line()

    def _reset_line(self) -> None:
        self.first = _NOTHING
        self.items = self.line_comments = self.parts_lloc = 0
        self.multirow = self.part_code = self.colon = self.retokenize = False
        self.after_colon = 0

    def handlers(self) -> list[Callable[[re.Match[str]], None]]:
        """Handlers indexed by the match's `lastindex`."""
        by_name = {
            "line": self.line,
            "run": self.code,
            "open": self.open,
            "close": self.close,
            "string": self.string,
            "colon_op": self.colon_op,
            "hash": self.comment,
            "semicolon": self.semicolon,
            "continuation": self.continuation,
            "other": self.unsupported,
        }
        table: list[Callable[[re.Match[str]], None]] = [self.unsupported] * (_LEXER.groups + 1)
        for name, index in _LEXER.groupindex.items():
            if name in by_name:
                table[index] = by_name[name]
        return table

    def line(self, match: re.Match[str]) -> None:
        """Rest of a physical line: balanced code, an optional last colon, a comment, newline."""
        code, colon, comment = match.group("code", "colon", "comment")
        if not self.fresh or self.depth:
            if code:
                self.code(match)
            if colon:
                self.colon_op(match)
            if comment:
                self.comment(match)
            self.newline()
            return
        totals = self.totals
        if code or colon:
            totals.sloc += 1
            totals.lloc += 1
            totals.comments += comment is not None
        elif comment:
            totals.single += 1
            totals.comments += 1
        else:
            totals.blank += 1
        self.row += 1
        self.start = self.row

    def _item(self, kind: int) -> None:
        if self.first == _NOTHING:
            self.first = kind
        self.fresh = False
        self.items += 1
        self.part_code = True
        self.after_colon += 1

    def code(self, _match: re.Match[str]) -> None:
        """A run of names, numbers and operators (possibly several tokens)."""
        self._item(_CODE_FIRST)

    def open(self, _match: re.Match[str]) -> None:
        """An opening bracket: newlines until its partner do not end the statement."""
        self.depth += 1
        self._item(_CODE_FIRST)

    def close(self, _match: re.Match[str]) -> None:
        """A closing bracket."""
        self.depth -= 1
        if self.depth < 0:
            raise _Unsupported
        self._item(_CODE_FIRST)

    def string(self, match: re.Match[str]) -> None:
        """A string literal, possibly over several rows."""
        rows = match.group().count("\n")
        if self.first == _NOTHING:
            self.multirow = rows > 0
        self._item(_STRING_FIRST)
        self.row += rows

    def colon_op(self, _match: re.Match[str]) -> None:
        """A `:` operator: radon's rightmost colon decides between 1 and 2 logical lines."""
        self._item(_CODE_FIRST)
        self.colon = True
        self.after_colon = 0

    def comment(self, _match: re.Match[str]) -> None:
        """A comment, which runs to the end of the row."""
        if self.first == _NOTHING:
            self.first = _COMMENT_FIRST
        self.fresh = False
        self.line_comments += 1
        self.totals.comments += 1

    def semicolon(self, _match: re.Match[str]) -> None:
        """End of one statement of several on a line."""
        if self.colon:
            # radon counts tokens after the colon here; runs hide that count, so re-tokenize.
            self.retokenize = True
        self.parts_lloc += self.part_code
        self._item(_CODE_FIRST)
        self.part_code = self.colon = False
        self.after_colon = 0

    def continuation(self, _match: re.Match[str]) -> None:
        """A backslash continuation joins the next row to the statement."""
        self.fresh = False
        self.row += 1

    def unsupported(self, _match: re.Match[str]) -> None:
        """Anything the lexer does not model."""
        raise _Unsupported

    def newline(self) -> None:
        """End of a row; outside brackets also the end of a logical line."""
        if self.depth == 0:
            self.end_line()
            self.start = self.row + 1
            self.fresh = True
            self._reset_line()
        self.row += 1

    def end_line(self) -> None:
        """Radon's rules for one logical line, rows `start` to `row`."""
        lines = self.stripped[self.start : self.row + 1]
        filled = sum(1 for line in lines if line)
        totals = self.totals
        if self.first == _COMMENT_FIRST:
            totals.single += 1
        elif self.first == _STRING_FIRST and self.items == 1 and not self.line_comments:
            if self.multirow:
                totals.multi += filled
                totals.blank += len(lines) - filled
            else:
                totals.single += 1
        else:
            totals.sloc += filled
            totals.blank += len(lines) - filled
        if self.retokenize:
            # radon's own buffer for this logical line: its stripped rows joined.
            tokens = list(tokenize.generate_tokens(io.StringIO("\n".join(lines)).readline))
            totals.lloc += _logical_lines(tokens)
        elif self.colon:
            totals.lloc += self.parts_lloc + (1 if self.after_colon == 0 else 2)
        else:
            totals.lloc += self.parts_lloc + self.part_code


def _rows(source: str) -> list[str] | None:
    """Radon's stripped rows, or None for sources the lexer leaves to the tokenize path."""
    if "\r" in source:
        return None
    stripped = [line.strip() for line in source.splitlines()]
    if len(stripped) != source.count("\n") + (not source.endswith("\n") and source != ""):
        return None  # \f, \v or another separator that splitlines() honours
    if source.rstrip(" \t").endswith("\\\n"):
        return None  # tokenize: EOF in multi-line statement
    return stripped


def _lexed(source: str) -> RawCounts | None:
    """Radon's counts from the regex lexer, or None where it defers to the tokenize path."""
    # radon reads stripped rows from splitlines(), so CRLF ends rows just as LF does.
    source = source.replace("\r\n", "\n")
    stripped = _rows(source)
    if stripped is None:
        return None
    lexer = _Lexer(stripped)
    handlers = lexer.handlers()
    try:
        for match in _LEXER.finditer(source):
            handlers[match.lastindex or 0](match)
    except _Unsupported:
        return None
    if not lexer.fresh or lexer.row < len(stripped):  # no newline at the end
        lexer.end_line()
        lexer.row += 1
    if lexer.depth or lexer.row != len(stripped):
        return None
    totals = lexer.totals
    loc = totals.sloc + totals.blank + totals.multi + totals.single
    return RawCounts(
        loc, totals.lloc, totals.sloc, totals.comments, totals.multi, totals.blank, totals.single
    )


def count_raw(source: str) -> RawCounts:
    """Raw counts equal to `radon.raw.analyze(source)`, usually many times faster."""
    try:
        fast = _lexed(source) if _LEXER_APPLIES else None
        if fast is None:
            fast = _fast(source)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        fast = None
    if fast is not None:
        return fast
    from radon.raw import analyze  # noqa: PLC0415

    return RawCounts(*analyze(source))
