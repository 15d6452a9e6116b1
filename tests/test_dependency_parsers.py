"""Manifest and lock parsers: what each format declares, and how the repository's set is merged."""

from __future__ import annotations

import json

from ctoaudit.dependencies.collect import merge, parse_all
from ctoaudit.dependencies.model import Ecosystem, Group
from ctoaudit.dependencies.requirements import is_requirements_file, parse_requirements


def reader(files: dict[str, str]):
    return files.get


def by_name(items):
    return {i.name: i for i in items}


def test_requirements_lines_includes_constraints_and_options() -> None:
    files = {
        "requirements.txt": (
            "# pinned by hand\n"
            "--index-url https://mirror.invalid/simple\n"
            "-r base.txt\n"
            "-c constraints.txt\n"
            "Flask[async]==2.0.1 ; python_version >= '3.8'  # web\n"
            "requests==2.25.1 \\\n"
            "    --hash=sha256:aaaa \\\n"
            "    --hash=sha256:bbbb\n"
            "urllib3>=1.26\n"
            "-e ./libs/shared\n"
            "git+https://github.com/org/tool.git#egg=Tool\n"
            "mylib @ https://example.invalid/mylib-1.0.tar.gz\n"
            "numpy==1.*\n"
            "this is not valid\n"
        ),
        "base.txt": "six===1.16.0\n-r requirements.txt\n",
        "constraints.txt": "urllib3==1.26.5\nidna==3.1\n",
    }
    parsed = parse_requirements("requirements.txt", reader(files))
    deps = by_name(parsed.items)
    assert deps["flask"].version == "2.0.1"
    assert deps["flask"].line == 5
    assert deps["requests"].version == "2.25.1"
    assert deps["requests"].line == 6
    assert deps["six"].version == "1.16.0"
    assert deps["six"].path == "base.txt"
    assert deps["urllib3"].version == "1.26.5"  # pinned only by the constraint file
    assert "idna" not in deps  # a constraint alone is not a dependency
    assert deps["numpy"].version is None  # a wildcard is a range
    assert deps["tool"].unresolved.startswith("URL or path requirement")
    assert deps["mylib"].unresolved.startswith("direct URL requirement")
    assert deps["./libs/shared"].unresolved.startswith("editable requirement")
    assert parsed.problems == [
        (
            "requirements.txt",
            "line 14: invalid requirement 'this is not valid': "
            + parsed.problems[0][1].split(": ", 2)[2],
        )
    ]


def test_missing_include_is_a_problem_not_a_crash() -> None:
    parsed = parse_requirements(
        "reqs/requirements-dev.txt",
        reader({"reqs/requirements-dev.txt": "-r ../nowhere.txt\npytest==8.0.0\n"}),
    )
    assert [i.name for i in parsed.items] == ["pytest"]
    assert parsed.items[0].group is Group.DEV
    assert parsed.problems == [
        (
            "reqs/requirements-dev.txt",
            "reqs/requirements-dev.txt:1: cannot read included file nowhere.txt",
        )
    ]


def test_requirements_file_names() -> None:
    assert is_requirements_file("requirements.txt")
    assert is_requirements_file("ci/requirements-dev.in")
    assert is_requirements_file("requirements/base.txt")
    assert not is_requirements_file("MANIFEST.in")
    assert not is_requirements_file("docs/notes.txt")


PYPROJECT = """\
[project]
name = "Demo_App"
dependencies = ["flask==2.0.1", "requests>=2", "demo-app[extra]"]
[project.optional-dependencies]
postgres = ["psycopg2==2.9.1"]
test = ["pytest==7.0.0"]
[dependency-groups]
lint = ["ruff==0.1.0", {include-group = "test"}]
[tool.poetry.dependencies]
python = "^3.11"
django = "3.2.4"
celery = "^5.0"
tool = { git = "https://github.com/org/tool.git" }
[tool.poetry.group.docs.dependencies]
sphinx = { version = "==4.0.0" }
"""


