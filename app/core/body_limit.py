"""Request body caps, enforced while the body streams in.

Every request body is capped (MAX_JSON_BODY_BYTES unless a path has its own rule). A
declared Content-Length over the cap is refused before a byte is read; a chunked body
with no length is counted as it arrives and refused the moment it passes the cap. The
refusal is 413 problem JSON, never a 500.

JSON bodies (and bodies without a content type, which FastAPI parses as JSON) are also
refused with 413 when nested deeper than MAX_JSON_DEPTH: Python's parser would otherwise
burn stack on 100k nested arrays and fail with RecursionError. The check runs once the
last chunk has arrived, before the application parses anything.

Why not FastAPI's ``max_body_size``: the app-wide one answers from outside our
middleware (no problem JSON, request id or security headers), and the per-route one
would have to be remembered on every route.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, count

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.edge import TrackedSend
from app.core.errors import PayloadTooLarge, render_app_error

#: Deeper than any document this API accepts (Clerk's webhook payloads nest about 6).
MAX_JSON_DEPTH = 32

# A JSON string, including one left open at the end of the input: matching to the end
# keeps the scan linear on hostile input full of unbalanced quotes.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Openers become 2 and closers 0, so after k brackets the running sum minus k is the depth.
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


def json_nesting_exceeds(data: bytes, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """True when brackets outside strings nest deeper than ``max_depth``."""
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return False
    steps = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS).translate(_BRACKET_STEPS)
    return max(map(operator.sub, accumulate(steps), count(1)), default=0) > max_depth


class BodyTooLarge(HTTPException):
    """Raised from ``receive``; an HTTPException so FastAPI's body reader passes it on."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=413, detail=detail)


@dataclass(frozen=True)
class BodyRule:
    """``limit`` None: the route enforces its own cap (the image upload)."""

    pattern: re.Pattern[str]
    limit: int | None


def _declared_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    if value is None or not value.isdigit():
        return None
    return int(value)


def _is_json(headers: Headers) -> bool:
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type in ("", "application/json") or media_type.endswith("+json")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, default_limit: int, rules: Sequence[BodyRule] = ()):
        self.app = app
        self.default_limit = default_limit
        self.rules = tuple(rules)

    def limit_for(self, path: str) -> int | None:
        for rule in self.rules:
            if rule.pattern.fullmatch(path):
                return rule.limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        too_large = f"The request body is larger than {limit} bytes."
        declared = _declared_length(headers)
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send, too_large)
            return
        chunks: list[bytes] | None = [] if _is_json(headers) else None
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                received += len(body)
                if received > limit:
                    raise BodyTooLarge(too_large)
                if chunks is not None:
                    chunks.append(body)
                    if not message.get("more_body", False) and json_nesting_exceeds(
                        b"".join(chunks)
                    ):
                        raise BodyTooLarge("The JSON body is nested too deeply.")
            return message

        tracked = TrackedSend(send)
        try:
            await self.app(scope, limited_receive, tracked)
        except BodyTooLarge as exc:
            # Normally the app's handler has already answered; this covers a route that
            # read the body outside FastAPI's parsing and let the error escape.
            if tracked.started:
                raise
            await self._refuse(scope, receive, send, str(exc.detail))

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, detail: str) -> None:
        response = render_app_error(Request(scope), PayloadTooLarge(detail))
        await response(scope, receive, send)
