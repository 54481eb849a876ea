"""Real loopback HTTP servers for the import tests: a canary that counts its hits, a site
that serves fixture pages and hostile bodies, and an "internet" made of a fake resolver
plus a transport that carries requests for fake public addresses to loopback sites."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from app.imports.addresses import IPAddress

Route = Callable[[BaseHTTPRequestHandler], None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _V6Server(_Server):
    address_family = socket.AF_INET6


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 (and ::1 on the same port when ``ipv6``)."""

    def __init__(self, routes: dict[str, Route] | None = None, *, ipv6: bool = False) -> None:
        self.routes = routes or {}
        self.hits: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        handler = self._handler_class()
        self._servers = self._bind(handler, ipv6)
        self.port = self._servers[0].server_address[1]
        for server in self._servers:
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                             daemon=True).start()

    @staticmethod
    def _bind(handler: type[BaseHTTPRequestHandler], ipv6: bool) -> list[_Server]:
        for _attempt in range(20):
            v4 = _Server(("127.0.0.1", 0), handler)
            if not ipv6:
                return [v4]
            try:
                return [v4, _V6Server(("::1", v4.server_address[1]), handler)]
            except OSError:
                v4.server_close()
        raise RuntimeError("no port free on both 127.0.0.1 and ::1")

    @property
    def hit_count(self) -> int:
        with self._lock:
            return len(self.hits)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with owner._lock:
                    owner.hits.append((self.path, dict(self.headers.items())))
                route = owner.routes.get(self.path.split("?")[0])
                if route is None:
                    send(self, 200, b"<html><body>canary</body></html>")
                    return
                # The fetcher hangs up on purpose (a cap or a timeout).
                with contextlib.suppress(OSError):
                    route(self)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, *,
         content_type: str = "text/html; charset=utf-8", headers: dict[str, str] | None = None
         ) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def page(body: bytes | str, *, content_type: str = "text/html; charset=utf-8",
         status: int = 200, headers: dict[str, str] | None = None) -> Route:
    data = body.encode() if isinstance(body, str) else body
    return lambda h: send(h, status, data, content_type=content_type, headers=headers)


def redirect(location: str, status: int = 302) -> Route:
    return lambda h: send(h, status, b"", headers={"Location": location})


def gzipped(body: bytes) -> Route:
    data = gzip.compress(body)
    return lambda h: send(h, 200, data, headers={"Content-Encoding": "gzip"})


def endless(chunk: bytes = b"<p>" + b"x" * 65_536, *, delay: float = 0.0,
            content_type: str = "text/html") -> Route:
    """A chunked body that never ends (bounded here at 10 minutes for safety)."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            h.wfile.flush()
            if delay:
                time.sleep(delay)

    return route


def sized(total: int, *, content_length: bool) -> Route:
    """A body of ``total`` bytes, announced or not."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        if content_length:
            h.send_header("Content-Length", str(total))
        else:
            h.send_header("Connection", "close")
        h.end_headers()
        block = b"x" * 65_536
        sent = 0
        while sent < total:
            h.wfile.write(block[: total - sent])
            sent += len(block)
        h.close_connection = True

    return route


class FakeInternet:
    """Names resolve to fake public addresses; the transport carries requests for those
    addresses to loopback sites. Anything else goes to the real network stack (so a
    guard that failed would really reach the canary)."""

    def __init__(self) -> None:
        self.names: dict[str, list[list[str]]] = {}
        self.sites: dict[str, LoopbackServer] = {}
        self.lookups: list[str] = []
        self.requests: list[httpx.Request] = []

    def name(self, host: str, *answers: list[str]) -> None:
        """Each lookup of ``host`` takes the next answer (the last one repeats)."""
        self.names[host] = list(answers)

    def site(self, address: str, server: LoopbackServer) -> None:
        self.sites[address] = server

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        import ipaddress

        self.lookups.append(host)
        answers = self.names[host]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return [ipaddress.ip_address(a) for a in answer]

    def transport(self) -> httpx.AsyncBaseTransport:
        internet = self

        class Carrier(httpx.AsyncHTTPTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                internet.requests.append(request)
                site = internet.sites.get(request.url.host)
                if site is not None:
                    request.url = request.url.copy_with(scheme="http", host="127.0.0.1",
                                                        port=site.port)
                return await super().handle_async_request(request)

        return Carrier()
