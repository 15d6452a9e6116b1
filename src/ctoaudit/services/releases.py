"""Release histories of packages from their registries, behind one `ReleaseIndex` interface.

PyPI's JSON API project document (`BASE/pypi/NAME/json`) and npm's packument (`BASE/NAME`) are reduced
to what the audit needs: each version with its release time (earliest file upload), yanked and
deprecated flags. Histories are kept in the ctoaudit cache: a history fetched after the as-of instant
already holds every release that counts, and a recent one is reused until it is older than the
refresh age. Registry hosts are never written here: they come from options, `CTOAUDIT_PYPI_URL` /
`CTOAUDIT_NPM_URL`, or the user's own pip and npm configuration (and pip's built-in default index).
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from urllib.parse import quote

from ctoaudit.cache import ResultCache
from ctoaudit.dependencies.model import Ecosystem
from ctoaudit.dependencies.versions import parse_version
from ctoaudit.services.http import HttpClient, Response

if TYPE_CHECKING:
    from ctoaudit.analyzers import ProgressSink

CACHE_FORMAT = "2"
"""Part of every cache key: bump when the stored history layout changes."""


class Release(NamedTuple):
    """One published version: when its first file was uploaded, whether it was withdrawn, its order.

    `uploaded` is POSIX seconds (cheap to store, load and compare). `rank` is the version's position in
    the ecosystem's version order (equal versions share a rank), None when the version string cannot
    be ordered; it is computed once when the history is fetched, so cached audits never re-parse.
    A named tuple rather than a dataclass: a warm audit loads tens of thousands from the cache.
    """

    version: str
    uploaded: float | None
    yanked: bool = False
    deprecated: str | None = None
    rank: int | None = None
    major: int = 0
    prerelease: bool = False


RawRelease = tuple[str, float | None, bool, str | None]
"""(version, uploaded, yanked, deprecated) as read from a registry document."""


def ranked(ecosystem: Ecosystem, releases: Iterable[RawRelease]) -> tuple[Release, ...]:
    """Releases with rank, major and pre-release flag, in version order (unorderable ones last)."""
    parsed = [(parse_version(ecosystem, raw[0]), raw) for raw in releases]
    orderable = sorted(((v, raw) for v, raw in parsed if v is not None), key=lambda p: p[0].key)
    out: list[Release] = []
    rank, previous = -1, None
    for version, (text, uploaded, yanked, deprecated) in orderable:
        if previous is None or version.key != previous:
            rank, previous = rank + 1, version.key
        out.append(
            Release(text, uploaded, yanked, deprecated, rank, version.major, version.prerelease)
        )
    unorderable = sorted(raw for v, raw in parsed if v is None)
    out.extend(
        Release(text, uploaded, yanked, deprecated)
        for text, uploaded, yanked, deprecated in unorderable
    )
    return tuple(out)


@dataclass(frozen=True)
class History:
    """Every release of one package, as its registry lists them, in version order."""

    ecosystem: Ecosystem
    name: str
    releases: tuple[Release, ...]
    fetched_at: datetime
    serial: int | None = None

    def to_json(self) -> bytes:
        """Compact serialization for the cache."""
        rows = [list(r) for r in self.releases]
        doc = {
            "e": self.ecosystem.value,
            "n": self.name,
            "f": self.fetched_at.isoformat(),
            "s": self.serial,
            "r": rows,
        }
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> History:
        """Inverse of `to_json`."""
        doc = json.loads(data)
        return cls(
            ecosystem=Ecosystem(doc["e"]),
            name=doc["n"],
            fetched_at=datetime.fromisoformat(doc["f"]),
            serial=doc["s"],
            releases=tuple(map(Release._make, doc["r"])),
        )


@dataclass(frozen=True)
class Lookup:
    """A package's history, or why there is none (not found, registry error, offline and not cached)."""

    history: History | None
    reason: str | None = None


class ReleaseIndex(Protocol):
    """Where release histories come from; the analyzer knows nothing else about registries."""

    def lookup(self, ecosystem: Ecosystem, names: Iterable[str]) -> dict[str, Lookup]:
        """The history of every name, keyed by name."""
        ...


