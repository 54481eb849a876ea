"""The equal-duty reference: the bare reference plus the work every request of the API
must do by its mission, written minimally by hand (issue 20, option b).

On each request, before the bare reference's handler runs the same single SQL statement:

- the bearer token is verified with python-jose (HS256, audience, issuer, exp), the
  library the API uses; like the API, a token text that verified once is remembered
  (an LRU of the same size) and only its ``exp`` is re-checked;
- the token's (user, session, version) is checked against the ``users`` row and
  ``revoked_sessions`` in one query, remembered in an in-process dict for
  ``AUTH_CACHE_SECONDS``, as the API's validity cache does in steady state;
- the response carries the same security headers and an ``X-Request-ID`` (the client's
  if sane, else a fresh one);
- one JSON access line per request is written through ``logging`` (method, route
  template, status, duration, client, user, request id, pid).

It answers the API's own paths (``/api/v1/recipes/{id}``, ``/api/v1/recipes?scope=all``)
with the API's own requests, so wrk sends both servers byte-identical requests: the path
is mapped onto the bare routes and the verified user becomes ``as_user``.

Deliberately not imported: ``app.core.tokens``, ``app.auth.*``, ``app.core.edge``; this is
a yardstick for them, not a second copy.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sys
import time
import uuid
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from jose import jwt
from jose.exceptions import JOSEError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import TOKEN_AUDIENCE, TOKEN_ISSUER, Settings
from bench import reference_app

PREFIX = b"/api/v1"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_HEADERS = [
    (b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"), (b"cross-origin-resource-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]
_SUBJECT = """
SELECT u.token_version, u.deleted_at IS NULL AS live,
       EXISTS (SELECT 1 FROM revoked_sessions s WHERE s.sid = %(sid)s) AS revoked
FROM users u WHERE u.id = %(id)s
"""
_UNAUTHORIZED = json.dumps({"type": "about:blank", "title": "Unauthorized",
                            "status": 401, "code": "unauthorized"}).encode()

logger = logging.getLogger("reference.access")


class EqualDuty:
    """Pure ASGI middleware around the bare reference app."""

    def __init__(self, app: ASGIApp, settings: Settings, engine: Any) -> None:
        self.app = app
        self.engine = engine
        self.key = settings.all_secret_keys()[0]
        self.ttl = settings.AUTH_CACHE_SECONDS
        self.valid: dict[tuple[str, str, int], float] = {}
        self.decode = functools.lru_cache(maxsize=8192)(self._decode)

    def _decode(self, token: str) -> tuple[str, str, int, int]:
        claims = jwt.decode(token, self.key, algorithms=["HS256"], audience=TOKEN_AUDIENCE,
                            issuer=TOKEN_ISSUER, options={"leeway": 10})
        if claims.get("typ") != "access":
            raise JOSEError("wrong type")
        return claims["sub"], claims["sid"], int(claims["ver"]), int(claims["exp"])

    def _live(self, sub: str, sid: str, ver: int) -> bool:
        rows = reference_app._rows(self.engine, _SUBJECT, {"id": sub, "sid": sid})
        return bool(rows) and rows[0]["live"] and rows[0]["token_version"] == ver \
            and not rows[0]["revoked"]

    async def _user(self, scope: Scope) -> str | None:
        auth = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        scheme, _, token = auth.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            sub, sid, ver, exp = self.decode(token)
        except (JOSEError, KeyError, ValueError, TypeError):
            return None
        if exp < time.time() - 10:
            return None
        key = (sub, sid, ver)
        if self.valid.get(key, 0.0) > time.monotonic():
            return sub
        if not await anyio.to_thread.run_sync(self._live, sub, sid, ver):
            return None
        self.valid[key] = time.monotonic() + self.ttl
        return sub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        request_id = incoming.decode("latin-1")
        if not _SANE_ID.fullmatch(request_id):
            request_id = uuid.uuid4().hex
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), *_HEADERS,
                           (b"x-request-id", request_id.encode())]
                if status != 304:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        user = None
        if scope["path"].startswith("/api/"):
            user = await self._user(scope)
            if user is None:
                await _problem(send_with_headers)
            else:
                query = scope["query_string"]
                scope = {**scope, "path": scope["path"][len(PREFIX):],
                         "query_string": query + (b"&" if query else b"")
                         + b"as_user=" + user.encode()}
                await self.app(scope, receive, send_with_headers)
        else:
            await self.app(scope, receive, send_with_headers)
        route = getattr(scope.get("route"), "path", "<unmatched>")
        logger.info(json.dumps({
            "ts": time.time(), "level": "INFO", "event": "http.access",
            "method": scope["method"], "route": route, "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "client_ip": (scope.get("client") or ("",))[0], "user_id": user,
            "request_id": request_id, "pid": os.getpid(),
        }))


async def _problem(send: Send) -> None:
    await send({"type": "http.response.start", "status": 401,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"www-authenticate", b"Bearer")]})
    await send({"type": "http.response.body", "body": _UNAUTHORIZED})


def _configure_access_log() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


def create_app() -> EqualDuty:
    """``uvicorn --factory bench.reference_duty:create_app``."""
    settings = Settings()
    app: FastAPI = reference_app.create_app()
    _configure_access_log()
    return EqualDuty(app, settings, app.state.reference_engine)
