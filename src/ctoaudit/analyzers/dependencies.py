"""Dependency age: how far behind the latest releases the repository's dependencies are.

Manifests and lock files are parsed (never executed) into one set of distinct dependencies; release
histories come from the registries through a cached `ReleaseIndex`; the figures are defined in
`ctoaudit.dependencies.age` and the README ("Dependency age").
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ctoaudit.analyzers import AnalysisContext
from ctoaudit.config import Settings
from ctoaudit.dependencies.age import Age, AgeError, dependency_age, summary
from ctoaudit.dependencies.collect import Dependency, is_manifest, merge, parse_all
from ctoaudit.dependencies.locks import is_python_lock
from ctoaudit.dependencies.model import Ecosystem
from ctoaudit.dependencies.npm import NPM_LOCKS
from ctoaudit.dependencies.requirements import is_requirements_file
from ctoaudit.errors import AnalysisError, SnapshotFileError
from ctoaudit.model import (
    AnalyzerResult,
    Direction,
    Fact,
    Measurement,
    MetricSpec,
    Skip,
    metric_spec,
)
from ctoaudit.services.http import HttpClient, HttpSettings
from ctoaudit.services.releases import CachedRegistryIndex, Lookup, ReleaseIndex, registry_bases
from ctoaudit.snapshot import EntryKind, FileEntry


class DependenciesOptions(BaseModel):
    """`[tool.ctoaudit.analyzers.dependencies]`."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    pypi_url: str | None = Field(
        default=None,
        description="Base URL of a PyPI-compatible JSON API (BASE/pypi/NAME/json); default: CTOAUDIT_PYPI_URL, else pip's index. Ignored in the audited repository's own config (only from --config).",
    )
    npm_url: str | None = Field(
        default=None,
        description="Base URL of an npm registry (BASE/NAME); default: CTOAUDIT_NPM_URL, else npm's registry. Ignored in the audited repository's own config (only from --config).",
    )
    timeout: float = Field(default=10.0, gt=0, le=300, description="Seconds per registry request.")
    retries: int = Field(
        default=3, ge=0, le=10, description="Retries of a failed registry request."
    )
    concurrency: int = Field(
        default=16, ge=1, le=64, description="Registry requests in flight at once."
    )
    max_retry_after: float = Field(
        default=30.0, ge=0, description="Longest Retry-After (seconds) honoured before giving up."
    )
    refresh_hours: float = Field(
        default=24.0, ge=0, description="Re-fetch a cached release history older than this."
    )


LOWER, HIGHER, INFO = Direction.LOWER, Direction.HIGHER, Direction.INFO
METRICS: tuple[MetricSpec, ...] = (
    metric_spec("dependencies.libyears", "Time between the release of the version in use and of the latest version (labels: version, latest, ecosystem, direct, group)", LOWER, "years", "dependency"),
    metric_spec("dependencies.versions_behind", "Non-yanked final versions between the version in use and the latest", LOWER, "versions", "dependency"),
    metric_spec("dependencies.majors_behind", "Major version of the latest minus major version in use", LOWER, "majors", "dependency"),
    metric_spec("dependencies.age", "Time from the release of the version in use to the as-of instant", LOWER, "years", "dependency"),
    metric_spec("dependencies.yanked", "1 when the version in use is yanked (PyPI) or unpublished (npm)", LOWER, "flag", "dependency"),
    metric_spec("dependencies.deprecated", "1 when the version in use is deprecated on npm (label: message)", LOWER, "flag", "dependency"),
    metric_spec("dependencies.unpinned", "1 for a declared dependency whose version no pin or lock fixes", LOWER, "flag", "dependency"),
    metric_spec("dependencies.count", "Distinct dependencies: name+version pairs in use, plus unpinned and unresolvable names", INFO, "dependencies"),
    metric_spec("dependencies.direct.count", "Distinct direct dependencies", INFO, "dependencies"),
    metric_spec("dependencies.resolved", "Dependencies with a version in use and a release history", INFO, "dependencies"),
    metric_spec("dependencies.unresolved", "Dependencies that could not be measured (URL/path/VCS, unknown, registry failure)", LOWER, "dependencies"),
    metric_spec("dependencies.unpinned.count", "Direct dependencies whose version no pin or lock fixes", LOWER, "dependencies"),
    metric_spec("dependencies.unpinned.share", "Unpinned direct dependencies / direct dependencies (matters for applications)", LOWER, "ratio"),
    metric_spec("dependencies.coverage", "Resolved dependencies / all dependencies", HIGHER, "ratio"),
    metric_spec("dependencies.application", "1 when the repository pins like an application (a lock or requirements file exists)", INFO, "flag"),
    metric_spec("dependencies.libyears.total", "Sum of libyears over all resolved dependencies, each name+version once", LOWER, "years"),
    metric_spec("dependencies.libyears.mean", "Mean libyears over all resolved dependencies", LOWER, "years"),
    metric_spec("dependencies.libyears.p90", "90th percentile (nearest rank) of libyears over all resolved dependencies", LOWER, "years"),
    metric_spec("dependencies.libyears.max", "Highest libyears of any resolved dependency", LOWER, "years"),
    metric_spec("dependencies.over_1y", "Resolved dependencies more than one libyear behind", LOWER, "dependencies"),
    metric_spec("dependencies.libyears.direct", "Sum of libyears over resolved direct dependencies", LOWER, "years"),
    metric_spec("dependencies.libyears.direct.mean", "Mean libyears over resolved direct dependencies", LOWER, "years"),
    metric_spec("dependencies.libyears.direct.p90", "90th percentile (nearest rank) of libyears over resolved direct dependencies", LOWER, "years"),
    metric_spec("dependencies.libyears.direct.max", "Highest libyears of a resolved direct dependency", LOWER, "years"),
    metric_spec("dependencies.direct.over_1y", "Resolved direct dependencies more than one libyear behind", LOWER, "dependencies"),
    metric_spec("dependencies.majors_behind.max", "Most major versions any resolved dependency is behind", LOWER, "majors"),
    metric_spec("dependencies.yanked.count", "Resolved dependencies whose version in use is yanked or unpublished", LOWER, "dependencies"),
    metric_spec("dependencies.deprecated.count", "Resolved dependencies whose version in use is deprecated", LOWER, "dependencies"),
)  # fmt: skip

