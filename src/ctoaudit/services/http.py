"""A small pooled HTTP client for registry documents: keep-alive, bounded concurrency, retries.

The standard library's `http.client` is enough for GETs of JSON: each worker thread keeps one
persistent connection per host, so 150 lookups reuse a handful of TCP (and TLS) connections instead of
opening 150. Responses are gzip-compressed when the server offers it (registry documents shrink ~10x).
Retries back off exponentially; 429 and 503 honour `Retry-After` up to a cap.
"""

from __future__ import annotations

import base64
import email.utils
import gzip
import http.client
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC
from typing import TypeVar
from urllib.parse import unquote, urljoin, urlsplit

from ctoaudit import __version__

T = TypeVar("T")
USER_AGENT = f"ctoaudit/{__version__} (+dependency age analysis)"
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_NOT_FOUND = frozenset({404, 410})
_LOOPBACK = frozenset({"localhost", "::1"})
_REDIRECT = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5


@dataclass(frozen=True)
class HttpSettings:
    """Timeouts, retries and concurrency of one client."""

    timeout: float = 10.0
    retries: int = 3
    concurrency: int = 16
    backoff: float = 0.25
    max_retry_after: float = 30.0


@dataclass(frozen=True)
class Response:
    """The outcome of one GET after retries: a body, a 404, or the reason it failed."""

    url: str
    status: int | None
    body: bytes | None = None
    error: str | None = None
    location: str | None = None
    """Where a redirect points; followed by `HttpClient.get`."""

    @property
    def not_found(self) -> bool:
        """The server says the document does not exist."""
        return self.status in _NOT_FOUND


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """`Retry-After` as seconds to wait: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())


def _proxy_for(scheme: str, host: str) -> str | None:
    """The proxy the environment sets for this scheme (`https_proxy`, `http_proxy`), unless `no_proxy` exempts the host."""
    proxy = urllib.request.getproxies().get(scheme)
    if (
        not proxy
        or host in _LOOPBACK
        or host.startswith("127.")
        or urllib.request.proxy_bypass(host)
    ):
        return None
    return proxy


def open_connection(scheme: str, netloc: str, timeout: float) -> http.client.HTTPConnection:
    """A connection to `netloc`, through the environment's proxy when one applies (CONNECT for https)."""
    host = urlsplit(f"//{netloc}").hostname or netloc
    proxy = _proxy_for(scheme, host)
    if scheme not in {"http", "https"}:
        raise OSError(f"unsupported URL scheme {scheme!r}")
    if proxy is None:
        if scheme == "https":
            return http.client.HTTPSConnection(
                netloc, timeout=timeout, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(netloc, timeout=timeout)
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    headers = {}
    if parts.username:
        token = base64.b64encode(
            f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        ).decode()
        headers["Proxy-Authorization"] = f"Basic {token}"
    proxy_netloc = f"{parts.hostname}:{parts.port or 80}"
    if scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            proxy_netloc, timeout=timeout, context=ssl.create_default_context()
        )
        conn.set_tunnel(netloc, headers=headers)
        return conn
    return _ProxiedConnection(proxy_netloc, timeout=timeout, proxy_headers=headers)


class _ProxiedConnection(http.client.HTTPConnection):
    """Plain HTTP through a proxy: absolute URLs in the request line, proxy credentials on each request."""

    via_proxy = True

    def __init__(self, host: str, *, timeout: float, proxy_headers: dict[str, str]) -> None:
        super().__init__(host, timeout=timeout)
        self.proxy_headers = proxy_headers

    def putrequest(
        self, method: str, url: str, skip_host: bool = False, skip_accept_encoding: bool = False
    ) -> None:
        """Send the request line, then the proxy's credentials."""
        super().putrequest(
            method, url, skip_host=skip_host, skip_accept_encoding=skip_accept_encoding
        )
        for key, value in self.proxy_headers.items():
            self.putheader(key, value)


