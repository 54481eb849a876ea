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
import uuid
from typing import Any

from sqlalchemy import Engine

from app.auth.validity import ValidityCache

logger = logging.getLogger("homechef.auth")

CHANNEL = "homechef_auth"  # the triggers of migration 0002 notify it


class RevocationFeed:
    def __init__(
        self, engine: Engine, cache: ValidityCache, *, poll_seconds: float = 1.0,
        heartbeat_seconds: float = 5.0, max_backoff_seconds: float = 5.0,
    ) -> None:
        self._engine = engine
        self._cache = cache
        self._poll = poll_seconds
        self._heartbeat = heartbeat_seconds
        self._max_backoff = max_backoff_seconds
        self._stop = threading.Event()
        # Written to by stop(), so a feed waiting in select() wakes at once.
        self._wake_read, self._wake_write = os.pipe()
        self._thread = threading.Thread(target=self._run, name="revocation-feed", daemon=True)
        self._connection: Any = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        os.write(self._wake_write, b"x")
        self._thread.join(timeout)
        self._cache.deactivate()
        for fd in (self._wake_read, self._wake_write):
            os.close(fd)

    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                self._listen()
                backoff = 0.1
            except Exception as exc:
                self._cache.deactivate()
                # The class name only: a driver message can quote the connection string.
                logger.warning(
                    "revocation feed lost; authentication checks the database until it is back",
                    extra={"event": "auth.revocation_feed_down", "error": type(exc).__name__},
                )
            finally:
                self._close()
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    def _listen(self) -> None:
        self._connection = self._engine.raw_connection()
        self._connection.detach()  # closing it later closes the connection for good
        dbapi = self._connection.dbapi_connection
        dbapi.autocommit = True
        with dbapi.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        self._cache.activate()
        logger.info("revocation feed listening", extra={"event": "auth.revocation_feed_up"})
        idle = 0.0
        while not self._stop.is_set():
            readable, _, _ = select.select([dbapi, self._wake_read], [], [], self._poll)
            if self._wake_read in readable:
                return
            if readable:
                idle = 0.0
                dbapi.poll()
                while dbapi.notifies:
                    self._apply(dbapi.notifies.pop(0).payload)
                continue
            idle += self._poll
            if idle >= self._heartbeat:
                # A silent connection may be a dead one: prove it still answers.
                idle = 0.0
                with dbapi.cursor() as cursor:
                    cursor.execute("SELECT 1")
                dbapi.poll()
                while dbapi.notifies:
                    self._apply(dbapi.notifies.pop(0).payload)

    def _apply(self, payload: str) -> None:
        kind, _, value = payload.partition(":")
        if kind == "u":
            try:
                self._cache.forget_user(uuid.UUID(value))
            except ValueError:
                self._cache.forget_all()
        elif kind == "s" and value:
            self._cache.forget_session(value)
        else:
            self._cache.forget_all()

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            # Already broken, or closing on shutdown: nothing more to release.
            with contextlib.suppress(Exception):
                connection.close()
