"""The pieces under the tooling analyzer: catalogue, command lines, parsers, collectors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ctoaudit.analyzers.tooling import python_eol_table
from ctoaudit.tooling.catalogue import OUTDATED, Status, ToolSpec, builtin_catalogue
from ctoaudit.tooling.ci import (
    collect_github_workflow,
    collect_gitlab,
    collect_jenkinsfile,
    collect_precommit,
)
from ctoaudit.tooling.collectors import collector_for
from ctoaudit.tooling.commands import requirement_name, scan_script
from ctoaudit.tooling.evidence import image_python, python_version, tox_envs
from ctoaudit.tooling.parsing import LineStr, ParseError, load_jsonc, load_yaml, parse_ini
from ctoaudit.tooling.python_project import collect_pyproject, collect_tox_ini
from ctoaudit.tooling.runners import collect_makefile


def test_catalogue_size_categories_and_sources() -> None:
    catalogue = builtin_catalogue()
    assert len(catalogue.tools) >= 80
    per_category = {
        c: [t for t in catalogue.tools if t.category == c] for c in catalogue.categories
    }
    assert all(per_category.values()), [c for c, tools in per_category.items() if not tools]
    assert len(catalogue.categories) == 16
    for tool in catalogue.tools:
        if tool.status is not Status.FINE or tool.successor:
            assert tool.rationale, tool.id
            assert tool.source, tool.id
        if tool.status in OUTDATED:
            assert tool.successor, f"{tool.id}: an outdated tool names what replaces it"
    outdated = {t.id for t in catalogue.tools if t.status in OUTDATED}
    assert {
        "nose",
        "travis-ci",
        "setup-py-test",
        "flake8",
        "isort",
        "pyupgrade",
        "pydocstyle",
    } <= outdated


def test_unsourced_claims_are_rejected() -> None:
    with pytest.raises(ValidationError, match="needs a rationale and a dated source"):
        ToolSpec(id="x", name="x", category="lint", status=Status.DEPRECATED)
    with pytest.raises(ValidationError, match="needs a rationale"):
        ToolSpec(id="x", name="x", category="lint", successor="ruff")


def test_python_eol_table() -> None:
    table = python_eol_table()
    assert table["2.7"].isoformat() == "2020-01-01"
    assert table["3.8"].isoformat() == "2024-10-07"
    assert set(table) >= {f"3.{minor}" for minor in range(14)}


def programs(script: str) -> list[str]:
    return [i.program for i in scan_script(script, 1).invocations]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("# ruff check .", []),
        ("echo flake8", ["echo"]),
        ("python -m pytest -q", ["pytest"]),
        ("python3.12 -m pip install x", ["pip"]),
        ("uv run --frozen mypy src", ["uv", "mypy"]),
        ("poetry run coverage run -m pytest", ["poetry", "coverage", "pytest"]),
        ("FOO=1 sudo -E env tox -e py", ["tox"]),
        (
            "cd docs && make html; sphinx-build . _build || true",
            ["cd", "make", "sphinx-build", "true"],
        ),
        ("npx eslint . | tee out", ["npx", "eslint", "tee"]),
        ("{envpython} setup.py test", ["setup.py"]),
        ("./.venv/bin/black --check .", ["black"]),
        ("pytest 'unbalanced", ["pytest"]),
    ],
)
def test_programs_of_a_command_line(script: str, expected: list[str]) -> None:
    assert programs(script) == expected


def test_installs_and_requirement_files() -> None:
    scan = scan_script(
        "pip install -U pip -r req/dev.txt 'black[jupyter]>=24' -e . && uv pip install ruff==0.6", 7
    )
    assert scan.installs == [("pip", 7), ("black", 7), ("ruff", 7)]
    assert scan.file_refs == [("req/dev.txt", 7, "pip -r")]
    assert requirement_name("Flake8_Bugbear>=23; python_version>'3.8'") == "flake8-bugbear"
    assert requirement_name("git+https://x/y.git") is None


def test_yaml_strings_know_their_lines() -> None:
    docs = load_yaml("a: 1\nb: |\n  x\n  y\nc: 3.10\nd: [on, off]\n")
    data = docs[0]
    assert isinstance(data["b"], LineStr)
    assert (data["b"].line, data["b"].block) == (2, True)
    assert data["c"] == "3.10"  # not the float 3.1
    assert data["d"] == [True, False]
    with pytest.raises(ParseError, match="line 2, column 1"):
        load_yaml("a: [\n")


def test_ini_and_jsonc() -> None:
    sections = parse_ini(
        "# c\n[flake8]\nmax-line-length = 100\n; [isort]\n[tox]\nenvlist =\n  py38\n  py39\n"
    )
    assert [(s.name, s.line) for s in sections] == [("flake8", 2), ("tox", 5)]
    assert sections[1].values["envlist"] == ("\npy38\npy39", 6)
    assert load_jsonc('{\n // c\n "a": "http://x", /* b */ "b": [1,],\n}') == {
        "a": "http://x",
        "b": [1],
    }


@pytest.mark.parametrize(
    ("text", "version"),
    [("3.10", "3.10"), ("3.8.10", "3.8"), ("3.11-dev", "3.11"), ("py37", "3.7"), ("py310", "3.10"),
     ("python3.6", "3.6"), ("2.7", "2.7"), ("pypy-3.9", None), ("3.x", None), ("${{ matrix.python }}", None)],
)  # fmt: skip
def test_python_versions(text: str, version: str | None) -> None:
    assert python_version(text) == version


def test_images_and_tox_envlists() -> None:
    assert image_python("cimg/python:3.8-node") == "3.8"
    assert image_python("docker.io/library/python:3.12-slim") == "3.12"
    assert image_python("node:18") is None
    assert tox_envs("py{38,39}-django{42,50}, lint") == [
        "py38-django42", "py38-django50", "py39-django42", "py39-django50", "lint",
    ]  # fmt: skip


def signals(collected: object) -> set[tuple[str, str, int, str]]:
    return {(s.kind, s.value, s.line, s.usage.value) for s in collected.signals}  # type: ignore[attr-defined]


def test_github_workflow_signals() -> None:
    text = (
        "jobs:\n  t:\n    steps:\n      - uses: actions/setup-python@v5\n"
        "      - run: |\n          pip install tox\n          # flake8 .\n          tox -e lint\n"
        "      - uses: ./.github/actions/setup\n"
    )
    out = collect_github_workflow(".github/workflows/ci.yml", text)
    assert {
        ("action", "actions/setup-python", 4, "run"),
        ("package", "tox", 6, "installed"),
        ("command", "tox", 8, "run"),
    } <= signals(out)
    assert not any(s.value == "flake8" for s in out.signals)
    assert [r.target for r in out.refs] == [
        ".github/actions/setup/action.yml|.github/actions/setup/action.yaml"
    ]


def test_precommit_pyproject_tox_make_jenkins() -> None:
    pre = collect_precommit(
        ".pre-commit-config.yaml",
        "repos:\n- repo: https://github.com/PyCQA/flake8.git\n  hooks:\n  - id: flake8\n    additional_dependencies: [flake8-bugbear]\n",
    )
    assert {
        ("hook", "flake8", 4, "run"),
        ("hook_repo", "https://github.com/pycqa/flake8", 4, "run"),
        ("package", "flake8-bugbear", 5, "installed"),
    } <= signals(pre)
    py = collect_pyproject(
        "pyproject.toml",
        '[build-system]\nbuild-backend = "hatchling.build"\n\n[dependency-groups]\ndev = [\n  "mypy>=1",\n]\n\n[tool.mypy]\nstrict = true\n',
    )
    assert {
        ("backend", "hatchling.build", 2, "configured"),
        ("package", "mypy", 6, "installed"),
        ("pyproject", "tool.mypy", 9, "configured"),
    } <= signals(py)
    tox = collect_tox_ini(
        "tox.ini",
        "[tox]\nenvlist = py38\n[testenv]\ndeps =\n    pytest\ncommands =\n    pytest {posargs}\n",
    )
    assert {
        ("ini", "tox", 1, "configured"),
        ("package", "pytest", 5, "installed"),
        ("command", "pytest", 7, "run"),
    } <= signals(tox)
    assert [(p.version, p.line) for p in tox.pythons] == [("3.8", 2)]
    make = collect_makefile(
        "Makefile", "# isort .\nlint:\n\t@ruff check . \\\n\t  --fix\n\t-mypy src  # pylint\n"
    )
    assert {(s.value, s.line) for s in make.signals} == {("ruff", 3), ("mypy", 5)}
    jenkins = collect_jenkinsfile(
        "Jenkinsfile", "// sh 'pylint x'\nnode {\n  sh '''\n    pytest\n  '''\n  bat \"tox\"\n}\n"
    )
    assert {(s.value, s.line) for s in jenkins.signals} == {("pytest", 4), ("tox", 6)}


@pytest.mark.parametrize(
    ("path", "name"),
    [(".github/workflows/a.yaml", "collect_github_workflow"), ("sub/pyproject.toml", None), ("docs/requirements.txt", "collect_requirements"),
     ("requirements-dev.txt", "collect_requirements"), ("services/api/Dockerfile", "collect_dockerfile"), ("README.md", None)],
)  # fmt: skip
def test_collector_dispatch(path: str, name: str | None) -> None:
    collector = collector_for(path)
    assert (collector.__name__ if collector else None) == name


def test_token_uploads_only_where_trusted_publishing_applies() -> None:
    gitlab = (
        "pypi:\n  script:\n    - twine upload dist/*\n"
        "oidc:\n  id_tokens:\n    PYPI_ID_TOKEN: {aud: pypi}\n  script:\n    - twine upload dist/*\n"
        "internal:\n  script:\n    - TWINE_PASSWORD=${CI_JOB_TOKEN} twine upload --repository-url ${CI_API_V4_URL}/projects/1/packages/pypi dist/*\n"
    )
    assert [(u.line, u.method) for u in collect_gitlab(".gitlab-ci.yml", gitlab).uploads] == [
        (3, "twine upload in job pypi without id_tokens")
    ]
    github = (
        "jobs:\n  a:\n    steps:\n"
        "      - run: twine upload --repository-url https://nexus.example.com/pypi -p ${{ secrets.NEXUS }} dist/*\n"
        "      - run: twine upload -u __token__ -p ${{ secrets.PYPI }} dist/*\n"
        "      - uses: pypa/gh-action-pypi-publish@release/v1\n"
    )
    assert [
        u.line for u in collect_github_workflow(".github/workflows/release.yml", github).uploads
    ] == [5]


CIRCLECI = """\
version: 2.1
jobs:
  test:
    docker:
      - image: cimg/python:3.8
    steps:
      - checkout
      - run: pip install tox
      - run:
          name: tests
          command: tox -e py38
