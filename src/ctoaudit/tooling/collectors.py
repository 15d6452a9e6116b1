"""Evidence collectors: one function per kind of file, each turning parsed content into signals.

A collector never names a tool; it reports what the file says (a table exists, a program runs, a
package is installed, an action is used) with the path and line. `ctoaudit.tooling.detect` matches those
signals against the catalogue. Collectors also note the Python versions CI runs, the files that
configuration points at, and uploads to PyPI that use a long-lived token.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ctoaudit.tooling.catalogue import Usage
from ctoaudit.tooling.commands import (
    CommandScan,
    normalize_package,
    requirement_name,
    scan_script,
)
from ctoaudit.tooling.parsing import (
    LineStr,
    ParseError,
    find_line,
    line_of,
    load_jsonc,
    load_toml,
    load_yaml,
    parse_ini,
    toml_table_line,
    value_lines,
    walk,
)


@dataclass(frozen=True)
class Signal:
    """One piece of evidence: its kind, the value found, and how strongly it shows use.

    Kinds: file, pyproject, ini, package, npm, command, action, hook, hook_repo, backend, marker.
    """

    kind: str
    value: str
    path: str
    line: int
    usage: Usage
    detail: str = ""
    argument: str | None = None


@dataclass(frozen=True)
class PythonVersion:
    """A CPython version a CI job, tox env, nox session or image runs."""

    version: str
    path: str
    line: int
    via: str


@dataclass(frozen=True)
class FileRef:
    """A file that configuration points at, resolved relative to the repository root."""

    target: str
    path: str
    line: int
    via: str


@dataclass(frozen=True)
class TokenUpload:
    """A PyPI upload authenticated by a long-lived secret rather than trusted publishing."""

    platform: str
    path: str
    line: int
    method: str


@dataclass
class Collected:
    """What the collectors found in one file."""

    signals: list[Signal] = field(default_factory=list)
    pythons: list[PythonVersion] = field(default_factory=list)
    refs: list[FileRef] = field(default_factory=list)
    uploads: list[TokenUpload] = field(default_factory=list)

    def add_scan(self, scan: CommandScan, path: str, *, detail: str, base: str = "") -> None:
        """Signals for the programs a script runs, the packages it installs and the files it reads."""
        for inv in scan.invocations:
            self.signals.append(
                Signal(
                    "command", inv.program, path, inv.line, Usage.RUN, detail, inv.first_argument()
                )
            )
            if inv.program in {"pytest", "py.test"} and any(
                a.startswith("--cov") for a in inv.args
            ):
                # coverage runs inside pytest through the pytest-cov plugin
                self.signals.append(
                    Signal("marker", "pytest-cov-run", path, inv.line, Usage.RUN, detail)
                )
        for name, line in scan.installs:
            self.signals.append(Signal("package", name, path, line, Usage.INSTALLED, detail))
        for ref, line, via in scan.file_refs:
            self.refs.append(FileRef(join_path(base, ref), path, line, via))

    def script(self, text: object, path: str, *, detail: str, base: str = "") -> None:
        """Scan a script value from a parsed file (a LineStr knows where it starts)."""
        if isinstance(text, str):
            self.add_scan(
                scan_script(text, script_first_line(text)), path, detail=detail, base=base
            )


def table(value: object) -> dict[str, Any]:
    """A parsed mapping, or an empty one when the file has something else there."""
    return value if isinstance(value, dict) else {}


def script_first_line(value: object) -> int:
    """The line of a script's first command: a block scalar's content starts after its indicator."""
    line = line_of(value)
    return line + 1 if isinstance(value, LineStr) and value.block else line


def join_path(base: str, ref: str) -> str:
    """`ref` relative to folder `base`, normalized (`a/./b/../c` -> `a/c`); `{toxinidir}/` dropped."""
    ref = ref.replace("{toxinidir}/", "").replace("${{ github.workspace }}/", "")
    parts: list[str] = []
    for part in f"{base}/{ref}".split("/") if base else ref.split("/"):
        if part in {"", "."}:
            continue
        if part == ".." and parts:
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def parent(path: str) -> str:
    """The folder of a repository path ("" at the root)."""
    return path.rsplit("/", 1)[0] if "/" in path else ""


# --------------------------------------------------------------------------- Python versions

_VERSION = re.compile(
    r"(?:cpython-?|python-?)?([23])\.(\d{1,2})(?:\.\d+)?(?:[-._]?[a-z]+\d*)?(?:-[\w.]+)?"
)
_TOX_ENV = re.compile(r"py([23])(\d{1,2})")
_IMAGE = re.compile(r"(?:^|/)python:([23])\.(\d{1,2})\b")
PYTHON_KEYS = frozenset(
    {"python-version", "python_version", "python-versions", "python", "versionspec",
     "python.version", "python_ver", "pyver", "toxenv"}
)  # fmt: skip


def python_version(text: str) -> str | None:
    """`3.10`, `3.8.10`, `3.11-dev`, `python3.7`, `py37` -> "3.x"; PyPy and `3.x` ranges -> None."""
    value = text.strip().strip("\"'").lower()
    if "pypy" in value:
        return None
    match = _VERSION.fullmatch(value) or _TOX_ENV.fullmatch(value)
    return f"{match.group(1)}.{int(match.group(2))}" if match else None


def image_python(image: str) -> str | None:
    """The Python version of a `python:3.8-slim`, `cimg/python:3.10` or similar image name."""
    match = _IMAGE.search(image.lower())
    return f"{match.group(1)}.{int(match.group(2))}" if match else None


def tox_envs(envlist: str) -> list[str]:
    """Tox env names with `{a,b}` factors expanded: `py{38,39}-django` -> py38-django, py39-django."""
    names: list[str] = []
    for item in re.split(r"[,\s]+(?![^{]*\})", envlist):
        expanded = [""]
        for literal, group in re.findall(r"([^{]*)(?:\{([^}]*)\})?", item.strip()):
            options = [o.strip() for o in group.split(",")] if group else [""]
            expanded = [e + literal + o for e in expanded for o in options]
        names.extend(e for e in expanded if e)
    return names


def _collect_pythons(data: Any, path: str, out: Collected, via: str) -> None:  # noqa: ANN401
    for key, value in walk(data):
        if key is None or not isinstance(value, str):
            continue
        lowered = key.lower()
        version = None
        if lowered in PYTHON_KEYS:
            version = python_version(value)
        elif lowered in {"image", "name", "container"} or lowered.endswith("image"):
            version = image_python(value)
        if version:
            out.pythons.append(PythonVersion(version, path, line_of(value), via))


# --------------------------------------------------------------------------- CI definitions

_GITLAB_SCRIPT_KEYS = frozenset({"script", "before_script", "after_script"})
_TRAVIS_SCRIPT_KEYS = frozenset(
    {"install", "before_install", "script", "before_script", "after_success", "after_failure",
     "after_script", "before_deploy", "after_deploy", "before_cache"}
)  # fmt: skip
_AZURE_SCRIPT_KEYS = frozenset({"script", "bash", "pwsh", "powershell"})
_APPVEYOR_SCRIPT_KEYS = frozenset(
    {"install", "build_script", "test_script", "before_build", "after_build", "before_test",
     "after_test", "on_success", "on_finish", "deploy_script", "cmd", "ps", "sh"}
)  # fmt: skip
_PUBLISH = re.compile(
    r"\b(twine\s+upload|poetry\s+publish|uv\s+publish|flit\s+publish|pdm\s+publish|hatch\s+publish)\b"
)
_TOKEN_MARKERS = re.compile(
    r"TWINE_PASSWORD|TWINE_API_KEY|POETRY_PYPI_TOKEN|POETRY_HTTP_BASIC|UV_PUBLISH_TOKEN|"
    r"UV_PUBLISH_PASSWORD|FLIT_PASSWORD|PDM_PUBLISH_PASSWORD|HATCH_INDEX_AUTH|pypi-token|"
    r"--password|--token|\s-p\s|\s-u\s+__token__",
    re.IGNORECASE,
)


def _scripts_under(data: Any, keys: frozenset[str], path: str, out: Collected, detail: str) -> None:  # noqa: ANN401
    for key, value in walk(data):
        if key is not None and key.lower() in keys:
            out.script(value, path, detail=detail)


def collect_github_workflow(path: str, text: str) -> Collected:
    """A GitHub Actions workflow or composite action: `uses:`, `run:`, Python versions, uploads."""
    out = Collected()
    for doc in load_yaml(text):
        if not isinstance(doc, dict):
            continue
        _collect_pythons(doc, path, out, "github-actions")
        checkouts = _checkout_paths(doc)
        for key, value in walk(doc):
            if key == "uses" and isinstance(value, str):
                _github_uses(value, path, out, checkouts)
            elif key == "run" and isinstance(value, str):
                out.script(value, path, detail="GitHub Actions step")
        for step, env in _github_steps(doc):
            _github_upload(step, env, path, out)
    return out


def _checkout_paths(doc: Mapping[str, Any]) -> dict[str, bool]:
    """Folders that actions/checkout steps fill: True when with another repository's files."""
    found: dict[str, bool] = {}
    for step, _env in _github_steps(doc):
        uses = step.get("uses")
        inputs = table(step.get("with"))
        if (
            isinstance(uses, str)
            and uses.lower().startswith("actions/checkout")
            and inputs.get("path")
        ):
            repository = str(inputs.get("repository") or "${{ github.repository }}")
            found[join_path("", str(inputs["path"]))] = "github.repository" not in repository
    return found


