"""Rate limiting with the ``limits`` library, shared across processes through its storage.

Policy (every number comes from Settings):

============  ===========================================  ===================  =================
category      requests                                     key                  setting
============  ===========================================  ===================  =================
auth          POST {api}/auth/token                        client IP            RATE_LIMIT_AUTH
webhook       any method on {api}/webhooks/clerk           client IP            RATE_LIMIT_WEBHOOK
feed          anything under {api}/calendar/               client IP            RATE_LIMIT_FEED
feed_token    the same requests, also                      the path's token     RATE_LIMIT_FEED_URL
media         any method on {api}/media/... (signed links)  client IP            RATE_LIMIT_MEDIA
write         POST/PUT/PATCH/DELETE (and any other) {api}  user id, else IP     RATE_LIMIT_WRITE
read          GET/HEAD {api}                               user id, else IP     RATE_LIMIT_READ
============  ===========================================  ===================  =================

A feed URL carries its secret in the path, so the per-token key is a SHA-256 of the
path's last segment (never the token itself), under a context of its own.

/health, /ready, the docs and CORS preflights (OPTIONS) are not limited. The user id
comes from the bearer token's verified signature (no database): a token that does not
verify is keyed by IP, so forging one buys nothing.

Strategy: moving window (exact: no double burst at a window edge). Storage:
RATE_LIMIT_STORAGE_URL (``memory://`` per process, ``redis://`` shared), keys under
RATE_LIMIT_KEY_PREFIX.

Responses: every limited request's response carries ``RateLimit-Limit``,
``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds until the window frees a slot),
the three-field form of draft-ietf-httpapi-ratelimit-headers. A refused request gets
429 problem JSON with the same fields and ``Retry-After`` (seconds).

Storage unreachable: RATE_LIMIT_FAIL_OPEN=true (the default) lets requests through
without limit headers and logs ``ratelimit.storage_unavailable`` at ERROR; false answers
503 problem JSON. After a failure the storage is left alone for a few seconds, so an
outage costs one timeout, not one per request, and logs once per interval.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import events, metrics
from app.core.client_ip import IPNetwork, client_ip, client_key
from app.core.config import Settings
from app.core.errors import AppError, RateLimited, ServiceUnavailable, render_app_error
from app.core.tokens import InvalidAccessToken, KeyRing, verify_access_token

logger = logging.getLogger("homechef.ratelimit")

Category = Literal[
    "auth", "webhook", "media", "write", "read", "feed", "feed_token", "import"]
KeyKind = Literal["user", "ip", "token"]

#: Seconds a storage failure keeps the storage out of use (see the module docstring).
STORAGE_RETRY_INTERVAL = 5.0
#: Redis socket timeouts: a blackholed Redis must not hold requests for long.
REDIS_TIMEOUT_SECONDS = 1.0

_READ_METHODS = frozenset({"GET", "HEAD"})


class RateLimitStorageUnavailable(ServiceUnavailable):
    code = "rate-limit-unavailable"
    detail = "The service cannot check request limits right now; retry shortly."


@dataclass(frozen=True)
class RateLimitPolicy:
    """Which limit applies to a request: pure, built once from Settings."""

    api_prefix: str
    auth_path: str
    webhook_path: str
    limits: dict[Category, RateLimitItem]
    #: Public feeds whose last path segment is a secret token ("" for none).
    feed_prefix: str = ""
    #: Public signed image links: keyed by IP (a token, if sent, is not theirs to use)
    #: and counted apart from reads, so a gallery does not eat the API read budget.
    media_prefix: str | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, api_prefix: str, auth_path: str, webhook_path: str,
        feed_prefix: str = "",
        media_prefix: str | None = None,
    ) -> RateLimitPolicy:
        raw: dict[Category, str] = {
            "auth": settings.RATE_LIMIT_AUTH,
            "webhook": settings.RATE_LIMIT_WEBHOOK,
            "media": settings.RATE_LIMIT_MEDIA,
            "write": settings.RATE_LIMIT_WRITE,
            "read": settings.RATE_LIMIT_READ,
            "feed": settings.RATE_LIMIT_FEED,
            "feed_token": settings.RATE_LIMIT_FEED_URL,
            "import": settings.RATE_LIMIT_IMPORT,
        }
        parsed: dict[Category, RateLimitItem] = {}
        for category, text in raw.items():
            try:
                parsed[category] = parse(text)
            except ValueError:
                raise ValueError(
                    f"RATE_LIMIT_{category.upper()}={text!r} is not a limit like '10/minute'."
                ) from None
        return cls(api_prefix.rstrip("/"), auth_path.rstrip("/"), webhook_path.rstrip("/"),
                   parsed, feed_prefix.rstrip("/"),
                   media_prefix.rstrip("/") if media_prefix else None)

    def category(self, method: str, path: str) -> Category | None:
        path = path.rstrip("/")
        if method == "OPTIONS" or not (
            path == self.api_prefix or path.startswith(self.api_prefix + "/")
        ):
            return None
        if path == self.webhook_path:
            return "webhook"
        if self.feed_prefix and path.startswith(self.feed_prefix + "/"):
            return "feed"
        if self.media_prefix is not None and path.startswith(self.media_prefix + "/"):
            return "media"
        if path == self.auth_path and method == "POST":
            return "auth"
        return "read" if method in _READ_METHODS else "write"


def storage_uri(settings: Settings) -> str:
    """The async variant of RATE_LIMIT_STORAGE_URL (``redis://`` -> ``async+redis://``)."""
    uri = settings.RATE_LIMIT_STORAGE_URL.get_secret_value()
    return uri if uri.startswith("async+") else f"async+{uri}"


def _storage_options(uri: str, settings: Settings) -> dict[str, Any]:
    if not uri.startswith(("async+redis", "async+rediss")):
        return {}
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return {
        "implementation": "redispy",
        "key_prefix": settings.RATE_LIMIT_KEY_PREFIX,
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
        # redis-py retries 3 times with seconds of backoff by default; during an outage
        # that would hold every request. One attempt, then the fail-open/closed rule.
        "retry": Retry(NoBackoff(), 0),
    }


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_after: int


class RateLimiter:
    """The storage and strategy; opened and closed by the app's lifespan (one event loop)."""

    def __init__(self, settings: Settings, policy: RateLimitPolicy, trusted: tuple[IPNetwork, ...]):
        self.settings = settings
        self.policy = policy
        self.trusted = trusted
        self.fail_open = settings.RATE_LIMIT_FAIL_OPEN
        self._strategy: MovingWindowRateLimiter | None = None
        self._storage: Any = None
        self._unavailable_until = 0.0
        self.clock: Callable[[], float] = time.monotonic
        self.refusals = RefusalLog(lambda: self.clock())

    async def open(self) -> None:
        uri = storage_uri(self.settings)
        self._storage = storage_from_string(
            uri, wrap_exceptions=True, **_storage_options(uri, self.settings)
        )
        self._strategy = MovingWindowRateLimiter(self._storage)
        self._unavailable_until = 0.0

    async def close(self) -> None:
        storage, self._storage, self._strategy = self._storage, None, None
        timer = getattr(storage, "timer", None)  # the memory storage's expiry task
        if timer is not None:
            timer.cancel()
        bridge = getattr(storage, "bridge", None)
        client = getattr(bridge, "storage", None)
        if client is not None and hasattr(client, "aclose"):
            await client.aclose()

    async def hit(self, category: Category, key: str) -> Verdict | None:
        """Count one request. None means the storage is unavailable right now."""
        if self._strategy is None:
            raise RuntimeError("RateLimiter used outside the app lifespan")
        if self.clock() < self._unavailable_until:
            return None
        item = self.policy.limits[category]
        try:
            allowed = await self._strategy.hit(item, category, key)
            stats = await self._strategy.get_window_stats(item, category, key)
        except StorageError as exc:
            self._unavailable_until = self.clock() + STORAGE_RETRY_INTERVAL
            events.security_event(
                events.RATELIMIT_STORAGE_UNAVAILABLE,
                reason=type(exc.storage_error).__name__,
                fail_open=self.fail_open,
                retry_in_s=STORAGE_RETRY_INTERVAL,
            )
            return None
        reset_after = max(0, math.ceil(stats.reset_time - time.time()))
        return Verdict(allowed, item.amount, max(0, stats.remaining), reset_after)


REFUSAL_LOG_KEYS = 10_000


class RefusalLog:
    """At most one ``ratelimit.exceeded`` line per client key and limit window.

    A client hammering a limit would otherwise write one WARNING per refused request and
    fill the log at its own pace. The next line for that key says how many refusals went
    unlogged in between (``suppressed``). Per process; bounded in memory.
    """

    def __init__(self, clock: Callable[[], float], max_keys: int = REFUSAL_LOG_KEYS) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._quiet_until: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def admit(self, key: str, window_seconds: float) -> int | None:
        """None: stay quiet. Otherwise log this refusal, with the count skipped before it."""
        now = self._clock()
        if self._quiet_until.get(key, 0.0) > now:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return None
        if len(self._quiet_until) >= self._max_keys:
            self._quiet_until = {k: t for k, t in self._quiet_until.items() if t > now}
            if len(self._quiet_until) >= self._max_keys:  # a flood of distinct keys
                self._quiet_until.clear()
            self._suppressed = {k: n for k, n in self._suppressed.items()
                                if k in self._quiet_until}
        self._quiet_until[key] = now + window_seconds
        return self._suppressed.pop(key, 0)


def _bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return None


def request_key(
    scope: Scope, category: Category, trusted: tuple[IPNetwork, ...], ipv6_prefix: int = 64
) -> tuple[KeyKind, str]:
    """("user", id) for a verified bearer token on read/write; ("ip", address) otherwise,
    an IPv6 address standing for its whole /``ipv6_prefix`` network."""
    if category in ("read", "write"):
        token = _bearer_token(scope)
        ring: KeyRing | None = getattr(scope["app"].state, "key_ring", None)
        if token and ring is not None:
            try:
                return "user", verify_access_token(ring, token).sub
            except InvalidAccessToken:
                pass  # the route's own dependency logs and refuses it
    return "ip", client_key(client_ip(scope, trusted), ipv6_prefix)


_FEED_KEY_CONTEXT = b"homechef/ratelimit/feed-token/v1:"


def feed_token_key(path: str) -> str:
    """The per-token key of a feed request: a digest of the path's last segment."""
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    return hashlib.sha256(_FEED_KEY_CONTEXT + segment.encode("utf-8", "replace")).hexdigest()[:32]


def request_keys(
    scope: Scope, category: Category, trusted: tuple[IPNetwork, ...], ipv6_prefix: int = 64
) -> list[tuple[Category, KeyKind, str]]:
    """Every (limit, key kind, key) a request counts against: one, or two for a feed."""
    kind, key = request_key(scope, category, trusted, ipv6_prefix)
    keys: list[tuple[Category, KeyKind, str]] = [(category, kind, key)]
    if category == "feed":
        keys.append(("feed_token", "token", feed_token_key(scope["path"])))
    return keys


def limit_headers(verdict: Verdict) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(verdict.limit),
        "RateLimit-Remaining": str(verdict.remaining),
        "RateLimit-Reset": str(verdict.reset_after),
    }


