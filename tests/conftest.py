"""Shared fixtures: real git repositories in tmp_path with fixed dates, a CLI runner, an isolated cache."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctoaudit.cli import app

FIXED_DATE = "2024-01-15T12:00:00+00:00"


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in `cwd` and return its stdout; fails the test on error."""
    full_env = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Alice",
        "GIT_AUTHOR_EMAIL": "alice@example.com",
        "GIT_COMMITTER_NAME": "Alice",
        "GIT_COMMITTER_EMAIL": "alice@example.com",
        "GIT_AUTHOR_DATE": FIXED_DATE,
        "GIT_COMMITTER_DATE": FIXED_DATE,
        **(env or {}),
    }
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=full_env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"git {' '.join(args)} failed: {proc.stderr}"
    return proc.stdout


@dataclass
class GitRepo:
    """A throwaway repository for one test."""

    path: Path

    def write(self, files: dict[str, str | bytes]) -> None:
        for name, content in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")

    def commit(
        self,
        files: dict[str, str | bytes] | None = None,
        message: str = "change",
        *,
        author: str = "Alice <alice@example.com>",
        date: str = FIXED_DATE,
    ) -> str:
        if files:
            self.write(files)
        git(self.path, "add", "-A")
        name, _, email = author.partition(" <")
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email.rstrip(">"),
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
        }
        git(self.path, "commit", "-q", "--allow-empty", "-m", message, env=env)
        return git(self.path, "rev-parse", "HEAD").strip()

    def git(self, *args: str) -> str:
        return git(self.path, *args)


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., GitRepo]:
    """Factory: `make_repo("name")` makes an empty git repository under tmp_path."""

    def factory(name: str = "repo") -> GitRepo:
        path = tmp_path / name
        path.mkdir(parents=True)
        git(path, "init", "-q", "-b", "main")
        return GitRepo(path)

    return factory


@pytest.fixture(autouse=True)
def isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Every test gets its own cache folder; the user's cache is never touched."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("CTOAUDIT_CACHE_DIR", str(cache))
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield cache


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run the ctoaudit CLI in-process; returns exit code, stdout and stderr separately."""

    def invoke(*args: str) -> CliResult:
        runner = CliRunner()
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return invoke
