"""Tool usage: which engineering tools a repository uses, how, and which the catalogue calls outdated.

Evidence comes from several kinds of files (dedicated configs, pyproject/setup.cfg/tox.ini tables, CI
definitions, pre-commit hooks, dev dependency lists, task runners, Dockerfiles) so one missing source
does not hide a tool. Configuration files are few and small: they are parsed here, in one process,
rather than through the per-file cache and pool, which would cost more to start than they save.
Nothing from the repository is executed or imported; noxfile.py is read as a syntax tree.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from ctoaudit.analyzers import MANY_TREES, AnalysisContext
from ctoaudit.errors import ConfigError, SnapshotFileError
from ctoaudit.model import (
    AnalyzerResult,
    Direction,
    Fact,
    Measurement,
    MetricSpec,
    Skip,
    metric_spec,
)
from ctoaudit.snapshot import EntryKind, FileEntry, matches_any
from ctoaudit.tooling.catalogue import (
    OUTDATED,
    Catalogue,
    Status,
    ToolOverride,
    Usage,
    builtin_catalogue,
    customize,
)
from ctoaudit.tooling.collectors import Collector, collector_for
from ctoaudit.tooling.detect import ToolUse, detect_tools
from ctoaudit.tooling.evidence import Collected, FileRef, PythonVersion
from ctoaudit.tooling.parsing import ParseError, decode_text

NAME = "tooling"
DEFAULT_MAX_CONFIG_BYTES = 2 * 1024 * 1024
DEFAULT_EXCLUDE = ("fixtures", "testdata", "test_data", "vendor", "vendored", "third_party")
"""Folders whose config files are samples or someone else's, not the repository's own tooling."""


class ToolingOptions(BaseModel):
    """`[tool.ctoaudit.analyzers.tooling]`."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    tools: list[dict[str, JsonValue]] = Field(
        default_factory=list,
        description="Extra catalogue tools (same fields as knowledge/tools.toml); an existing id is replaced.",
    )
    overrides: dict[str, ToolOverride] = Field(
        default_factory=dict,
        description="Per tool id, catalogue fields to change (status, successor, rationale, source, ...).",
    )
    categories: dict[str, str] = Field(
        default_factory=dict, description="Extra categories: id -> title."
    )
    disable: list[str] = Field(
        default_factory=list, description="Catalogue tool ids never to report."
    )
    exclude: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXCLUDE),
        description="Globs of paths (or folder names) not read for evidence; replaces the default.",
    )
    max_config_bytes: int = Field(
        default=DEFAULT_MAX_CONFIG_BYTES,
        ge=1,
        description="Configuration and CI files larger than this are skipped, with the reason.",
    )
    max_evidence: int = Field(
        default=20, ge=1, description="Evidence entries kept per tool in the report."
    )

    @model_validator(mode="after")
    def _catalogue_is_valid(self) -> Self:
        # Checked when settings load, so a bad catalogue change is a config error before any work.
        try:
            self.catalogue()
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return self

    def catalogue(self) -> Catalogue:
        """The built-in catalogue with these options' tools, overrides and removals applied."""
        # Options are validated, and the catalogue built, once per audit; a trend audits hundreds
        # of revisions that mostly share their options.
        key = self.model_dump_json(include={"tools", "overrides", "categories", "disable"})
        built = _CATALOGUES.get(key)
        if built is None:
            built = customize(
                builtin_catalogue(),
                tools=[dict(t) for t in self.tools],
                overrides=self.overrides,
                categories=self.categories,
                disable=self.disable,
                source="catalogue options",
            )
            _CATALOGUES[key] = built
        return built


_CATALOGUES: dict[str, Catalogue] = {}
"""Customized catalogues by the options that shape them (a failed one raises each time)."""


