"""The fetcher (one per process) and the per-user import rate limit."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Request

from app.auth.dependencies import CurrentPrincipal
from app.core import events
from app.core.config import Settings
from app.core.errors import RateLimited
from app.core.ratelimit import (
    STORAGE_RETRY_INTERVAL,
    RateLimiter,
    RateLimitStorageUnavailable,
    limit_headers,
)
from app.imports.fetcher import FetchLimits, GuardedFetcher


def build_fetcher(settings: Settings) -> GuardedFetcher:
    return GuardedFetcher(
        allow_private=settings.IMPORT_ALLOW_PRIVATE_NETWORKS,
        limits=FetchLimits(
            connect_timeout=settings.IMPORT_CONNECT_TIMEOUT,
            read_timeout=settings.IMPORT_READ_TIMEOUT,
            total_timeout=settings.IMPORT_TOTAL_TIMEOUT,
            max_concurrent=settings.IMPORT_MAX_CONCURRENT_FETCHES,
        ),
    )


async def get_fetcher(request: Request) -> GuardedFetcher:
    # Async, so it runs on the event loop: two first requests cannot build two fetchers
    # (and split the concurrency limit between them).
    fetcher: GuardedFetcher | None = getattr(request.app.state, "import_fetcher", None)
    if fetcher is None:
        fetcher = build_fetcher(request.app.state.settings)
        request.app.state.import_fetcher = fetcher
    return fetcher


async def limit_imports(request: Request, user: CurrentPrincipal) -> None:
    """RATE_LIMIT_IMPORT per user, counted before anything is fetched."""
    limiter: RateLimiter | None = request.app.state.rate_limiter
    if limiter is None:
        return
    key = f"user:{user.id}"
    verdict = await limiter.hit("import", key)
    if verdict is None:
        if limiter.fail_open:
            return
        raise RateLimitStorageUnavailable(
            headers={"Retry-After": str(math.ceil(STORAGE_RETRY_INTERVAL))})
    if not verdict.allowed:
        item = limiter.policy.limits["import"]
        suppressed = limiter.refusals.admit(f"import:{key}", item.get_expiry())
        if suppressed is not None:
            events.security_event(events.RATELIMIT_EXCEEDED, category="import",
                                  key_kind="user", key=key, limit=str(item),
                                  suppressed=suppressed)
        raise RateLimited(headers={**limit_headers(verdict),
                                   "Retry-After": str(max(1, verdict.reset_after))})


Fetcher = Annotated[GuardedFetcher, Depends(get_fetcher)]
ImportRateLimit = Depends(limit_imports)