def test_pyproject_pep621_groups_and_poetry() -> None:
    parsed = parse_all(["pyproject.toml"], reader({"pyproject.toml": PYPROJECT}))
    deps = by_name(parsed.items)
    assert "demo-app" not in deps  # the project itself
    assert (deps["flask"].version, deps["flask"].group, deps["flask"].line) == (
        "2.0.1",
        Group.MAIN,
        3,
    )
    assert deps["requests"].version is None
    assert deps["psycopg2"].group is Group.OPTIONAL
    assert deps["pytest"].group is Group.DEV
    assert (deps["ruff"].version, deps["ruff"].group) == ("0.1.0", Group.DEV)
    assert (deps["django"].version, deps["django"].line) == ("3.2.4", 11)
    assert deps["celery"].version is None
    assert deps["tool"].unresolved is not None
    assert (deps["sphinx"].version, deps["sphinx"].group) == ("4.0.0", Group.DEV)
    assert "python" not in deps


def test_lock_resolves_and_marks_direct() -> None:
    files = {
        "app/pyproject.toml": '[project]\nname = "app"\ndependencies = ["Flask>=2"]\n',
        "app/uv.lock": (
            "version = 1\n"
            '[[package]]\nname = "app"\nversion = "0.1.0"\nsource = { editable = "." }\n'
            '[[package]]\nname = "flask"\nversion = "2.0.1"\nsource = { registry = "https://pypi.org/simple" }\n'
            '[[package]]\nname = "werkzeug"\nversion = "2.0.2"\nsource = { registry = "https://pypi.org/simple" }\n'
            '[[package]]\nname = "private"\nversion = "1.0"\nsource = { git = "https://github.com/org/private" }\n'
        ),
    }
    parsed = parse_all(sorted(files), reader(files))
    deps = by_name(parsed.items)
    assert "app" not in deps
    assert (deps["flask"].version, deps["flask"].direct, deps["flask"].path) == (
        "2.0.1",
        True,
        "app/pyproject.toml",
    )
    assert (
        deps["werkzeug"].version,
        deps["werkzeug"].direct,
        deps["werkzeug"].path,
        deps["werkzeug"].line,
    ) == ("2.0.2", False, "app/uv.lock", 11)
    assert deps["private"].unresolved == "git source, not a registry"


def test_other_python_locks() -> None:
    files = {
        "a/poetry.lock": '[[package]]\nname = "Django"\nversion = "3.2.4"\ncategory = "main"\n[[package]]\nname = "pytest"\nversion = "7.0.0"\ncategory = "dev"\n',
        "b/pdm.lock": '[[package]]\nname = "attrs"\nversion = "21.2.0"\n',
        "c/pylock.toml": 'lock-version = "1.0"\n[[packages]]\nname = "idna"\nversion = "3.4"\n[[packages]]\nname = "local"\ndirectory = { path = "./local" }\n',
        "d/Pipfile": '[packages]\nrequests = "*"\n[dev-packages]\nblack = "==22.1.0"\n',
        "d/Pipfile.lock": json.dumps(
            {
                "_meta": {},
                "default": {
                    "requests": {"version": "==2.26.0"},
                    "certifi": {"version": "==2021.5.30"},
                },
                "develop": {
                    "black": {"version": "==22.1.0"},
                    "mine": {"editable": True, "path": "."},
                },
            },
            indent=4,
        ),
    }
    parsed = parse_all(sorted(files), reader(files))
    got = {
        (i.name, i.version, i.direct, i.group.value) for i in parsed.items if i.unresolved is None
    }
    assert got == {
        ("django", "3.2.4", False, "main"),
        ("pytest", "7.0.0", False, "dev"),
        ("attrs", "21.2.0", False, "main"),
        ("idna", "3.4", False, "main"),
        ("requests", "2.26.0", True, "main"),
        ("certifi", "2021.5.30", False, "main"),
        ("black", "22.1.0", True, "dev"),
    }
    assert {i.name for i in parsed.items if i.unresolved} == {"local", "mine"}
    assert parsed.problems == []


def test_malformed_locks_fall_back_to_manifest_pins() -> None:
    files = {
        "pyproject.toml": '[project]\nname = "x"\ndependencies = ["flask==2.0.1", "click>=8"]\n',
        "poetry.lock": "[[package]\nname = broken",
        "web/package.json": '{"dependencies": {"left-pad": "1.3.0", "lodash": "^4.17.0"}}',
        "web/package-lock.json": '{"lockfileVersion": 3, "packages": {',
    }
    parsed = parse_all(sorted(files), reader(files))
    deps = by_name(parsed.items)
    assert deps["flask"].version == "2.0.1"
    assert deps["left-pad"].version == "1.3.0"
    assert deps["lodash"].version is None
    problems = dict(parsed.problems)
    assert problems["poetry.lock"].startswith("invalid TOML: ")
    assert problems["web/package-lock.json"].startswith("invalid JSON: ")