LOWER, HIGHER, INFO = Direction.LOWER, Direction.HIGHER, Direction.INFO
METRICS: tuple[MetricSpec, ...] = (
    metric_spec("tooling.tools.detected", "Catalogue tools with evidence of use", INFO, "tools"),
    metric_spec("tooling.tools.outdated", "Detected tools the catalogue marks superseded, deprecated or unmaintained", LOWER, "tools"),
    metric_spec("tooling.status.superseded", "1 for a detected tool that a sourced successor supersedes (scope: tool id; label successor)", LOWER, "", "tool"),
    metric_spec("tooling.status.deprecated", "1 for a detected tool that is deprecated (scope: tool id; label successor)", LOWER, "", "tool"),
    metric_spec("tooling.status.unmaintained", "1 for a detected tool that is unmaintained (scope: tool id; label successor)", LOWER, "", "tool"),
    metric_spec("tooling.replace", "For each catalogue tool with a successor: 1 if detected and to replace (outdated, or maintained but its successor is in use or proposed anyway), else 0 (scope: tool id; labels successor, successor_name, status, category, consolidation = 'N tools to 1', the successor counted if in use)", LOWER, "", "tool"),
    metric_spec("tooling.category.present", "1 when the category has a detected tool, 0 when it has none (scope: category; labels category, project = python | other)", HIGHER, "", "item"),
    metric_spec("tooling.categories.missing", "Catalogue categories with no detected tool", LOWER, "categories"),
    metric_spec("tooling.duplicates", "Tools beyond the first that do one job, configured or run, not counting tools to replace; 0 for a job done by one tool (scope: job; labels job, tools)", LOWER, "tools", "item"),
    metric_spec("tooling.duplicates.total", "Sum of duplicated tools over all jobs", LOWER, "tools"),
    metric_spec("tooling.unused", "1 for a detected tool that is configured but never installed or run, 0 if installed or run (scope: tool id; label category)", LOWER, "", "tool"),
    metric_spec("tooling.unused.total", "Tools configured but never installed or run", LOWER, "tools"),
    metric_spec("tooling.stale_ref", "1 for a file that configuration points at but that does not exist (scope: the missing path)", LOWER, "", "item"),
    metric_spec("tooling.stale_refs.total", "References from configuration to files that do not exist", LOWER, "references"),
    metric_spec("tooling.python.eol", "Days past end of life, on the audit date, of a Python version CI/tox/nox/images run; 0 while supported (scope: version; labels eol, oldest_supported, via)", LOWER, "days", "item"),
    metric_spec("tooling.python.eol_versions", "End-of-life Python versions run by CI, tox, nox or images", LOWER, "versions"),
    metric_spec("tooling.publish.token", "PyPI uploads with a long-lived token where trusted publishing is available (scope: CI file)", LOWER, "uploads", "file"),
    metric_spec("tooling.publish.tokens.total", "PyPI uploads with a long-lived token where trusted publishing is available", LOWER, "uploads"),
    metric_spec("tooling.files.read", "Configuration, CI and manifest files read for evidence", INFO, "files"),
    metric_spec("tooling.files.unparsed", "Evidence files that could not be parsed (malformed, binary, too large)", LOWER, "files"),
)  # fmt: skip


@cache
def python_eol_table() -> dict[str, date]:
    """CPython release line -> end-of-life date, from knowledge/python_eol.toml."""
    text = files("ctoaudit.knowledge").joinpath("python_eol.toml").read_text(encoding="utf-8")
    return {version: date.fromisoformat(day) for version, day in tomllib.loads(text)["eol"].items()}


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


class ToolingAnalyzer:
    """Engineering tools in use by category, with evidence, status, successors and stale methods."""

    name: ClassVar[str] = NAME
    version: ClassVar[str] = "2"
    description: ClassVar[str] = __doc__ or ""
    metrics: ClassVar[tuple[MetricSpec, ...]] = METRICS
    options_model: ClassVar[type[BaseModel]] = ToolingOptions
    requires: ClassVar[tuple[str, ...]] = ()

    def analyze(self, context: AnalysisContext) -> AnalyzerResult:
        """Collect evidence from the snapshot's files and report tools, categories and stale methods."""
        options = context.options(NAME, ToolingOptions)
        catalogue = options.catalogue()
        entries = [
            e
            for e in context.files
            if e.kind is EntryKind.FILE and not matches_any(e.path, options.exclude)
        ]
        collected, skips, read = _collect(context, entries, options.max_config_bytes)
        uses = detect_tools(
            catalogue, [e.path for e in entries], [s for c in collected for s in c.signals]
        )
        existing = {e.path for e in context.snapshot.files()}
        audit_day = context.clock().date()
        replace = _to_replace(uses)
        project = _project_kind(e.path for e in entries)
        measurements = [
            *_tool_measurements(uses),
            *_unused_measurements(uses, replace),
            *_replace_measurements(uses, replace, catalogue),
            *_category_measurements(catalogue, uses, project),
            *_duplicate_measurements(uses, replace),
            *_stale_measurements([r for c in collected for r in c.refs], existing),
            *_eol_measurements([p for c in collected for p in c.pythons], audit_day),
            *_upload_measurements(collected, catalogue, audit_day),
            Measurement(metric="tooling.files.read", value=read),
            Measurement(metric="tooling.files.unparsed", value=len(skips)),
        ]
        facts = [_detected_fact(use, catalogue, options.max_evidence) for use in uses.values()]
        facts.extend(
            Fact(key="tooling.unparsed", scope=s.path or "", path=s.path, data={"reason": s.reason})
            for s in skips
        )
        return AnalyzerResult(
            name=NAME,
            version=self.version,
            metrics=list(METRICS),
            measurements=measurements,
            facts=facts,
            skips=skips,
        ).sorted()


