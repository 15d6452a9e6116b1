"""The tooling analyzer on real repositories' files, synthetic traps, bad input and user options."""

from __future__ import annotations

import json
import runpy
import time
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

import ctoaudit.analyzers.tooling as module
from ctoaudit.analyzers.tooling import METRICS, ToolingAnalyzer
from ctoaudit.config import Settings
from ctoaudit.engine import AuditOptions, run_audit
from ctoaudit.errors import ConfigError
from ctoaudit.model import AnalyzerResult, AnalyzerStatus, AuditReport
from ctoaudit.render.terminal import render
from ctoaudit.snapshot import DirectorySnapshot, open_snapshot

FIXTURES = Path(__file__).parent / "fixtures" / "tooling"
AUDIT_DAY = datetime(2026, 11, 26, 12, tzinfo=UTC)


def audit(
    root: Path, *, day: datetime = AUDIT_DAY, options: dict[str, Any] | None = None
) -> AuditReport:
    settings = Settings(jobs=1, analyzers={"tooling": options} if options else {})
    return run_audit(
        DirectorySnapshot(root),
        settings,
        {"tooling": ToolingAnalyzer},
        AuditOptions(clock=lambda: day),
    )


def tooling(root: Path, **kwargs: Any) -> AnalyzerResult:
    result = audit(root, **kwargs).analyzers["tooling"]
    assert result.status is AnalyzerStatus.OK, result.error
    return result


def detected(result: AnalyzerResult) -> dict[str, dict[str, Any]]:
    return {f.scope: f.data for f in result.facts if f.key == "tooling.detected"}


def values(result: AnalyzerResult, metric: str) -> dict[str, float]:
    return {m.scope: m.value for m in result.measurements if m.metric == metric}


def flagged(result: AnalyzerResult, metric: str) -> dict[str, float]:
    """Items of a metric that also measures the good cases as 0 (unused, duplicates, eol, replace)."""
    return {scope: v for scope, v in values(result, metric).items() if v}


def expected(name: str) -> dict[str, Any]:
    return tomllib.loads((FIXTURES / name / "expected.toml").read_text(encoding="utf-8"))


FIXTURE_NAMES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.toml").is_file())


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_detects_exactly_the_expected_tools(name: str) -> None:
    want = expected(name)
    found = detected(tooling(FIXTURES / name))
    assert sorted(found) == sorted(want["tools"])
    assert not set(want["absent"]) & set(found), "a trap was taken for evidence"
    for tool_id, data in found.items():
        assert data["evidence"], tool_id
        for evidence in data["evidence"]:
            assert (FIXTURES / name / evidence["path"]).is_file(), evidence
            assert evidence["line"] >= 1


def _evidence(data: dict[str, Any]) -> set[tuple[str, int, str]]:
    return {(e["path"], e["line"], e["usage"]) for e in data["evidence"]}


def test_requests_evidence_and_findings() -> None:
    result = tooling(FIXTURES / "requests")
    found = detected(result)
    assert found["ruff"]["usage"] == ["configured", "run"]
    assert (".pre-commit-config.yaml", 18, "run") in _evidence(found["ruff"])
    assert ("pyproject.toml", 86, "configured") in _evidence(found["ruff"])
    assert ("Makefile", 5, "run") in _evidence(found["pytest"])
    assert ("tox.ini", 10, "run") in _evidence(found["pytest"])
    assert (".github/workflows/typecheck.yml", 32, "run") in _evidence(found["pyright"])
    assert (".github/workflows/lint.yml", 24, "run") in _evidence(found["pre-commit"])
    assert (".github/workflows/lint.yml", 23, "installed") in _evidence(found["pre-commit"])
    # `pytest --cov ...` in the Makefile runs coverage through pytest-cov
    assert ("Makefile", 14, "run") in _evidence(found["coverage"])
    assert found["setup-py-invocation"]["status"] == "deprecated"
    assert found["setup-py-invocation"]["successor"] == "build"
    assert found["setup-py-invocation"]["source"]["date"] == "2021-10-19"
    assert values(result, "tooling.status.deprecated") == {"setup-py-invocation": 1}
    assert flagged(result, "tooling.unused") == {"tox": 1}  # tox.ini exists, nothing runs tox
    # trusted publishing (id-token: write, no password) is not a token upload
    assert values(result, "tooling.publish.tokens.total") == {"repo": 0}
    assert values(result, "tooling.stale_refs.total") == {"repo": 0}
    eol = next(m for m in result.measurements if m.metric == "tooling.python.eol")
    assert (eol.scope, eol.value, eol.path, eol.line) == (
        "3.10",
        26,
        ".github/workflows/run-tests.yml",
        15,
    )
    assert eol.labels["eol"] == "2026-10-31"
    missing = {k for k, v in values(result, "tooling.category.present").items() if v == 0}
    assert missing == {"containers", "environment", "secrets"}


