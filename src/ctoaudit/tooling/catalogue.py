"""The tool catalogue: package data validated by pydantic, extended and overridden by user options.

Every claim that a tool underperforms (any status but "fine", and any suggested successor) must carry
a rationale and a dated source, so the report can say why and since when, never on fashion.
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ctoaudit.config import format_validation_error
from ctoaudit.errors import ConfigError

TOOL_ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
"""Catalogue ids are lowercase and hyphenated: `github-actions`, `pytest`, `pre-commit`."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Status(StrEnum):
    """How a tool stands today, per a sourced claim (only `fine` needs no source)."""

    RECOMMENDED = "recommended"
    FINE = "fine"
    SUPERSEDED = "superseded"
    DEPRECATED = "deprecated"
    UNMAINTAINED = "unmaintained"


OUTDATED = (Status.SUPERSEDED, Status.DEPRECATED, Status.UNMAINTAINED)


class Usage(StrEnum):
    """How a repository uses a tool, from weakest to strongest evidence."""

    CONFIGURED = "configured"
    INSTALLED = "installed"
    RUN = "run"


class Source(_Model):
    """Where a claim comes from and when the source said it (a day or a month)."""

    url: str = Field(pattern=r"^https://")
    date: str = Field(pattern=r"^\d{4}-\d{2}(-\d{2})?$")


class Detection(_Model):
    """The signals that reveal a tool; see the header of knowledge/tools.toml."""

    files: list[str] = Field(default_factory=list)
    file_usage: Usage = Usage.CONFIGURED
    pyproject: list[str] = Field(default_factory=list)
    ini: list[str] = Field(default_factory=list)
    packages: list[str] = Field(default_factory=list)
    npm: list[str] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list)
    actions: list[str] = Field(default_factory=list)
    hooks: list[str] = Field(default_factory=list)
    hook_repos: list[str] = Field(default_factory=list)
    backends: list[str] = Field(default_factory=list)
    markers: list[str] = Field(default_factory=list)


class ToolSpec(_Model):
    """One tool of the catalogue."""

    id: str = Field(pattern=TOOL_ID_PATTERN)
    name: str
    category: str
    jobs: list[str] = Field(default_factory=list)
    status: Status = Status.FINE
    successor: str | None = None
    rationale: str | None = None
    source: Source | None = None
    configured_is_used: bool = False
    trusted_publishing: Source | None = None
    detect: Detection = Field(default_factory=Detection)

    @model_validator(mode="after")
    def _claims_are_sourced(self) -> Self:
        claims = self.status is not Status.FINE or self.successor is not None
        if claims and (not self.rationale or self.source is None):
            raise ValueError(
                f"{self.id}: status {self.status.value!r} or a successor needs a rationale and a dated source"
            )
        return self


class ToolOverride(_Model):
    """User changes to a catalogue tool: any field given replaces the catalogue's."""

    name: str | None = None
    category: str | None = None
    jobs: list[str] | None = None
    status: Status | None = None
    successor: str | None = None
    rationale: str | None = None
    source: Source | None = None
    configured_is_used: bool | None = None
    detect: Detection | None = None


class Catalogue(_Model):
    """Categories and tools, checked for unique ids and references that resolve."""

    categories: dict[str, str]
    tools: list[ToolSpec]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [t.id for t in self.tools]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate tool ids: {', '.join(duplicates)}")
        known = set(ids)
        for tool in self.tools:
            if tool.category not in self.categories:
                raise ValueError(f"{tool.id}: unknown category {tool.category!r}")
            if tool.successor is not None and tool.successor not in known:
                raise ValueError(f"{tool.id}: successor {tool.successor!r} is not in the catalogue")
        return self

    def by_id(self) -> dict[str, ToolSpec]:
        """Tools keyed by id."""
        return {t.id: t for t in self.tools}


@cache
def builtin_catalogue() -> Catalogue:
    """The catalogue shipped with ctoaudit (knowledge/tools.toml), validated once per process."""
    text = files("ctoaudit.knowledge").joinpath("tools.toml").read_text(encoding="utf-8")
    return Catalogue.model_validate(tomllib.loads(text))


def customize(
    base: Catalogue,
    *,
    tools: list[dict[str, Any]],
    overrides: dict[str, ToolOverride],
    categories: dict[str, str],
    disable: list[str],
    source: str,
) -> Catalogue:
    """The catalogue with user tools added (same id replaces), overrides applied, tools disabled.

    Raises ConfigError naming the option when the result is not a valid catalogue.
    """
    by_id = base.by_id()
    unknown = sorted((set(overrides) | set(disable)) - set(by_id) - {t.get("id") for t in tools})
    if unknown:
        raise ConfigError(
            f"{source}: unknown tool id(s) in overrides/disable: {', '.join(unknown)}"
        )
    try:
        for raw in tools:
            spec = ToolSpec.model_validate(raw)
            by_id[spec.id] = spec
        for tool_id, override in sorted(overrides.items()):
            changes = override.model_dump(exclude_none=True)
            merged = by_id[tool_id].model_dump() | changes
            by_id[tool_id] = ToolSpec.model_validate(merged)
        kept = [t for tool_id, t in sorted(by_id.items()) if tool_id not in disable]
        return Catalogue.model_validate(
            {"categories": base.categories | categories, "tools": [t.model_dump() for t in kept]}
        )
    except ValidationError as exc:
        raise ConfigError(format_validation_error(source, exc)) from exc
