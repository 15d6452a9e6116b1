"""The analyzer plugin interface and its discovery through entry points.

An analyzer measures; it never judges (rules do) and never prints (renderers do). Built-in analyzers are
registered in the `ctoaudit.analyzers` entry-point group exactly like third-party ones.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar, cast, runtime_checkable

from pydantic import BaseModel, ConfigDict

from ctoaudit.config import Settings, validate_analyzer_options

if TYPE_CHECKING:
    from ctoaudit.cache import ResultCache
    from ctoaudit.model import AnalyzerResult, MetricSpec
    from ctoaudit.snapshot import FileEntry, RepoSnapshot

ENTRY_POINT_GROUP = "ctoaudit.analyzers"
MANY_TREES = "audit.many_trees"
"""Key in `AnalysisContext.memo`, set when one process audits many trees (`trend`): analyzers keep
per-file work in memory across them and skip whole-tree entries in the persistent cache, which
cost more to write and read back than re-assembling from the in-memory per-file results."""
OptionsT = TypeVar("OptionsT", bound=BaseModel)


class NoOptions(BaseModel):
    """Options model of an analyzer that takes none: any key is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class ProgressSink(Protocol):
    """Where long work reports progress; the CLI shows a bar on a terminal, tests pass nothing."""

    def start(self, label: str, total: int) -> None:
        """A new stage with `total` steps begins."""
        ...

    def advance(self, steps: int = 1) -> None:
        """`steps` more steps are done."""
        ...


class NullProgress:
    """Progress that goes nowhere."""

    def start(self, label: str, total: int) -> None:
        """Ignore."""

    def advance(self, steps: int = 1) -> None:
        """Ignore."""


@dataclass
class AnalysisContext:
    """What an analyzer may use: the files, settings, cache, clock, workers and earlier results."""

    snapshot: RepoSnapshot
    files: Sequence[FileEntry]
    settings: Settings
    cache: ResultCache
    jobs: int
    clock: Callable[[], datetime]
    progress: ProgressSink = field(default_factory=NullProgress)
    results: Mapping[str, AnalyzerResult] = field(default_factory=dict)
    offline: bool = False
    memo: dict[str, object] = field(default_factory=dict)
    """State shared by the audits of one run over many revisions (`trend`), e.g. a log read once."""
    as_of: datetime | None = None
    """The instant registry data is seen as of (--as-of); None means the clock's now."""
    strict: bool = False
    """--strict: an analyzer that could not measure everything raises AnalysisError."""

    def options(self, analyzer: str, model: type[OptionsT]) -> OptionsT:
        """The analyzer's validated options."""
        return validate_analyzer_options(self.settings, analyzer, model)


@runtime_checkable
class Analyzer(Protocol):
    """A pluggable measurement over a repository snapshot.

    `version` is part of every cache key: bump it whenever the output for the same input changes.
    `requires` names analyzers whose results this one reads from `context.results`.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[str]
    metrics: ClassVar[tuple[MetricSpec, ...]]
    options_model: ClassVar[type[BaseModel]]
    requires: ClassVar[tuple[str, ...]]

    def analyze(self, context: AnalysisContext) -> AnalyzerResult:
        """Measure the snapshot; per-item failures become skips in the result."""
        ...


@dataclass(frozen=True)
class Discovered:
    """The outcome of loading the analyzer plugins: the analyzers, and the plugins that failed."""

    analyzers: dict[str, type[Analyzer]]
    errors: dict[str, str]


def _load(ep: EntryPoint) -> type[Analyzer] | str:
    """The plugin's analyzer class, or why it cannot be used."""
    try:
        cls = ep.load()
    except Exception as exc:  # noqa: BLE001 - any plugin bug must become a report entry
        return f"cannot load plugin {ep.value}: {type(exc).__name__}: {exc}"
    if (
        not isinstance(cls, type)
        or not hasattr(cls, "analyze")
        or getattr(cls, "name", None) != ep.name
    ):
        return f"plugin {ep.value} is not an analyzer class named {ep.name!r}"
    return cast("type[Analyzer]", cls)


def discover_analyzers(only: Collection[str] | None = None) -> Discovered:
    """Load the analyzers registered under the `ctoaudit.analyzers` entry-point group.

    Called by the engine and the CLI when needed, never at import time; `only` limits the imports to
    the analyzers a run uses. A plugin that fails to load is reported by name instead of stopping the
    audit.
    """
    found: dict[str, type[Analyzer]] = {}
    errors: dict[str, str] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if only is not None and ep.name not in only:
            continue
        loaded = _load(ep)
        if isinstance(loaded, str):
            errors[ep.name] = loaded
        else:
            found[ep.name] = loaded
    return Discovered(found, errors)


class LazyAnalyzers(Mapping[str, type[Analyzer]]):
    """Every registered analyzer by name, each imported on first use (plugins are slow to import).

    The entry points are listed once; only the analyzers a run (or a trend's revision) selects are
    loaded. Looking up a plugin that fails to load raises KeyError; `errors` then says why.
    """

    def __init__(self) -> None:
        points = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
        self._points = {ep.name: ep for ep in points}
        self._loaded: dict[str, type[Analyzer]] = {}
        self.errors: dict[str, str] = {}

    def __getitem__(self, name: str) -> type[Analyzer]:
        if name not in self._loaded:
            ep = self._points.get(name)
            if ep is None or name in self.errors:
                raise KeyError(name)
            loaded = _load(ep)
            if isinstance(loaded, str):
                self.errors[name] = loaded
                raise KeyError(name)
            self._loaded[name] = loaded
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._points)

    def __len__(self) -> int:
        return len(self._points)


def order_by_requirements(analyzers: Mapping[str, type[Analyzer]]) -> list[str]:
    """Analyzer names in an order where each comes after the ones it requires (then by name)."""
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered or name not in analyzers:
            return
        if name in visiting:
            return  # a cycle: the later analyzer simply sees no result and records a skip
        visiting.add(name)
        for dep in sorted(analyzers[name].requires):
            visit(dep)
        visiting.discard(name)
        ordered.append(name)

    for name in sorted(analyzers):
        visit(name)
    return ordered