def test_eol_depends_on_the_audit_date() -> None:
    before = tooling(FIXTURES / "requests", day=datetime(2026, 10, 1, tzinfo=UTC))
    assert flagged(before, "tooling.python.eol") == {}
    assert values(before, "tooling.python.eol_versions") == {"repo": 0}


def test_nose_is_an_old_stack() -> None:
    result = tooling(FIXTURES / "nose")
    found = detected(result)
    assert found["nose"]["status"] == "unmaintained"
    assert found["nose"]["successor"] == "pytest"
    assert found["travis-ci"]["status"] == "deprecated"
    assert values(result, "tooling.status.unmaintained") == {"nose": 1}
    nose = next(m for m in result.measurements if m.metric == "tooling.status.unmaintained")
    assert (nose.path, nose.line, nose.labels) == (
        "setup.cfg",
        1,
        {"category": "test", "successor": "pytest"},
    )
    assert set(values(result, "tooling.status.deprecated")) == {"travis-ci", "setup-py-invocation"}
    assert values(result, "tooling.tools.outdated") == {"repo": 3}
    eol = flagged(result, "tooling.python.eol")
    assert sorted(eol) == ["2.6", "2.7", "3.1", "3.2", "3.3", "3.4", "3.5"]
    assert eol["2.7"] == (AUDIT_DAY.date() - date(2020, 1, 1)).days
    # `{envpython} setup.py build_tests` in tox.ini and `python setup.py build_tests` on Travis
    assert {(".travis.yml", 14, "run"), ("tox.ini", 46, "run")} <= _evidence(
        found["setup-py-invocation"]
    )
    # factor-conditional tox deps (`py{26,27}: coverage >= 3.3`) install coverage
    assert ("tox.ini", 9, "installed") in _evidence(found["coverage"])


def test_repo_review_modern_stack() -> None:
    result = tooling(FIXTURES / "repo-review")
    found = detected(result)
    # the pygrep hook's regex `...|PyTest` is not a command: no pytest evidence from that file's line 75
    assert all(
        not (e["path"] == ".pre-commit-config.yaml" and e["line"] == 75)
        for e in found["pytest"]["evidence"]
    )
    assert found["pre-commit"]["usage"] == ["configured", "run"]  # pre-commit.ci runs it
    assert ("pyproject.toml", 122, "run") in _evidence(found["pylint"])  # a hatch env script
    assert ("package.json", 39, "run") in _evidence(found["eslint"])
    # pylint + ruff lint with different rule sets; prek runs pre-commit's own config: no duplicate
    assert flagged(result, "tooling.duplicates") == {}
    # Black is only blacken-docs' library here (ruff formats the code): nothing to replace
    black = next(
        m for m in result.measurements if m.metric == "tooling.replace" and m.scope == "black"
    )
    assert (black.value, black.path) == (0, ".pre-commit-config.yaml")
    assert flagged(result, "tooling.replace") == {}
    assert values(result, "tooling.unused.total") == {"repo": 0}
    assert values(result, "tooling.stale_refs.total") == {"repo": 0}  # `uses: ./` finds action.yml
    assert values(result, "tooling.categories.missing") == {"repo": 1}


def test_flask_runs_tools_through_native_tox_toml() -> None:
    result = tooling(FIXTURES / "flask")
    found = detected(result)
    assert ("pyproject.toml", 192, "run") in _evidence(found["pytest"])  # [tool.tox.env_run_base]
    assert found["mypy"]["usage"] == ["configured", "installed", "run"]
    assert ("pyproject.toml", 236, "run") in _evidence(found["pre-commit-autoupdate"])
    assert flagged(result, "tooling.unused") == {
        "coverage": 1
    }  # [tool.coverage] but nothing runs it