class DocumentError(ValueError):
    """A registry document does not have the expected shape."""


def _time(value: Any) -> float | None:  # noqa: ANN401 - raw JSON
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None


def parse_pypi_project(name: str, doc: Any, fetched_at: datetime) -> History:  # noqa: ANN401 - raw JSON
    """A PyPI JSON API project document: a release's time is its earliest file upload.

    A release is yanked when all of its files are (PEP 592); a release without files has no time and
    never counts as published.
    """
    if not isinstance(doc, Mapping) or not isinstance(doc.get("releases"), Mapping):
        raise DocumentError("no 'releases' object in the project document")
    releases: list[RawRelease] = []
    for version, files in doc["releases"].items():
        if not isinstance(files, list):
            raise DocumentError(f"release {version!r} is not a list of files")
        stamps = [f.get("upload_time_iso_8601") for f in files if isinstance(f, dict)]
        # PyPI writes every stamp in one fixed-width UTC format, so the smallest string is the
        # earliest upload: one datetime parse per release instead of one per file.
        texts = [t for t in stamps if isinstance(t, str)]
        if len({len(t) for t in texts}) <= 1:
            uploaded = _time(min(texts, default=None))
        else:
            uploaded = min((u for t in texts if (u := _time(t)) is not None), default=None)
        yanked = bool(files) and all(isinstance(f, dict) and f.get("yanked") for f in files)
        releases.append((str(version), uploaded, yanked, None))
    serial = doc.get("last_serial")
    return History(
        Ecosystem.PYPI,
        name,
        ranked(Ecosystem.PYPI, releases),
        fetched_at,
        serial if isinstance(serial, int) else None,
    )


def parse_npm_packument(name: str, doc: Any, fetched_at: datetime) -> History:  # noqa: ANN401 - raw JSON
    """An npm packument: `time` gives publication times, `versions[v].deprecated` the deprecations.

    Versions that appear in `time` but not in `versions` were unpublished: they count as yanked.
    """
    if not isinstance(doc, Mapping) or not isinstance(doc.get("versions", {}), Mapping):
        raise DocumentError("no 'versions' object in the packument")
    times = doc.get("time", {})
    if not isinstance(times, Mapping):
        raise DocumentError("'time' is not an object")
    versions: Mapping[str, Any] = doc.get("versions", {})
    releases: list[RawRelease] = []
    for version in sorted({*versions, *(k for k in times if k not in {"created", "modified"})}):
        meta = versions.get(version)
        deprecated = meta.get("deprecated") if isinstance(meta, Mapping) else None
        releases.append(
            (
                version,
                _time(times.get(version)),
                meta is None,
                deprecated if isinstance(deprecated, str) and deprecated else None,
            )
        )
    return History(Ecosystem.NPM, name, ranked(Ecosystem.NPM, releases), fetched_at)


def project_url(ecosystem: Ecosystem, base: str, name: str) -> str:
    """`BASE/pypi/NAME/json` for PyPI, `BASE/NAME` (scope slash escaped) for npm."""
    base = base.rstrip("/")
    if ecosystem is Ecosystem.PYPI:
        return f"{base}/pypi/{quote(name)}/json"
    return f"{base}/{quote(name, safe='@')}"


# Registry configuration -----------------------------------------------------------------------


def pypi_base_from_index(index_url: str) -> str:
    """The JSON API base of a simple index: `https://host/simple/` -> `https://host`.

    Mirrors (devpi, Artifactory, Nexus, warehouse) serve `/pypi/NAME/json` beside `/simple/`.
    """
    url = index_url.strip().rstrip("/")
    for suffix in ("/+simple", "/simple"):
        if url.endswith(suffix):
            return url[: -len(suffix)]
    return url