_DATE = "%Y-%m-%d"


class _Reader:
    """Reads manifest text from the snapshot once per path; unreadable files become problems."""

    def __init__(self, context: AnalysisContext) -> None:
        self.context = context
        self.entries: dict[str, FileEntry] = {
            e.path: e for e in context.files if e.kind is EntryKind.FILE
        }
        self.texts: dict[str, str | None] = {}
        self.problems: list[tuple[str, str]] = []

    def __call__(self, path: str) -> str | None:
        if path not in self.texts:
            self.texts[path] = self._read(path)
        return self.texts[path]

    def _read(self, path: str) -> str | None:
        entry = self.entries.get(path)
        if entry is None:
            return None
        limit = self.context.settings.max_file_bytes
        if entry.size > limit:
            self.problems.append((path, f"file too large ({entry.size} bytes, limit {limit})"))
            return None
        try:
            return self.context.snapshot.read_bytes(entry).decode("utf-8-sig")
        except SnapshotFileError as exc:
            self.problems.append((path, f"unreadable: {exc}"))
        except UnicodeDecodeError as exc:
            self.problems.append(
                (path, f"not valid UTF-8: byte 0x{exc.object[exc.start]:02x} at offset {exc.start}")
            )
        return None


def _plural(count: float, word: str) -> str:
    return f"{count:g} {word}{'' if count == 1 else 's'}"


def _upgrade_text(dep: Dependency, age: Age) -> str:
    """The upgrade for people, e.g. "django 3.2 -> 5.2: 4.1 libyears, 2 majors"."""
    target = f"{age.version} -> {age.latest}" if age.latest != age.version else age.version
    years = f"{age.libyears:.2f}".rstrip("0").rstrip(".")
    return f"{dep.name} {target}: {years} libyears, {_plural(age.majors_behind, 'major')}"


def _per_dependency(dep: Dependency, age: Age) -> list[Measurement]:
    labels = {
        "ecosystem": dep.ecosystem.value,
        "version": age.version,
        "latest": age.latest,
        "released": age.released.strftime(_DATE),
        "latest_released": age.latest_released.strftime(_DATE),
        "direct": str(dep.direct).lower(),
        "group": dep.group.value,
    }
    labels["item"] = _upgrade_text(dep, age)
    if age.deprecated:
        labels["deprecated"] = age.deprecated[:200]
    if len(dep.paths) > 1:
        labels["files"] = ", ".join(dep.paths)  # every file that pins or locks this version
    values = {
        "dependencies.libyears": age.libyears,
        "dependencies.versions_behind": age.versions_behind,
        "dependencies.majors_behind": age.majors_behind,
        "dependencies.age": age.age_years,
        "dependencies.yanked": float(age.yanked),
        "dependencies.deprecated": float(age.deprecated is not None),
    }
    return [
        Measurement(metric=k, value=v, scope=dep.name, path=dep.path, line=dep.line, labels=labels)
        for k, v in values.items()
    ]