def test_poetry_local_actions_in_a_checkout_subfolder_are_not_stale() -> None:
    result = tooling(FIXTURES / "poetry")
    # `uses: ./poetry/.github/actions/...` after `actions/checkout` with `path: poetry`;
    # `./poetry-github/...` is a sparse checkout of this repository as well
    assert values(result, "tooling.stale_refs.total") == {"repo": 0}
    assert ".github/actions/poetry-install/action.yaml" in {
        e["path"] for e in detected(result)["poetry"]["evidence"]
    }


def test_traps_findings() -> None:
    result = tooling(FIXTURES / "traps")
    found = detected(result)
    token = next(m for m in result.measurements if m.metric == "tooling.publish.token")
    assert (token.scope, token.value, token.line) == (".github/workflows/ci.yml", 2, 32)
    assert values(result, "tooling.stale_ref") == {"missing-base.txt": 1}
    assert sorted(flagged(result, "tooling.python.eol")) == ["3.7", "3.8", "3.9"]
    # the GitLab merge key `<<: *base` gives `test` the base image and before_script
    assert (".gitlab-ci.yml", 10, "run") in _evidence(found["tox"])
    assert flagged(result, "tooling.duplicates") == {"ci": 2}
    assert set(flagged(result, "tooling.unused")) == {"nox", "pre-commit"}


def test_every_emitted_metric_is_declared() -> None:
    declared = {spec.key for spec in METRICS}
    assert len(FIXTURE_NAMES) == 8
    for name in FIXTURE_NAMES:
        result = tooling(FIXTURES / name)
        assert {m.metric for m in result.measurements} <= declared
        assert {f.key for f in result.facts} <= {"tooling.detected", "tooling.unparsed"}


def test_report_is_deterministic_and_terminal_shows_the_matrix() -> None:
    first = audit(FIXTURES / "repo-review").model_dump_json()
    second = audit(FIXTURES / "repo-review").model_dump_json()
    assert first == second
    text = render(audit(FIXTURES / "nose"), width=200)
    assert "Tool usage" in text
    assert "unmaintained -> pytest" in text
    assert "Categories with no tool:" in text
    assert "End-of-life Python in CI: 2.6 (EOL 2013-10-29, .travis.yml:3)" in text


# ------------------------------------------------------------------------------ bad input


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return root


def skips(result: AnalyzerResult) -> dict[str, str]:
    return {s.path or "": s.reason for s in result.skips}


def test_malformed_files_are_reported_and_the_audit_continues(tmp_path: Path) -> None:
    root = write(tmp_path, {
        ".github/workflows/bad.yml": "jobs:\n  x:\n    steps: [\n",
        ".github/workflows/good.yml": "jobs:\n  x:\n    steps:\n      - run: pytest\n",
        "pyproject.toml": "[tool.ruff\nline-length = 1\n",
        "package.json": '{"devDependencies": {"eslint": }',
        ".travis.yml": b"\x00\x01binary",
        "Makefile": b"lint:\n\truff check . \xff\n",
        "noxfile.py": "def (:\n",
    })  # fmt: skip
    result = tooling(root)
    reasons = skips(result)
    assert reasons[".github/workflows/bad.yml"].startswith("invalid YAML: line 4")
    assert reasons["pyproject.toml"].startswith("invalid TOML")
    assert reasons["package.json"].startswith("invalid JSON: line 1")
    assert reasons[".travis.yml"] == "binary content (NUL bytes)"
    assert reasons["Makefile"] == "not valid UTF-8: byte 0xff at offset 20"
    assert reasons["noxfile.py"].startswith("invalid Python")
    assert "pytest" in detected(result)  # the good workflow still counts
    unparsed = {f.scope: f.data["reason"] for f in result.facts if f.key == "tooling.unparsed"}
    assert set(unparsed) == set(reasons)
    assert values(result, "tooling.files.unparsed") == {"repo": 6}


def test_yaml_alias_bomb_is_bounded(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x", "y", "z", "w", "v", "u", "t", "s", "r"]']
    lines += [
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]"
        for i in range(1, 10)
    ]
    root = write(tmp_path, {".gitlab-ci.yml": "\n".join(lines) + "\n"})
    started = time.perf_counter()
    result = tooling(root)
    assert time.perf_counter() - started < 20
    assert "YAML alias expansion" in skips(result)[".gitlab-ci.yml"]


