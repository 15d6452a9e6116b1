"""Code complexity of Python files with radon: one parse per file for every metric.

radon's own commands (`cc`, `mi`, `raw`, `hal`) each re-read and re-parse every file. Here a file is
decoded once, parsed to one AST that feeds the cyclomatic-complexity and Halstead visitors, and
tokenized once for the raw counts (`rawcount`, radon's rules in one pass); the maintainability index
is computed from those same figures exactly as radon's `mi_parameters` does, so every value equals
radon's own.
"""

from __future__ import annotations

import ast
import functools
import gc
import io
import json
import math
import statistics
import tokenize
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from ctoaudit.analyzers import MANY_TREES, AnalysisContext
from ctoaudit.cache import cache_key, options_hash
from ctoaudit.filemap import FileOutcome, known_outcomes, map_files, tree_key
from ctoaudit.model import (
    REPO_SCOPE,
    AnalyzerResult,
    Direction,
    Measurement,
    MetricSpec,
    Skip,
    metric_spec,
)
from ctoaudit.snapshot import EntryKind, FileEntry, matches_any

if TYPE_CHECKING:
    from ctoaudit.analyzers.statements import FileFigures, StatementAnalysis

CC_RANKS = ("A", "B", "C", "D", "E", "F")
HIGH_CC = 10
"""Above this, a function is rank C or worse: radon's and McCabe's line for "too complex"."""


class ComplexityOptions(BaseModel):
    """`[tool.ctoaudit.analyzers.complexity]`."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    include: list[str] = Field(
        default_factory=lambda: ["*.py"], description="Globs of files to analyze."
    )
    exclude: list[str] = Field(default_factory=list, description="Globs of files to leave out.")
    no_assert: bool = Field(
        default=False, description="Do not count `assert` statements (radon's -n)."
    )
    multi: bool = Field(
        default=True,
        description="Count multi-line strings as comments in the maintainability index.",
    )


LOWER, HIGHER, INFO = Direction.LOWER, Direction.HIGHER, Direction.INFO
METRICS: tuple[MetricSpec, ...] = (
    metric_spec("complexity.cc", "Cyclomatic complexity of a function, method or class (labels: kind, rank)", LOWER, "", "function"),
    metric_spec("complexity.mi", "Maintainability index of a file, 0-100 (label: rank)", HIGHER, "", "file"),
    metric_spec("complexity.cc_total", "Sum of the cyclomatic complexity of a file (radon's total)", LOWER, "", "file"),
    metric_spec("complexity.loc", "Lines in a file", INFO, "lines", "file"),
    metric_spec("complexity.lloc", "Logical lines of code in a file", INFO, "lines", "file"),
    metric_spec("complexity.sloc", "Source lines of code in a file", INFO, "lines", "file"),
    metric_spec("complexity.comments", "Comment lines in a file", INFO, "lines", "file"),
    metric_spec("complexity.multi", "Lines of multi-line strings in a file", INFO, "lines", "file"),
    metric_spec("complexity.blank", "Blank lines in a file", INFO, "lines", "file"),
    metric_spec("complexity.halstead.volume", "Halstead volume of a file", LOWER, "", "file"),
    metric_spec("complexity.halstead.difficulty", "Halstead difficulty of a file", LOWER, "", "file"),
    metric_spec("complexity.halstead.effort", "Halstead effort of a file", LOWER, "", "file"),
    metric_spec("complexity.files", "Python files analyzed", INFO, "files"),
    metric_spec("complexity.files.skipped", "Python files that could not be analyzed", LOWER, "files"),
    metric_spec("complexity.functions", "Functions and methods analyzed", INFO, "functions"),
    metric_spec("complexity.sloc.total", "Source lines of code in all analyzed files", INFO, "lines"),
    metric_spec("complexity.cc.mean", "Mean cyclomatic complexity of functions and methods", LOWER),
    metric_spec("complexity.cc.p90", "90th percentile of function cyclomatic complexity", LOWER),
    metric_spec("complexity.cc.max", "Highest function cyclomatic complexity", LOWER),
    *(
        metric_spec(f"complexity.functions.rank_{r.lower()}", f"Functions and methods of complexity rank {r}", INFO, "functions")
        for r in CC_RANKS
    ),
    metric_spec("complexity.functions.over_10.share", "Share of functions with complexity above 10 (rank C or worse)", LOWER, "ratio"),
    metric_spec("complexity.mi.min", "Lowest maintainability index of a file", HIGHER),
    metric_spec("complexity.mi.mean", "Mean maintainability index over files", HIGHER),
    metric_spec("complexity.files.mi_rank_c", "Files of maintainability rank C (MI <= 9)", LOWER, "files"),
)  # fmt: skip


_CC_RANK_BOUNDS = ((5, "A"), (10, "B"), (20, "C"), (30, "D"), (40, "E"))


def cc_rank(cc: float) -> str:
    """Radon's rank: A 1-5, B 6-10, C 11-20, D 21-30, E 31-40, F above 40."""
    for bound, rank in _CC_RANK_BOUNDS:
        if cc <= bound:
            return rank
    return "F"


