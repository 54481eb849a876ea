"""The revocation feed: a thread that LISTENs for revocations and empties the cache.

One per server process, on a connection of its own (detached from the engine's pool, so
it has the same address, TLS and timeouts but takes no pooled slot). The cache is
trusted only between a successful ``LISTEN`` and the first sign of trouble: any error,
or a heartbeat query that fails, deactivates it before reconnecting with backoff.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
import time
import uuid
from typing import Any

from sqlalchemy import Engine

from app.auth.validity import ValidityCache
from app.core import metrics

logger = logging.getLogger("homechef.auth")

CHANNEL = "homechef_auth"  # the triggers of migration 0002 notify it
_BEAT = "beat"  # payload prefix of the feed's own heartbeats
_FIRST_RETRY = 0.1  # seconds; doubled on each failed attempt up to max_backoff_seconds


class RevocationFeed:
    def __init__(
        self, engine: Engine, cache: ValidityCache, *, poll_seconds: float = 1.0,
        heartbeat_seconds: float = 2.0, max_backoff_seconds: float = 5.0,
        owns_engine: bool = False, notify_engine: Engine | None = None,
    ) -> None:
        self._engine = engine
        # Heartbeats are sent through this one (the app's pool); default: ``engine``.
        self._notify_engine = notify_engine or engine
        self._owns_engine = owns_engine
        self._cache = cache
        self._poll = poll_seconds
        self._heartbeat = heartbeat_seconds
        # Trust lasts three heartbeats: one late heartbeat is not an outage.
        self._lease_seconds = 3 * heartbeat_seconds
        self._max_backoff = max_backoff_seconds
        self._stop = threading.Event()
        # Written to by stop(), so a feed waiting in select() wakes at once.
        self._wake_read, self._wake_write = os.pipe()
        self._thread = threading.Thread(target=self._run, name="revocation-feed", daemon=True)
        self._connection: Any = None
        self._listened = False
        self._beat = ""

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        os.write(self._wake_write, b"x")
        self._thread.join(timeout)
        self._cache.deactivate()
        if self._owns_engine:
            self._engine.dispose()
        for fd in (self._wake_read, self._wake_write):
            os.close(fd)

    def _run(self) -> None:
        backoff = _FIRST_RETRY
        while not self._stop.is_set():
            self._listened = False
            try:
                self._listen()
            except Exception as exc:
                self._cache.deactivate()
                metrics.feed_state(listening=False)
                # The class name only: a driver message can quote the connection string.
                logger.warning(
                    "revocation feed lost; authentication checks the database until it is back",
                    extra={"event": "auth.revocation_feed_down", "error": type(exc).__name__},
                )
            finally:
                self._close()
            if self._listened:
                # The backoff is for a database that stays away, not for one blip after
                # hours of listening.
                backoff = _FIRST_RETRY
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    def _listen(self) -> None:
        fairy = self._engine.raw_connection()
        # Detached: the pool forgets it, and it is closed directly (_close), never reset
        # through the pool (a rollback on a dead connection would log a traceback).
        fairy.detach()
        self._connection = dbapi = fairy.dbapi_connection
        dbapi.autocommit = True
        with dbapi.cursor() as cursor:
            # Its own name in pg_stat_activity, so operators (and tests) can tell it apart.
            cursor.execute("SET application_name = 'homechef-api-revocation-feed'")
            cursor.execute(f"LISTEN {CHANNEL}")
        # Trust starts with the first heartbeat that comes back (_apply), not with LISTEN.
        self._send_heartbeat(dbapi)
        next_beat = time.monotonic() + self._heartbeat
        while not self._stop.is_set():
            wait = max(0.0, min(self._poll, next_beat - time.monotonic()))
            readable, _, _ = select.select([dbapi, self._wake_read], [], [], wait)
            if self._wake_read in readable:
                return
            if readable:
                dbapi.poll()
                self._drain(dbapi)
            if time.monotonic() >= next_beat:
                self._send_heartbeat(dbapi)
                next_beat = time.monotonic() + self._heartbeat

    def _send_heartbeat(self, dbapi: Any) -> None:
        """NOTIFY from another connection; the lease is renewed only when it arrives here.

        The echo proves the path every revocation takes: a commit in some other session
        reaches this listening one. Sent from this same connection it would prove less:
        behind a transaction-mode pooler (Neon's "-pooler" endpoint) a session hears its
        own NOTIFY while it is attached, and misses everyone else's once its server
        connection went back to the pool; from a separate connection the echo never comes
        back there, so the cache never turns on. If the send or the listening connection
        hangs on a peer that stopped answering, the lease runs out.

        A raw DBAPI connection: nothing of SQLAlchemy's statement events sees heartbeats.
        """
        self._beat = uuid.uuid4().hex
        sender = self._notify_engine.raw_connection()
        try:
            with sender.cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"{_BEAT}:{self._beat}"))
            sender.commit()
        finally:
            sender.close()
        dbapi.poll()
        self._drain(dbapi)

    def _drain(self, dbapi: Any) -> None:
        while dbapi.notifies:
            self._apply(dbapi.notifies.pop(0).payload)

    def _apply(self, payload: str) -> None:
        kind, _, value = payload.partition(":")
        if kind == _BEAT:
            if value == self._beat:  # other processes' heartbeats are not ours
                self._heard_heartbeat()
        elif kind == "u":
            try:
                self._cache.forget_user(uuid.UUID(value))
            except ValueError:
                self._cache.forget_all()
        elif kind == "s" and value:
            self._cache.forget_session(value)
        else:
            self._cache.forget_all()

    def _heard_heartbeat(self) -> None:
        metrics.feed_state(listening=True, heartbeat_at=time.time())
        if self._listened:
            self._cache.renew(self._lease_seconds)
            return
        self._cache.activate(self._lease_seconds)
        self._listened = True
        logger.info("revocation feed listening", extra={"event": "auth.revocation_feed_up"})

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            # Already broken, or closing on shutdown: nothing more to release.
            with contextlib.suppress(Exception):
                connection.close()
