"""The pool pings a connection before use only when it sat idle (app/db/engine.py,
``_ping_when_idle``), and a dead idle connection is replaced without failing the caller.

Real PostgreSQL; a connection is "cut" by terminating its backend server-side, as a
restart, a suspended Neon compute or an operator would. ``do_ping`` is the dialect's own,
wrapped only to count its calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import pytest
from sqlalchemy import Engine, exc, text

from app.db.engine import make_engine
from tests.conftest import make_test_settings

MakeEngine = Callable[..., Engine]


@pytest.fixture
def make_pool(pg_url: str) -> Iterator[MakeEngine]:
    """An engine with a one-connection pool and the given idle window."""
    made: list[Engine] = []

    def factory(idle_seconds: float) -> Engine:
        settings = make_test_settings(pg_url, DB_POOL_SIZE=1, DB_MAX_OVERFLOW=0,
                                      DB_PING_IDLE_SECONDS=idle_seconds)
        engine = make_engine(settings)
        made.append(engine)
        return engine

    yield factory
    for engine in made:
        engine.dispose()


def count_pings(engine: Engine) -> list[str]:
    """Each ping the dialect makes, as "ok" or the error's class name."""
    pings: list[str] = []
    real = engine.dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        try:
            result = real(dbapi_connection)
        except Exception as error:
            pings.append(type(error).__name__)
            raise
        pings.append("ok")
        return result

    engine.dialect.do_ping = counting  # type: ignore[method-assign]
    return pings


def backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))  # type: ignore[return-value]


def terminate(pg_url: str, pid: int) -> None:
    """Kill a backend and wait until it is really gone."""
    admin = psycopg2.connect(pg_url, connect_timeout=5)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
            deadline = time.monotonic() + 5
            while True:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
                if cursor.fetchone()[0] == 0:  # type: ignore[index]
                    return
                assert time.monotonic() < deadline, f"backend {pid} still alive"
                time.sleep(0.01)
    finally:
        admin.close()


def test_a_killed_idle_connection_is_replaced_before_use(
    make_pool: MakeEngine, pg_url: str
) -> None:
    engine = make_pool(0.2)
    pings = count_pings(engine)
    dead = backend_pid(engine)
    terminate(pg_url, dead)
    time.sleep(0.3)  # past the idle window

    fresh = backend_pid(engine)  # no error reaches the caller

    assert fresh != dead
    assert len(pings) == 1 and pings[0] != "ok"  # the dead one was pinged, the new one not
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert backend_pid(engine) == fresh  # and it is the pool's connection from now on


def test_a_live_idle_connection_is_pinged_and_kept(make_pool: MakeEngine) -> None:
    engine = make_pool(0.2)
    pings = count_pings(engine)
    first = backend_pid(engine)
    time.sleep(0.3)

    assert backend_pid(engine) == first
    assert pings == ["ok"]
    # Just returned, so hot again: the next checkout is not pinged.
    assert backend_pid(engine) == first
    assert pings == ["ok"]


def test_a_connection_used_within_the_window_is_not_pinged(make_pool: MakeEngine) -> None:
    engine = make_pool(30)
    pings = count_pings(engine)
    pids = {backend_pid(engine) for _ in range(5)}  # the first one is freshly connected
    assert len(pids) == 1  # one pooled connection, reused
    assert pings == []


def test_a_hot_connection_killed_fails_its_query_and_the_pool_recovers(
    make_pool: MakeEngine, pg_url: str
) -> None:
    # The documented trade-off: within the window nothing is pinged, so a connection cut
    # in that moment fails the statement that finds out (a 503 for a request), and the
    # pool replaces it for the next one.
    engine = make_pool(30)
    pings = count_pings(engine)
    dead = backend_pid(engine)
    terminate(pg_url, dead)

    with pytest.raises(exc.OperationalError) as failed, engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert failed.value.connection_invalidated

    assert backend_pid(engine) != dead
    assert pings == []


def test_idle_seconds_zero_pings_on_every_checkout(make_pool: MakeEngine, pg_url: str) -> None:
    engine = make_pool(0)
    first = backend_pid(engine)
    pings = count_pings(engine)

    for _ in range(3):
        assert backend_pid(engine) == first
    assert pings == ["ok", "ok", "ok"]

    terminate(pg_url, first)  # SQLAlchemy's own pre-ping replaces it at once
    assert backend_pid(engine) != first
    assert pings[3] != "ok"
