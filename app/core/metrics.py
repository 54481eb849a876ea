"""Prometheus metrics: HTTP traffic, the security signals, the database and the auth cache.

One module defines every metric, so names and labels are a reviewed contract (alert
rules and the dashboard in deploy/monitoring/ read them). Labels are bounded by
construction: a route label is a route *template* (never a raw path), a method outside
the known verbs is "other", and every other label value passes ``_Bounded``, which
admits short identifier-like values (reason codes, limit names, event types) up to a
fixed number per label and folds anything else into "other". No label ever takes a user
id, an email, a token, an IP address or a path: those never reach these functions.

Several worker processes (``uvicorn --workers N``): set ``PROMETHEUS_MULTIPROC_DIR``
(the client's own variable) to an empty directory writable by the workers; every
worker then writes its values there and any worker's /metrics sums them
(``app/core/metrics_multiprocess.py`` cleans the directory at start-up and after a
worker dies).

Cost: on a cached GET about 3-6 µs per request (bench/inprocess.py, bench/README.md):
the labelled children are looked up once per (route, method, status class) and kept.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any, Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import Engine, event

MULTIPROCESS_DIR_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"
OTHER: Final = "other"

HTTP_REQUESTS = Counter(
    "homechef_http_requests_total", "HTTP requests answered, by route template.",
    ["route", "method", "status_class"],
)
HTTP_DURATION = Histogram(
    "homechef_http_request_duration_seconds", "Time to answer, by route template.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_IN_FLIGHT = Gauge(
    "homechef_http_requests_in_flight", "Requests being answered now.",
    multiprocess_mode="livesum",
)
SECURITY_EVENTS = Counter(
    "homechef_security_events_total",
    "Security events (the JSON log's homechef.security lines), by event, reason and kind.",
    ["event", "reason", "kind"],
)
RATE_LIMITED = Counter(
    "homechef_rate_limited_total", "Requests refused with 429, by limit name.", ["limit"],
)
DB_POOL_CHECKED_OUT = Gauge(
    "homechef_db_pool_checked_out", "Pooled connections in use.", multiprocess_mode="livesum"
)
DB_POOL_OVERFLOW = Gauge(
    "homechef_db_pool_overflow", "Connections open beyond the pool size.",
    multiprocess_mode="livesum",
)
DB_POOL_CAPACITY = Gauge(
    "homechef_db_pool_capacity", "Pool size plus overflow: the most connections in use.",
    multiprocess_mode="livesum",
)
DB_ERRORS = Counter(
    "homechef_db_errors_total",
    "Requests refused with 503 for the database: pool_timeout (a wait for a pooled "
    "connection ran out), statement_timeout, connection.",
    ["kind"],
)
VALIDITY_CACHE = Counter(
    "homechef_auth_validity_cache_lookups_total",
    "Token validity look-ups: hit (no SQL), miss (checked in the database), inactive "
    "(no live revocation feed: always checked).",
    ["result"],
)
FEED_LISTENING = Gauge(
    "homechef_auth_revocation_feed_listening",
    "1 when this process hears its own heartbeats on the revocation feed (min over "
    "workers).", multiprocess_mode="livemin",
)
FEED_HEARTBEAT = Gauge(
    "homechef_auth_revocation_feed_last_heartbeat_seconds",
    "Unix time of the last heartbeat heard (min over workers); the validity cache's lease "
    "lapses 3 heartbeats (6 s) after it.", multiprocess_mode="livemin",
)

_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_LABEL_VALUE = re.compile(r"[A-Za-z0-9_.:-]{1,48}")
_ROUTE_VALUE = re.compile(r"[A-Za-z0-9_./{}<>:-]{1,200}")


class _Bounded:
    """At most ``limit`` distinct values of one label that match ``pattern``; the rest
    become "other"."""

    def __init__(self, limit: int, pattern: re.Pattern[str] = _LABEL_VALUE) -> None:
        self.limit = limit
        self.pattern = pattern
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: object) -> str:
        if value is None or value == "":
            return ""
        text = str(value)
        if text in self._seen:
            return text
        if not self.pattern.fullmatch(text):
            return OTHER
        with self._lock:
            if len(self._seen) >= self.limit:
                return OTHER
            self._seen.add(text)
        return text


_bounded_event = _Bounded(64)
_bounded_reason = _Bounded(64)
_bounded_kind = _Bounded(64)
# Templates of our own routes (a fixed set); the bound is a backstop.
_bounded_route = _Bounded(400, _ROUTE_VALUE)

#: Which log field of a security event becomes its reason / kind label.
_REASON_FIELDS = ("reason", "outcome")
_KIND_FIELDS = ("token_kind", "category", "type", "kind")

_enabled = True
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def set_enabled(enabled: bool) -> None:
    """METRICS_ENABLED=false turns the per-request work off (bench baseline)."""
    global _enabled
    _enabled = enabled


def enabled() -> bool:
    return _enabled


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    if not _enabled:
        return
    key = (route, method, status // 100)
    children = _children.get(key)
    if children is None:
        label_route = _bounded_route(route)
        label_method = method if method in _KNOWN_METHODS else OTHER
        children = (
            HTTP_REQUESTS.labels(label_route, label_method, f"{status // 100}xx"),
            HTTP_DURATION.labels(label_route, label_method),
        )
        if len(_children) < 2000:
            _children[key] = children
    children[0].inc()
    children[1].observe(seconds)


def count_security_event(name: str, fields: dict[str, Any]) -> None:
    if not _enabled:
        return
    reason = next((fields[f] for f in _REASON_FIELDS if fields.get(f) is not None), None)
    kind = next((fields[f] for f in _KIND_FIELDS if fields.get(f) is not None), None)
    SECURITY_EVENTS.labels(_bounded_event(name), _bounded_reason(reason),
                           _bounded_kind(kind)).inc()


def count_rate_limited(limit: str) -> None:
    if _enabled:
        RATE_LIMITED.labels(_bounded_kind(limit)).inc()


def count_db_error(kind: str) -> None:
    if _enabled:
        DB_ERRORS.labels(kind).inc()


def count_validity_lookup(result: str) -> None:
    if _enabled:
        VALIDITY_CACHE.labels(result).inc()


def feed_state(*, listening: bool, heartbeat_at: float | None = None) -> None:
    FEED_LISTENING.set(1 if listening else 0)
    if heartbeat_at is not None:
        FEED_HEARTBEAT.set(heartbeat_at)


def watch_engine(engine: Engine) -> None:
    """Pool gauges kept up to date on every checkout and checkin (two cheap calls)."""
    pool = engine.pool
    size = getattr(pool, "size", None)
    overflow = getattr(pool, "_max_overflow", 0)
    if callable(size):
        DB_POOL_CAPACITY.set(size() + max(overflow, 0))

    def update(*_: Any) -> None:
        checked_out = getattr(pool, "checkedout", None)
        if callable(checked_out):
            DB_POOL_CHECKED_OUT.set(checked_out())
            current_overflow = getattr(pool, "overflow", None)
            if callable(current_overflow):
                DB_POOL_OVERFLOW.set(max(current_overflow(), 0))

    event.listen(engine, "checkout", update)
    event.listen(engine, "checkin", update)


def exposition() -> tuple[bytes, str]:
    """The scrape: every worker's values in multiprocess mode, else this process's."""
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