"""
AZURE = """\
strategy:
  matrix:
    py37:
      python.version: '3.7'
steps:
  - task: UsePythonVersion@0
    inputs:
      versionSpec: '$(python.version)'
  - script: |
      python -m pip install nox
      nox -s tests
  - bash: mypy src
"""


@pytest.mark.parametrize(
    ("path", "text", "expected", "pythons"),
    [
        (".circleci/config.yml", CIRCLECI, {("package", "tox", 8), ("command", "tox", 11)}, {("3.8", 5)}),
        ("azure-pipelines.yml", AZURE, {("package", "nox", 10), ("command", "nox", 11), ("command", "mypy", 12)}, {("3.7", 4)}),
        ("appveyor.yml", "install:\n  - cmd: pip install pytest\ntest_script:\n  - pytest\n", {("package", "pytest", 2), ("command", "pytest", 4)}, set()),
        ("bitbucket-pipelines.yml", "image: python:3.6\npipelines:\n  default:\n    - step:\n        script:\n          - pytest\n", {("command", "pytest", 6)}, {("3.6", 1)}),
        ("Dockerfile", "FROM python:3.9-slim AS base\nRUN pip install --no-cache-dir \\\n    uv && uv sync\n# RUN pytest\n", {("package", "uv", 2), ("command", "uv", 2)}, {("3.9", 1)}),
        (".devcontainer/devcontainer.json", '{\n  // dev\n  "image": "mcr.microsoft.com/devcontainers/python:3.11",\n  "postCreateCommand": "pip install pre-commit && pre-commit install",\n}\n', {("package", "pre-commit", 4), ("command", "pre-commit", 4)}, {("3.11", 3)}),
        ("justfile", "# just lint\nlint:\n    ruff check .\n", {("command", "ruff", 3)}, set()),
        ("Taskfile.yml", "tasks:\n  lint:\n    cmds:\n      - ruff check .\n", {("command", "ruff", 4)}, set()),
        ("Pipfile", '[packages]\nrequests = "*"\n\n[dev-packages]\npytest = "*"\n', {("package", "pytest", 5)}, set()),
        ("Pipfile.lock", '{"default": {"requests": {}}, "develop": {"black": {"version": "==24.1.0"}}}', {("package", "black", 1)}, set()),
        ("environment.yml", "dependencies:\n  - python=3.11\n  - pytest\n  - pip:\n    - ruff==0.6\n", {("package", "python", 2), ("package", "pytest", 3), ("package", "ruff", 5)}, set()),
        ("requirements/dev.txt", "-r base.txt\n-c ../constraints.txt\nflake8==7  # lint\n# isort\n", {("package", "flake8", 3)}, set()),
    ],
)  # fmt: skip
def test_collectors(
    path: str, text: str, expected: set[tuple[str, str, int]], pythons: set[tuple[str, int]]
) -> None:
    collector = collector_for(path)
    assert collector is not None
    out = collector(path, text)
    assert {(s.kind, s.value, s.line) for s in out.signals if s.value != "pip"} == expected
    assert {(p.version, p.line) for p in out.pythons} == pythons


def test_requirement_files_reference_relative_to_their_folder() -> None:
    out = collector_for("requirements/dev.txt")(
        "requirements/dev.txt", "-r base.txt\n-c ../constraints.txt\n"
    )  # type: ignore[misc]
    assert [(r.target, r.line) for r in out.refs] == [
        ("requirements/base.txt", 1),
        ("constraints.txt", 2),
    ]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("$(PYTHON) -m pytest tests", ["pytest"]),
        ("$(VENV)/bin/mypy src", ["mypy"]),
        ("${{ steps.py.outputs.python-path }} -m pytest", ["pytest"]),
        ("tox -e ${{ matrix.env }}", ["tox"]),
        ("SOURCE_DATE_EPOCH=$(git log -1 --pretty=%ct) python -m build", ["git", "build"]),
    ],
)
def test_variables_and_expressions(script: str, expected: list[str]) -> None:
    assert programs(script) == expected


def test_templated_requirement_files_are_not_checked() -> None:
    assert scan_script("$PYTHON -m pip install -r $REQS flake8", 1).file_refs == [
        ("$reqs", 1, "pip -r")
    ]
