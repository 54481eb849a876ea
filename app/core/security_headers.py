"""Security headers on every response, applied by the edge middleware (app/core/edge.py).

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

from starlette.types import Message, Send

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


RawHeaders = list[tuple[bytes, bytes]]

_CSP = b"content-security-policy"


class SecurityHeaders:
    """The headers every response leaves with (the edge middleware calls ``apply``).

    Works on the raw header list in one pass: Starlette's MutableHeaders scans the whole
    list for every header it sets, a dozen times per response.
    """

    def __init__(self, *, hsts: bool) -> None:
        always = [(name.encode(), value.encode()) for name, value in _ALWAYS.items()]
        if hsts:
            always.append((b"strict-transport-security", HSTS.encode()))
        self._always = tuple(always)
        # Set by us whatever the route said; a Server header never leaves.
        self._dropped = frozenset(
            {name for name, _ in always} | {b"server", b"x-request-id"})

    def apply(self, headers: Iterable[tuple[bytes, bytes]],
              request_id: tuple[bytes, bytes]) -> RawHeaders:
        kept: RawHeaders = []
        present: set[bytes] = set()
        content_type = None
        for name, value in headers:
            lowered = name.lower()
            if lowered in self._dropped:
                continue
            present.add(lowered)
            if lowered == b"content-type":
                content_type = value.decode("latin-1")
            kept.append((name, value))
        kept.extend(self._always)
        kept.append(request_id)
        # Unless the route set its own:
        if b"cross-origin-resource-policy" not in present:
            kept.append((b"cross-origin-resource-policy", b"same-origin"))
        if _CSP not in present:
            kept.append((_CSP, API_CSP.encode()))
        if b"cache-control" not in present and _is_json(content_type):
            kept.append((b"cache-control", b"no-store"))
        return kept


def buffer_docs_page(send: Send, *, redoc: bool) -> Send:
    """A ``send`` that holds a (small) documentation page until it is complete, to hash
    the inline scripts it contains into the page's own Content-Security-Policy."""
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
        headers = [(k, v) for k, v in start.get("headers") or () if k.lower() != _CSP]
        headers.append((_CSP, docs_csp(html, redoc=redoc).encode()))
        start["headers"] = headers
        await send(start)
        await send({"type": "http.response.body", "body": html, "more_body": False})

    return buffering_send