class HttpClient:
    """GET many URLs with a bounded pool of worker threads, each with keep-alive connections."""

    def __init__(
        self, settings: HttpSettings | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.settings = settings or HttpSettings()
        self._sleep = sleep
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[http.client.HTTPConnection] = []

    def get_many(
        self,
        urls: Iterable[str],
        headers: dict[str, str] | None = None,
        on_done: Callable[[], None] | None = None,
    ) -> dict[str, Response]:
        """Every URL's response, fetched with at most `concurrency` requests in flight."""
        return self.fetch_all(urls, lambda response: response, headers, on_done)

    def fetch_all(
        self,
        urls: Iterable[str],
        handle: Callable[[Response], T],
        headers: dict[str, str] | None = None,
        on_done: Callable[[], None] | None = None,
    ) -> dict[str, T]:
        """`handle(response)` for every URL, keyed by URL.

        `handle` runs on the worker thread as soon as its response arrives, so decoding one document
        overlaps with waiting for the others. `on_done` is called once per URL on the calling thread
        (safe for progress bars).
        """
        wanted = sorted(set(urls))
        if not wanted:
            return {}
        workers = max(1, min(self.settings.concurrency, len(wanted)))
        out: dict[str, T] = {}
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ctoaudit-http") as pool:
            for url, result in zip(
                wanted, pool.map(lambda u: handle(self.get(u, headers)), wanted), strict=True
            ):
                out[url] = result
                if on_done is not None:
                    on_done()
        return out

    def get(self, url: str, headers: dict[str, str] | None = None) -> Response:
        """One GET with retries, following redirects; never raises for network or HTTP errors."""
        target = url
        for _ in range(_MAX_REDIRECTS + 1):
            response = self._get_with_retries(target, headers)
            if response.location is None:
                return replace(response, url=url)
            target = response.location
        return Response(url, None, error=f"more than {_MAX_REDIRECTS} redirects")

    def _get_with_retries(self, url: str, headers: dict[str, str] | None) -> Response:
        last = Response(url, None, error="not attempted")
        for attempt in range(self.settings.retries + 1):
            last, wait = self._attempt(url, headers or {}, attempt)
            if wait is None:
                return last
            if attempt == self.settings.retries:
                break
            if wait > self.settings.max_retry_after:
                return Response(
                    url,
                    last.status,
                    error=f"{last.error}; server asks to wait {wait:.0f}s, more than the {self.settings.max_retry_after:.0f}s allowed",
                )
            self._sleep(wait)
        attempts = self.settings.retries + 1
        return Response(
            url, last.status, error=f"{last.error} (after {attempts} attempt{'s' * (attempts > 1)})"
        )

    def _attempt(
        self, url: str, headers: dict[str, str], attempt: int
    ) -> tuple[Response, float | None]:
        """One request: the response, and how long to wait before retrying (None: do not retry)."""
        backoff = self.settings.backoff * (2**attempt)
        exchanged = self._exchange(url, headers)
        if isinstance(exchanged, Response):
            return exchanged, backoff
        status, head, body = exchanged
        if status == 200:  # noqa: PLR2004
            if head.get("content-encoding") == "gzip":
                try:
                    body = gzip.decompress(body)
                except (OSError, EOFError) as exc:
                    return Response(url, status, error=f"corrupt gzip body: {exc}"), backoff
            return Response(url, status, body=body), None
        if status in _REDIRECT and head.get("location"):
            return Response(url, status, location=urljoin(url, head["location"])), None
        if status in _RETRY_STATUS:
            wait = retry_after_seconds(head.get("retry-after")) if status in {429, 503} else None
            return Response(url, status, error=f"HTTP {status}"), backoff if wait is None else wait
        return Response(url, status, error=f"HTTP {status}"), None

    def _exchange(
        self, url: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes] | Response:
        """Send one GET on a pooled connection: status, lower-cased headers and body, or the failure."""
        parts = urlsplit(url)
        try:
            conn = self._connection(parts.scheme, parts.netloc)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if getattr(conn, "via_proxy", False):
                path = url  # a plain-HTTP proxy takes the absolute URL
            conn.request(
                "GET",
                path or "/",
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip", **headers},
            )
            raw = conn.getresponse()
            body = raw.read()
            if raw.will_close:
                self._drop(parts.scheme, parts.netloc)
        except TimeoutError:
            self._drop(parts.scheme, parts.netloc)
            return Response(url, None, error=f"timed out after {self.settings.timeout:g}s")
        except (OSError, http.client.HTTPException) as exc:
            self._drop(parts.scheme, parts.netloc)
            return Response(url, None, error=f"connection failed: {type(exc).__name__}: {exc}")
        return raw.status, {k.lower(): v for k, v in raw.getheaders()}, body

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        pool: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault(
            "pool", {}
        )
        conn = pool.get((scheme, netloc))
        if conn is None:
            conn = open_connection(scheme, netloc, self.settings.timeout)
            pool[(scheme, netloc)] = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _drop(self, scheme: str, netloc: str) -> None:
        pool: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault(
            "pool", {}
        )
        conn = pool.pop((scheme, netloc), None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close every connection any worker opened."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
