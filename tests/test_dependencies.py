"""The dependency age analyzer end to end: manifests in a folder, a real registry on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from registry_server import RegistryServer, Reply, json_reply, recorded

from ctoaudit.analyzers.dependencies import METRICS, DependencyAgeAnalyzer
from ctoaudit.cache import SqliteCache
from ctoaudit.config import Settings
from ctoaudit.engine import AuditOptions, AuditRequest, judge, parse_as_of, run_audit
from ctoaudit.engine import audit as run_request
from ctoaudit.rules.loader import load_ruleset
from ctoaudit.render import markdown_report
from ctoaudit.errors import AnalysisError
from ctoaudit.model import AuditReport
from ctoaudit.render import RenderFormat
from ctoaudit.snapshot import DirectorySnapshot

NOW = datetime(2026, 1, 1, tzinfo=UTC)
EXAMPLE = Path(__file__).parent.parent / "examples" / "inventory-service"

REQUIREMENTS = """\
Django==3.2.25            # a backport, published after 5.0
requests==2.32.0          # yanked
Flask_SQLAlchemy==2.5.1   # PyPI knows it as flask-sqlalchemy
pytz===2004d              # a legacy (non PEP 440) version
nothere==1.0              # 404
ratelimited==2.0.1        # 429 with Retry-After, then served
flaky==1.0                # HTTP 500
slow==1.0                 # times out
garbage==1.0              # malformed JSON
"""
PACKAGE_JSON = {
    "name": "web",
    "dependencies": {"@sindresorhus/is": "^4.0.0", "request": "2.88.0"},
    "devDependencies": {"left-pad": "^1.1.0"},
}
PACKAGE_LOCK = {
    "name": "web",
    "lockfileVersion": 3,
    "packages": {
        "": {"name": "web"},
        "node_modules/@sindresorhus/is": {
            "version": "4.0.0",
            "resolved": "https://r/@sindresorhus/is/-/is-4.0.0.tgz",
        },
        "node_modules/request": {
            "version": "2.88.0",
            "resolved": "https://r/request/-/request-2.88.0.tgz",
        },
        "node_modules/left-pad": {
            "version": "1.1.3",
            "resolved": "https://r/left-pad/-/left-pad-1.1.3.tgz",
            "dev": True,
        },
    },
}


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[RegistryServer]:
    with RegistryServer() as server:
        for name in ("django", "requests", "flask-sqlalchemy", "pytz", "black", "flask", "werkzeug", "sqlalchemy",
                     "python-dateutil", "itsdangerous", "jinja2", "pytest", "flake8", "isort", "nose"):  # fmt: skip
            server.add_pypi(name)
        server.add(
            "/pypi/ratelimited/json",
            Reply(429, b"", {"Retry-After": "0"}),
            json_reply(recorded("pypi", "flask")),
        )
        server.add("/pypi/flaky/json", Reply(500, b"oops"))
        server.add("/pypi/slow/json", Reply(200, b"{}", delay=2.0))
        server.add("/pypi/garbage/json", Reply(200, b'{"releases": {"1.0": [}'))
        for name in ("@sindresorhus/is", "request", "left-pad"):
            server.add_npm(name)
        monkeypatch.setenv("CTOAUDIT_PYPI_URL", server.url)
        monkeypatch.setenv("CTOAUDIT_NPM_URL", server.url)
        yield server


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def audit(
    root: Path,
    cache_dir: Path,
    as_of: str | None = "2024-06-01",
    *,
    offline: bool = False,
    strict: bool = False,
) -> AuditReport:
    settings = Settings(
        analyzers={"dependencies": {"retries": 1, "timeout": 0.3, "max_retry_after": 5}}
    )
    cache = SqliteCache(cache_dir)
    try:
        options = AuditOptions(
            cache=cache,
            clock=lambda: NOW,
            as_of=parse_as_of(as_of) if as_of else None,
            offline=offline,
            strict=strict,
        )
        return run_audit(
            DirectorySnapshot(root), settings, {"dependencies": DependencyAgeAnalyzer}, options
        )
    finally:
        cache.close()


def per_dependency(report: AuditReport) -> dict[tuple[str, str], dict[str, float]]:
    out: dict[tuple[str, str], dict[str, float]] = {}
    for m in report.analyzers["dependencies"].measurements:
        if m.scope != "repo":
            out.setdefault((m.scope, m.labels.get("version", "")), {})[
                m.metric.removeprefix("dependencies.")
            ] = m.value
    return out


def totals(report: AuditReport) -> dict[str, float]:
    return {
        m.metric.removeprefix("dependencies."): m.value
        for m in report.analyzers["dependencies"].measurements
        if m.scope == "repo"
    }


def without_slow_failures(root: Path) -> None:
    """Drop the timeout and HTTP 500 cases (each costs retries) where they are not the point."""
    lines = [line for line in REQUIREMENTS.splitlines() if not line.startswith(("slow", "flaky"))]
    (root / "requirements.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    return write(tmp_path / "repo", {
        "requirements.txt": REQUIREMENTS,
        "web/package.json": json.dumps(PACKAGE_JSON, indent=2),
        "web/package-lock.json": json.dumps(PACKAGE_LOCK, indent=2),
    })  # fmt: skip


def test_registry_shapes_and_failures(
    registry: RegistryServer, scenario: Path, tmp_path: Path
) -> None:
    report = audit(scenario, tmp_path / "cache")
    deps = per_dependency(report)
    # 3.2.25 (2024-03-04) -> 5.0.6 (2024-05-07): 64.3 days; 5.0.5 is yanked, 5.1 not yet out
    assert deps[("django", "3.2.25")] == {
        "libyears": 0.1761,
        "majors_behind": 2,
        "versions_behind": 44,
        "age": 0.2426,
        "yanked": 0,
        "deprecated": 0,
    }
    assert deps[("requests", "2.32.0")]["yanked"] == 1
    assert (
        deps[("requests", "2.32.0")]["libyears"] == 0.0246
    )  # 2.32.0 (2024-05-20) -> 2.32.3 (2024-05-29)
    assert deps[("flask-sqlalchemy", "2.5.1")]["libyears"] == 2.4835  # -> 3.1.1 (2023-09-11)
    assert deps[("ratelimited", "2.0.1")]["majors_behind"] == 1  # served after one 429
    # npm: synthetic times, one version every 30 days (see tests/fixtures/registry/README.md)
    assert deps[("request", "2.88.0")] | {"age": 0} == {
        "libyears": round(30 / 365.25, 4),
        "versions_behind": 1,
        "majors_behind": 0,
        "age": 0,
        "yanked": 0,
        "deprecated": 1,
    }
    assert deps[("@sindresorhus/is", "4.0.0")]["majors_behind"] == 4
    assert deps[("left-pad", "1.1.3")]["versions_behind"] == 2
    skips = {s.item: s.reason for s in report.analyzers["dependencies"].skips}
    url = registry.url
    assert skips == {
        "pytz": "version 2004d is not a valid PEP 440 version; cannot order it",
        "nothere": f"not found in the pypi registry ({url}/pypi/nothere/json)",
        "flaky": f"registry error: HTTP 500 (after 2 attempts) ({url}/pypi/flaky/json)",
        "slow": f"registry error: timed out after 0.3s (after 2 attempts) ({url}/pypi/slow/json)",
        "garbage": f"malformed registry document: Expecting value: line 1 column 23 (char 22) ({url}/pypi/garbage/json)",
    }
    assert "/pypi/flask-sqlalchemy/json" in registry.requests
    assert "/@sindresorhus/is" in registry.requests  # requested as /@sindresorhus%2Fis
    t = totals(report)
    assert (t["count"], t["direct.count"], t["resolved"], t["unresolved"], t["coverage"]) == (
        12,
        12,
        7,
        5,
        0.5833,
    )
    assert (t["yanked.count"], t["deprecated.count"], t["majors_behind.max"]) == (1, 1, 4)
    assert t["libyears.total"] == round(sum(d["libyears"] for d in deps.values()), 4)
    labels = next(
        m.labels for m in report.analyzers["dependencies"].measurements if m.scope == "request"
    )
    assert labels["deprecated"].startswith("request has been deprecated")
    assert labels["group"] == "main"
    assert {m.key for m in METRICS} >= {
        m.metric for m in report.analyzers["dependencies"].measurements
    }


def test_pre_release_only_project_and_as_of_two_dates(
    registry: RegistryServer, tmp_path: Path
) -> None:
    lock = (
        '[[package]]\nname = "django"\nversion = "3.2"\nsource = { registry = "x" }\n'
        '[[package]]\nname = "black"\nversion = "21.9b0"\nsource = { registry = "x" }\n'
        '[[package]]\nname = "flask"\nversion = "2.0.1"\nsource = { registry = "x" }\n'
    )
    root = write(tmp_path / "repo", {
        "pyproject.toml": '[project]\nname = "app"\ndependencies = ["django>=3.2", "flask"]\n[dependency-groups]\ndev = ["black"]\n',
        "uv.lock": lock,
    })  # fmt: skip
    early = audit(root, tmp_path / "cache", "2022-01-01")
    late = audit(root, tmp_path / "cache", "2024-01-01T00:00:00Z")
    e, la = per_dependency(early), per_dependency(late)
    # By 2022-01-01 black had only pre-releases: latest is its newest, 21.12b0 (2021-12-05)
    assert e[("black", "21.9b0")] | {"age": 0} == {
        "libyears": 0.2268,
        "versions_behind": 3,
        "majors_behind": 0,
        "age": 0,
        "yanked": 0,
        "deprecated": 0,
    }
    assert e[("django", "3.2")]["libyears"] == 0.6707  # 3.2 (2021-04-06) -> 4.0 (2021-12-07)
    assert la[("django", "3.2")]["libyears"] == 2.6616  # -> 5.0 (2023-12-04)
    assert (
        e[("flask", "2.0.1")]["libyears"] == 0.3722
    )  # 2.0.1 (2021-05-21) -> 2.0.2 (2021-10-04): 136 days
    assert la[("flask", "2.0.1")]["libyears"] == 2.3599  # -> 3.0.0 (2023-09-30): 862 days
    assert (
        la[("black", "21.9b0")]["libyears"] == 2.272
    )  # 2021-09-14 -> 23.12.1 (2023-12-22): 829 days
    assert totals(early)["libyears.total"] == 1.2697
    assert totals(late)["libyears.total"] == 7.2935
    assert totals(early)["libyears.direct"] == 1.2697  # all three are declared in pyproject.toml
    facts = {f.key: f.data for f in early.analyzers["dependencies"].facts}
    assert facts["dependencies.as_of"] == {"as_of": "2022-01-01T00:00:00+00:00", "explicit": True}


def test_backport_published_after_a_newer_major(registry: RegistryServer, tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"requirements.txt": "werkzeug==2.3.8\n"})
    deps = per_dependency(audit(root, tmp_path / "cache", "2023-11-10"))
    # 2.3.8 (2023-11-08) came out after 3.0.1 (2023-10-24), the latest by version order: no libyears
    # (never negative), yet one major and two versions (3.0.0, 3.0.1) behind
    assert deps[("werkzeug", "2.3.8")] == {
        "libyears": 0.0,
        "versions_behind": 2,
        "majors_behind": 1,
        "age": 0.0034,
        "yanked": 0,
        "deprecated": 0,
    }


def test_rerun_is_byte_identical_online_warm_and_offline(
    registry: RegistryServer, scenario: Path, tmp_path: Path
) -> None:
    without_slow_failures(scenario)
    render = RenderFormat.JSON.to_renderer(color=False, width=100)
    first = render(audit(scenario, tmp_path / "cache"))
    registry.requests.clear()
    warm = render(audit(scenario, tmp_path / "cache"))
    assert [p for p in registry.requests if "flask" in p or "django" in p] == []  # from the cache
    fresh = render(audit(scenario, tmp_path / "other-cache"))
    assert first == warm == fresh
    offline = audit(scenario, tmp_path / "cache", offline=True)
    reasons = {s.item: s.reason for s in offline.analyzers["dependencies"].skips}
    assert reasons["nothere"] == "not in the release cache (offline)"
    assert per_dependency(offline) == per_dependency(json_report(first))


def json_report(text: str) -> AuditReport:
    return AuditReport.model_validate_json(text)


def test_strict_turns_incompleteness_into_analysis_error(
    registry: RegistryServer, scenario: Path, tmp_path: Path
) -> None:
    without_slow_failures(scenario)
    with pytest.raises(
        AnalysisError,
        match=r"--strict: dependency analysis is incomplete \(3 item\(s\) not measured\)",
    ):
        audit(scenario, tmp_path / "cache", strict=True)


def test_cli_as_of_strict_and_bad_input(registry: RegistryServer, tmp_path: Path, cli) -> None:
    root = write(tmp_path / "repo", {
        "requirements.txt": "django==3.2\nunknown-thing==1.0\n",
        "poetry.lock": "[[package]\n",
        "Pipfile.lock": "{",
        "requirements-dev.txt": "",
    })  # fmt: skip
    (root / "requirements-dev.txt").write_bytes(b"pytest==\xff\n")
    ok = cli(
        "run",
        str(root),
        "--analyzers",
        "dependencies",
        "--as-of",
        "2024-01-01",
        "-f",
        "json",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert ok.exit_code == 0, ok.stderr
    result = json.loads(ok.stdout)["analyzers"]["dependencies"]
    reasons = sorted((s["path"], s["reason"].split(":")[0]) for s in result["skips"])
    assert reasons == [
        ("Pipfile.lock", "invalid JSON"),
        ("poetry.lock", "invalid TOML"),
        ("requirements-dev.txt", "not valid UTF-8"),
        ("requirements.txt", "not found in the pypi registry (http"),
    ]
    strict = cli(
        "run",
        str(root),
        "--analyzers",
        "dependencies",
        "--as-of",
        "2024-01-01",
        "--strict",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert strict.exit_code == 3
    assert (
        "ctoaudit: error: --strict: dependency analysis is incomplete (4 item(s) not measured)"
        in strict.stderr
    )
    assert "Traceback" not in strict.stderr
    bad = cli("run", str(root), "--analyzers", "dependencies", "--as-of", "last tuesday")
    assert bad.exit_code == 2
    assert "--as-of 'last tuesday': expected YYYY-MM-DD or an ISO 8601 timestamp" in bad.stderr


def test_registry_down_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with RegistryServer() as server:
        url = server.url
    monkeypatch.setenv("CTOAUDIT_PYPI_URL", url)
    root = write(tmp_path / "repo", {"requirements.txt": "django==3.2\n"})
    report = audit(root, tmp_path / "cache")
    [skip] = report.analyzers["dependencies"].skips
    assert skip.reason.startswith("registry error: connection failed: ConnectionRefusedError")
    assert totals(report)["coverage"] == 0


def test_example_project(registry: RegistryServer, tmp_path: Path) -> None:
    root = tmp_path / "inventory-service"
    shutil.copytree(EXAMPLE, root)
    report = audit(root, tmp_path / "cache", "2024-01-01")
    deps = per_dependency(report)
    assert len(deps) == 12
    assert (
        deps[("werkzeug", "1.0.1")]["libyears"] == 3.565
    )  # 2020-03-31 -> 3.0.1 (2023-10-24): 1302 days
    assert deps[("flake8", "3.9.2")]["majors_behind"] == 3
    t = totals(report)
    assert (t["count"], t["resolved"], t["coverage"], t["unpinned.count"], t["application"]) == (
        12,
        12,
        1,
        0,
        1,
    )
    assert (t["libyears.total"], t["libyears.direct"], t["over_1y"]) == (27.5472, 27.5472, 11)
    assert report.analyzers["dependencies"].skips == []
    # flask==1.1.2 is pinned in pyproject.toml and requirements.txt: one dependency, both files named
    flask = [
        m
        for m in report.analyzers["dependencies"].measurements
        if m.metric == "dependencies.libyears" and m.scope == "flask"
    ]
    assert [(m.path, m.labels["files"]) for m in flask] == [
        ("pyproject.toml", "pyproject.toml, requirements.txt")
    ]
    text = RenderFormat.TERMINAL.to_renderer(color=False, width=120)(report)
    assert "Dependency age (as of 2024-01-01 00:00:00 UTC)" in text
    assert "Oldest dependencies (top 10)" in text
    lines = [line for line in text.splitlines() if "werkzeug" in line or "python-dateutil" in line]
    assert "werkzeug" in lines[0]
    assert "3.56" in lines[0]
    assert "requirements.txt:8" in lines[0]


def test_dp_rules_on_the_example_name_the_biggest_upgrades(
    registry: RegistryServer, tmp_path: Path
) -> None:
    root = tmp_path / "inventory-service"
    shutil.copytree(EXAMPLE, root)
    report = judge(audit(root, tmp_path / "cache", "2024-01-01"), load_ruleset())
    status = {o.rule_id: o.status.value for o in report.outcomes if o.family == "DP"}
    assert status == {
        "DP101": "fail", "DP102": "skip", "DP103": "fail", "DP104": "fail", "DP110": "fail",
        "DP120": "pass", "DP121": "pass", "DP129": "pass", "DP130": "pass", "DP140": "pass",
    }  # fmt: skip
    upgrade = next(p for p in report.proposals if p.action == "upgrade-old-dependencies")
    assert upgrade.change[0] == (
        "Upgrade the 9 of 12 direct dependencies more than 2 libyears behind, biggest payoff "
        "first: werkzeug 1.0.1 -> 3.0.1: 3.56 libyears, 2 majors (requirements.txt:8), "
        "flask 1.1.2 -> 3.0.0: 3.49 libyears, 2 majors (pyproject.toml:11), "
        "itsdangerous 1.1.0 -> 2.1.2: 3.41 libyears, 1 major (requirements.txt:6) and 6 more."
    )
    assert "flake8 3.9.2 -> 6.1.0: 2.22 libyears, 3 majors (pyproject.toml:18)" in upgrade.change[2]
    assert [(e.rule_id, e.scope, e.detail) for e in upgrade.evidence[:2]] == [
        ("DP101", "werkzeug", "werkzeug 1.0.1 -> 3.0.1: 3.56 libyears, 2 majors"),
        ("DP101", "flask", "flask 1.1.2 -> 3.0.0: 3.49 libyears, 2 majors"),
    ]
    text = markdown_report.render(report)
    assert (
        "| DP101 | werkzeug 1.0.1 -> 3.0.1: 3.56 libyears, 2 majors | `requirements.txt:8` | 3.56 | 2 |"
        in text
    )


def test_markdown_section_lists_withdrawn_and_unpinned_and_is_byte_identical(
    registry: RegistryServer, scenario: Path, tmp_path: Path
) -> None:
    without_slow_failures(scenario)
    write(
        scenario, {"lib/pyproject.toml": '[project]\nname = "lib"\ndependencies = ["flask>=2"]\n'}
    )
    ruleset = load_ruleset()
    first = markdown_report.render(judge(audit(scenario, tmp_path / "cache"), ruleset))
    again = markdown_report.render(judge(audit(scenario, tmp_path / "cache"), ruleset))
    assert first == again
    text = first[first.index("### Dependency age (as of") : first.index("## Appendices")]
    assert text.startswith("### Dependency age (as of 2024-06-01 00:00:00 UTC)\n")
    assert "| Yanked / deprecated in use | 1 / 1 |" in text
    assert "| `requests` | 2.32.0 | yanked | `requirements.txt:2` |" in text
    assert "| `request` | 2.88.0 | deprecated: request has been deprecated" in text
    assert "| `flask` | flask>=2 | main | `lib/pyproject.toml:3` |" in text
    oldest = [line for line in text.splitlines() if line.startswith("| `")][:2]
    assert oldest == [
        "| `ratelimited` | 2.0.1 | 3.0.3 | 2.88 | 1 | 20 | `requirements.txt:6` |",
        "| `@sindresorhus/is` | 4.0.0 | 8.1.0 | 2.63 | 4 | 32 | `web/package-lock.json:8` |",
    ]
    assert "| Resolved / coverage | 7 / 63.6% |" in text
    assert "3 dependencies could not be measured" in text  # nothere, garbage, pytz (legacy)
    report = judge(audit(scenario, tmp_path / "cache"), ruleset)
    pin = next(p for p in report.proposals if p.action == "pin-application-dependencies")
    assert pin.change == [
        "9.1% of the direct dependencies are pinned by neither a lock nor an exact pin (listed "
        "under 'Unpinned dependencies' in the dependency section): commit a lock file (uv lock, "
        "poetry lock, pip-compile, npm install) so every build installs the same versions."
    ]
    withdrawn = next(p for p in report.proposals if p.action == "replace-withdrawn-versions")
    assert withdrawn.change[0] == (
        "Move off the yanked versions in use (1), to the latest or at least the next release that "
        "is not yanked: requests 2.32.0 -> 2.32.3: 0.02 libyears, 0 majors (requirements.txt:2)."
    )
    # the terminal names the same oldest dependencies in the same order
    terminal = RenderFormat.TERMINAL.to_renderer(color=False, width=140)(report)
    rows = [line.split("│")[1].strip() for line in terminal.splitlines() if line.startswith("│ ")]
    assert rows[:2] == ["ratelimited", "@sindresorhus/is"]


REPO_CHOSEN_REGISTRY = """\
[analyzers.dependencies]
pypi_url = "{url}"
"""


def audit_request(
    root: Path, cache_dir: Path, config_file: Path | None = None, *, strict: bool = False
) -> AuditReport:
    cache = SqliteCache(cache_dir)
    try:
        options = AuditOptions(
            cache=cache, clock=lambda: NOW, as_of=parse_as_of("2024-01-01"), strict=strict
        )
        request = AuditRequest(
            target=str(root), config_file=config_file, overrides={"enable": ["dependencies"]}
        )
        return run_request(request, options)
    finally:
        cache.close()


@pytest.mark.parametrize(
    ("config_name", "template", "path"),
    [
        (".ctoaudit.toml", REPO_CHOSEN_REGISTRY, ".ctoaudit.toml"),
        ("pyproject.toml", "[tool.ctoaudit.analyzers.dependencies]\npypi_url = \"{url}\"\n", "pyproject.toml"),
    ],
)  # fmt: skip
def test_registry_url_from_the_audited_repository_is_ignored(
    registry: RegistryServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    config_name: str,
    template: str,
    path: str,
) -> None:
    """A repository (e.g. an untrusted pull request) may not choose the hosts the auditor contacts."""
    with RegistryServer() as chosen_by_repo:
        chosen_by_repo.add_pypi("flask")
        # the user's own pip configuration points at the trusted registry
        monkeypatch.delenv("CTOAUDIT_PYPI_URL")
        monkeypatch.setenv("PIP_INDEX_URL", registry.url + "/simple/")
        root = write(tmp_path / "repo", {
            "requirements.txt": "flask==2.0.1\n",
            config_name: template.format(url=chosen_by_repo.url),
        })  # fmt: skip
        # --strict is about unmeasured dependencies: the ignored setting does not trip it
        report = audit_request(root, tmp_path / "cache", strict=True)
        assert chosen_by_repo.requests == []
    assert "/pypi/flask/json" in registry.requests
    result = report.analyzers["dependencies"]
    assert per_dependency(report)[("flask", "2.0.1")]["libyears"] > 0
    assert [(s.path, s.item) for s in result.skips] == [(path, "analyzers.dependencies.pypi_url")]
    assert result.skips[0].reason.startswith(
        "pypi_url from the audited repository's own config is ignored"
    )
    assert "CTOAUDIT_PYPI_URL" in result.skips[0].reason


def test_registry_url_from_an_explicit_config_file_is_used(
    registry: RegistryServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CTOAUDIT_PYPI_URL")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")  # never asked
    root = write(tmp_path / "repo", {"requirements.txt": "flask==2.0.1\n"})
    config = tmp_path / "ci" / ".ctoaudit.toml"
    write(tmp_path / "ci", {".ctoaudit.toml": REPO_CHOSEN_REGISTRY.format(url=registry.url)})
    report = audit_request(root, tmp_path / "cache", config_file=config)
    assert report.analyzers["dependencies"].skips == []
    assert "/pypi/flask/json" in registry.requests
    assert per_dependency(report)[("flask", "2.0.1")]["libyears"] > 0


def test_libraries_are_not_judged_on_pinning_or_coverage(
    registry: RegistryServer, tmp_path: Path
) -> None:
    root = write(tmp_path / "lib", {
        "pyproject.toml": '[project]\nname = "lib"\ndependencies = ["flask>=1", "django"]\n',
    })  # fmt: skip
    report = judge(audit(root, tmp_path / "cache"), load_ruleset())
    outcomes = {o.rule_id: o for o in report.outcomes if o.family == "DP"}
    assert (outcomes["DP129"].status.value, outcomes["DP129"].value) == ("fail", 0)
    for rule_id in ("DP130", "DP140"):
        assert outcomes[rule_id].status.value == "skip"
        assert outcomes[rule_id].reason == "requires DP129, which did not pass (fail)"
    assert [p.action for p in report.proposals] == []  # an info gate makes no proposal
    assert registry.requests == []  # nothing pinned: nothing to look up
