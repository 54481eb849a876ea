"""Where every router is mounted.

Everything under /api/v1 is protected by default: routers go into ``protected`` unless
they are one of the few public endpoints, and tests walk app.routes to prove it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.auth.dependencies import require_user
from app.auth.router import protected_router as auth_protected
from app.auth.router import public_router as auth_public
from app.collections.router import router as collections_router
from app.core.errors import problem_responses
from app.health.metrics import router as metrics_router
from app.health.router import router as health_router
from app.imports.router import router as imports_router
from app.mealplans.feed_router import router as calendar_router
from app.mealplans.router import router as mealplans_router
from app.media.gallery_router import router as recipe_photos_router
from app.media.public_router import MEDIA_ROUTE
from app.media.public_router import router as media_router
from app.media.router import router as recipe_images_router
from app.recipes.router import router as recipes_router
from app.shopping.router import router as shopping_router
from app.users.router import router as users_router
from app.webhooks.router import router as webhooks_router

API_PREFIX = "/api/v1"
#: Public calendar feeds; the rate limiter keys them per IP and per token.
CALENDAR_FEED_PREFIX = f"{API_PREFIX}/calendar"

#: Paths reachable without a token. Anything else under /api/v1 requires one.
PUBLIC_PATHS = frozenset({
    "/health",
    "/ready",
    "/metrics",  # its own credential: METRICS_TOKEN (app/health/metrics.py)
    f"{API_PREFIX}/auth/token",
    f"{API_PREFIX}/webhooks/clerk",
    # A route template, as the route-walk test compares: the secret token is the
    # credential (app/mealplans/feed.py). Nothing else under /calendar exists.
    f"{CALENDAR_FEED_PREFIX}/{{token}}.ics",
    # A route template, compared with route templates (tests/auth): it opens this one
    # GET/HEAD route, whose signed link is the permission, and nothing else.
    f"{API_PREFIX}{MEDIA_ROUTE}",
})


def include_routers(app: FastAPI) -> None:
    public: dict[str, Any] = {
        "prefix": API_PREFIX, "responses": problem_responses(400, 422, 429)}
    protected: dict[str, Any] = {
        "prefix": API_PREFIX, "dependencies": [require_user],
        "responses": problem_responses(401, 422, 429),
    }
    # Each domain router is included once, straight into the app: FastAPI matches included
    # routers level by level on every request, and a shared /api/v1 parent router was one
    # more level for every call (py-spy under bench/load.py). The order is the matching
    # order, so the routers most requests are for come first (route matching walked up to
    # seven routers and was a fifth of the CPU of a trivial request: bench/README.md); no
    # two routers share a path, so the order changes nothing else. Public ones only if in
    # PUBLIC_PATHS.
    for router in (recipes_router, collections_router, recipe_images_router, recipe_photos_router,
                   mealplans_router, shopping_router, users_router, auth_protected,
                   imports_router):
        app.include_router(router, **protected)
    for router in (media_router, auth_public, webhooks_router, calendar_router):
        app.include_router(router, **public)
    app.include_router(health_router)
    app.include_router(metrics_router)
