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


def test_a_command_imports_only_its_own_module() -> None:
    code = (
        "import sys\n"
        "from ctoaudit.cli import main\n"
        "sys.argv = ['ctoaudit', 'analyzers', '--json']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('ctoaudit.cli.'))\n"
        "print(loaded, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    loaded = proc.stderr.strip().splitlines()[-1]
    assert "ctoaudit.cli.analyzers" in loaded
    for other in ("ctoaudit.cli.gate", "ctoaudit.cli.trend", "ctoaudit.cli.rules", "ctoaudit.cli.run"):
        assert other not in loaded


def test_help_and_unknown_commands_see_every_command() -> None:
    from ctoaudit.cli import COMMANDS, _requested  # noqa: PLC0415

    assert _requested(["trend", "--last", "3"]) == ["trend"]
    assert _requested(["--version"]) == list(COMMANDS)
    assert _requested(["nonsense"]) == list(COMMANDS)
    assert _requested([]) == list(COMMANDS)


def test_root_help_lists_every_command(cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for name in ("run", "analyzers", "trend", "gate", "config", "rules", "baseline"):
        assert f"  {name} " in result.stdout