def _collect(
    context: AnalysisContext, entries: Sequence[FileEntry], limit: int
) -> tuple[list[Collected], list[Skip], int]:
    """Run each file's collector; unreadable or malformed files become skips, never tracebacks."""
    collected: list[Collected] = []
    skips: list[Skip] = []
    read = 0
    limit = min(limit, context.settings.max_file_bytes)
    # Within one process auditing many trees (trend), a file version is collected once: its
    # evidence depends on its path and bytes only.
    seen = _collected_memo(context)
    for entry in entries:
        collector = collector_for(entry.path)
        if collector is None:
            continue
        read += 1
        if entry.size > limit:
            reason = f"file is {entry.size:,} bytes, over the {limit:,}-byte limit for configuration files"
            skips.append(Skip(analyzer=NAME, path=entry.path, reason=reason))
            continue
        key = (entry.path, entry.blob_id) if entry.blob_id and seen is not None else None
        found = seen.get(key) if seen is not None and key else None
        if found is None:
            found = _collect_one(context, entry, collector)
            if seen is not None and key:
                seen[key] = found
        if isinstance(found, Collected):
            collected.append(found)
        else:
            skips.append(Skip(analyzer=NAME, path=entry.path, reason=found))
    return collected, skips, read


def _collected_memo(context: AnalysisContext) -> dict[tuple[str, str], Collected | str] | None:
    if MANY_TREES not in context.memo:
        return None
    table = context.memo.setdefault("tooling.collected", {})
    return table if isinstance(table, dict) else None


def _collect_one(
    context: AnalysisContext, entry: FileEntry, collector: Collector
) -> Collected | str:
    """What the file's collector finds in it, or why it could not be read."""
    try:
        return collector(entry.path, decode_text(context.snapshot.read_bytes(entry)))
    except (ParseError, SnapshotFileError) as exc:
        return str(exc)
    except RecursionError:
        return "nested too deeply to parse"
    except Exception as exc:  # noqa: BLE001 - a collector bug on one odd file must not lose the rest
        return f"could not read its structure: {type(exc).__name__}: {exc}"


def _tool_measurements(uses: dict[str, ToolUse]) -> list[Measurement]:
    out: list[Measurement] = []
    outdated = 0
    for tool_id, use in uses.items():
        tool = use.tool
        first = use.sorted_evidence()[0]  # the strongest evidence locates findings about the tool
        if tool.status in OUTDATED:
            outdated += 1
            labels = {"category": tool.category, "successor": tool.successor or ""}
            out.append(
                Measurement(
                    metric=f"tooling.status.{tool.status.value}",
                    value=1,
                    scope=tool_id,
                    path=first.path,
                    line=first.line,
                    labels=labels,
                )
            )
    out.append(Measurement(metric="tooling.tools.detected", value=len(uses)))
    out.append(Measurement(metric="tooling.tools.outdated", value=outdated))
    return out


def _unused_measurements(uses: dict[str, ToolUse], replace: dict[str, bool]) -> list[Measurement]:
    """1 for a tool only configured, 0 for one installed or run; tools whose config is use are left out.

    A tool already proposed for replacement counts 0: removing it settles both findings.
    """
    out: list[Measurement] = []
    for tool_id, use in uses.items():
        if use.tool.configured_is_used:
            continue
        first = use.sorted_evidence()[0]
        unused = use.usage == [Usage.CONFIGURED] and not replace.get(tool_id)
        out.append(
            Measurement(
                metric="tooling.unused",
                value=1 if unused else 0,
                scope=tool_id,
                path=first.path,
                line=first.line,
                labels={"category": use.tool.category},
            )
        )
    out.append(Measurement(metric="tooling.unused.total", value=sum(1 for m in out if m.value)))
    return out