def _is_unpinned(dep: Dependency) -> bool:
    return dep.version is None and dep.unresolved is None


def _counts(deps: Sequence[Dependency], ages: Mapping[Dependency, Age]) -> dict[str, float]:
    """How many dependencies there are, and how many were measured, unpinned or flagged."""
    direct = [d for d in deps if d.direct]
    unpinned = [d for d in direct if _is_unpinned(d)]
    values: dict[str, float] = {
        "dependencies.count": len(deps),
        "dependencies.direct.count": len(direct),
        "dependencies.resolved": len(ages),
        "dependencies.unresolved": sum(1 for d in deps if d not in ages and not _is_unpinned(d)),
        "dependencies.unpinned.count": len(unpinned),
        "dependencies.yanked.count": sum(1 for a in ages.values() if a.yanked),
        "dependencies.deprecated.count": sum(1 for a in ages.values() if a.deprecated),
    }
    if direct:
        values["dependencies.unpinned.share"] = round(len(unpinned) / len(direct), 4)
    if deps:
        values["dependencies.coverage"] = round(len(ages) / len(deps), 4)
    return values


def _libyear_totals(ages: Mapping[Dependency, Age]) -> dict[str, float]:
    """Sum, mean, p90, max and count over one year, for all and for direct dependencies."""
    every = summary([a.libyears for a in ages.values()])
    only_direct = summary([a.libyears for d, a in ages.items() if d.direct])
    values: dict[str, float] = {
        "dependencies.libyears.total": every["sum"],
        "dependencies.over_1y": every["over_1y"],
        "dependencies.libyears.direct": only_direct["sum"],
        "dependencies.direct.over_1y": only_direct["over_1y"],
    }
    for stat in ("mean", "p90", "max"):
        if stat in every:
            values[f"dependencies.libyears.{stat}"] = every[stat]
        if stat in only_direct:
            values[f"dependencies.libyears.direct.{stat}"] = only_direct[stat]
    if ages:
        values["dependencies.majors_behind.max"] = max(a.majors_behind for a in ages.values())
    return values


def _totals(
    deps: Sequence[Dependency], ages: Mapping[Dependency, Age], application: bool
) -> dict[str, float]:
    return {
        **_counts(deps, ages),
        **_libyear_totals(ages),
        "dependencies.application": float(application),
    }


def _is_application(paths: Sequence[str]) -> bool:
    return any(
        is_python_lock(p) or is_requirements_file(p) or p.rsplit("/", 1)[-1] in NPM_LOCKS
        for p in paths
    )