def mi_rank(mi: float) -> str:
    """Radon's MI rank: A above 19, B above 9, C at 9 or below."""
    if mi > 19:  # noqa: PLR2004
        return "A"
    return "B" if mi > 9 else "C"  # noqa: PLR2004


def decode_source(data: bytes) -> str:
    """Source bytes to text per PEP 263 (BOM, coding cookie, else UTF-8); ValueError says why not."""
    if b"\0" in data:
        raise ValueError("binary content (NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        # detect_encoding also rejects undecodable first lines; name the byte when that is the cause.
        encoding, detail = "utf-8", f"bad encoding declaration: {exc.msg}"
    else:
        detail = ""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not valid {encoding}: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from None
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r} in coding declaration") from None
    if detail:
        raise ValueError(detail)
    return text


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cycle collector while one file's AST is built and visited.

    A parse allocates hundreds of thousands of nodes, each of which would otherwise trigger
    collector passes that re-scan the whole young tree (a third of the analysis time on big files).
    The AST holds no reference cycles, so it is freed by reference counting when the file is done;
    anything cyclic left behind is collected once the collector runs again.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@functools.cache
def _statements() -> StatementAnalysis:
    """Statement pieces seen by this process: a pool worker reuses them across versions of a file."""
    from ctoaudit.analyzers.statements import StatementAnalysis  # noqa: PLC0415 - imports radon

    return StatementAnalysis()


def _whole_file_figures(source: str, *, no_assert: bool) -> FileFigures | str:
    """The figures from one parse of the whole file, or why it cannot be analyzed."""
    from radon.metrics import h_visit_ast  # noqa: PLC0415 - keep CLI start-up fast
    from radon.visitors import ComplexityVisitor  # noqa: PLC0415

    from ctoaudit.analyzers.statements import FileFigures  # noqa: PLC0415

    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return f"syntax error at line {exc.lineno}: {exc.msg} (not Python 3 source?)"
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"cannot parse: {type(exc).__name__}: {exc}"
    try:
        visitor = ComplexityVisitor.from_ast(tree, no_assert=no_assert)
        halstead = h_visit_ast(tree).total
    except Exception as exc:  # noqa: BLE001 - radon's visitors fail on rare constructs; one file's skip
        return f"radon could not analyze it: {type(exc).__name__}: {exc}"
    return FileFigures(visitor.total_complexity, visitor.blocks, halstead)


def analyze_source(
    data: bytes, *, no_assert: bool = False, multi: bool = True, pieces: bool = True
) -> dict[str, Any]:
    """Every complexity figure of one file's bytes, or `{"skip": reason}`. Pure and cacheable.

    With `pieces`, the AST figures come from statement pieces this process may have seen in other
    versions of the file (see statements.py); the figures are the same either way.
    """
    with _cyclic_gc_paused():
        return _analyze_source(data, no_assert=no_assert, multi=multi, pieces=pieces)


def _analyze_source(data: bytes, *, no_assert: bool, multi: bool, pieces: bool) -> dict[str, Any]:
    from radon.metrics import mi_compute  # noqa: PLC0415 - keep CLI start-up fast

    from ctoaudit.analyzers.rawcount import count_raw  # noqa: PLC0415 - compiles its lexer

    try:
        source = decode_source(data)
    except ValueError as exc:
        return {"skip": str(exc)}
    with warnings.catch_warnings():
        # invalid escape sequences in old code are not our finding
        warnings.simplefilter("ignore")
        figures = None
        if pieces:
            try:
                figures = _statements().figures(source, no_assert=no_assert)
            except Exception:  # noqa: BLE001 - the whole-file path below reports what went wrong
                figures = None
        if figures is None:
            whole = _whole_file_figures(source, no_assert=no_assert)
            if isinstance(whole, str):
                return {"skip": whole}
            figures = whole
    try:
        raw = figures.raw or count_raw(source)
    except Exception as exc:  # noqa: BLE001 - radon's raw counter fails on rare constructs
        return {"skip": f"radon could not analyze it: {type(exc).__name__}: {exc}"}
    comment_lines = raw.comments + (raw.multi if multi else 0)
    comments_pct = comment_lines / float(raw.sloc) * 100 if raw.sloc != 0 else 0
    # With no_assert the total differs from radon's mi (which never passes it): MI follows the option.
    halstead = figures.halstead
    mi = mi_compute(halstead.volume, figures.total_complexity, raw.lloc, comments_pct)
    blocks = []
    for block in figures.blocks:
        is_class = not hasattr(block, "is_method")
        kind = "class" if is_class else ("method" if block.is_method else "function")
        blocks.append(
            {
                "name": block.fullname,
                "kind": kind,
                "line": block.lineno,
                "end_line": block.endline,
                "cc": block.complexity,
            }
        )
    return {
        "raw": {
            "loc": raw.loc,
            "lloc": raw.lloc,
            "sloc": raw.sloc,
            "comments": raw.comments,
            "multi": raw.multi,
            "blank": raw.blank,
        },
        "cc_total": figures.total_complexity,
        "mi": mi,
        "halstead": {
            "volume": halstead.volume,
            "difficulty": halstead.difficulty,
            "effort": halstead.effort,
        },
        "blocks": blocks,
    }


