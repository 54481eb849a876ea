"""GET /metrics: the Prometheus scrape, for a caller holding METRICS_TOKEN only.

Public as far as user tokens go (Prometheus has none), so it is in PUBLIC_PATHS; it has
a credential of its own instead. Unset, the route does not exist (404), so a deployment
that never configured monitoring exposes nothing.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response

from app.core import metrics
from app.core.config import Settings
from app.core.errors import NotFound, Unauthorized
from app.db.session import UnitOfWorkRoute

router = APIRouter(tags=["health"], route_class=UnitOfWorkRoute)


class MetricsTokenRequired(Unauthorized):
    code = "metrics-token-required"
    detail = "Send the metrics token as a bearer token."


def _presented_token(request: Request) -> bytes:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip().encode() if scheme.lower() == "bearer" else b""


@router.get("/metrics", include_in_schema=False)
def scrape(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if settings.METRICS_TOKEN is None:
        raise NotFound()
    expected = settings.METRICS_TOKEN.get_secret_value().encode()
    if not hmac.compare_digest(_presented_token(request), expected):
        raise MetricsTokenRequired()
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
