"""A real HTTP registry on 127.0.0.1 for tests and benchmarks: recorded JSON plus scripted failures.

`RegistryServer` runs in a thread (tests); `python tests/registry_server.py --routes FILE` runs it as its
own process and prints its base URL (benchmarks, so the server does not share the client's GIL).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import unquote

FIXTURES = Path(__file__).parent / "fixtures" / "registry"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def json_reply(doc: object) -> Reply:
    return Reply(200, json.dumps(doc).encode(), {"Content-Type": "application/json"})


def recorded(ecosystem: str, name: str) -> dict:
    return json.loads((FIXTURES / ecosystem / f"{name.replace('/', '__')}.json").read_text())


def pypi_path(name: str) -> str:
    return f"/pypi/{name}/json"


def npm_path(name: str) -> str:
    return f"/{name}"


class RegistryServer:
    """Routes: path -> list of replies, served in order (the last one repeats). Unknown paths are 404."""

    def __init__(self, latency: float = 0.0) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[str] = []
        self.proxied: list[str] = []
        self.connections = 0
        self.latency = latency
        self._lock = threading.Lock()
        self._gzip_cache: dict[int, bytes] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as separate writes; without NODELAY, Nagle plus delayed ACKs
                # would stall each keep-alive response ~40 ms (real registries answer in one go).
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with server._lock:
                    server.connections += 1

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = unquote(self.path)
                if "://" in path:  # a proxy's request line carries the absolute URL
                    path = "/" + path.split("://", 1)[1].split("/", 1)[1]
                    server.proxied.append(self.path)
                with server._lock:
                    server.requests.append(path)
                    replies = server.routes.get(path)
                    reply = (
                        (replies.pop(0) if len(replies) > 1 else replies[0])
                        if replies
                        else Reply(404, b'{"message": "Not Found"}')
                    )
                time.sleep(server.latency + reply.delay)
                body = reply.body
                headers = dict(reply.headers)
                if (
                    "gzip" in self.headers.get("Accept-Encoding", "")
                    and reply.status == 200
                    and len(body) > 512
                ):
                    key = id(reply)
                    if key not in server._gzip_cache:
                        server._gzip_cache[key] = gzip.compress(body, 6)
                    body = server._gzip_cache[key]
                    headers["Content-Encoding"] = "gzip"
                try:
                    self.send_response(reply.status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def compressed(self, reply: Reply) -> bytes:
        """The gzip body of a reply, compressed once (registries serve documents pre-compressed)."""
        key = id(reply)
        if key not in self._gzip_cache:
            self._gzip_cache[key] = gzip.compress(reply.body, 6)
        return self._gzip_cache[key]

    def add(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def add_pypi(self, name: str, doc: object | None = None, served_as: str | None = None) -> None:
        self.add(
            pypi_path(served_as or name),
            json_reply(doc if doc is not None else recorded("pypi", name)),
        )

    def add_npm(self, name: str, doc: object | None = None) -> None:
        self.add(npm_path(name), json_reply(doc if doc is not None else recorded("npm", name)))

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.001, help="seconds before each answer")
    parser.add_argument(
        "--routes", type=Path, required=True, help="JSON file: {URL path: file to serve}"
    )
    args = parser.parse_args()
    server = RegistryServer(latency=args.latency)
    for path, file in json.loads(args.routes.read_text()).items():
        reply = Reply(200, Path(file).read_bytes(), {"Content-Type": "application/json"})
        server.add(path, reply)
        server.compressed(reply)
    with server, contextlib.suppress(KeyboardInterrupt):
        print(server.url, flush=True)
        sys.stdin.read()  # serve until the parent closes our stdin


if __name__ == "__main__":
    main()
