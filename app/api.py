"""Where every router is mounted.

Everything under /api/v1 is protected by default: routers go into ``protected`` unless
they are one of the few public endpoints, and tests walk app.routes to prove it.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from app.auth.dependencies import require_user
from app.auth.router import protected_router as auth_protected
from app.auth.router import public_router as auth_public
from app.core.errors import problem_responses
from app.health.router import router as health_router
from app.recipes.images_router import router as recipe_images_router
from app.recipes.router import router as recipes_router
from app.users.router import router as users_router
from app.webhooks.router import router as webhooks_router

API_PREFIX = "/api/v1"

#: Paths reachable without a token. Anything else under /api/v1 requires one.
PUBLIC_PATHS = frozenset({
    "/health",
    "/ready",
    f"{API_PREFIX}/auth/token",
    f"{API_PREFIX}/webhooks/clerk",
})


def include_routers(app: FastAPI) -> None:
    app.include_router(health_router)

    public = APIRouter(prefix=API_PREFIX, responses=problem_responses(400, 422, 429))
    protected = APIRouter(
        prefix=API_PREFIX,
        dependencies=[require_user],
        responses=problem_responses(401, 422, 429),
    )
    # Domain routers are added below as they exist (public ones only if in PUBLIC_PATHS).
    public.include_router(auth_public)
    protected.include_router(auth_protected)
    public.include_router(webhooks_router)
    protected.include_router(users_router)
    protected.include_router(recipes_router)
    protected.include_router(recipe_images_router)

    app.include_router(public)
    app.include_router(protected)
