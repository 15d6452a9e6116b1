"""Settings: command line over a config file over defaults, with unknown keys rejected.

The config file is `--config FILE` when given, else `.ctoaudit.toml` at the target's root (top-level
keys), else the `[tool.ctoaudit]` table of the target's `pyproject.toml`. Exactly one source is used, so
what applies is never a puzzle.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from ctoaudit.errors import ConfigError
from ctoaudit.gate import GatePolicy
from ctoaudit.stamps import note_input

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
CONFIG_FILE = ".ctoaudit.toml"
PYPROJECT = "pyproject.toml"

OptionsT = TypeVar("OptionsT", bound=BaseModel)


class Settings(BaseModel):
    """Everything that shapes an audit, after merging the command line, the config file and defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    exclude: list[str] = Field(
        default_factory=list,
        description="Glob patterns of paths (or folders) to leave out, relative to the target root.",
    )
    jobs: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Worker processes for per-file analysis; default: all cores.",
    )
    enable: list[str] | None = Field(
        default=None, description="Analyzers to run; default: every installed analyzer."
    )
    disable: list[str] = Field(default_factory=list, description="Analyzers not to run.")
    max_file_bytes: int = Field(
        default=DEFAULT_MAX_FILE_BYTES,
        ge=1,
        description="Files larger than this are skipped, with the reason in the report.",
    )
    rules: str | None = Field(
        default=None,
        description="Rule set: 'default', an installed rule-set plugin, or a TOML file "
        "(relative to the target root, or to --config's folder).",
    )
    analyzers: dict[str, dict[str, JsonValue]] = Field(
        default_factory=dict,
        description="Per-analyzer options: [tool.ctoaudit.analyzers.<name>]; see `ctoaudit analyzers`.",
    )
    gate: GatePolicy = Field(
        default_factory=GatePolicy,
        description="What fails `ctoaudit gate`: [tool.ctoaudit.gate]; flags override it.",
    )

    source: str | None = Field(
        default=None, exclude=True, description="The config file read, if any."
    )
    from_target: bool = Field(
        default=False,
        exclude=True,
        description="True when read from the audited target's own config (.ctoaudit.toml or "
        "pyproject.toml), not from --config: such settings may not choose hosts to contact.",
    )

    def with_overrides(self, **overrides: Any) -> Settings:  # noqa: ANN401 - validated by pydantic below
        """A copy with command-line values applied; None means "not given"."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self
        data = self.model_dump() | {"source": self.source, "from_target": self.from_target}
        if "exclude" in given:
            given["exclude"] = [*self.exclude, *given["exclude"]]
        try:
            return Settings.model_validate(data | given)
        except ValidationError as exc:
            raise ConfigError(format_validation_error("command line", exc)) from exc


def format_validation_error(source: str, exc: ValidationError) -> str:
    """One line per problem, each naming the file and the dotted key."""
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"{source}: {key}: {err['msg']}")
    return "\n".join(lines)


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """TOML to a dict, or a ConfigError naming the file and the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from exc


def settings_from_mapping(
    data: Mapping[str, Any], source: str, *, from_target: bool = False
) -> Settings:
    """Validate a config table, naming the file and key on error."""
    try:
        settings = Settings.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(format_validation_error(source, exc)) from exc
    return settings.model_copy(update={"source": source, "from_target": from_target})


def load_settings(
    read_root_file: Callable[[str], bytes | None],
    *,
    config_file: Path | None = None,
) -> Settings:
    """Settings from `config_file`, else from the target's own config files, else defaults."""
    if config_file is not None:
        note_input(config_file)
        try:
            text = config_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_file}: cannot read config file: {exc}") from exc
        data = parse_toml(text, str(config_file))
        if config_file.name == PYPROJECT:
            data = data.get("tool", {}).get("ctoaudit", {})
        return settings_from_mapping(data, str(config_file))
    raw = read_root_file(CONFIG_FILE)
    if raw is not None:
        return settings_from_mapping(
            parse_toml(_decode(raw, CONFIG_FILE), CONFIG_FILE), CONFIG_FILE, from_target=True
        )
    raw = read_root_file(PYPROJECT)
    if raw is not None:
        try:
            data = tomllib.loads(_decode(raw, PYPROJECT))
        except (tomllib.TOMLDecodeError, ConfigError):
            # A broken pyproject.toml is the audited project's problem, reported by the analyzers
            # that read it; it must not stop the audit when it holds no ctoaudit settings we can see.
            return Settings()
        table = data.get("tool", {}).get("ctoaudit")
        if table is not None:
            if not isinstance(table, dict):
                raise ConfigError(f"{PYPROJECT}: tool.ctoaudit: must be a table")
            return settings_from_mapping(table, f"{PYPROJECT} [tool.ctoaudit]", from_target=True)
    return Settings()


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not valid UTF-8: {exc}") from exc


def validate_analyzer_options(settings: Settings, analyzer: str, model: type[OptionsT]) -> OptionsT:
    """The analyzer's options from `[tool.ctoaudit.analyzers.<name>]`, validated, or a ConfigError."""
    raw = settings.analyzers.get(analyzer, {})
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in ("analyzers", analyzer, *err["loc"]))
            lines.append(f"{settings.source or 'settings'}: {key}: {err['msg']}")
        raise ConfigError("\n".join(lines)) from exc