def pip_config_files(environ: Mapping[str, str]) -> list[Path]:
    """Pip's configuration files in pip's order (global, user, site); later ones override earlier."""
    if environ.get("PIP_CONFIG_FILE") == os.devnull:
        return []
    xdg_dirs = environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    home = Path(environ.get("HOME", str(Path.home())))
    config_home = Path(environ.get("XDG_CONFIG_HOME", str(home / ".config")))
    files = [
        *(Path(d) / "pip" / "pip.conf" for d in reversed(xdg_dirs) if d),
        Path("/etc/pip.conf"),
    ]
    files += [home / ".pip" / "pip.conf", config_home / "pip" / "pip.conf"]
    if environ.get("VIRTUAL_ENV"):
        files.append(Path(environ["VIRTUAL_ENV"]) / "pip.conf")
    if environ.get("PIP_CONFIG_FILE"):
        files.append(Path(environ["PIP_CONFIG_FILE"]))
    return files


def pip_index_url(environ: Mapping[str, str]) -> str | None:
    """Pip's configured index: `PIP_INDEX_URL`, else `index-url` from its config files."""
    if environ.get("PIP_INDEX_URL"):
        return environ["PIP_INDEX_URL"].split()[0]
    found: str | None = None
    for path in pip_config_files(environ):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in ("global", "install"):
            if parser.has_option(section, "index-url"):
                found = parser.get(section, "index-url").split()[0]
    return found


def pip_default_index() -> str | None:
    """Pip's own built-in default index, from the installed pip (None when pip is not installed)."""
    try:
        from pip._internal.models.index import PyPI  # noqa: PLC0415 - the one place pip states it
    except ImportError:
        return None
    return str(PyPI.simple_url)


def npm_registry(
    environ: Mapping[str, str], run: Callable[[list[str]], str | None] | None = None
) -> str | None:
    """Npm's configured registry: `npm_config_registry`, else `registry=` in ~/.npmrc, else `npm config get registry`."""
    for key in ("npm_config_registry", "NPM_CONFIG_REGISTRY"):
        if environ.get(key):
            return environ[key]
    npmrc = Path(
        environ.get(
            "NPM_CONFIG_USERCONFIG", str(Path(environ.get("HOME", str(Path.home()))) / ".npmrc")
        )
    )
    try:
        for line in npmrc.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() == "registry" and value.strip():
                return value.strip()
    except (OSError, UnicodeDecodeError):
        pass
    return (run or _npm_config_get)(["config", "get", "registry"])