PACKAGE_LOCK = {
    "name": "web",
    "lockfileVersion": 3,
    "packages": {
        "": {
            "name": "web",
            "dependencies": {"@sindresorhus/is": "^4.0.0"},
            "devDependencies": {"left-pad": "^1.0.0"},
        },
        "node_modules/@sindresorhus/is": {
            "version": "4.0.0",
            "resolved": "https://registry.npmjs.org/@sindresorhus/is/-/is-4.0.0.tgz",
        },
        "node_modules/left-pad": {
            "version": "1.1.3",
            "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.1.3.tgz",
            "dev": True,
        },
        "node_modules/request": {
            "version": "2.88.0",
            "resolved": "https://registry.npmjs.org/request/-/request-2.88.0.tgz",
        },
        "node_modules/request/node_modules/left-pad": {
            "version": "1.0.0",
            "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.0.0.tgz",
        },
        "node_modules/linked": {"resolved": "packages/linked", "link": True},
        "node_modules/from-git": {
            "version": "1.0.0",
            "resolved": "git+ssh://git@github.com/org/from-git.git#abc",
        },
    },
}


def test_package_lock_v3_scoped_nested_and_direct() -> None:
    files = {
        "package.json": json.dumps(
            {
                "dependencies": {"@sindresorhus/is": "^4.0.0"},
                "devDependencies": {"left-pad": "^1.0.0"},
            },
            indent=2,
        ),
        "package-lock.json": json.dumps(PACKAGE_LOCK, indent=2),
    }
    parsed = parse_all(sorted(files), reader(files))
    got = sorted(
        (i.name, i.version, i.direct, i.group.value) for i in parsed.items if i.unresolved is None
    )
    assert got == [
        ("@sindresorhus/is", "4.0.0", True, "main"),
        ("left-pad", "1.0.0", False, "main"),
        ("left-pad", "1.1.3", True, "dev"),
        ("request", "2.88.0", False, "main"),
    ]
    assert all(i.ecosystem is Ecosystem.NPM for i in parsed.items)
    assert [i.name for i in parsed.items if i.unresolved] == ["from-git"]


def test_package_lock_v1_is_reported_and_pins_used() -> None:
    files = {
        "package.json": '{"dependencies": {"left-pad": "=1.1.3", "x": "github:org/x"}}',
        "package-lock.json": '{"lockfileVersion": 1, "dependencies": {"left-pad": {"version": "1.1.3"}}}',
    }
    parsed = parse_all(sorted(files), reader(files))
    assert by_name(parsed.items)["left-pad"].version == "1.1.3"
    assert by_name(parsed.items)["x"].unresolved == "not a registry version: github:org/x"
    assert parsed.problems[0][1].startswith("lockfileVersion 1 has no 'packages' map")


def test_merge_counts_each_pin_once() -> None:
    files = {
        "requirements.txt": "flask[async]==2.0.1\nrequests==2.25.1\n",
        "requirements-dev.txt": "-r requirements.txt\nFlask==2.0.1\npytest==7.0.0\nrequests>=2\n",
        "services/api/requirements.txt": "requests==2.25.1\nrequests==2.26.0\n",
        "pyproject.toml": '[project]\nname = "x"\ndependencies = ["requests", "click"]\n',
    }
    deps = merge(parse_all(sorted(files), reader(files)).items)
    got = [(d.name, d.version, d.group.value, d.path) for d in deps]
    assert got == [
        ("click", None, "main", "pyproject.toml"),
        ("flask", "2.0.1", "main", "requirements-dev.txt"),
        ("pytest", "7.0.0", "dev", "requirements-dev.txt"),
        ("requests", "2.25.1", "main", "requirements.txt"),
        ("requests", "2.26.0", "main", "services/api/requirements.txt"),
    ]
    flask = next(d for d in deps if d.name == "flask")
    assert flask.paths == ("requirements-dev.txt", "requirements.txt")
