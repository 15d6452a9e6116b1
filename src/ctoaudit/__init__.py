"""ctoaudit: technical audits of software repositories."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # `__version__` is looked up on first use: importlib.metadata costs tens of milliseconds, and
    # a replayed run (ctoaudit.replay) never needs it.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

        try:
            found = version("ctoaudit")
        except PackageNotFoundError:  # pragma: no cover - a source tree without install
            found = "0.0.0"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module 'ctoaudit' has no attribute {name!r}")
