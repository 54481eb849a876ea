"""One access line per HTTP request (event ``http.access``), replacing uvicorn's.

Fields: method, route (the template, e.g. ``/api/v1/recipes/{recipe_id}``, so ids and
query strings never reach the line), status, duration_ms, client_ip and user_id when
the request authenticated. The request id comes from the logging context.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.client_ip import IPNetwork, client_ip

logger = logging.getLogger("homechef.access")

UNMATCHED_ROUTE = "<unmatched>"


def route_template(scope: Scope) -> str:
    """The matched route's full template, or UNMATCHED_ROUTE.

    FastAPI >= 0.16x keeps included routers lazy: ``scope["route"].path`` is the path
    inside its own router ("/users/{user_id}"), and only the effective route context
    knows the prefix the request matched under ("/api/v1/users/{user_id}").
    """
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    route = scope.get("route")
    for candidate in (context, route):
        path = getattr(candidate, "path_format", None) or getattr(candidate, "path", None)
        if isinstance(path, str) and path:
            return path
    return UNMATCHED_ROUTE


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, *, trusted_proxies: tuple[IPNetwork, ...] = ()) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees if nothing was sent before an exception

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            state = scope.get("state") or {}
            user_id = state.get("user_id")
            logger.info(
                "%s %s %s",
                scope["method"],
                route_template(scope),
                status,
                extra={
                    "event": "http.access",
                    "method": scope["method"],
                    "route": route_template(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "client_ip": client_ip(scope, self.trusted_proxies),
                    "user_id": str(user_id) if user_id else None,
                },
            )