def _github_uses(value: str, path: str, out: Collected, checkouts: Mapping[str, bool]) -> None:
    ref = value.strip()
    if ref.startswith("./"):
        target = join_path("", ref.split("@", 1)[0])
        folder, _, rest = target.partition("/")
        if folder in checkouts:
            if checkouts[folder]:
                return  # an action in another repository's checkout: not ours to resolve
            target = rest  # this repository, checked out into a subfolder
        if target.endswith((".yml", ".yaml")):
            out.refs.append(FileRef(target, path, line_of(value), "uses: local workflow"))
        else:
            both = "|".join(join_path(target, name) for name in ("action.yml", "action.yaml"))
            out.refs.append(FileRef(both, path, line_of(value), "uses: local action"))
        return
    if ref.startswith("docker://"):
        return
    action = ref.split("@", 1)[0].lower()
    out.signals.append(
        Signal("action", action, path, line_of(value), Usage.RUN, "GitHub Actions uses")
    )


def _github_steps(doc: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Each step of each job, with the environment the workflow, job and step give it."""
    top_env = table(doc.get("env"))
    jobs = doc.get("jobs")
    job_list = list(jobs.values()) if isinstance(jobs, dict) else []
    runs = doc.get("runs")  # composite action
    if isinstance(runs, dict):
        job_list.append(runs)
    for job in job_list:
        if not isinstance(job, dict) or not isinstance(job.get("steps"), list):
            continue
        job_env = table(job.get("env"))
        for step in job["steps"]:
            if isinstance(step, dict):
                step_env = table(step.get("env"))
                yield step, {**top_env, **job_env, **step_env}


def _github_upload(step: dict[str, Any], env: dict[str, Any], path: str, out: Collected) -> None:
    uses = step.get("uses")
    if isinstance(uses, str) and uses.lower().startswith("pypa/gh-action-pypi-publish"):
        inputs = table(step.get("with"))
        password = inputs.get("password")
        if isinstance(password, str) and password.strip():
            out.uploads.append(
                TokenUpload(
                    "github-actions",
                    path,
                    line_of(password),
                    "pypa/gh-action-pypi-publish with a password",
                )
            )
        return
    run = step.get("run")
    if isinstance(run, str) and _PUBLISH.search(run):
        env_text = " ".join(f"{k}={v}" for k, v in env.items())
        if _TOKEN_MARKERS.search(f" {run} ") or _TOKEN_MARKERS.search(env_text):
            method = _PUBLISH.search(run).group(1)  # type: ignore[union-attr]
            out.uploads.append(
                TokenUpload(
                    "github-actions",
                    path,
                    script_first_line(run),
                    f"{method} with a token or password",
                )
            )


def collect_gitlab(path: str, text: str) -> Collected:
    """GitLab CI: job scripts, images, and uploads from jobs without an OIDC `id_tokens` key."""
    out = Collected()
    for doc in load_yaml(text):
        if not isinstance(doc, dict):
            continue
        _collect_pythons(doc, path, out, "gitlab-ci")
        _scripts_under(doc, _GITLAB_SCRIPT_KEYS, path, out, "GitLab CI script")
        for name, job in doc.items():
            if not isinstance(job, dict) or "id_tokens" in job:
                continue
            for key, value in walk(job):
                if key in _GITLAB_SCRIPT_KEYS and isinstance(value, str) and _PUBLISH.search(value):
                    method = _PUBLISH.search(value).group(1)  # type: ignore[union-attr]
                    out.uploads.append(
                        TokenUpload(
                            "gitlab-ci",
                            path,
                            line_of(value),
                            f"{method} in job {name} without id_tokens",
                        )
                    )
    return out


def collect_travis(path: str, text: str) -> Collected:
    """Travis CI: phase scripts and the `python:` versions."""
    return _generic_ci(path, text, _TRAVIS_SCRIPT_KEYS, "travis-ci")


def collect_circleci(path: str, text: str) -> Collected:
    """CircleCI: `run` steps (a string or a mapping with `command`) and images."""
    out = Collected()
    for doc in load_yaml(text):
        _collect_pythons(doc, path, out, "circleci")
        for key, value in walk(doc):
            if (key == "run" and isinstance(value, str)) or (
                key == "command" and isinstance(value, str)
            ):
                out.script(value, path, detail="CircleCI run step")
    return out


def collect_azure(path: str, text: str) -> Collected:
    """Azure Pipelines: script/bash/pwsh steps and `UsePythonVersion` versions."""
    return _generic_ci(path, text, _AZURE_SCRIPT_KEYS, "azure-pipelines")


def collect_appveyor(path: str, text: str) -> Collected:
    """AppVeyor: phase scripts."""
    return _generic_ci(path, text, _APPVEYOR_SCRIPT_KEYS, "appveyor")


def collect_generic_ci(path: str, text: str) -> Collected:
    """Bitbucket Pipelines, Drone, Buildkite: `script` / `commands` / `command` lists."""
    return _generic_ci(path, text, frozenset({"script", "commands", "command"}), "ci")


def _generic_ci(path: str, text: str, keys: frozenset[str], via: str) -> Collected:
    out = Collected()
    for doc in load_yaml(text):
        _collect_pythons(doc, path, out, via)
        _scripts_under(doc, keys, path, out, f"{via} script")
    return out


_GROOVY_SH = re.compile(
    r"""\b(?:sh|bat|powershell)\s*\(?\s*(?:script\s*:\s*)?('''|\"\"\"|'|")(.*?)\1""", re.DOTALL
)


def collect_jenkinsfile(path: str, text: str) -> Collected:
    """A Jenkinsfile (Groovy): the strings given to `sh`, `bat` and `powershell` steps."""
    out = Collected()
    code = _strip_groovy_comments(text)
    for match in _GROOVY_SH.finditer(code):
        line = code.count("\n", 0, match.start(2)) + 1
        out.add_scan(scan_script(match.group(2), line), path, detail="Jenkins sh step")
    for match in re.finditer(r"\bimage\s*[:(]?\s*['\"]([^'\"]+)['\"]", code):
        version = image_python(match.group(1))
        if version:
            out.pythons.append(
                PythonVersion(version, path, code.count("\n", 0, match.start()) + 1, "jenkins")
            )
    return out


def _strip_groovy_comments(text: str) -> str:
    """Blank out `//` and `/* */` comments outside strings, keeping every newline in place."""
    out: list[str] = []
    i, n = 0, len(text)
    quote: str | None = None
    while i < n:
        ch = text[i]
        if quote:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if text.startswith(quote, i):
                out.append(text[i + 1 : i + len(quote)])
                i += len(quote)
                quote = None
                continue
            i += 1
        elif text.startswith(("'''", '"""'), i) or ch in "'\"":
            quote = text[i : i + 3] if text.startswith(("'''", '"""'), i) else ch
            out.append(quote)
            i += len(quote)
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end == -1 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
            out.append("\n" * text.count("\n", i, end))
            i = end
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# --------------------------------------------------------------------------- pre-commit


def collect_precommit(path: str, text: str) -> Collected:
    """pre-commit: hook repositories and ids (each hook runs its tool), local hook entries, pre-commit.ci."""
    out = Collected()
    for doc in load_yaml(text):
        if not isinstance(doc, dict):
            continue
        if isinstance(doc.get("ci"), dict):
            key = next(k for k in doc if k == "ci")
            out.signals.append(
                Signal(
                    "marker",
                    "pre-commit-ci",
                    path,
                    line_of(key),
                    Usage.CONFIGURED,
                    "pre-commit.ci settings",
                )
            )
            # pre-commit.ci runs the hooks of this file on every pull request
            out.signals.append(
                Signal(
                    "marker",
                    "pre-commit-run",
                    path,
                    line_of(key),
                    Usage.RUN,
                    "run by pre-commit.ci",
                )
            )
        repos = doc.get("repos")
        for repo in repos if isinstance(repos, list) else []:
            if isinstance(repo, dict):
                _precommit_repo(repo, path, out)
    return out


def _precommit_repo(repo: dict[str, Any], path: str, out: Collected) -> None:
    url = repo.get("repo")
    url_text = str(url or "").lower().removesuffix(".git").rstrip("/")
    hooks = repo.get("hooks")
    for hook in hooks if isinstance(hooks, list) else []:
        if not isinstance(hook, dict) or not isinstance(hook.get("id"), str):
            continue
        hook_id = hook["id"]
        line = line_of(hook_id)
        out.signals.append(
            Signal(
                "hook", hook_id.lower(), path, line, Usage.RUN, f"pre-commit hook from {url_text}"
            )
        )
        if url_text not in {"local", "meta", ""}:
            out.signals.append(
                Signal("hook_repo", url_text, path, line, Usage.RUN, f"pre-commit hook {hook_id}")
            )
        entry = hook.get("entry")
        # a pygrep hook's entry is a regular expression and a fail hook's is a message, not commands
        runs_entry = hook.get("language") not in {"pygrep", "fail"}
        if url_text == "local" and isinstance(entry, str) and runs_entry:
            out.script(entry, path, detail=f"pre-commit local hook {hook_id}")
        deps = hook.get("additional_dependencies")
        for dep in deps if isinstance(deps, list) else []:
            name = requirement_name(str(dep))
            if name:
                out.signals.append(
                    Signal(
                        "package",
                        name,
                        path,
                        line_of(dep, line),
                        Usage.INSTALLED,
                        f"additional_dependencies of {hook_id}",
                    )
                )


# --------------------------------------------------------------------------- Python project files

_DEV_GROUP_TABLES = (
    ("tool", "pdm", "dev-dependencies"),
    ("tool", "uv", "dev-dependencies"),
)


def collect_pyproject(path: str, text: str) -> Collected:
    """pyproject.toml: `[tool.*]` tables, build backend, optional/dev dependency groups, tool scripts."""
    out = Collected()
    data = load_toml(text)
    tool = table(data.get("tool"))
    for dotted in _table_paths(tool, "tool", depth=3):
        out.signals.append(
            Signal(
                "pyproject",
                dotted,
                path,
                toml_table_line(text, dotted),
                Usage.CONFIGURED,
                f"[{dotted}]",
            )
        )
    build = table(data.get("build-system"))
    backend = build.get("build-backend")
    if isinstance(backend, str):
        out.signals.append(
            Signal(
                "backend",
                backend,
                path,
                find_line(text, "build-backend"),
                Usage.CONFIGURED,
                "build-system.build-backend",
            )
        )
    requires = build.get("requires")
    for req in requires if isinstance(requires, list) else []:
        _package(
            str(req),
            path,
            text,
            out,
            "build-system.requires",
            start=toml_table_line(text, "build-system"),
        )
    project = table(data.get("project"))
    _dependency_groups(
        project.get("optional-dependencies"), "project.optional-dependencies", path, text, out
    )
    _dependency_groups(data.get("dependency-groups"), "dependency-groups", path, text, out)
    _poetry_groups(tool.get("poetry"), path, text, out)
    for keys in _DEV_GROUP_TABLES:
        node: Any = data
        for k in keys:
            node = node.get(k) if isinstance(node, dict) else None
        groups = (
            node if isinstance(node, dict) else {"dev": node} if isinstance(node, list) else None
        )
        _dependency_groups(groups, ".".join(keys), path, text, out)
    _pyproject_scripts(tool, path, text, out)
    _pyproject_pythons(tool, path, text, out)
    return out


def _table_paths(tables: Mapping[str, Any], prefix: str, depth: int) -> Iterator[str]:
    for key, value in tables.items():
        if isinstance(value, dict):
            dotted = f"{prefix}.{key}"
            yield dotted
            if depth > 1:
                yield from _table_paths(value, dotted, depth - 1)


def _package(spec: str, path: str, text: str, out: Collected, where: str, start: int = 1) -> None:
    name = requirement_name(spec)
    if name:
        quoted = spec.split(";", maxsplit=1)[0].strip()
        out.signals.append(
            Signal("package", name, path, find_line(text, quoted, start), Usage.INSTALLED, where)
        )


def _dependency_groups(groups: Any, where: str, path: str, text: str, out: Collected) -> None:  # noqa: ANN401
    if not isinstance(groups, dict):
        return
    start = toml_table_line(text, where)
    for group, specs in groups.items():
        for spec in specs if isinstance(specs, list) else []:
            if isinstance(spec, str):
                _package(spec, path, text, out, f"{where}.{group}", start)


def _poetry_groups(poetry: Any, path: str, text: str, out: Collected) -> None:  # noqa: ANN401
    if not isinstance(poetry, dict):
        return
    tables: list[tuple[str, Any]] = [
        ("tool.poetry.dev-dependencies", poetry.get("dev-dependencies"))
    ]
    groups = poetry.get("group")
    for name, group in groups.items() if isinstance(groups, dict) else []:
        if isinstance(group, dict):
            tables.append((f"tool.poetry.group.{name}.dependencies", group.get("dependencies")))
    for where, deps in tables:
        if isinstance(deps, dict):
            start = toml_table_line(text, where)
            for name in deps:
                out.signals.append(
                    Signal(
                        "package",
                        normalize_package(name),
                        path,
                        find_line(text, name, start),
                        Usage.INSTALLED,
                        where,
                    )
                )


def _pyproject_scripts(tool: Mapping[str, Any], path: str, text: str, out: Collected) -> None:
    """Commands of hatch env scripts, Poe tasks, PDM scripts, taskipy tasks: run by a task runner."""
    tables: list[tuple[str, Any]] = []
    hatch = tool.get("hatch")
    envs = hatch.get("envs") if isinstance(hatch, dict) else None
    for name, env in envs.items() if isinstance(envs, dict) else []:
        if isinstance(env, dict):
            tables.append((f"tool.hatch.envs.{name}.scripts", env.get("scripts")))
            _dependency_groups(
                {
                    "dependencies": env.get("dependencies", []),
                    "extra-dependencies": env.get("extra-dependencies", []),
                },
                f"tool.hatch.envs.{name}",
                path,
                text,
                out,
            )
    for dotted in ("poe.tasks", "pdm.scripts", "taskipy.tasks"):
        first, second = dotted.split(".")
        node = tool.get(first)
        tables.append((f"tool.{dotted}", node.get(second) if isinstance(node, dict) else None))
    for where, scripts in tables:
        if not isinstance(scripts, dict):
            continue
        start = toml_table_line(text, where)
        for name, value in scripts.items():
            for command in _script_strings(value):
                line = find_line(text, command.splitlines()[0] if command else name, start)
                out.add_scan(scan_script(command, line), path, detail=f"[{where}] {name}")


def _script_strings(value: Any) -> list[str]:  # noqa: ANN401
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for item in value for v in _script_strings(item)]
    if isinstance(value, dict):
        for key in ("cmd", "shell", "script", "call"):
            if isinstance(value.get(key), str | list):
                return _script_strings(value[key]) if key != "script" else []
        return _script_strings(value.get("sequence", []))
    return []


def _pyproject_pythons(tool: Mapping[str, Any], path: str, text: str, out: Collected) -> None:
    tox = tool.get("tox")
    if isinstance(tox, dict) and "legacy_tox_ini" not in tox:
        _tox_native(tox, path, text, out)
    if isinstance(tox, dict) and isinstance(tox.get("legacy_tox_ini"), str):
        start = find_line(text, "legacy_tox_ini")
        for sub in (collect_tox_ini(path, tox["legacy_tox_ini"]),):
            for signal in sub.signals:
                out.signals.append(
                    Signal(
                        signal.kind,
                        signal.value,
                        path,
                        signal.line + start,
                        signal.usage,
                        signal.detail,
                        signal.argument,
                    )
                )
            out.pythons.extend(
                PythonVersion(p.version, path, p.line + start, p.via) for p in sub.pythons
            )


def collect_ini(path: str, text: str) -> Collected:
    """setup.cfg, .flake8, pytest.ini, mypy.ini and similar: each section name is configuration."""
    out = Collected()
    for section in parse_ini(text):
        out.signals.append(
            Signal("ini", section.name, path, section.line, Usage.CONFIGURED, f"[{section.name}]")
        )
        if path.endswith("setup.cfg") and section.name == "options.extras_require":
            for group, (value, line) in section.values.items():
                for text_line, number in value_lines(value, line):
                    name = requirement_name(text_line)
                    if name:
                        out.signals.append(
                            Signal(
                                "package",
                                name,
                                path,
                                number,
                                Usage.INSTALLED,
                                f"extras_require.{group}",
                            )
                        )
        if path.endswith("setup.cfg") and section.name == "options":
            value, line = section.values.get("tests_require", ("", 0))
            for text_line, number in value_lines(value, line):
                name = requirement_name(text_line)
                if name:
                    out.signals.append(
                        Signal("package", name, path, number, Usage.INSTALLED, "tests_require")
                    )
    return out


def collect_tox_ini(path: str, text: str) -> Collected:
    """tox.ini: section names (tool configuration), env commands (run), deps (installed), envlist."""
    out = collect_ini(path, text)
    for section in parse_ini(text):
        if section.name in {"tox", "tox:tox"}:
            _tox_envlist(section.values, path, out)
        elif section.name == "testenv" or section.name.startswith("testenv:"):
            _tox_testenv(section.name, section.values, path, out)
    return out


def _tox_envlist(values: Mapping[str, tuple[str, int]], path: str, out: Collected) -> None:
    value, line = values.get("envlist", values.get("env_list", ("", 0)))
    for env in tox_envs(value.replace("\n", ",")):
        for factor in env.split("-"):
            version = python_version(factor) if _TOX_ENV.fullmatch(factor) else None
            if version:
                out.pythons.append(PythonVersion(version, path, line, "tox envlist"))


def _tox_testenv(
    name: str, values: Mapping[str, tuple[str, int]], path: str, out: Collected
) -> None:
    base = parent(path)
    for key in ("commands", "commands_pre", "commands_post"):
        value, line = values.get(key, ("", 0))
        for command, number in value_lines(value, line):
            scan = scan_script(command.lstrip("-"), number)
            out.add_scan(scan, path, detail=f"tox [{name}] {key}", base=base)
    value, line = values.get("deps", ("", 0))
    for dep, number in value_lines(value, line):
        # a factor-conditional line `py{38,39}: coverage` applies its requirement to some envs
        requirement = re.sub(r"^[\w{},.!-]+:\s+", "", dep)
        _requirement_line(requirement, path, number, out, base, f"tox [{name}] deps")


def collect_tox_toml(path: str, text: str) -> Collected:
    """tox.toml: env commands (lists of argument lists), deps and env_list."""
    out = Collected()
    _tox_native(load_toml(text), path, text, out)
    return out


def _tox_native(data: Mapping[str, Any], path: str, text: str, out: Collected) -> None:
    """The TOML form of tox's configuration: tox.toml, or pyproject's [tool.tox] without legacy_tox_ini."""
    for key, value in walk(data):
        if not isinstance(value, list):
            continue
        if key in {"commands", "commands_pre", "commands_post"}:
            _tox_commands(value, path, text, out)
        elif key == "deps":
            for dep in (d for d in value if isinstance(d, str)):
                _requirement_line(dep, path, find_line(text, dep), out, parent(path), "tox deps")
        elif key in {"env_list", "envlist"}:
            _tox_env_pythons([str(env) for env in value], path, text, out)


def _tox_commands(value: list[Any], path: str, text: str, out: Collected) -> None:
    commands = value if all(isinstance(v, list) for v in value) else [value]
    for command in commands:
        words = [str(v) for v in command if isinstance(v, str)]
        if words:
            line = find_line(text, f'"{words[0]}"', toml_table_line(text, "tool.tox"))
            out.add_scan(scan_script(shlex.join(words), line), path, detail="tox commands")


def _tox_env_pythons(envs: list[str], path: str, text: str, out: Collected) -> None:
    for env in envs:
        for factor in env.split("-"):
            version = python_version(factor) if factor.startswith("py") else None
            if version:
                line = find_line(text, f'"{env}"')
                out.pythons.append(PythonVersion(version, path, line, "tox env_list"))


def collect_requirements(path: str, text: str) -> Collected:
    """A requirements file: each requirement is installed; `-r`/`-c` point at other files."""
    out = Collected()
    for number, raw in enumerate(text.splitlines(), start=1):
        _requirement_line(raw, path, number, out, parent(path), "requirements file")
    return out


def _requirement_line(
    raw: str, path: str, number: int, out: Collected, base: str, detail: str
) -> None:
    line = raw.split(" #", 1)[0].strip()
    if not line or line.startswith("#"):
        return
    ref = re.match(r"^(-r|--requirement|-c|--constraint)\s*=?\s*(\S+)", line)
    if ref:
        if not any(ch in ref.group(2) for ch in "{$*"):
            out.refs.append(
                FileRef(join_path(base, ref.group(2)), path, number, f"{detail} {ref.group(1)}")
            )
        return
    name = requirement_name(line)
    if name:
        out.signals.append(Signal("package", name, path, number, Usage.INSTALLED, detail))


def collect_pipfile(path: str, text: str) -> Collected:
    """Pipfile: `[dev-packages]` are installed development tools."""
    out = Collected()
    data = load_toml(text)
    dev = data.get("dev-packages")
    start = toml_table_line(text, "dev-packages")
    for name in table(dev):
        out.signals.append(
            Signal(
                "package",
                normalize_package(name),
                path,
                find_line(text, name, start),
                Usage.INSTALLED,
                "[dev-packages]",
            )
        )
    return out


def collect_pipfile_lock(path: str, text: str) -> Collected:
    """Pipfile.lock: the `develop` section lists installed development packages."""
    out = Collected()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: line {exc.lineno}: {exc.msg}") from None
    develop = data.get("develop") if isinstance(data, dict) else None
    for name in table(develop):
        out.signals.append(
            Signal(
                "package",
                normalize_package(name),
                path,
                find_line(text, f'"{name}"'),
                Usage.INSTALLED,
                "Pipfile.lock develop",
            )
        )
    return out


def collect_uv_lock(path: str, text: str) -> Collected:
    """uv.lock: the project's own entry lists its dev groups and extras; transitive packages are not read."""
    out = Collected()
    data = load_toml(text)
    packages = data.get("package")
    for package in packages if isinstance(packages, list) else []:
        source = package.get("source") if isinstance(package, dict) else None
        if not isinstance(source, dict) or not ({"editable", "virtual"} & set(source)):
            continue
        for kind in ("dev-dependencies", "optional-dependencies"):
            groups = package.get(kind)
            for group, deps in groups.items() if isinstance(groups, dict) else []:
                for dep in deps if isinstance(deps, list) else []:
                    name = dep.get("name") if isinstance(dep, dict) else None
                    if isinstance(name, str):
                        out.signals.append(
                            Signal(
                                "package",
                                normalize_package(name),
                                path,
                                find_line(text, f'name = "{name}"'),
                                Usage.INSTALLED,
                                f"uv.lock {kind}.{group}",
                            )
                        )
    return out


def collect_nox(path: str, text: str) -> Collected:
    """noxfile.py, read as a syntax tree (never imported): session.run/install calls and python=[...]."""
    out = Collected()
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        raise ParseError(f"invalid Python: {exc}") from None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = (
            func.attr
            if isinstance(func, ast.Attribute)
            else func.id
            if isinstance(func, ast.Name)
            else ""
        )
        words = [
            a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
        ]
        if name in {"run", "run_always", "run_install"} and words:
            out.add_scan(scan_script(" ".join(words), node.lineno), path, detail="nox session")
        elif name == "install" and words:
            out.add_scan(
                scan_script("pip install " + " ".join(words), node.lineno),
                path,
                detail="nox session",
                base=parent(path),
            )
        for kw in node.keywords:
            if kw.arg == "python":
                _nox_pythons(kw.value, path, out)
    return out


def _nox_pythons(value: ast.expr, path: str, out: Collected) -> None:
    items = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
    for item in items:
        if isinstance(item, ast.Constant) and isinstance(item.value, str):
            version = python_version(item.value)
            if version:
                out.pythons.append(PythonVersion(version, path, item.lineno, "nox session"))


def collect_makefile(path: str, text: str) -> Collected:
    """A Makefile: recipe lines (tab-indented) run their programs; `#` comments are not commands."""
    out = Collected()
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        raw = lines[number]
        number += 1
        if not raw.startswith("\t"):
            continue
        start = number
        command = raw.strip()
        while command.endswith("\\") and number < len(lines):
            command = command[:-1] + " " + lines[number].strip()
            number += 1
        command = command.lstrip("@-+ ").replace("$$", "$")
        out.add_scan(scan_script(command, start), path, detail="Makefile recipe", base=parent(path))
    return out


def collect_justfile(path: str, text: str) -> Collected:
    """A justfile: indented recipe lines run their programs."""
    out = Collected()
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw[:1] in {" ", "\t"} and raw.strip() and not raw.strip().startswith("#"):
            out.add_scan(
                scan_script(raw.strip().lstrip("@-"), number), path, detail="justfile recipe"
            )
    return out


def collect_taskfile(path: str, text: str) -> Collected:
    """Taskfile.yml (go-task): `cmds` of each task."""
    out = Collected()
    for doc in load_yaml(text):
        for key, value in walk(doc):
            if key in {"cmds", "cmd"} and isinstance(value, str):
                out.script(value, path, detail="Taskfile cmd")
    return out


def collect_package_json(path: str, text: str) -> Collected:
    """package.json: npm dependencies (installed) and `scripts` (run by npm)."""
    out = Collected()
    data = load_jsonc(text)
    if not isinstance(data, dict):
        return out
    for kind in ("devDependencies", "dependencies"):
        deps = data.get(kind)
        for name in table(deps):
            out.signals.append(
                Signal(
                    "npm", name.lower(), path, find_line(text, f'"{name}"'), Usage.INSTALLED, kind
                )
            )
    scripts = data.get("scripts")
    for name, command in scripts.items() if isinstance(scripts, dict) else []:
        if isinstance(command, str):
            line = find_line(text, f'"{name}"', find_line(text, '"scripts"'))
            out.add_scan(scan_script(command, line), path, detail=f"npm script {name}")
    return out


def collect_dockerfile(path: str, text: str) -> Collected:
    """A Dockerfile: the Python base image and the programs `RUN` lines execute at build time."""
    out = Collected()
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        start = number + 1
        instruction = lines[number].strip()
        number += 1
        while instruction.endswith("\\") and number < len(lines):
            instruction = instruction[:-1] + " " + lines[number].strip()
            number += 1
        keyword, _, rest = instruction.partition(" ")
        if keyword.upper() == "FROM":
            version = image_python(rest.split()[0] if rest.split() else "")
            if version:
                out.pythons.append(PythonVersion(version, path, start, "Dockerfile FROM"))
        elif keyword.upper() == "RUN" and not rest.lstrip().startswith("["):
            out.add_scan(scan_script(rest, start), path, detail="Dockerfile RUN")
    return out


def collect_devcontainer(path: str, text: str) -> Collected:
    """devcontainer.json: lifecycle commands and the image's Python version."""
    out = Collected()
    data = load_jsonc(text)
    if not isinstance(data, dict):
        return out
    for key in (
        "onCreateCommand",
        "updateContentCommand",
        "postCreateCommand",
        "postStartCommand",
        "postAttachCommand",
    ):
        for command in _script_strings(data.get(key)):
            out.add_scan(
                scan_script(command, find_line(text, key)), path, detail=f"devcontainer {key}"
            )
    image = data.get("image")
    if isinstance(image, str) and image_python(image):
        out.pythons.append(
            PythonVersion(
                image_python(image) or "", path, find_line(text, '"image"'), "devcontainer image"
            )
        )
    return out


def collect_readthedocs(path: str, text: str) -> Collected:
    """.readthedocs.yaml: build commands and the files it points at (Sphinx/MkDocs config, requirements)."""
    out = Collected()
    for doc in load_yaml(text):
        for key, value in walk(doc):
            if key == "configuration" and isinstance(value, str):
                out.refs.append(
                    FileRef(join_path("", value), path, line_of(value), "readthedocs configuration")
                )
            elif key == "requirements" and isinstance(value, str):
                out.refs.append(
                    FileRef(join_path("", value), path, line_of(value), "readthedocs requirements")
                )
            elif key in {
                "commands",
                "post_install",
                "pre_build",
                "post_build",
                "post_create_environment",
            } and isinstance(value, str):
                out.script(value, path, detail="Read the Docs build job")
    return out


def collect_conda_env(path: str, text: str) -> Collected:
    """environment.yml: conda and pip dependencies are installed."""
    out = Collected()
    for doc in load_yaml(text):
        deps = doc.get("dependencies") if isinstance(doc, dict) else None
        for dep in deps if isinstance(deps, list) else []:
            specs = dep.get("pip", []) if isinstance(dep, dict) else [dep]
            for spec in specs if isinstance(specs, list) else []:
                name = requirement_name(str(spec).split("=")[0]) if isinstance(spec, str) else None
                if name:
                    out.signals.append(
                        Signal(
                            "package",
                            name,
                            path,
                            line_of(spec),
                            Usage.INSTALLED,
                            "conda environment",
                        )
                    )
    return out


Collector = Callable[[str, str], Collected]

COLLECTORS: tuple[tuple[tuple[str, ...], Collector], ...] = (
    ((".github/workflows/*.yml", ".github/workflows/*.yaml", "action.yml", "action.yaml",
      ".github/actions/*/action.yml", ".github/actions/*/action.yaml"), collect_github_workflow),
    ((".gitlab-ci.yml", ".gitlab-ci.yaml", ".gitlab/ci/*.yml", ".gitlab/ci/*.yaml"), collect_gitlab),
    ((".travis.yml",), collect_travis),
    ((".circleci/config.yml", ".circleci/config.yaml"), collect_circleci),
    (("azure-pipelines.yml", "azure-pipelines.yaml", ".azure-pipelines/*.yml", ".azure-pipelines/*.yaml"), collect_azure),
    (("appveyor.yml", ".appveyor.yml"), collect_appveyor),
    (("bitbucket-pipelines.yml", ".drone.yml", ".buildkite/pipeline.yml", ".buildkite/pipeline.yaml"), collect_generic_ci),
    (("Jenkinsfile", "*/Jenkinsfile"), collect_jenkinsfile),
    ((".pre-commit-config.yaml", ".pre-commit-config.yml"), collect_precommit),
    (("pyproject.toml",), collect_pyproject),
    (("tox.ini",), collect_tox_ini),
    (("tox.toml",), collect_tox_toml),
    (("setup.cfg", ".flake8", "pytest.ini", "mypy.ini", ".mypy.ini", ".isort.cfg", ".pylintrc", "pylintrc",
      ".coveragerc", ".bumpversion.cfg", "pylama.ini", "nose2.cfg"), collect_ini),
    (("requirements*.txt", "*requirements*.txt", "requirements/*.txt", "requirements/*.in", "requirements*.in",
      "*/requirements*.txt"), collect_requirements),
    (("Pipfile",), collect_pipfile),
    (("Pipfile.lock",), collect_pipfile_lock),
    (("uv.lock",), collect_uv_lock),
    (("noxfile.py",), collect_nox),
    (("Makefile", "makefile", "GNUmakefile", "*.mk"), collect_makefile),
    (("justfile", "Justfile", ".justfile"), collect_justfile),
    (("Taskfile.yml", "Taskfile.yaml", "taskfile.yml"), collect_taskfile),
    (("package.json",), collect_package_json),
    (("Dockerfile", "*/Dockerfile", "Dockerfile.*", "*.Dockerfile", "Containerfile"), collect_dockerfile),
    ((".devcontainer/devcontainer.json", ".devcontainer.json", ".devcontainer/*/devcontainer.json"), collect_devcontainer),
    ((".readthedocs.yaml", ".readthedocs.yml", "readthedocs.yml", "readthedocs.yaml"), collect_readthedocs),
    (("environment.yml", "environment.yaml"), collect_conda_env),
)  # fmt: skip
"""Which collector reads which files (globs on repository paths; the first match wins)."""

ROOT_ONLY = frozenset(
    {
        "pyproject.toml",
        "package.json",
        "setup.cfg",
        "tox.ini",
        "Pipfile",
        "Pipfile.lock",
        "uv.lock",
        "noxfile.py",
    }
)
"""Project files read only at the repository root, so vendored or example projects do not count."""


def collector_for(path: str) -> Collector | None:
    """The collector for a repository path, or None when the file holds no tool evidence we read."""
    name = path.rsplit("/", 1)[-1]
    if name in ROOT_ONLY and "/" in path:
        return None
    for patterns, collector in COLLECTORS:
        if any(fnmatch.fnmatchcase(path, p) for p in patterns):
            return collector
    return None
