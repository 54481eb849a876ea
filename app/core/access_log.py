"""One access line per HTTP request (event ``http.access``), replacing uvicorn's;
written by the edge middleware (app/core/edge.py).

Fields: method, route (the template, e.g. ``/api/v1/recipes/{recipe_id}``, so ids and
query strings never reach the line), status, duration_ms, client_ip, user_id when
the request authenticated, and the serving process's pid. The request id comes from
the logging context.
"""

from __future__ import annotations

import logging
import os

from starlette.types import Scope

from app.core import tracing
from app.core.client_ip import IPNetwork, client_ip
from app.core.logs import clean_fields, redact

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


#: Methods logged as they are; anything else a client made up goes through redact().
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def log_access(
    scope: Scope, status: int, seconds: float, route: str,
    trusted_proxies: tuple[IPNetwork, ...],
) -> None:
    """The request's access line; called by the edge middleware once the response is out.

    Every field is made here or checked on the way in, so the line skips the redaction
    pass (app/core/logs.py): the route is a template of our own, the address a parsed
    IP, the user id from a verified token. The two values a client chooses freely, an
    unusual method and the request id (a sane X-Request-ID is kept), are redacted here.
    """
    state = scope.get("state") or {}
    user_id = state.get("user_id")
    method = scope["method"]
    if method not in _KNOWN_METHODS:
        method = redact(method)
    request_id = state.get("request_id")
    logger.info(
        "%s %s %s", method, route, status,
        extra={
            "event": "http.access",
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "client_ip": client_ip(scope, trusted_proxies),
            "user_id": str(user_id) if user_id else None,
            "request_id": redact(request_id) if request_id else None,
            "trace_id": tracing.current_trace_id(),
            # Which worker served it: how load spreads over workers (bench/workers.py).
            "pid": os.getpid(),
            **clean_fields(),
        },
    )