PYTHON_PROJECT_FILES = frozenset({"pyproject.toml", "setup.py", "setup.cfg"})


def _project_kind(paths: Iterable[str]) -> str:
    """`python` when the repository has Python code or packaging, else `other`.

    The catalogue knows Python tooling well; for other stacks a missing category may only be a tool
    it does not list, so rules can require categories of Python projects only.
    """
    for path in paths:
        if path.endswith((".py", ".pyi")) or path.rsplit("/", 1)[-1] in PYTHON_PROJECT_FILES:
            return "python"
    return "other"


def _to_replace(uses: dict[str, ToolUse]) -> dict[str, bool]:
    """Per detected tool with a successor: whether to replace it by that successor now.

    Outdated tools always (even if only installed: the dependency itself is the problem); a maintained
    one (Black -> Ruff) only when it does its job here (configured or run, not merely installed as
    another tool's library) and its successor is already in use or replaces another tool anyway, so
    moving to it adds no new tool.
    """
    proposed = {
        u.tool.successor for u in uses.values() if u.tool.status in OUTDATED and u.tool.successor
    }
    return {
        tool_id: use.tool.status in OUTDATED or _consolidates(use, uses, proposed)
        for tool_id, use in uses.items()
        if use.tool.successor is not None
    }


def _consolidates(use: ToolUse, uses: dict[str, ToolUse], proposed: set[str]) -> bool:
    working = bool(set(use.usage) & {Usage.CONFIGURED, Usage.RUN})
    successor = use.tool.successor or ""
    return working and (successor in uses or successor in proposed)


def _replace_measurements(
    uses: dict[str, ToolUse], replace: dict[str, bool], catalogue: Catalogue
) -> list[Measurement]:
    """Every catalogue tool with a successor: 1 to replace now, 0 if fine here or absent.

    Absent tools are measured too (0, no path), so a rule about one successor passes on a repository
    that has none of the tools it replaces instead of being skipped for want of data.
    """
    tools = catalogue.by_id()
    merged: dict[str, int] = defaultdict(int)  # successor -> tools that end up as it
    for tool_id, now in replace.items():
        if now:
            merged[uses[tool_id].tool.successor or ""] += 1
    out: list[Measurement] = []
    for tool in catalogue.tools:
        if tool.successor is None:
            continue
        successor = tools[tool.successor]
        use = uses.get(tool.id)
        first = use.sorted_evidence()[0] if use else None
        before = merged[successor.id] + (1 if successor.id in uses else 0)
        labels = {
            "category": tool.category,
            "status": tool.status.value,
            "successor": successor.id,
            "successor_name": successor.name,
            "consolidation": f"{before} tools to 1" if before > 1 else "1 tool to 1",
        }
        out.append(
            Measurement(
                metric="tooling.replace",
                value=1 if replace.get(tool.id) else 0,
                scope=tool.id,
                path=first.path if first else None,
                line=first.line if first else None,
                labels=labels,
            )
        )
    return out


def _category_measurements(
    catalogue: Catalogue, uses: dict[str, ToolUse], project: str
) -> list[Measurement]:
    present = {use.tool.category for use in uses.values()}
    out = [
        Measurement(
            metric="tooling.category.present",
            value=1 if c in present else 0,
            scope=c,
            labels={"category": c, "project": project},
        )
        for c in catalogue.categories
    ]
    missing = sum(1 for c in catalogue.categories if c not in present)
    out.append(Measurement(metric="tooling.categories.missing", value=missing))
    return out


