"""The JSON writer's fast path for lists of flat records gives the same bytes as one call per record."""

from __future__ import annotations

import json

import pytest

from ctoaudit.render.json_report import _COMPACT, _records, dumps


@pytest.mark.parametrize(
    "items",
    [
        [{"metric": "m", "value": 1.5, "labels": {"kind": "function"}, "line": 3}] * 5,
        [{"reason": "a label with }, { inside"}, {"reason": "plain"}],  # falls back, same bytes
        [{"x": 1}],
        ["a", "b"],
        [1, 2.5, None],
    ],
)
def test_records_equal_one_encoding_per_record(items: list[object]) -> None:
    separator = ",\n    "
    assert _records(items, separator) == separator.join(map(_COMPACT.encode, items))


def test_dumps_puts_each_record_on_its_own_line_and_reads_back() -> None:
    data = {"b": [{"z": 1, "a": "x}, {y"}, {"z": 2, "a": "w"}], "a": {"k": [1, 2]}}
    text = dumps(data)
    assert json.loads(text) == data
    assert '\n    {"a": "x}, {y", "z": 1},\n    {"a": "w", "z": 2}\n' in text
