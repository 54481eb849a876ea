"""Is the rate-limit storage reachable? (A Redis that is down means limits are not
enforced, or, with RATE_LIMIT_FAIL_OPEN=false, that limited routes answer 503.)"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import redis

from app.core.config import Settings
from app.ops.results import CheckResult, failed, passed, warned

NAME = "rate_limit.reachable"
TIMEOUT_SECONDS = 3.0
# What limits' Redis storage accepts and redis-py can ping directly; the sentinel and
# cluster forms need their own clients and are left to the running app.
_PINGABLE = frozenset({"redis", "rediss", "redis+unix"})


def check_rate_limit_reachable(settings: Settings) -> list[CheckResult]:
    url = settings.RATE_LIMIT_STORAGE_URL.get_secret_value()
    parts = urlsplit(url)
    if not settings.RATE_LIMIT_ENABLED:
        return [passed(NAME, "rate limiting is disabled: no storage to reach")]
    if parts.scheme not in _PINGABLE:
        return [passed(NAME, f"{parts.scheme or '(none)'}:// storage: nothing to reach "
                             "from here")]
    # Host and port only: the URL may carry a password.
    target = (parts.path if parts.scheme == "redis+unix"
              else f"{parts.hostname}:{parts.port or 6379}")
    client = redis.Redis.from_url(
        url.replace("redis+unix://", "unix://", 1),
        socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS,
    )
    started = time.perf_counter()
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"Redis at {target} did not answer PING ({type(exc).__name__})"
        fix = "Start Redis or correct RATE_LIMIT_STORAGE_URL before deploying."
        if settings.RATE_LIMIT_FAIL_OPEN:
            return [warned(NAME, reason + ": rate limits would not be enforced "
                                 "(RATE_LIMIT_FAIL_OPEN=true)", fix)]
        return [failed(NAME, reason + ": rate-limited routes would answer 503 "
                             "(RATE_LIMIT_FAIL_OPEN=false)", fix)]
    finally:
        client.close()
    elapsed_ms = (time.perf_counter() - started) * 1000
    return [passed(NAME, f"Redis at {target} answered PING in {elapsed_ms:.0f} ms")]