class DependencyAgeAnalyzer:
    """Libyears, versions and majors behind, yanked, deprecated and unpinned dependencies."""

    name: ClassVar[str] = "dependencies"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = __doc__ or ""
    metrics: ClassVar[tuple[MetricSpec, ...]] = METRICS
    options_model: ClassVar[type[BaseModel]] = DependenciesOptions
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, index: ReleaseIndex | None = None) -> None:
        self._index = index

    def analyze(self, context: AnalysisContext) -> AnalyzerResult:
        """Parse every manifest, look up release histories, and measure each dependency."""
        options, config_skips = _trusted_options(
            context.settings, context.options(self.name, DependenciesOptions)
        )
        now = context.clock()
        as_of = context.as_of or now
        reader = _Reader(context)
        paths = sorted(p for p in reader.entries if is_manifest(p))
        parsed = parse_all(paths, reader)
        deps = merge(parsed.items)
        skips = [
            Skip(analyzer=self.name, path=p, reason=r)
            for p, r in [*reader.problems, *parsed.problems]
        ]
        lookups = self._lookups(context, options, deps, now, as_of)
        measurements: list[Measurement] = []
        ages: dict[Dependency, Age] = {}
        for dep in deps:
            outcome = self._measure(dep, lookups, as_of)
            if isinstance(outcome, Age):
                ages[dep] = outcome
                measurements.extend(_per_dependency(dep, outcome))
            elif outcome is None:
                measurements.append(
                    Measurement(metric="dependencies.unpinned", value=1, scope=dep.name, path=dep.path, line=dep.line,
                                labels={"ecosystem": dep.ecosystem.value, "spec": dep.spec, "group": dep.group.value})
                )  # fmt: skip
            else:
                skips.append(Skip(analyzer=self.name, path=dep.path, item=dep.name, reason=outcome))
        totals = _totals(deps, ages, _is_application(paths))
        measurements.extend(Measurement(metric=k, value=v) for k, v in totals.items())
        result = AnalyzerResult(
            name=self.name,
            version=self.version,
            metrics=list(METRICS),
            measurements=measurements,
            # The instant is recorded whenever an age was computed against it; with nothing to date,
            # a wall-clock value would only make otherwise identical reports differ.
            facts=[
                Fact(
                    key="dependencies.as_of",
                    data={"as_of": as_of.isoformat(), "explicit": context.as_of is not None},
                )
            ]
            if deps or context.as_of is not None
            else [],
            skips=[*skips, *config_skips],
        ).sorted()
        # --strict is about dependencies left unmeasured, not about an ignored setting
        if context.strict and skips:
            raise AnalysisError(_strict_message(sorted(skips, key=Skip.sort_key)))
        return result

    def _lookups(
        self,
        context: AnalysisContext,
        options: DependenciesOptions,
        deps: Sequence[Dependency],
        now: datetime,
        as_of: datetime,
    ) -> dict[tuple[Ecosystem, str], Lookup]:
        wanted: dict[Ecosystem, set[str]] = {}
        for dep in deps:
            if dep.version is not None and dep.unresolved is None:
                wanted.setdefault(dep.ecosystem, set()).add(dep.name)
        if not wanted:
            return {}
        index = self._index
        client = None
        if index is None:
            configured = {Ecosystem.PYPI: options.pypi_url, Ecosystem.NPM: options.npm_url}
            bases = registry_bases(configured, os.environ, wanted)
            if not context.offline:
                client = HttpClient(HttpSettings(timeout=options.timeout, retries=options.retries,
                                                 concurrency=options.concurrency, max_retry_after=options.max_retry_after))  # fmt: skip
            index = CachedRegistryIndex(bases, context.cache, client, now=now, as_of=as_of,
                                        refresh_after=timedelta(hours=options.refresh_hours),
                                        progress=context.progress)  # fmt: skip
        try:
            return {
                (eco, name): lookup
                for eco in sorted(wanted)
                for name, lookup in index.lookup(eco, wanted[eco]).items()
            }
        finally:
            if client is not None:
                client.close()

    @staticmethod
    def _measure(
        dep: Dependency, lookups: Mapping[tuple[Ecosystem, str], Lookup], as_of: datetime
    ) -> Age | str | None:
        """The dependency's figures, None when it is unpinned, or why it could not be measured."""
        if dep.unresolved is not None:
            return dep.unresolved
        if dep.version is None:
            return None
        lookup = lookups.get((dep.ecosystem, dep.name))
        if lookup is None or lookup.history is None:
            return lookup.reason if lookup and lookup.reason else "no release history"
        try:
            return dependency_age(lookup.history, dep.version, as_of)
        except AgeError as exc:
            return str(exc)


REGISTRY_OPTIONS = ("pypi_url", "npm_url")


def _trusted_options(
    settings: Settings, options: DependenciesOptions
) -> tuple[DependenciesOptions, list[Skip]]:
    """The options without registry URLs that come from the audited repository's own config.

    An audited repository (e.g. an untrusted pull request in CI) must not choose the hosts the
    auditor's machine sends requests to; registry URLs count only from the user: the CTOAUDIT_*_URL
    environment variables, pip's / npm's own configuration, or an explicit --config file.
    """
    if not settings.from_target:
        return options, []
    given = [name for name in REGISTRY_OPTIONS if getattr(options, name) is not None]
    if not given:
        return options, []
    path = (settings.source or "").removesuffix(" [tool.ctoaudit]") or None
    skips = [
        Skip(
            analyzer=DependencyAgeAnalyzer.name,
            path=path,
            item=f"analyzers.dependencies.{name}",
            reason=f"{name} from the audited repository's own config is ignored: the audited "
            f"code may not choose which hosts are contacted; set CTOAUDIT_{name.split('_')[0].upper()}_URL "
            "or pass a config file with --config to use it",
        )
        for name in given
    ]
    return options.model_copy(update=dict.fromkeys(given)), skips


def _strict_message(skips: Sequence[Skip]) -> str:
    lines = [f"--strict: dependency analysis is incomplete ({len(skips)} item(s) not measured):"]
    lines += [f"  {s.path or '-'}: {s.item + ': ' if s.item else ''}{s.reason}" for s in skips[:20]]
    if len(skips) > 20:  # noqa: PLR2004
        lines.append(f"  ... and {len(skips) - 20} more")
    return "\n".join(lines)
