"""The edge of every HTTP request: one pure-ASGI layer for what each response needs.

In the order a request meets them (the response walks back up):

1. request id: a sane incoming X-Request-ID is kept, else one is made; it is echoed on
   the response and set in the logging context (app/core/request_context.py);
2. security headers on every response, errors and 404s included
   (app/core/security_headers.py; the documentation pages get their own policy);
3. CORS: preflights answered, CORS headers on every response to an ``Origin``, 413, 429
   and 500 included (app/core/cors.py, Starlette's CORSMiddleware underneath);
4. any exception that escaped the handlers becomes the generic problem 500, which still
   gets all of the above;
5. one ``http.access`` line with the final status and duration (app/core/access_log.py),
   and the request's Prometheus metrics (app/core/metrics.py).

Why one layer rather than five: each pure-ASGI middleware is one more coroutine and one
more wrapped ``send`` per request, and the five separate layers cost about 15% of the
CPU of a cached read (in-process profile of GET /recipes/{id}, bench/README.md).
Rate limiting and the body cap stay separate layers inside this one: they are
self-contained refusals, and the body cap steps aside for requests without a body.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import metrics, tracing
from app.core.access_log import log_access, route_template
from app.core.client_ip import IPNetwork
from app.core.config import Settings
from app.core.cors import ApiCORSMiddleware
from app.core.request_context import reset_request_id, set_request_id, set_user_id
from app.core.security_headers import SecurityHeaders, buffer_docs_page

logger = logging.getLogger("homechef.errors")

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


class TrackedSend:
    """A ``send`` that remembers whether the response has started (then it is too late
    to answer with an error of our own)."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        trusted_proxies: tuple[IPNetwork, ...] = (),
        swagger_paths: Iterable[str] = (),
        redoc_paths: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies
        self.headers = SecurityHeaders(hsts=settings.is_deployed)
        self.swagger_paths = frozenset(swagger_paths)
        self.redoc_paths = frozenset(redoc_paths)
        # Starlette's CORS logic, around the guarded app; used only when CORS applies.
        self.cors = ApiCORSMiddleware(self._guarded, settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = None
        has_origin = False
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                if incoming is None:
                    incoming = value.decode("latin-1")
            elif name == b"origin":
                has_origin = True
        request_id = incoming if incoming and _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = set_request_id(request_id)
        set_user_id(None)
        status = 500  # what the client sees if nothing was sent before an exception
        id_header = (b"x-request-id", request_id.encode("latin-1"))
        security = self.headers

        async def edge_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = security.apply(message.get("headers") or (), id_header)
            await send(message)

        path = scope["path"]
        inner_send: Send = edge_send
        if path in self.swagger_paths or path in self.redoc_paths:
            inner_send = buffer_docs_page(edge_send, redoc=path in self.redoc_paths)
        in_flight = metrics.HTTP_IN_FLIGHT if metrics.enabled() else None
        if in_flight is not None:
            in_flight.inc()
        tracing.tag_request(request_id)
        try:
            # Without an Origin header CORS has nothing to add (and a preflight needs one).
            if has_origin:
                await self.cors(scope, receive, inner_send)
            else:
                await self._guarded(scope, receive, inner_send)
        finally:
            if in_flight is not None:
                in_flight.dec()
            route = route_template(scope)
            seconds = time.perf_counter() - started
            log_access(scope, status, seconds, route, self.trusted_proxies)
            metrics.observe_request(route, scope["method"], status, seconds)
            reset_request_id(token)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Any exception that escaped the handlers -> the generic problem 500."""
        tracked = TrackedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception:
            logger.exception("unhandled exception", extra={"event": "error.unhandled"})
            if tracked.started:
                raise
            from app.core.errors import AppError, render_app_error

            response = render_app_error(Request(scope), AppError())
            await response(scope, receive, send)
