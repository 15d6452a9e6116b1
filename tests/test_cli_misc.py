"""Small commands: --version, analyzers, config schema, python -m, and the plugin-author helper."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ctoaudit import __version__
from ctoaudit.render import RenderFormat
from ctoaudit.testing import run_analyzer


def test_version(cli) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"ctoaudit {__version__}"


def test_analyzers_lists_metrics_with_directions(cli) -> None:
    result = cli("analyzers", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    complexity = data["analyzers"]["complexity"]
    metrics = {m["key"]: m for m in complexity["metrics"]}
    assert metrics["complexity.cc"]["direction"] == "lower"
    assert metrics["complexity.mi"]["direction"] == "higher"
    assert metrics["complexity.loc"]["direction"] == "info"
    table = cli("analyzers")
    assert "complexity.cc.max" in table.stdout


def test_config_schema_includes_analyzer_options(cli) -> None:
    result = cli("config", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["additionalProperties"] is False
    assert {"exclude", "jobs", "enable", "disable", "max_file_bytes", "analyzers"} <= set(
        schema["properties"]
    )
    options = schema["properties"]["analyzers"]["properties"]["complexity"]
    assert set(options["properties"]) == {"include", "exclude", "no_assert", "multi"}


def test_python_dash_m_runs_the_cli() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ctoaudit", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("ctoaudit ")


def test_unknown_option_is_a_usage_error(cli) -> None:
    result = cli("run", "--no-such-option")
    assert result.exit_code == 2


@pytest.mark.parametrize("fmt", list(RenderFormat))
def test_every_format_has_a_renderer(fmt: RenderFormat) -> None:
    assert callable(fmt.to_renderer())


def test_run_analyzer_helper_for_plugin_authors() -> None:
    result = run_analyzer(
        "complexity",
        files={
            "a.py": "def f(x):\n    return 1 if x else 2\n",
            "tests/t.py": "def t():\n    pass\n",
        },
        options={"exclude": ["tests/*"]},
    )
    assert result.repo_value("complexity.functions") == 1
    assert result.repo_value("complexity.cc.max") == 2
