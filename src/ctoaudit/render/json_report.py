"""The canonical JSON report: deterministic bytes for the same inputs (sorted keys, stable order)."""

from __future__ import annotations

import json

from pydantic import ValidationError

from ctoaudit.errors import ConfigError
from ctoaudit.model import SCHEMA_VERSION, AuditReport


def render(report: AuditReport) -> str:
    """The report as indented JSON with sorted keys and a final newline."""
    return (
        json.dumps(report.model_dump(mode="json"), sort_keys=True, indent=2, ensure_ascii=False)
        + "\n"
    )


def load(text: str, source: str) -> AuditReport:
    """Read a saved report back, with a clear error for corrupt files and other schema versions."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not a JSON report: {exc}") from exc
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ConfigError(f"{source}: not a ctoaudit report (no schema_version)")
    version = data["schema_version"]
    if version != SCHEMA_VERSION:
        raise ConfigError(
            f"{source}: report schema version {version}, this ctoaudit reads version {SCHEMA_VERSION}; "
            "re-create the report with this version"
        )
    try:
        return AuditReport.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{source}: invalid report at {key}: {first['msg']}") from exc
