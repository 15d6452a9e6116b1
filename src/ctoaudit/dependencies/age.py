"""How old a dependency is, as of one instant: libyears, versions and majors behind, yanked, deprecated.

Definitions (also in the README): a release's time is its earliest file upload; only releases uploaded
before the as-of instant A exist; latest = the highest version (by version order, not upload order)
that is neither yanked nor a pre-release, or the highest non-yanked pre-release when a project has no
final release by A; libyears = max(0, t(latest) - t(in use)) / 365.25 days.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ctoaudit.dependencies.model import Ecosystem
from ctoaudit.dependencies.versions import parse_version
from ctoaudit.services.releases import History, Release

DAYS_PER_YEAR = 365.25
SECONDS_PER_YEAR = DAYS_PER_YEAR * 86400


class AgeError(ValueError):
    """The version in use cannot be placed in the history (unknown, unparseable, not yet published)."""


@dataclass(frozen=True)
class Age:
    """The figures of one dependency."""

    version: str
    latest: str
    released: datetime
    latest_released: datetime
    libyears: float
    versions_behind: int
    majors_behind: int
    age_years: float
    yanked: bool
    deprecated: str | None


def _years(seconds: float) -> float:
    return round(seconds / SECONDS_PER_YEAR, 4)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _find(ecosystem: Ecosystem, releases: Sequence[Release], version: str) -> Release | None:
    """The release of `version`, by its exact string or else by version equality ("1.0" is "1.0.0")."""
    exact = next((r for r in releases if r.version == version), None)
    if exact is not None:
        return exact
    wanted = parse_version(ecosystem, version)
    if wanted is None:
        return None
    return next(
        (
            r
            for r in releases
            if r.rank is not None and parse_version(ecosystem, r.version) == wanted
        ),
        None,
    )


def _release_in_use(
    history: History, published: list[Release], version: str, as_of: datetime
) -> Release:
    """The release the audited version is, or an AgeError saying why it cannot be dated."""
    eco = history.ecosystem
    in_use = _find(eco, published, version)
    if in_use is None or in_use.uploaded is None:
        if _find(eco, history.releases, version) is not None:
            raise AgeError(f"version {version} was not yet published on {as_of.date().isoformat()}")
        raise AgeError(f"version {version} is not in the registry's release list")
    if in_use.rank is None:
        scheme = "PEP 440" if eco is Ecosystem.PYPI else "SemVer"
        raise AgeError(f"version {version} is not a valid {scheme} version; cannot order it")
    return in_use


def _latest(published: Sequence[Release], in_use: Release) -> tuple[Release, list[Release]]:
    """The latest release and the pool it was chosen from (final releases, else pre-releases)."""
    candidates = [r for r in published if not r.yanked and r.rank is not None]
    # A project with only pre-releases: its newest pre-release is the latest.
    pool = [r for r in candidates if not r.prerelease] or candidates
    latest = max(pool, key=lambda r: r.rank or 0) if pool else in_use
    if (latest.rank or 0) < (in_use.rank or 0):
        latest = in_use  # using a version above every candidate (e.g. a pre-release)
    return latest, pool


def _versions_between(pool: Sequence[Release], low: Release, high: Release) -> int:
    """Distinct versions of the pool above `low` up to and including `high`."""
    low_rank, high_rank = low.rank or 0, high.rank or 0
    return len({r.rank for r in pool if low_rank < (r.rank or 0) <= high_rank})


def dependency_age(history: History, version: str, as_of: datetime) -> Age:
    """The figures of `version` of the package, counting only releases uploaded before `as_of`."""
    cutoff = as_of.timestamp()
    published = [r for r in history.releases if r.uploaded is not None and r.uploaded < cutoff]
    in_use = _release_in_use(history, published, version, as_of)
    latest, pool = _latest(published, in_use)
    in_time, latest_time = in_use.uploaded or 0.0, latest.uploaded or 0.0
    return Age(
        version=in_use.version,
        latest=latest.version,
        released=_utc(in_time),
        latest_released=_utc(latest_time),
        libyears=_years(max(0.0, latest_time - in_time)),
        versions_behind=_versions_between(pool, in_use, latest),
        majors_behind=max(0, latest.major - in_use.major),
        age_years=_years(max(0.0, cutoff - in_time)),
        yanked=in_use.yanked,
        deprecated=in_use.deprecated if history.ecosystem is Ecosystem.NPM else None,
    )


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (same definition as the complexity analyzer)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    """sum, mean, p90, max and count over one year of a list of libyears."""
    if not values:
        return {"sum": 0.0, "over_1y": 0.0}
    return {
        "sum": round(sum(values), 4),
        "mean": round(statistics.fmean(values), 4),
        "p90": percentile(values, 90),
        "max": max(values),
        "over_1y": float(sum(1 for v in values if v > 1)),
    }
