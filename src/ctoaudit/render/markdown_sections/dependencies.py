"""The dependency age analyzer's section of the Markdown report.

Same figures and the same "oldest" order as the terminal section (libyears, then majors behind, then
name), so both reports name the same dependencies first.
"""

from __future__ import annotations

from collections.abc import Callable

from ctoaudit.model import REPO_SCOPE, AnalyzerResult, Measurement
from ctoaudit.render.markdown_blocks import fmt, location, table

OLDEST = 10
"""Rows of the oldest-dependencies table."""

_Value = Callable[[str], float | None]


def _pct(ratio: float | None) -> str:
    return "-" if ratio is None else f"{fmt(round(ratio * 100, 1))}%"


def _as_of(result: AnalyzerResult) -> str | None:
    fact = next((f for f in result.facts if f.key == "dependencies.as_of"), None)
    if fact is None or not isinstance(fact.data.get("as_of"), str):
        return None
    return f"{str(fact.data['as_of'])[:19].replace('T', ' ')} UTC"


def _figures(value: _Value) -> str:
    def pair(a: str, b: str, digits: int = 1) -> str:
        return f"{fmt(value(a), digits)} / {fmt(value(b), digits)}"

    return table(
        ["Measure", "Value"],
        [
            ("Dependencies (direct)", f"{fmt(value('dependencies.count'))} ({fmt(value('dependencies.direct.count'))})"),
            ("Resolved / coverage", f"{fmt(value('dependencies.resolved'))} / {_pct(value('dependencies.coverage'))}"),
            ("Unresolved", fmt(value("dependencies.unresolved"))),
            ("Unpinned direct (share)", f"{fmt(value('dependencies.unpinned.count'))} ({_pct(value('dependencies.unpinned.share'))})"),
            ("Libyears all / direct", pair("dependencies.libyears.total", "dependencies.libyears.direct")),
            ("Libyears mean / p90 / max", " / ".join(
                fmt(value(f"dependencies.libyears.{k}"), 2) for k in ("mean", "p90", "max"))),
            ("Over one libyear (all / direct)", pair("dependencies.over_1y", "dependencies.direct.over_1y")),
            ("Most majors behind", fmt(value("dependencies.majors_behind.max"))),
            ("Yanked / deprecated in use", pair("dependencies.yanked.count", "dependencies.deprecated.count")),
        ],
    )  # fmt: skip


def _by_dependency(result: AnalyzerResult) -> dict[tuple[str, str, str], dict[str, Measurement]]:
    """Each measured dependency's metrics, keyed by name, version in use and file."""
    per_dep: dict[tuple[str, str, str], dict[str, Measurement]] = {}
    for m in result.measurements:
        if m.scope != REPO_SCOPE and "version" in m.labels:
            per_dep.setdefault((m.scope, m.labels["version"], m.path or ""), {})[m.metric] = m
    return per_dep


def _figure(metrics: dict[str, Measurement], key: str) -> float:
    m = metrics.get(f"dependencies.{key}")
    return m.value if m is not None else 0.0


def _oldest(per_dep: dict[tuple[str, str, str], dict[str, Measurement]]) -> str:
    ordered = sorted(
        (d for d in per_dep.values() if "dependencies.libyears" in d),
        key=lambda d: (-_figure(d, "libyears"), -_figure(d, "majors_behind"), d["dependencies.libyears"].scope),
    )  # fmt: skip
    rows = []
    for d in ordered:
        m = d["dependencies.libyears"]
        rows.append((
            f"`{m.scope}`", m.labels.get("version", ""), m.labels.get("latest", ""),
            fmt(m.value, 2), fmt(_figure(d, "majors_behind")), fmt(_figure(d, "versions_behind")),
            location(m.path, m.line),
        ))  # fmt: skip
    return "\n\n".join([
        f"**Oldest dependencies** (top {min(len(rows), OLDEST)} of {len(rows)}, by libyears)",
        table(["Package", "In use", "Latest", "Libyears", "Majors behind", "Versions behind", "Location"],
              rows, limit=OLDEST),
    ])  # fmt: skip


def _withdrawn(per_dep: dict[tuple[str, str, str], dict[str, Measurement]]) -> str:
    rows = []
    for d in per_dep.values():
        m = d.get("dependencies.libyears")
        if m is None:
            continue
        if _figure(d, "yanked") == 1:
            rows.append(
                (f"`{m.scope}`", m.labels.get("version", ""), "yanked", location(m.path, m.line))
            )
        if _figure(d, "deprecated") == 1:
            status = f"deprecated: {m.labels.get('deprecated', '')}".rstrip(": ")
            rows.append(
                (f"`{m.scope}`", m.labels.get("version", ""), status, location(m.path, m.line))
            )
    if not rows:
        return ""
    rows.sort()
    return "\n\n".join([
        "**Yanked or deprecated versions in use**",
        table(["Package", "Version", "Status", "Location"], rows),
    ])  # fmt: skip


def _unpinned(result: AnalyzerResult) -> str:
    found = sorted(
        (m for m in result.measurements if m.metric == "dependencies.unpinned" and m.value == 1),
        key=lambda m: (m.scope, m.path or ""),
    )
    if not found:
        return ""
    rows = [
        (f"`{m.scope}`", m.labels.get("spec") or "(any version)", m.labels.get("group", ""), location(m.path, m.line))
        for m in found
    ]  # fmt: skip
    return "\n\n".join([
        "**Unpinned dependencies** (no exact pin or lock fixes their version)",
        table(["Package", "Declared as", "Group", "Location"], rows),
    ])  # fmt: skip


def section(result: AnalyzerResult) -> str:
    """Key figures, the oldest dependencies, withdrawn versions in use, unpinned ones, the as-of instant."""
    as_of = _as_of(result)
    parts = [f"### Dependency age (as of {as_of})" if as_of else "### Dependency age"]
    if as_of:
        parts.append(
            f"Only releases published before {as_of} count; libyears = time from the release of "
            "the version in use to the release of the latest version."
        )
    parts.append(_figures(result.repo_values().get))
    per_dep = _by_dependency(result)
    if any("dependencies.libyears" in d for d in per_dep.values()):
        parts.append(_oldest(per_dep))
    parts += [p for p in (_withdrawn(per_dep), _unpinned(result)) if p]
    unresolved = result.repo_values().get("dependencies.unresolved")
    if unresolved:
        parts.append(
            f"*{fmt(unresolved)} dependencies could not be measured; the reasons are under 'Skipped files and items'.*"
        )
    return "\n\n".join(parts)
