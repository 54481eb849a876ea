"""Engine construction: one pool per process, fit for Neon in production and SQLite locally."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL

from app.core.config import Settings


def engine_options(settings: Settings, url: URL) -> dict[str, Any]:
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"check_same_thread": False, "timeout": 15}}
    connect_args: dict[str, Any] = {
        "connect_timeout": settings.DB_CONNECT_TIMEOUT,
        "application_name": "homechef-api",
        # Dead peers (a dropped NAT entry, a suspended Neon compute) are noticed in
        # seconds instead of the kernel's two hours.
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    if settings.DB_STATEMENT_TIMEOUT_MS:
        connect_args["options"] = f"-c statement_timeout={settings.DB_STATEMENT_TIMEOUT_MS}"
    return {
        # 0 keeps SQLAlchemy's own ping before every checkout; otherwise _ping_when_idle.
        "pool_pre_ping": settings.DB_PING_IDLE_SECONDS == 0,
        "pool_size": settings.DB_POOL_SIZE,
        "max_overflow": settings.DB_MAX_OVERFLOW,
        "pool_timeout": settings.DB_POOL_TIMEOUT,
        "pool_recycle": settings.DB_POOL_RECYCLE,
        "pool_use_lifo": True,
        "connect_args": connect_args,
    }


def make_engine(settings: Settings, url: URL | None = None) -> Engine:
    url = url or settings.database_url
    engine = create_engine(url, **engine_options(settings, url))
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif settings.DB_PING_IDLE_SECONDS > 0:
        _ping_when_idle(engine, settings.DB_PING_IDLE_SECONDS)
    return engine


_LAST_USED = "homechef_last_used"


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection before use only if it sat idle for ``idle_seconds``.

    A ping is a full round trip; on every checkout it was one of four per request. A
    connection returned a moment ago by a request that succeeded is alive; one that sat
    idle may have been cut (a Neon compute suspending, a restart, a NAT timeout). A dead
    one is replaced before the request sees it: DisconnectionError from a checkout
    handler makes the pool discard the connection and check out another (SQLAlchemy's
    documented pessimistic-disconnect mechanism). A connection cut while in use still
    fails that request with 503 and invalidates the pool, as before.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last_used = record.info.get(_LAST_USED, 0.0)
        if time.monotonic() - last_used < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.DisconnectionError() from error
            raise


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys (and so ON DELETE) unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()
