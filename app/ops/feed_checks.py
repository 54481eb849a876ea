"""Does a revocation reach every API process? (The validity cache's precondition.)

The check does what the running feed does (app/auth/change_feed.py): LISTEN on
DATABASE_LISTEN_URL (or DATABASE_URL), NOTIFY from a separate connection on DATABASE_URL,
and wait for it to arrive. Behind a transaction-mode pooler such as Neon's "-pooler"
endpoint it never arrives: the API still works, checking the database on every request,
and the check says how to get the cache back.
"""

from __future__ import annotations

import select
import time
import uuid

from sqlalchemy import Engine

from app.auth.change_feed import CHANNEL
from app.core.config import Settings
from app.db.engine import make_engine
from app.ops.database_checks import describe_target
from app.ops.results import CheckResult, passed, warned

NAME = "auth.revocation_feed"
WAIT_SECONDS = 3.0
LISTEN_FIX = (
    "Set DATABASE_LISTEN_URL to the direct (non-pooler) host, e.g. Neon's connection string "
    "without '-pooler' (docs/DEPLOYMENT.md)."
)


def check_revocation_feed(
    settings: Settings, *, database_reachable: bool = True
) -> list[CheckResult]:
    if settings.AUTH_CACHE_SECONDS == 0:
        return [passed(NAME, "validity cache off (AUTH_CACHE_SECONDS=0): every request "
                             "checks the database")]
    if settings.database_url.get_backend_name() != "postgresql":
        return [passed(NAME, "SQLite: no validity cache, every request checks the database")]
    if not database_reachable:
        return [warned(NAME, "not checked: the database is unreachable",
                       "Fix database.connect first.")]
    listen_url = settings.database_listen_url
    target = describe_target(listen_url)
    listen_engine = make_engine(settings, listen_url)
    notify_engine = make_engine(settings, settings.database_url)
    try:
        arrived = _notification_arrives(listen_engine, notify_engine)
    except Exception as exc:  # raw_connection() raises the driver's own errors
        cause = type(getattr(exc, "orig", None) or exc).__name__
        return [warned(NAME, f"could not LISTEN on {target} ({cause}); "
                             "the API would check the database on every request",
                       "Fix the database connection first (database.connect).")]
    finally:
        listen_engine.dispose()
        notify_engine.dispose()
    if arrived:
        return [passed(NAME, f"a NOTIFY from another connection reached a LISTEN on {target}: "
                             "revocations reach every process; the validity cache can turn on")]
    return [warned(NAME, f"a NOTIFY did not reach a LISTEN on {target} within "
                         f"{WAIT_SECONDS:g}s (a transaction-mode pooler?): the validity cache "
                         "stays off and every request checks the database", LISTEN_FIX)]


def _notification_arrives(listen_engine: Engine, notify_engine: Engine) -> bool:
    listener = listen_engine.raw_connection()
    try:
        dbapi = listener.dbapi_connection
        dbapi.autocommit = True
        with dbapi.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        # A heartbeat-shaped payload: running servers ignore beats that are not theirs.
        payload = f"beat:check-{uuid.uuid4().hex}"
        sender = notify_engine.raw_connection()
        try:
            with sender.cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
            sender.commit()
        finally:
            sender.close()
        deadline = time.monotonic() + WAIT_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            if select.select([dbapi], [], [], left)[0]:
                dbapi.poll()
                if any(n.payload == payload for n in dbapi.notifies):
                    return True
                dbapi.notifies.clear()
        return False
    finally:
        listener.invalidate()  # LISTEN is session state: never hand it back to a pool
