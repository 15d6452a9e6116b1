"""Dependency manifests and lock files, parsed (never executed) into one list of declared dependencies.

One module per family of formats: `requirements` (pip requirement files), `pyproject` (PEP 621, PEP 735,
Poetry, Pipfile), `locks` (poetry.lock, uv.lock, pdm.lock, pylock.toml, Pipfile.lock), `npm`
(package.json, package-lock.json); `collect` finds them in a snapshot and merges what they say.
"""
