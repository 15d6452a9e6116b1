"""Which evidence collector reads which file: one function per kind of file, chosen by path.

Collectors only parse (YAML with a safe loader, TOML, INI, JSON, Python as a syntax tree): nothing from
the audited repository is executed.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Callable

from ctoaudit.tooling.ci import (
    collect_appveyor,
    collect_azure,
    collect_circleci,
    collect_generic_ci,
    collect_github_workflow,
    collect_gitlab,
    collect_jenkinsfile,
    collect_precommit,
    collect_travis,
)
from ctoaudit.tooling.evidence import Collected
from ctoaudit.tooling.python_project import (
    collect_ini,
    collect_nox,
    collect_pipfile,
    collect_pipfile_lock,
    collect_pyproject,
    collect_requirements,
    collect_tox_ini,
    collect_tox_toml,
    collect_uv_lock,
)
from ctoaudit.tooling.runners import (
    collect_conda_env,
    collect_devcontainer,
    collect_dockerfile,
    collect_justfile,
    collect_makefile,
    collect_package_json,
    collect_readthedocs,
    collect_taskfile,
)

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


@functools.lru_cache(maxsize=1 << 16)
def collector_for(path: str) -> Collector | None:
    """The collector for a repository path, or None when the file holds no tool evidence we read."""
    name = path.rsplit("/", 1)[-1]
    if name in ROOT_ONLY and "/" in path:
        return None
    for patterns, collector in COLLECTORS:
        if any(fnmatch.fnmatchcase(path, p) for p in patterns):
            return collector
    return None
