"""Renderers: pure functions from an AuditReport to text. They never analyze."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import assert_never

from ctoaudit.model import AuditReport

Renderer = Callable[[AuditReport], str]


class RenderFormat(StrEnum):
    """Output formats of `ctoaudit run`."""

    TERMINAL = "terminal"
    JSON = "json"
    MARKDOWN = "markdown"
    SARIF = "sarif"

    def to_renderer(self, *, color: bool = False, width: int = 120) -> Renderer:
        """The renderer for this format."""
        from ctoaudit.render import (  # noqa: PLC0415 - load only what is used
            json_report,
            markdown_report,
            sarif,
            terminal,
        )

        match self:
            case RenderFormat.TERMINAL:
                return lambda report: terminal.render(report, color=color, width=width)
            case RenderFormat.JSON:
                return json_report.render
            case RenderFormat.MARKDOWN:
                return markdown_report.render
            case RenderFormat.SARIF:
                return sarif.render
            case _:  # pragma: no cover - exhaustiveness is checked by mypy and a test
                assert_never(self)

    @classmethod
    def from_suffix(cls, filename: str) -> RenderFormat | None:
        """The format a file name asks for (`audit.json` -> JSON), if any."""
        suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        return {
            "json": cls.JSON,
            "md": cls.MARKDOWN,
            "markdown": cls.MARKDOWN,
            "sarif": cls.SARIF,
        }.get(suffix)
