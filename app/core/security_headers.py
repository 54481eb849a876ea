"""Security headers on every response (pure ASGI, so streaming bodies stay streaming).

Always:       X-Content-Type-Options: nosniff, X-Frame-Options: DENY,
              Referrer-Policy: no-referrer
Unless the route set its own:
              Cross-Origin-Resource-Policy: same-origin
              Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
              Cache-Control: no-store (JSON responses only)
Staging and production:
              Strict-Transport-Security: max-age=63072000; includeSubDomains
Never:        Server (uvicorn adds its own unless started with --no-server-header /
              server_header=False, which `homechef` does; one set by the app is dropped)

The documentation pages (/docs, /redoc and Swagger's OAuth2 redirect) get a policy that
lets them run and nothing more: their scripts and styles come from cdn.jsdelivr.net (as
FastAPI serves them), ReDoc's fonts from Google Fonts, the spec from this origin. Their
one inline bootstrap script is allowed by its SHA-256 hash, computed from the page
actually served, so no 'unsafe-inline' for scripts. Styles need 'unsafe-inline': both
UIs inject style elements at runtime.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=63072000; includeSubDomains"
CDN = "https://cdn.jsdelivr.net"
# The favicon FastAPI's doc pages link to.
FAVICON_HOST = "https://fastapi.tiangolo.com"

_ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def _script_hashes(html: bytes) -> list[str]:
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]


def docs_csp(html: bytes, *, redoc: bool) -> str:
    """The policy for one documentation page, allowing its own inline scripts by hash."""
    scripts = " ".join([CDN, *_script_hashes(html)])
    if redoc:
        directives = [
            "default-src 'none'",
            f"script-src {scripts}",
            "style-src 'unsafe-inline' https://fonts.googleapis.com",
            "font-src https://fonts.gstatic.com",
            f"img-src 'self' data: {FAVICON_HOST}",
            "connect-src 'self'",
            "worker-src blob:",  # ReDoc's search index runs in a blob: worker
        ]
    else:
        directives = [
            "default-src 'none'",
            f"script-src {scripts}",
            f"style-src 'unsafe-inline' {CDN}",
            f"img-src 'self' data: {FAVICON_HOST}",
            "connect-src 'self'",  # /openapi.json and "Try it out"
        ]
    directives += ["frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"]
    return "; ".join(directives)


def _is_json(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class SecurityHeadersMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts: bool,
        swagger_paths: Iterable[str] = (),
        redoc_paths: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.hsts = hsts
        self.swagger_paths = frozenset(swagger_paths)
        self.redoc_paths = frozenset(redoc_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path in self.swagger_paths or path in self.redoc_paths:
            await self._docs(scope, receive, send, redoc=path in self.redoc_paths)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._apply(MutableHeaders(scope=message), csp=API_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _apply(self, headers: MutableHeaders, *, csp: str, replace_csp: bool = False) -> None:
        for name, value in _ALWAYS.items():
            headers[name] = value
        headers.setdefault("cross-origin-resource-policy", "same-origin")
        if replace_csp:
            headers["content-security-policy"] = csp
        else:
            headers.setdefault("content-security-policy", csp)
        if _is_json(headers.get("content-type")):
            headers.setdefault("cache-control", "no-store")
        if self.hsts:
            headers["strict-transport-security"] = HSTS
        if "server" in headers:
            del headers["server"]

    async def _docs(self, scope: Scope, receive: Receive, send: Send, *, redoc: bool) -> None:
        """Hold the (small) page until it is complete, to hash the scripts it contains."""
        start: Message | None = None
        body: list[bytes] = []

        async def buffering_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            html = b"".join(body)
            self._apply(MutableHeaders(scope=start), csp=docs_csp(html, redoc=redoc),
                        replace_csp=True)
            await send(start)
            await send({"type": "http.response.body", "body": html, "more_body": False})

        await self.app(scope, receive, buffering_send)
