"""The canonical JSON report: deterministic bytes for the same inputs (sorted keys, stable order).

Layout: nested objects are indented; a flat record (a measurement, a skip, a finding) stays on one line,
so a report diffs line by line and a large one is written in a fraction of the time full indentation
takes.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from ctoaudit.errors import ConfigError
from ctoaudit.model import SCHEMA_VERSION, AuditReport

_INDENT = "  "
_COMPACT = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def _is_flat(value: Any) -> bool:  # noqa: ANN401 - any JSON value
    """A scalar, or a record whose values are scalars or flat scalar maps/lists: one line of JSON."""
    if isinstance(value, dict):
        return all(
            _is_scalar(v) or (isinstance(v, dict | list) and _all_scalar(v)) for v in value.values()
        )
    if isinstance(value, list):
        return _all_scalar(value)
    return True


def _is_scalar(value: Any) -> bool:  # noqa: ANN401 - any JSON value
    return not isinstance(value, dict | list)


def _all_scalar(value: dict[str, Any] | list[Any]) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return all(_is_scalar(v) for v in items)


def _write(value: Any, level: int, out: list[str]) -> None:  # noqa: ANN401 - any JSON value
    if _is_flat(value) and (level > 0 or not isinstance(value, dict)):
        out.append(_COMPACT.encode(value))
        return
    inner = _INDENT * (level + 1)
    if isinstance(value, dict):
        out.append("{")
        for index, key in enumerate(sorted(value)):
            out.append(("," if index else "") + "\n" + inner + _COMPACT.encode(key) + ": ")
            _write(value[key], level + 1, out)
        out.append("\n" + _INDENT * level + "}")
        return
    out.append("[")
    if _is_flat(value[0]):
        # Lists hold records of one shape: when the first is flat, all are, and each gets its line.
        out.append("\n" + inner + _records(value, ",\n" + inner))
    else:
        for index, item in enumerate(value):
            out.append(("," if index else "") + "\n" + inner)
            _write(item, level + 1, out)
    out.append("\n" + _INDENT * level + "]")


def _records(items: list[Any], separator: str) -> str:
    """Flat items, each encoded on its own, joined by `separator`.

    Encoding the whole list in one call of the C encoder and cutting it where one record ends and
    the next begins is several times faster than one call per record (a report has tens of
    thousands). The cut is only made when every `}, {` in the text is such a boundary, which the
    count shows; otherwise (say a label that contains `}, {`) records are encoded one by one.
    """
    if isinstance(items[0], dict):
        text = _COMPACT.encode(items)
        if text.count("}, {") == len(items) - 1:
            return text[1:-1].replace("}, {", "}" + separator + "{")
    return separator.join(map(_COMPACT.encode, items))


def dumps(data: Any) -> str:  # noqa: ANN401 - any JSON value
    """Deterministic JSON text: sorted keys, flat records on one line, final newline."""
    out: list[str] = []
    _write(data, 0, out)
    return "".join(out) + "\n"


def render(report: AuditReport) -> str:
    """The report as deterministic JSON."""
    return dumps(report.model_dump(mode="json", exclude_none=True))


def load(text: str, source: str) -> AuditReport:
    """Read a saved report back, with a clear error for corrupt files and other schema versions."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not a JSON report: {exc}") from exc
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ConfigError(f"{source}: not a ctoaudit report (no schema_version)")
    version = data["schema_version"]
    if version != SCHEMA_VERSION:
        raise ConfigError(
            f"{source}: report schema version {version}, this ctoaudit reads version {SCHEMA_VERSION}; "
            "re-create the report with this version"
        )
    try:
        return AuditReport.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{source}: invalid report at {key}: {first['msg']}") from exc
