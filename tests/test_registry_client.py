"""The pooled HTTP client, registry configuration and the cached release index, against a real local server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from pip._internal.models.index import PyPI
from registry_server import RegistryServer, Reply, json_reply, recorded

from ctoaudit.cache import SqliteCache
from ctoaudit.dependencies.model import Ecosystem
from ctoaudit.services.http import HttpClient, HttpSettings, retry_after_seconds
from ctoaudit.services.releases import (
    CachedRegistryIndex,
    RegistryBases,
    npm_registry,
    parse_npm_packument,
    parse_pypi_project,
    project_url,
    pypi_base_from_index,
    registry_bases,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_keep_alive_pool_reuses_connections() -> None:
    with RegistryServer() as server:
        for i in range(40):
            server.add(f"/doc/{i}", json_reply({"i": i}))
        responses = client(concurrency=4).get_many(f"{server.url}/doc/{i}" for i in range(40))
    assert sorted(json.loads(r.body)["i"] for r in responses.values()) == list(range(40))
    assert len(server.requests) == 40
    assert server.connections <= 4  # one keep-alive connection per worker, not one per request


def test_429_honours_retry_after_seconds_then_succeeds() -> None:
    sleeps = Sleeps()
    with RegistryServer() as server:
        server.add("/x", Reply(429, b"slow down", {"Retry-After": "7"}), json_reply({"ok": True}))
        response = client(sleeps).get(f"{server.url}/x")
    assert json.loads(response.body) == {"ok": True}
    assert sleeps == [7.0]


def test_503_retry_after_http_date_and_cap() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    assert 100 < retry_after_seconds(when) <= 120
    sleeps = Sleeps()
    with RegistryServer() as server:
        server.add("/x", Reply(503, b"", {"Retry-After": when}))
        response = client(sleeps, max_retry_after=30).get(f"{server.url}/x")
    assert response.body is None
    assert response.error.startswith("HTTP 503; server asks to wait 1")
    assert sleeps == []  # never waits longer than allowed


def test_500_retries_with_backoff_then_gives_up() -> None:
    sleeps = Sleeps()
    with RegistryServer() as server:
        server.add("/x", Reply(500, b"oops"))
        response = client(sleeps).get(f"{server.url}/x")
        assert server.requests == ["/x"] * 3
    assert response.error == "HTTP 500 (after 3 attempts)"
    assert sleeps == [0.01, 0.02]


def test_timeout_and_refused_connection() -> None:
    with RegistryServer() as server:
        server.add("/slow", Reply(200, b"{}", delay=1.0))
        response = client(timeout=0.2, retries=0).get(f"{server.url}/slow")
        url = server.url
    assert response.error == "timed out after 0.2s (after 1 attempt)"
    down = client(retries=0).get(f"{url}/gone")
    assert down.error.startswith("connection failed: ConnectionRefusedError")


def test_plain_http_through_the_environments_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    with RegistryServer() as proxy:
        proxy.add("/pypi/flask/json", json_reply({"releases": {}}))
        monkeypatch.setenv("http_proxy", f"http://user:secret@{proxy.url.removeprefix('http://')}")
        monkeypatch.setenv("no_proxy", "skip.invalid")
        response = client().get("http://registry.invalid/pypi/flask/json")
    assert json.loads(response.body) == {"releases": {}}
    assert proxy.proxied == ["http://registry.invalid/pypi/flask/json"]


def test_redirects_are_followed() -> None:
    with RegistryServer() as server:
        server.add("/pypi/Flask/json", Reply(301, b"", {"Location": "/pypi/flask/json"}))
        server.add("/pypi/flask/json", json_reply({"releases": {}}))
        server.add("/loop", Reply(302, b"", {"Location": f"{server.url}/loop"}))
        response = client().get(f"{server.url}/pypi/Flask/json")
        looping = client().get(f"{server.url}/loop")
    assert response.url == f"{server.url}/pypi/Flask/json"
    assert json.loads(response.body) == {"releases": {}}
    assert looping.error == "more than 5 redirects"


def test_404_is_not_retried() -> None:
    with RegistryServer() as server:
        response = client().get(f"{server.url}/pypi/nothing/json")
        assert server.requests == ["/pypi/nothing/json"]
    assert response.not_found


def test_pypi_document_release_times_and_yanks() -> None:
    history = parse_pypi_project("requests", recorded("pypi", "requests"), NOW)
    releases = {r.version: r for r in history.releases}
    assert releases["2.32.0"].yanked
    assert not releases["2.32.3"].yanked
    assert (
        releases["2.25.1"].uploaded
        == datetime(2020, 12, 16, 19, 38, 34, 329342, tzinfo=UTC).timestamp()
    )  # the earlier of its two files
    assert (releases["2.25.1"].major, releases["2.25.1"].prerelease) == (2, False)
    assert releases["2.25.1"].rank < releases["2.26.0"].rank
    assert releases["0.0.1"].uploaded is None  # a release without files was never really published
    assert history.serial == 37059094


def test_pypi_upload_stamps_of_mixed_formats() -> None:
    files = [
        {"upload_time_iso_8601": "2020-01-01T10:00:00.500000Z", "yanked": False},
        {"upload_time_iso_8601": "2020-01-01T09:59:59Z", "yanked": False},
        {"upload_time_iso_8601": None, "yanked": False},
    ]
    history = parse_pypi_project("x", {"releases": {"1.0": files}}, NOW)
    assert history.releases[0].uploaded == datetime(2020, 1, 1, 9, 59, 59, tzinfo=UTC).timestamp()


def test_npm_packument_deprecated_and_unpublished() -> None:
    doc = recorded("npm", "request")
    doc["time"]["9.9.9"] = (
        "2021-06-01T00:00:00.000Z"  # listed in time, gone from versions: unpublished
    )
    history = parse_npm_packument("request", doc, NOW)
    releases = {r.version: r for r in history.releases}
    assert releases["2.88.2"].deprecated.startswith("request has been deprecated")
    assert releases["9.9.9"].yanked
    assert "created" not in releases


def test_registry_urls_from_env_options_and_pip(tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = https://mirror.example.test/repository/pypi/simple/\n")
    base_env = {
        "HOME": str(tmp_path),
        "XDG_CONFIG_DIRS": str(tmp_path / "none"),
        "PIP_CONFIG_FILE": str(conf),
    }
    npm_env = {"npm_config_registry": "https://npm.example.test/"}
    got = registry_bases(
        {Ecosystem.PYPI: None, Ecosystem.NPM: None},
        {**base_env, **npm_env},
        [Ecosystem.PYPI, Ecosystem.NPM],
    )
    assert got.bases == {
        Ecosystem.PYPI: "https://mirror.example.test/repository/pypi",
        Ecosystem.NPM: "https://npm.example.test",
    }
    env = {
        **base_env,
        "PIP_INDEX_URL": "http://devpi.test/root/pypi/+simple/",
        "CTOAUDIT_NPM_URL": "http://127.0.0.1:8080",
    }
    got = registry_bases(
        {Ecosystem.PYPI: None, Ecosystem.NPM: "https://ignored.test"},
        env,
        [Ecosystem.PYPI, Ecosystem.NPM],
    )
    assert got.bases == {
        Ecosystem.PYPI: "http://devpi.test/root/pypi",
        Ecosystem.NPM: "http://127.0.0.1:8080",
    }
    got = registry_bases(
        {Ecosystem.PYPI: "https://opt.test/"}, {**env, "CTOAUDIT_PYPI_URL": ""}, [Ecosystem.PYPI]
    )
    assert got.bases == {Ecosystem.PYPI: "https://opt.test"}
    got = registry_bases(
        {}, {"PIP_INDEX_URL": "file:///opt/simple", "HOME": str(tmp_path)}, [Ecosystem.PYPI]
    )
    assert got.missing == {Ecosystem.PYPI: "pypi registry file:///opt is not an http(s) URL"}


def test_npm_registry_from_npmrc_then_npm_itself(tmp_path: Path) -> None:
    (tmp_path / ".npmrc").write_text(
        "; comment\n@corp:registry=https://scoped.test/\nregistry = https://npm.corp.test/\n"
    )
    assert (
        npm_registry({"HOME": str(tmp_path)}, run=lambda args: "unused") == "https://npm.corp.test/"
    )
    asked: list[list[str]] = []
    got = npm_registry(
        {"HOME": str(tmp_path / "nowhere")},
        run=lambda args: asked.append(args) or "https://from-npm.test/",
    )
    assert (got, asked) == ("https://from-npm.test/", [["config", "get", "registry"]])


def test_pip_builtin_default_when_nothing_configured(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "XDG_CONFIG_DIRS": str(tmp_path / "none"),
        "PIP_CONFIG_FILE": "/dev/null",
    }
    got = registry_bases({}, env, [Ecosystem.PYPI])
    assert got.bases == {Ecosystem.PYPI: PyPI.url.rstrip("/")}


def test_urls_and_index_bases() -> None:
    assert (
        project_url(Ecosystem.PYPI, "http://h:1/", "flask-sqlalchemy")
        == "http://h:1/pypi/flask-sqlalchemy/json"
    )
    assert project_url(Ecosystem.NPM, "http://h:1", "@types/node") == "http://h:1/@types%2Fnode"
    assert (
        pypi_base_from_index("https://host/api/pypi/remote/simple")
        == "https://host/api/pypi/remote"
    )


OPEN: list[HttpClient] = []


@pytest.fixture(autouse=True)
def _no_proxy_from_the_developer(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while OPEN:
        OPEN.pop().close()


def client(sleeps: Sleeps | None = None, **kw: float) -> HttpClient:
    settings = HttpSettings(
        **{"timeout": 2.0, "retries": 2, "backoff": 0.01, "concurrency": 4, **kw}
    )
    OPEN.append(HttpClient(settings, sleep=sleeps if sleeps is not None else (lambda s: None)))
    return OPEN[-1]


def index(
    server_url: str,
    cache: SqliteCache,
    *,
    offline: bool = False,
    now: datetime = NOW,
    as_of: datetime | None = None,
) -> CachedRegistryIndex:
    bases = RegistryBases(bases={Ecosystem.PYPI: server_url, Ecosystem.NPM: server_url})
    return CachedRegistryIndex(
        bases, cache, None if offline else client(retries=0), now=now, as_of=as_of or now
    )


def test_index_caches_histories_and_reports_failures(tmp_path: Path) -> None:
    cache = SqliteCache(tmp_path / "c")
    with RegistryServer() as server:
        server.add_pypi("flask")
        server.add("/pypi/broken/json", Reply(200, b"{not json"))
        server.add("/pypi/shapeless/json", json_reply({"info": {}}))
        server.add_npm("@sindresorhus/is")
        got = index(server.url, cache).lookup(
            Ecosystem.PYPI, ["flask", "broken", "shapeless", "missing"]
        )
        assert got["flask"].history is not None
        assert got["broken"].reason.startswith(
            "malformed registry document: Expecting property name"
        )
        assert got["shapeless"].reason.startswith(
            "malformed registry document: no 'releases' object"
        )
        assert (
            got["missing"].reason
            == f"not found in the pypi registry ({server.url}/pypi/missing/json)"
        )
        scoped = index(server.url, cache).lookup(Ecosystem.NPM, ["@sindresorhus/is"])
        assert scoped["@sindresorhus/is"].history is not None
        server.requests.clear()
        again = index(server.url, cache, now=NOW + timedelta(hours=1)).lookup(
            Ecosystem.PYPI, ["flask"]
        )
        assert again["flask"].history == got["flask"].history
        assert server.requests == []  # fresh in the cache
        index(server.url, cache, now=NOW + timedelta(days=2)).lookup(Ecosystem.PYPI, ["flask"])
        assert server.requests == ["/pypi/flask/json"]  # older than the refresh age
        server.requests.clear()
        old = index(server.url, cache, now=NOW + timedelta(days=30), as_of=NOW - timedelta(days=1))
        old.lookup(Ecosystem.PYPI, ["flask"])
        assert server.requests == []  # fetched after the as-of instant: complete for it
        url = server.url
    offline = index(url, cache, offline=True).lookup(Ecosystem.PYPI, ["flask", "django"])
    assert offline["flask"].history is not None
    assert offline["django"].reason == "not in the release cache (offline)"
    cache.close()


def test_stale_history_is_kept_when_the_registry_fails(tmp_path: Path) -> None:
    cache = SqliteCache(tmp_path / "c")
    with RegistryServer() as server:
        server.add_pypi("flask")
        first = index(server.url, cache).lookup(Ecosystem.PYPI, ["flask"])
        server.add("/pypi/flask/json", Reply(500))
        later = index(server.url, cache, now=NOW + timedelta(days=3)).lookup(
            Ecosystem.PYPI, ["flask"]
        )
    assert later["flask"].history == first["flask"].history
    cache.close()


class RecordingProgress:
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def start(self, label: str, total: int) -> None:
        self.events.append((label, total))

    def advance(self, steps: int = 1) -> None:
        self.events.append(("advance", steps))


def test_progress_counts_registry_requests_only(tmp_path: Path) -> None:
    cache = SqliteCache(tmp_path / "c")
    progress = RecordingProgress()
    with RegistryServer() as server:
        server.add_pypi("flask")
        server.add_pypi("nose")
        first = index(server.url, cache)
        first.progress = progress
        first.lookup(Ecosystem.PYPI, ["flask", "nose"])
        second = index(server.url, cache)
        second.progress = progress
        second.lookup(Ecosystem.PYPI, ["flask", "nose"])  # all cached: no stage at all
    assert progress.events == [("pypi registry", 2), ("advance", 1), ("advance", 1)]
    cache.close()
