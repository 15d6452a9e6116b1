"""Structural readers for the files tools live in: YAML, TOML, INI, JSON(C), with line numbers.

Everything here parses; nothing evaluates. YAML goes through PyYAML's *safe* loader, so a repository's
file can never make us build arbitrary Python objects; its strings come back as `LineStr`, a `str` that
knows the line it started on, so evidence can point at a line without a second pass. Comments never
survive parsing, which is what keeps a tool named only in a comment from counting as evidence.
"""

from __future__ import annotations

import codecs
import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

MAX_YAML_NODES = 200_000
"""Walking more values than this is refused: YAML aliases can expand a small file exponentially."""


class ParseError(ValueError):
    """A file could not be read structurally; the message says where and why."""


class LineStr(str):  # noqa: SLOT000 - attributes are set per instance after construction
    """A string from a parsed file that remembers its 1-based line and whether it was a block scalar."""

    line: int
    block: bool

    def __new__(cls, value: str, line: int, *, block: bool = False) -> LineStr:  # noqa: D102, PYI034
        obj = super().__new__(cls, value)
        obj.line = line
        obj.block = block
        return obj


def line_of(value: object, default: int = 1) -> int:
    """The line a parsed value started on, when it knows it."""
    return value.line if isinstance(value, LineStr) else default


def decode_text(data: bytes) -> str:
    """Bytes to text: a BOM decides (UTF-8/16/32), else UTF-8; NUL bytes mean binary. ParseError says why."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise ParseError(
                    f"not valid {encoding}: {exc.reason} at byte {exc.start}"
                ) from None
    if b"\0" in data:
        raise ParseError("binary content (NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from None


def _loader_base() -> type[yaml.SafeLoader]:
    # libyaml's parser is ~10x faster on big CI files; the constructor (what makes it safe) is the same.
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_loader_base()):  # type: ignore[misc]
    """SafeLoader whose scalars become LineStr; numbers keep their source text ("3.10" stays "3.10")."""


def _scalar(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> LineStr:
    value = loader.construct_scalar(node)
    return LineStr(str(value), node.start_mark.line + 1, block=node.style in {"|", ">"})


def _unknown_tag(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> object:
    # GitLab's `!reference [job, script]` and similar local tags: keep the plain value, build nothing.
    if isinstance(node, yaml.ScalarNode):
        return _scalar(loader, node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


for _tag in ("str", "int", "float", "timestamp", "binary"):
    _LineLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _scalar)
_LineLoader.add_multi_constructor("!", _unknown_tag)


def load_yaml(text: str) -> list[Any]:
    """Every document of a YAML stream (anchors and merge keys resolved), or ParseError."""
    try:
        return list(yaml.load_all(text, Loader=_LineLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ParseError(f"invalid YAML: {where}{exc.problem or exc}") from None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        # TypeError: an unhashable mapping key such as `? [a, b]`; ValueError: bad base64/timestamp.
        raise ParseError(f"invalid YAML: {type(exc).__name__}: {exc}") from None


def walk(value: Any, budget: list[int] | None = None) -> Iterator[tuple[str | None, Any]]:  # noqa: ANN401
    """Every (key, value) pair under `value`, depth first; sequence items come with their parent's key.

    Raises ParseError past MAX_YAML_NODES, so alias bombs cost bounded time.
    """
    left = budget if budget is not None else [MAX_YAML_NODES]
    stack: list[tuple[str | None, Any]] = [(None, value)]
    while stack:
        key, item = stack.pop()
        left[0] -= 1
        if left[0] < 0:
            raise ParseError(f"more than {MAX_YAML_NODES:,} values (YAML alias expansion?)")
        yield key, item
        if isinstance(item, dict):
            stack.extend((str(k), v) for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((key, v) for v in reversed(item))


def load_toml(text: str) -> dict[str, Any]:
    """TOML to a dict, or ParseError with tomllib's line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ParseError(f"invalid TOML: {exc}") from None


@dataclass
class IniSection:
    """One `[section]` of an INI file: its header line and its keys with values and lines."""

    name: str
    line: int
    values: dict[str, tuple[str, int]] = field(default_factory=dict)


_SECTION = re.compile(r"^\[([^\]]+)\]\s*(?:[#;].*)?$")
_KEY = re.compile(r"^([^=:\s][^=:]*?)\s*[=:]\s?(.*)$")


def parse_ini(text: str) -> list[IniSection]:
    """A forgiving INI reader (setup.cfg, tox.ini, .flake8) that keeps line numbers.

    configparser loses lines and rejects duplicate keys that tools accept; here continuation lines
    (indented) extend the previous value, and full-line comments (`#`, `;`) are dropped.
    """
    sections: list[IniSection] = []
    current: IniSection | None = None
    last_key: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            continue
        header = _SECTION.match(stripped)
        if header and not raw[0].isspace():
            current = IniSection(header.group(1).strip(), number)
            sections.append(current)
            last_key = None
            continue
        if current is None:
            continue
        if raw[0].isspace() and last_key is not None:
            value, line = current.values[last_key]
            current.values[last_key] = (f"{value}\n{stripped}", line)
            continue
        match = _KEY.match(stripped)
        if match:
            last_key = match.group(1).strip().lower()
            current.values[last_key] = (match.group(2).strip(), number)
    return sections


def value_lines(value: str, first_line: int) -> Iterator[tuple[str, int]]:
    """Lines of a multi-line INI value, each with its line number (continuations follow the key)."""
    for offset, part in enumerate(value.split("\n")):
        text = part.strip()
        if text and text[0] not in "#;":
            yield text, first_line + offset


def strip_jsonc(text: str) -> str:
    """JSON with comments and trailing commas (devcontainer.json, renovate.json5-lite) to plain JSON."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i = end + 1
        elif text.startswith("//", i):
            nl = text.find("\n", i)
            i = n if nl == -1 else nl
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            # keep the newlines so json's error positions still match the file
            out.append("\n" * text.count("\n", i, n if close == -1 else close))
            i = n if close == -1 else close + 2
        else:
            out.append(ch)
            i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def load_jsonc(text: str) -> Any:  # noqa: ANN401 - JSON is untyped until validated
    """JSON or JSONC to Python values, or ParseError with the line."""
    try:
        return json.loads(strip_jsonc(text))
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"invalid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise ParseError("invalid JSON: nested too deeply") from None


def find_line(text: str, needle: str, start: int = 1) -> int:
    """The first line at or after `start` containing `needle`, else `start`. For TOML evidence lines."""
    lines = text.splitlines()
    for number in range(max(start, 1), len(lines) + 1):
        if needle in lines[number - 1]:
            return number
    return start


def toml_table_line(text: str, dotted: str) -> int:
    """The line of a TOML table header `[a.b]` (or `[[a.b]]`), or of a dotted key `a.b = ...`, else 1."""
    escaped = re.escape(dotted).replace(r"\.", r"\s*\.\s*")
    pattern = re.compile(rf"^[ \t]*\[\[?[ \t]*{escaped}([ \t]*\.|[ \t]*\])", re.MULTILINE)
    match = pattern.search(text)
    if match is None:
        last = dotted.rsplit(".", 1)[-1]
        match = re.compile(rf"^[ \t]*{re.escape(last)}[ \t]*[=.]", re.MULTILINE).search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 1