def analyze_worker(data: bytes, *, no_assert: bool, multi: bool, pieces: bool) -> bytes:
    """Process-pool worker: one file's figures as JSON bytes (bound to options with partial)."""
    result = analyze_source(data, no_assert=no_assert, multi=multi, pieces=pieces)
    return json.dumps(result, sort_keys=True).encode()


def _percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with at least pct% of values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _file_measurements(path: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Measurements of one file as plain dicts: validated in one batch later, which is much faster."""
    out: list[dict[str, Any]] = [
        {"metric": "complexity.mi", "value": data["mi"], "scope": path, "path": path, "labels": {"rank": mi_rank(data["mi"])}},
        {"metric": "complexity.cc_total", "value": data["cc_total"], "scope": path, "path": path},
    ]  # fmt: skip
    out.extend(
        {"metric": f"complexity.{key}", "value": value, "scope": path, "path": path}
        for key, value in data["raw"].items()
    )
    out.extend(
        {"metric": f"complexity.halstead.{key}", "value": value, "scope": path, "path": path}
        for key, value in data["halstead"].items()
    )
    out.extend(
        {
            "metric": "complexity.cc",
            "value": block["cc"],
            "scope": block["name"],
            "path": path,
            "line": block["line"],
            "end_line": block["end_line"],
            "labels": {"kind": block["kind"], "rank": cc_rank(block["cc"])},
        }
        for block in data["blocks"]
    )
    return out


def _repo_measurements(files: list[dict[str, Any]], skipped: int) -> list[dict[str, Any]]:
    function_cc = [b["cc"] for f in files for b in f["blocks"] if b["kind"] != "class"]
    mis = [f["mi"] for f in files]
    ranks = Counter(cc_rank(cc) for cc in function_cc)
    values: dict[str, float] = {
        "complexity.files": len(files),
        "complexity.files.skipped": skipped,
        "complexity.functions": len(function_cc),
        "complexity.sloc.total": sum(f["raw"]["sloc"] for f in files),
        "complexity.files.mi_rank_c": sum(1 for mi in mis if mi_rank(mi) == "C"),
    }
    for rank in CC_RANKS:
        values[f"complexity.functions.rank_{rank.lower()}"] = ranks.get(rank, 0)
    if function_cc:
        values["complexity.cc.mean"] = round(statistics.fmean(function_cc), 4)
        values["complexity.cc.p90"] = _percentile(function_cc, 90)
        values["complexity.cc.max"] = max(function_cc)
        values["complexity.functions.over_10.share"] = round(
            sum(1 for cc in function_cc if cc > HIGH_CC) / len(function_cc),
            4,
        )
    if mis:
        values["complexity.mi.min"] = min(mis)
        values["complexity.mi.mean"] = round(statistics.fmean(mis), 4)
    return [{"metric": k, "value": v, "scope": REPO_SCOPE} for k, v in values.items()]


RESULTS_MEMO = "complexity.results"
"""Key in `AnalysisContext.memo`: whole results by tree key, reused by later audits in the process."""
FILES_MEMO = "complexity.files"
"""Key in `AnalysisContext.memo`: each file's parsed result and validated measurements, by
(path, options, content id), so a trend validates an unchanged file once, not once per revision."""
_MEASUREMENTS = TypeAdapter(list[Measurement])


def _memo(context: AnalysisContext, key: str) -> dict[Any, Any]:
    table = context.memo.get(key)
    if not isinstance(table, dict):
        table = {}
        context.memo[key] = table
    return table


class ComplexityAnalyzer:
    """Cyclomatic complexity, maintainability index, raw counts and Halstead metrics via radon."""

    name: ClassVar[str] = "complexity"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = __doc__ or ""
    metrics: ClassVar[tuple[MetricSpec, ...]] = METRICS
    options_model: ClassVar[type[BaseModel]] = ComplexityOptions
    requires: ClassVar[tuple[str, ...]] = ()

    def _entries(self, context: AnalysisContext) -> tuple[ComplexityOptions, str, list[FileEntry]]:
        """The options, their id, and the included Python files."""
        options = context.options(self.name, ComplexityOptions)
        entries = [
            e
            for e in context.files
            if matches_any(e.path, options.include)
            and not matches_any(e.path, options.exclude)
            and e.kind is not EntryKind.SUBMODULE
        ]
        return options, options_hash(options), entries

    def _outcomes(
        self, context: AnalysisContext, options: ComplexityOptions, entries: list[FileEntry]
    ) -> list[FileOutcome]:
        """Per-file results of the files, each distinct content analyzed once, where new."""
        return map_files(
            context,
            analyzer=self.name,
            version=self.version,
            options=options_hash(options),
            entries=entries,
            # Statement pieces pay off only when other versions of the files are analyzed in the
            # same process (a trend); on one tree, cutting and joining costs about a tenth more.
            worker=functools.partial(
                analyze_worker,
                no_assert=options.no_assert,
                multi=options.multi,
                pieces=MANY_TREES in context.memo,
            ),
        )

    def prewarm(self, context: AnalysisContext) -> None:
        """Analyze every file not in the cache yet, in one pool pass, without assembling a result.

        `trend` calls this on the distinct blobs of all its revisions, which are no tree of their own.
        """
        options, _, entries = self._entries(context)
        self._outcomes(context, options, entries)

    def analyze(self, context: AnalysisContext) -> AnalyzerResult:
        """Analyze every included Python file, from the cache where its content was seen before."""
        options, options_id, entries = self._entries(context)
        # When no analyzed file changed, the whole result is one cache entry: assembling and
        # validating tens of thousands of per-file measurements again would dominate a warm run.
        # Where every file's content id is known without reading (git blob ids, stamps seen
        # before), that entry is looked up before any per-file work.
        early = known_outcomes(context, entries)
        if early is not None and (found := self._stored(context, options_id, early)) is not None:
            return found
        outcomes = self._outcomes(context, options, entries)
        found = self._stored(context, options_id, outcomes)
        if found is not None:
            return found
        whole_key = self._whole_key(options_id, outcomes)
        result = self._assemble(outcomes, _memo(context, FILES_MEMO), options_id).sorted()
        if MANY_TREES not in context.memo:
            context.cache.put_many({whole_key: result.model_dump_json().encode()})
        # The tree key names everything the result comes from: judging it can be cached by it.
        result = result.keyed(whole_key)
        _memo(context, RESULTS_MEMO)[whole_key] = result
        return result

    def _whole_key(self, options_id: str, outcomes: list[FileOutcome]) -> str:
        return cache_key(self.name, self.version, options_id, "tree:" + tree_key(outcomes))

    def _stored(
        self, context: AnalysisContext, options_id: str, outcomes: list[FileOutcome]
    ) -> AnalyzerResult | None:
        """The whole result of these files from this process, else from the cache, else None."""
        whole_key = self._whole_key(options_id, outcomes)
        # Within one process (a trend audits many revisions), the same tree gives the same object.
        results = _memo(context, RESULTS_MEMO)
        known = results.get(whole_key)
        if isinstance(known, AnalyzerResult):
            return known
        if MANY_TREES in context.memo:
            return None
        cached = context.cache.get_many([whole_key]).get(whole_key)
        if cached is None:
            return None
        # stored in canonical order (see analyze), and JSON keeps the order of lists
        result = AnalyzerResult.model_validate_json(cached).in_order().keyed(whole_key)
        results[whole_key] = result
        return result

    def _assemble(
        self, outcomes: list[FileOutcome], files: dict[Any, Any], options_id: str
    ) -> AnalyzerResult:
        """The result of a tree; each file's measurements are validated once per (path, content)."""
        measurements: list[Measurement] = []
        skips: list[Skip] = []
        analyzed: list[dict[str, Any]] = []
        for outcome in outcomes:
            path = outcome.entry.path
            if outcome.result is None:
                skips.append(
                    Skip(analyzer=self.name, path=path, reason=outcome.skip_reason or "unreadable")
                )
                continue
            key = (path, options_id, outcome.content_id or outcome.result)
            if key not in files:
                data = json.loads(outcome.result)
                per_file = (
                    None
                    if "skip" in data
                    else _MEASUREMENTS.validate_python(_file_measurements(path, data))
                )
                files[key] = (data, per_file)
            data, per_file = files[key]
            if per_file is None:
                skips.append(Skip(analyzer=self.name, path=path, reason=data["skip"]))
                continue
            analyzed.append(data)
            measurements.extend(per_file)
        measurements.extend(_MEASUREMENTS.validate_python(_repo_measurements(analyzed, len(skips))))
        return AnalyzerResult.model_validate(
            {
                "name": self.name,
                "version": self.version,
                "metrics": list(METRICS),
                "measurements": measurements,
                "skips": skips,
            }
        )
