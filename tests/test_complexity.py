"""The complexity analyzer equals radon's own figures and turns bad files into skips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from radon.complexity import cc_visit
from radon.metrics import h_visit, mi_visit
from radon.raw import analyze

from ctoaudit.analyzers.complexity import analyze_source, cc_rank, decode_source, mi_rank
from ctoaudit.config import Settings
from ctoaudit.engine import run_audit
from ctoaudit.analyzers.complexity import ComplexityAnalyzer
from ctoaudit.snapshot import DirectorySnapshot

SAMPLE = '''\
"""A module."""
import os


class Parser:
    """Parses things."""

    def parse(self, text, strict=False):
        # walk the text
        out = []
        for ch in text:
            if ch == "a" and strict:
                out.append(1)
            elif ch in "bc":
                out.append(2)
            else:
                try:
                    out.append(int(ch))
                except ValueError:
                    if strict:
                        raise
        return out

    def close(self):
        pass


def helper(x):
    def inner(y):
        return y if y else -y
    assert x
    return [inner(i) for i in range(x) if i % 2] or None


async def fetch(urls):
    async with open(os.devnull) as f:
        while urls:
            yield urls.pop()
'''


def test_figures_equal_radon_on_sample() -> None:
    data = analyze_source(SAMPLE.encode())
    expected_blocks = sorted((b.fullname, b.lineno, b.complexity) for b in cc_visit(SAMPLE))
    got_blocks = sorted((b["name"], b["line"], b["cc"]) for b in data["blocks"])
    assert got_blocks == expected_blocks
    assert ("Parser.parse", 8, 7) in got_blocks
    assert data["mi"] == pytest.approx(mi_visit(SAMPLE, multi=True), abs=1e-9)
    raw = analyze(SAMPLE)
    assert data["raw"] == {
        "loc": raw.loc,
        "lloc": raw.lloc,
        "sloc": raw.sloc,
        "comments": raw.comments,
        "multi": raw.multi,
        "blank": raw.blank,
    }
    hal = h_visit(SAMPLE).total
    assert data["halstead"]["volume"] == pytest.approx(hal.volume)
    assert data["halstead"]["effort"] == pytest.approx(hal.effort)


def test_example_project_matches_radon() -> None:
    root = Path(__file__).parents[1] / "examples" / "inventory-service"
    for path in sorted(root.rglob("*.py")):
        code = path.read_text(encoding="utf-8")
        data = analyze_source(path.read_bytes())
        assert sorted((b["name"], b["line"], b["cc"]) for b in data["blocks"]) == sorted(
            (b.fullname, b.lineno, b.complexity) for b in cc_visit(code)
        ), path
        assert data["mi"] == pytest.approx(mi_visit(code, multi=True), abs=1e-9), path


@pytest.mark.parametrize(
    ("cc", "rank"),
    [
        (1, "A"),
        (5, "A"),
        (6, "B"),
        (10, "B"),
        (11, "C"),
        (20, "C"),
        (21, "D"),
        (30, "D"),
        (31, "E"),
        (40, "E"),
        (41, "F"),
        (99, "F"),
    ],
)
def test_cc_rank_bands_match_radon(cc: int, rank: str) -> None:
    from radon.complexity import cc_rank as radon_cc_rank

    assert cc_rank(cc) == rank == radon_cc_rank(cc)


@pytest.mark.parametrize("mi", [0.0, 9.0, 9.5, 19.0, 19.1, 100.0])
def test_mi_rank_matches_radon(mi: float) -> None:
    from radon.metrics import mi_rank as radon_mi_rank

    assert mi_rank(mi) == radon_mi_rank(mi)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"print 'hello'\n", "syntax error at line 1"),
        (b"x = 1\n\x00\x00binary", "binary content (NUL bytes)"),
        (b"x = '\xff\xfe'\n", "not valid utf-8: byte 0xff at offset 5"),
        (b"# -*- coding: klingon -*-\nx = 1\n", "unknown encoding"),
    ],
)
def test_bad_sources_become_reasons(content: bytes, reason: str) -> None:
    result = analyze_source(content)
    assert reason in result["skip"]


def test_latin1_file_with_coding_cookie_is_analyzed() -> None:
    source = (
        "# -*- coding: latin-1 -*-\nname = 'Müller'\n\ndef f(x):\n    return x or name\n".encode(
            "latin-1"
        )
    )
    with pytest.raises(ValueError, match="utf-8"):
        decode_source(source.replace(b"latin-1", b"utf-8"))
    data = analyze_source(source)
    assert "skip" not in data
    assert [(b["name"], b["cc"]) for b in data["blocks"]] == [("f", 2)]


def test_aggregates_over_a_folder(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def f(x):\n    if x:\n        return 1\n    return 2\n")
    (tmp_path / "b.py").write_text(
        "def g(x):\n"
        + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(12))
        + "    return 0\n"
    )
    (tmp_path / "broken.py").write_text("def (:\n")
    report = run_audit(
        DirectorySnapshot(tmp_path), Settings(jobs=1), {"complexity": ComplexityAnalyzer}
    )
    result = report.analyzers["complexity"]
    values = {m.metric: m.value for m in result.measurements if m.scope == "repo"}
    assert values["complexity.files"] == 2
    assert values["complexity.files.skipped"] == 1
    assert values["complexity.functions"] == 2
    assert values["complexity.cc.max"] == 13
    assert values["complexity.cc.mean"] == 7.5
    assert values["complexity.functions.rank_a"] == 1
    assert values["complexity.functions.rank_c"] == 1
    assert values["complexity.functions.over_10.share"] == 0.5
    g = next(m for m in result.measurements if m.metric == "complexity.cc" and m.scope == "g")
    assert (g.path, g.line, g.end_line, g.labels) == (
        "b.py",
        1,
        26,
        {"kind": "function", "rank": "C"},
    )
    assert [(s.path, s.reason.split(" (")[0]) for s in result.skips] == [
        ("broken.py", "syntax error at line 1: invalid syntax")
    ]
    json.dumps(report.model_dump(mode="json"))
