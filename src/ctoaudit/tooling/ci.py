"""Collectors for CI definitions and pre-commit: where tools are actually run."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ctoaudit.tooling.catalogue import Usage
from ctoaudit.tooling.commands import (
    requirement_name,
    scan_script,
)
from ctoaudit.tooling.evidence import (
    Collected,
    FileRef,
    PythonVersion,
    Signal,
    TokenUpload,
    collect_pythons,
    image_python,
    join_path,
    script_first_line,
    table,
)
from ctoaudit.tooling.parsing import (
    line_of,
    load_yaml,
    walk,
)

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
        collect_pythons(doc, path, out, "github-actions")
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


_PRIVATE_INDEX = re.compile(r"CI_JOB_TOKEN|CI_API_V4_URL|--repository-url[= ]+(?!\S*pypi\.org)\S+")


def _to_pypi(script: str) -> bool:
    """False when an upload clearly targets a private index, where PyPI's trusted publishing does not apply.

    GitLab's own package registry (CI_JOB_TOKEN, CI_API_V4_URL) and a `--repository-url` off pypi.org.
    """
    return _PRIVATE_INDEX.search(script) is None


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
    if isinstance(run, str) and _PUBLISH.search(run) and _to_pypi(run):
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
        collect_pythons(doc, path, out, "gitlab-ci")
        _scripts_under(doc, _GITLAB_SCRIPT_KEYS, path, out, "GitLab CI script")
        for name, job in doc.items():
            if not isinstance(job, dict) or "id_tokens" in job:
                continue
            for key, value in walk(job):
                if (
                    key in _GITLAB_SCRIPT_KEYS
                    and isinstance(value, str)
                    and _PUBLISH.search(value)
                    and _to_pypi(str(job))
                ):
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
        collect_pythons(doc, path, out, "circleci")
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
        collect_pythons(doc, path, out, via)
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