def _duplicate_measurements(
    uses: dict[str, ToolUse], replace: dict[str, bool]
) -> list[Measurement]:
    by_job: dict[str, list[str]] = defaultdict(list)
    for tool_id, use in uses.items():
        if set(use.usage) & {Usage.CONFIGURED, Usage.RUN}:
            for job in use.tool.jobs:
                by_job[job].append(tool_id)
    out: list[Measurement] = []
    total = 0
    for job, tools in sorted(by_job.items()):
        # a tool already proposed for replacement by its successor is not counted a second time
        kept = sorted(t for t in tools if not replace.get(t))
        extra = max(len(kept) - 1, 0)
        total += extra
        out.append(
            Measurement(
                metric="tooling.duplicates",
                value=extra,
                scope=job,
                labels={"job": job, "tools": ", ".join(kept or sorted(tools))},
            )
        )
    out.append(Measurement(metric="tooling.duplicates.total", value=total))
    return out


def _stale_measurements(refs: list[FileRef], existing: set[str]) -> list[Measurement]:
    missing: dict[str, FileRef] = {}
    for ref in sorted(refs, key=lambda r: (r.path, r.line, r.target)):
        if any(ch in ref.target for ch in "{}$*%<>") or not ref.target:
            continue  # templated paths cannot be resolved without running the tool
        alternatives = ref.target.split("|")
        if not any(a in existing for a in alternatives):
            missing.setdefault(alternatives[0], ref)
    out = [
        Measurement(
            metric="tooling.stale_ref",
            value=1,
            scope=target,
            path=ref.path,
            line=ref.line,
            labels={"via": ref.via},
        )
        for target, ref in missing.items()
    ]
    out.append(Measurement(metric="tooling.stale_refs.total", value=len(missing)))
    return out


def _eol_measurements(pythons: list[PythonVersion], audit_day: date) -> list[Measurement]:
    table = python_eol_table()
    seen: dict[str, list[PythonVersion]] = defaultdict(list)
    for p in sorted(pythons, key=lambda p: (p.path, p.line)):
        seen[p.version].append(p)
    supported = sorted((v for v, day in table.items() if day >= audit_day), key=_version_key)
    out: list[Measurement] = []
    for version in sorted(seen, key=_version_key):
        eol = table.get(version)
        if eol is None:
            continue  # a version the table does not know (not yet released, or a typo)
        first = seen[version][0]
        labels = {
            "eol": eol.isoformat(),
            "via": first.via,
            "occurrences": str(len(seen[version])),
            "oldest_supported": supported[0] if supported else "",
        }
        out.append(
            Measurement(
                metric="tooling.python.eol",
                value=max((audit_day - eol).days, 0),
                scope=version,
                path=first.path,
                line=first.line,
                labels=labels,
            )
        )
    past = sum(1 for m in out if m.value > 0)
    out.append(Measurement(metric="tooling.python.eol_versions", value=past))
    return out


def _upload_measurements(
    collected: list[Collected], catalogue: Catalogue, audit_day: date
) -> list[Measurement]:
    tools = catalogue.by_id()
    per_file: dict[str, list[Any]] = defaultdict(list)
    for upload in (u for c in collected for u in c.uploads):
        platform = tools.get(upload.platform)
        since = platform.trusted_publishing if platform else None
        if since is None or since.date[:7] > audit_day.isoformat()[:7]:
            continue  # trusted publishing was not available there on the audit date
        per_file[upload.path].append(upload)
    out = [
        Measurement(
            metric="tooling.publish.token",
            value=len(ups),
            scope=path,
            path=path,
            line=ups[0].line,
            labels={"platform": ups[0].platform, "method": ups[0].method},
        )
        for path, ups in sorted(per_file.items())
    ]
    out.append(
        Measurement(
            metric="tooling.publish.tokens.total", value=sum(len(u) for u in per_file.values())
        )
    )
    return out


def _detected_fact(use: ToolUse, catalogue: Catalogue, max_evidence: int) -> Fact:
    tool = use.tool
    evidence = use.sorted_evidence()
    data: dict[str, JsonValue] = {
        "name": tool.name,
        "category": tool.category,
        "category_title": catalogue.categories[tool.category],
        "status": tool.status.value,
        "usage": [u.value for u in use.usage],
        "evidence": [dict(e.as_json()) for e in evidence[:max_evidence]],
        "evidence_total": len(evidence),
    }
    if tool.successor is not None or tool.status is not Status.FINE:
        data["successor"] = tool.successor
        data["rationale"] = tool.rationale
        data["source"] = tool.source.model_dump() if tool.source else None
    return Fact(key="tooling.detected", scope=tool.id, data=data)
