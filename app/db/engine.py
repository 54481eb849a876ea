"""Engine construction: one pool per process, fit for Neon in production and SQLite locally."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
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
        "pool_pre_ping": True,
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
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys (and so ON DELETE) unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()