class RateLimitMiddleware:
    """Pure ASGI: refuses before the body is read or the database is touched."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        category = (
            self.limiter.policy.category(scope["method"], scope["path"])
            if scope["type"] == "http"
            else None
        )
        if category is None:
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for limit, kind, key in request_keys(
                scope, category, self.limiter.trusted,
                self.limiter.settings.RATE_LIMIT_IPV6_PREFIX):
            verdict = await self.limiter.hit(limit, f"{kind}:{key}")
            if verdict is None:
                if self.limiter.fail_open:
                    await self.app(scope, receive, send)
                else:
                    await self._refuse(scope, receive, send, RateLimitStorageUnavailable(
                        headers={"Retry-After": str(math.ceil(STORAGE_RETRY_INTERVAL))}))
                return
            if not verdict.allowed:
                await self._refuse_over_limit(scope, receive, send, limit, kind, key, verdict)
                return
            # With two limits, the headers describe the one with fewer requests left.
            if not headers or verdict.remaining < int(headers["RateLimit-Remaining"]):
                headers = limit_headers(verdict)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in headers.items():
                    response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse_over_limit(
        self, scope: Scope, receive: Receive, send: Send, category: Category, kind: KeyKind,
        key: str, verdict: Verdict,
    ) -> None:
        # Every refusal, unlike the log line (one per client key and window).
        metrics.count_rate_limited(category)
        item = self.limiter.policy.limits[category]
        suppressed = self.limiter.refusals.admit(f"{category}:{kind}:{key}", item.get_expiry())
        if suppressed is not None:
            events.security_event(
                events.RATELIMIT_EXCEEDED, category=category, key_kind=kind,
                key=f"{kind}:{key}", limit=str(item), suppressed=suppressed,
            )
        headers = limit_headers(verdict)
        retry_after = str(max(1, verdict.reset_after))
        await self._refuse(scope, receive, send,
                           RateLimited(headers={**headers, "Retry-After": retry_after}))

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, error: AppError) -> None:
        response = render_app_error(Request(scope), error)
        await response(scope, receive, send)
