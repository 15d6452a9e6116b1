"""The base of every model that crosses a boundary: immutable, unknown fields rejected."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Base for immutable models that reject unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