def _npm_config_get(args: list[str]) -> str | None:
    npm = shutil.which("npm")
    if npm is None:
        return None
    try:
        # From the home folder: npm would otherwise also read an .npmrc of the audited repository.
        proc = subprocess.run(
            [npm, *args], capture_output=True, text=True, timeout=10, check=False, cwd=Path.home()
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = proc.stdout.strip()
    return value if proc.returncode == 0 and value.startswith(("http://", "https://")) else None


@dataclass(frozen=True)
class RegistryBases:
    """The base URL of each ecosystem's registry, or why there is none."""

    bases: dict[Ecosystem, str] = field(default_factory=dict)
    missing: dict[Ecosystem, str] = field(default_factory=dict)


def registry_bases(
    configured: Mapping[Ecosystem, str | None],
    environ: Mapping[str, str],
    needed: Iterable[Ecosystem],
) -> RegistryBases:
    """Base URL per needed ecosystem: CTOAUDIT_* env var, then options, then pip's / npm's own configuration."""
    result = RegistryBases()
    for ecosystem in sorted(set(needed)):
        env = environ.get(f"CTOAUDIT_{ecosystem.value.upper()}_URL")
        base = env or configured.get(ecosystem)
        if not base and ecosystem is Ecosystem.PYPI:
            index = pip_index_url(environ) or pip_default_index()
            base = pypi_base_from_index(index) if index else None
        elif not base:
            base = npm_registry(environ)
        if not base:
            result.missing[ecosystem] = (
                f"no {ecosystem.value} registry configured (set CTOAUDIT_{ecosystem.value.upper()}_URL)"
            )
        elif not base.startswith(("http://", "https://")):
            result.missing[ecosystem] = f"{ecosystem.value} registry {base} is not an http(s) URL"
        else:
            result.bases[ecosystem] = base.rstrip("/")
    return result


# The index ----------------------------------------------------------------------------------------


@dataclass
class CachedRegistryIndex:
    """Histories from the ctoaudit cache when fresh enough, else from the registry (unless offline)."""

    bases: RegistryBases
    cache: ResultCache
    client: HttpClient | None
    now: datetime
    as_of: datetime
    refresh_after: timedelta = timedelta(hours=24)
    progress: ProgressSink | None = None
    fetched: int = 0

    def _key(self, ecosystem: Ecosystem, name: str) -> str:
        return f"releases\x1f{CACHE_FORMAT}\x1f{ecosystem.value}\x1f{self.bases.bases.get(ecosystem, '')}\x1f{name}"

    def _fresh(self, history: History) -> bool:
        # Release times never change: a history fetched after the as-of instant already holds
        # every release that instant can see.
        return (
            history.fetched_at >= self.as_of or self.now - history.fetched_at < self.refresh_after
        )

    def lookup(self, ecosystem: Ecosystem, names: Iterable[str]) -> dict[str, Lookup]:
        """Histories of `names`, each from the cache or one request; failures carry their reason."""
        wanted = sorted(set(names))
        if ecosystem in self.bases.missing:
            return {n: Lookup(None, self.bases.missing[ecosystem]) for n in wanted}
        keys = {n: self._key(ecosystem, n) for n in wanted}
        stored = self.cache.get_many(keys.values())
        out: dict[str, Lookup] = {}
        stale: dict[str, History] = {}
        for name, key in keys.items():
            if key in stored:
                try:
                    history = History.from_json(stored[key])
                except (ValueError, KeyError, TypeError):
                    continue
                if self._fresh(history) or self.client is None:
                    out[name] = Lookup(history)
                else:
                    stale[name] = history
        missing = [n for n in wanted if n not in out]
        if self.client is None:
            out.update({n: Lookup(None, "not in the release cache (offline)") for n in missing})
            return out
        out.update(self._fetch(ecosystem, missing, stale))
        return out

    def _fetch(
        self, ecosystem: Ecosystem, names: list[str], stale: Mapping[str, History]
    ) -> dict[str, Lookup]:
        assert self.client is not None  # noqa: S101 - lookup() only calls this when online
        base = self.bases.bases[ecosystem]
        urls = {n: project_url(ecosystem, base, n) for n in names}
        on_done = None
        if self.progress is not None and urls:
            self.progress.start(f"{ecosystem.value} registry", len(urls))
            on_done = self.progress.advance
        names_by_url = {url: name for name, url in urls.items()}

        def decode(response: Response) -> tuple[Lookup, bytes | None]:
            # Runs on the HTTP worker thread, overlapping with the other downloads.
            lookup = self._from_response(ecosystem, names_by_url[response.url], response)
            return lookup, lookup.history.to_json() if lookup.history is not None else None

        results = self.client.fetch_all(urls.values(), decode, on_done=on_done)
        self.fetched += len(urls)
        out: dict[str, Lookup] = {}
        fresh: dict[str, bytes] = {}
        for name, url in urls.items():
            lookup, stored = results[url]
            if lookup.history is None and name in stale:
                lookup = Lookup(stale[name])  # an old history beats none when the registry fails
            elif stored is not None:
                fresh[self._key(ecosystem, name)] = stored
            out[name] = lookup
        self.cache.put_many(fresh)
        return out

    def _from_response(self, ecosystem: Ecosystem, name: str, response: Response) -> Lookup:
        if response.not_found:
            return Lookup(None, f"not found in the {ecosystem.value} registry ({response.url})")
        if response.body is None:
            return Lookup(None, f"registry error: {response.error} ({response.url})")
        try:
            doc = json.loads(response.body)
            parse = parse_pypi_project if ecosystem is Ecosystem.PYPI else parse_npm_packument
            return Lookup(parse(name, doc, self.now))
        except (ValueError, DocumentError) as exc:
            return Lookup(None, f"malformed registry document: {exc} ({response.url})")