def test_huge_ci_files(tmp_path: Path) -> None:
    steps = "".join(
        f"      - name: step {i}\n        run: echo {i} && pytest -k t{i}\n" for i in range(4000)
    )
    big = "jobs:\n  t:\n    steps:\n" + steps
    root = write(
        tmp_path,
        {".github/workflows/big.yml": big, ".gitlab-ci.yml": "x: 1\n" + "#" * 3_000_000 + "\n"},
    )
    result = tooling(root)
    assert len(big) > 250_000
    assert "pytest" in detected(result)
    assert detected(result)["pytest"]["evidence_total"] == 4000
    assert len(detected(result)["pytest"]["evidence"]) == 20  # max_evidence
    assert "over the 2,097,152-byte limit" in skips(result)[".gitlab-ci.yml"]


def test_anchors_merge_keys_and_gitlab_reference_tags(tmp_path: Path) -> None:
    gitlab = (
        ".setup: &setup\n  before_script:\n    - pip install ruff\n"
        "lint:\n  <<: *setup\n  script:\n    - !reference [.setup, before_script]\n    - ruff check .\n"
    )
    result = tooling(write(tmp_path, {".gitlab-ci.yml": gitlab}))
    ruff = detected(result)["ruff"]
    assert ruff["usage"] == ["installed", "run"]
    assert (".gitlab-ci.yml", 8, "run") in _evidence(ruff)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_unusual_encodings(tmp_path: Path, encoding: str) -> None:
    workflow = "# é comment\njobs:\n  t:\n    steps:\n      - run: mypy src\n"
    root = write(tmp_path, {".github/workflows/ci.yml": workflow.encode(encoding)})
    assert (".github/workflows/ci.yml", 5, "run") in _evidence(detected(tooling(root))["mypy"])


def test_nothing_from_the_repository_is_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    payload = f"open({str(marker)!r}, 'w').write('x')\n"
    root = write(tmp_path / "repo", {
        "noxfile.py": "import nox\n" + payload + "@nox.session\ndef t(session):\n    session.run('pytest')\n",
        "setup.py": payload,
        "conftest.py": payload,
        ".github/workflows/x.yml": "on: !!python/object/apply:os.system ['touch " + str(marker) + "']\njobs: {}\n",
    })  # fmt: skip
    result = tooling(root)
    assert not marker.exists()
    assert "pytest" in detected(result)
    assert ".github/workflows/x.yml" in skips(result)  # python/ tags are refused by the safe loader


# ------------------------------------------------------------------------------ options


def test_options_add_override_and_disable_tools(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {"pyproject.toml": "[tool.black]\n[tool.acme-lint]\n", "Makefile": "x:\n\tblack .\n"},
    )
    options = {
        "tools": [
            {
                "id": "acme-lint",
                "name": "ACME lint",
                "category": "lint",
                "detect": {"pyproject": ["tool.acme-lint"]},
            }
        ],
        "overrides": {
            "black": {
                "status": "superseded",
                "successor": "ruff",
                "rationale": "house rule",
                "source": {"url": "https://example.org/adr/7", "date": "2026-01"},
            }
        },
        "disable": ["make"],
    }
    found = detected(tooling(root, options=options))
    assert set(found) == {"acme-lint", "black"}
    assert found["black"]["status"] == "superseded"
    assert found["black"]["source"] == {"url": "https://example.org/adr/7", "date": "2026-01"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"overrides": {"nope": {"status": "fine"}}},
            "unknown tool id(s) in overrides/disable: nope",
        ),
        (
            {"overrides": {"pylint": {"status": "deprecated"}}},
            "needs a rationale and a dated source",
        ),
        (
            {"tools": [{"id": "Bad Id", "name": "x", "category": "lint"}]},
            "id: String should match pattern",
        ),
        ({"tools": [{"id": "x", "name": "x", "category": "nope"}]}, "unknown category 'nope'"),
    ],
)
def test_bad_options_are_config_errors(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        audit(tmp_path, options=options)


def test_json_report_roundtrip(tmp_path: Path) -> None:
    report = audit(FIXTURES / "traps")
    data = json.loads(report.model_dump_json())
    facts = [f for f in data["analyzers"]["tooling"]["facts"] if f["key"] == "tooling.detected"]
    ruff = next(f for f in facts if f["scope"] == "ruff")
    assert ruff["data"]["category"] == "lint"
    assert ruff["data"]["usage"] == ["configured", "run"]
    assert ruff["data"]["evidence"][0] == {
        "path": ".pre-commit-config.yaml", "line": 5, "signal": "hook ruff", "usage": "run",
        "detail": "pre-commit hook from https://github.com/astral-sh/ruff-pre-commit",
    }  # fmt: skip


def test_precision_script_prints_figures(capsys: pytest.CaptureFixture[str]) -> None:
    script = runpy.run_path(str(Path(__file__).parents[1] / "benchmarks" / "tooling_precision.py"))
    assert script["main"]() == 0
    out = capsys.readouterr().out
    assert "precision 1.000  recall 1.000" in out
    assert ", 0 detected" in out


def test_self_audit_ignores_fixture_folders() -> None:
    result = tooling(Path(__file__).parents[1])
    found = detected(result)
    assert {"ruff", "mypy", "pytest", "hatchling", "coverage"} <= set(found)
    paths = {e["path"] for data in found.values() for e in data["evidence"]}
    assert not any(p.startswith("tests/fixtures/") for p in paths)
    assert values(result, "tooling.stale_refs.total") == {"repo": 0}


def test_a_collector_bug_on_one_file_is_a_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = module.collector_for

    def broken(path: str) -> Any:
        if path == "Makefile":
            return lambda _path, _text: {}["boom"]
        return real(path)

    monkeypatch.setattr(module, "collector_for", broken)
    root = write(tmp_path, {"Makefile": "x:\n\truff .\n", ".pre-commit-config.yaml": "repos: []\n"})
    result = tooling(root)
    assert skips(result) == {"Makefile": "could not read its structure: KeyError: 'boom'"}
    assert "pre-commit" in detected(result)


def test_example_project_old_stack() -> None:
    result = tooling(Path(__file__).parents[1] / "examples" / "inventory-service")
    found = detected(result)
    assert set(found) == {
        "black",
        "flake8",
        "isort",
        "nose",
        "pytest",
        "setuptools",
        "tox",
        "travis-ci",
    }
    assert {tool: data["successor"] for tool, data in found.items() if data.get("successor")} == {
        "black": "ruff", "flake8": "ruff", "isort": "ruff", "nose": "pytest", "travis-ci": "github-actions",
    }  # fmt: skip
    assert found["flake8"]["usage"] == ["configured", "installed", "run"]
    assert found["nose"]["usage"] == ["installed"]
    assert sorted(flagged(result, "tooling.python.eol")) == ["3.6", "3.7", "3.8"]
    assert values(result, "tooling.tools.outdated") == {"repo": 4}


def test_audit_of_an_older_commit_reads_git_objects(make_repo: Any, tmp_path: Path) -> None:
    repo = make_repo()
    old = repo.commit(
        {".travis.yml": "language: python\npython: ['2.7']\nscript: nosetests\n"}, "travis"
    )
    repo.git("rm", "-q", ".travis.yml")
    repo.commit(
        {".github/workflows/ci.yml": "jobs:\n  t:\n    steps:\n      - run: pytest\n"}, "actions"
    )
    snapshot = open_snapshot(str(repo.path), ref=old, cache_root=tmp_path / "cache")
    report = run_audit(
        snapshot,
        Settings(jobs=1),
        {"tooling": ToolingAnalyzer},
        AuditOptions(clock=lambda: AUDIT_DAY),
    )
    result = report.analyzers["tooling"]
    assert set(detected(result)) == {"nose", "travis-ci"}
    assert flagged(result, "tooling.python.eol") == {
        "2.7": (AUDIT_DAY.date() - date(2020, 1, 1)).days
    }
    assert (repo.path / ".github/workflows/ci.yml").is_file()  # the working tree is untouched


def test_cibuildwheel_runs_on_four_ci_services() -> None:
    result = tooling(FIXTURES / "cibuildwheel")
    dup = next(
        m for m in result.measurements if m.metric == "tooling.duplicates" and m.scope == "ci"
    )
    assert (dup.value, dup.labels) == (
        3,
        {"job": "ci", "tools": "azure-pipelines, circleci, github-actions, gitlab-ci"},
    )
    # pylint next to ruff is not a duplicate (different rule sets), nor prek next to pre-commit
    # (prek runs pre-commit's own configuration)
    assert set(flagged(result, "tooling.duplicates")) == {"ci"}
    found = detected(result)
    assert (".gitlab-ci.yml", 22, "run") in _evidence(found["docker"])
    assert ("azure-pipelines.yml", 77, "run") in _evidence(found["docker"])
    assert values(result, "tooling.python.eol_versions") == {
        "repo": 0
    }  # python:3.13 image, 3.11+ matrix
