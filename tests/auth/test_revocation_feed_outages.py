"""The revocation feed down, reconnecting or silent (LISTEN/NOTIFY on the real
PostgreSQL, triggers from migration 0002).

What must hold: while the feed is down, or silent past its lease, nothing cached is
trusted and every request checks the database; a killed feed reconnects quickly (its
backoff starts over once it listens again) to an empty cache, and an outage logs one
warning naming only the exception's class, no error with a traceback. The cache in use
and revocations reaching every instance are in test_revocation_feed.py; the helpers are
in feed_support.py and the ``start`` and ``sql`` fixtures in conftest.py.
"""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session

from app.core.logs import JsonFormatter
from app.core.tokens import KeyRing, issue_access_token
from app.db.engine import make_engine
from tests.auth.feed_support import (
    PROPAGATION_SECONDS,
    FrozenLink,
    Sql,
    cache_of,
    feed_cannot_reconnect,
    feed_down_records,
    kill_feed_backend,
    listening_backends,
    probe,
    probe_counted,
    refused_within,
    running_feed,
    wait_until,
    warm,
)
from tests.auth.support import assert_unauthorized
from tests.conftest import make_test_settings
from tests.factories import make_user, token_for

# --- feed outage -------------------------------------------------------------------------------


def test_killed_feed_reconnects_and_starts_from_an_empty_cache(
    start, engine: Engine, db: Session, sql: Sql, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="homechef")
    client = start()
    cache = cache_of(client)
    user = make_user(db)
    token = token_for(client.app, user, sid="sess_k")  # type: ignore[arg-type]
    warm(client, engine, token)
    wait_until(lambda: len(listening_backends(sql)) == 1, 3.0, "one LISTEN backend")
    (killed,) = kill_feed_backend(sql)

    def listening_again() -> bool:
        fresh = [pid for pid in listening_backends(sql) if pid != killed]
        return bool(fresh) and cache.active

    wait_until(listening_again, 10.0, "the feed listening again")
    assert len(cache) == 0  # what was vouched for before the outage is not trusted after it
    assert feed_down_records(caplog)

    # And it still carries revocations.
    warm(client, engine, token)
    sql("INSERT INTO revoked_sessions (sid, revoked_at) VALUES ('sess_k', now())")
    assert refused_within(client, token) < PROPAGATION_SECONDS


def test_while_the_feed_is_down_every_request_checks_the_database(
    start, engine: Engine, db: Session, sql: Sql, pg_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="homechef")
    client = start()
    cache = cache_of(client)
    user = make_user(db)
    token = token_for(client.app, user, sid="sess_down")  # type: ignore[arg-type]
    warm(client, engine, token)

    with feed_cannot_reconnect(engine):
        kill_feed_backend(sql)
        wait_until(lambda: not cache.active, 3.0, "the cache deactivated")
        assert len(cache) == 0
        for _ in range(2):  # served, but from the database, and nothing remembered
            response, statements = probe_counted(client, engine, token)
            assert (response.status_code, statements) == (200, 1), response.text
        # A revocation whose NOTIFY nobody hears...
        sql("UPDATE users SET token_version = token_version + 1 WHERE id = %s", (user.id,))
        # ...is enforced at once all the same.
        assert_unauthorized(probe(client, token))
        assert not cache.active  # all of this happened during the outage

    wait_until(lambda: cache.active, 10.0, "the feed back after the outage")
    # The revocation missed during the outage is not undone by the cache coming back.
    response, statements = probe_counted(client, engine, token)
    assert statements == 1
    assert_unauthorized(response)
    ring: KeyRing = client.app.state.key_ring  # type: ignore[attr-defined]
    fresh = issue_access_token(ring, user_id=user.id, sid="sess_down", version=1).token
    warm(client, engine, fresh)
    sql("UPDATE users SET token_version = token_version + 1 WHERE id = %s", (user.id,))
    assert refused_within(client, fresh) < PROPAGATION_SECONDS

    records = feed_down_records(caplog)
    assert records
    # Only the exception's class name: a driver message can quote the connection string.
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", r.error) for r in records)  # type: ignore[attr-defined]
    database = pg_url.rsplit("/", 1)[1]
    formatter = JsonFormatter()
    assert not any(database in formatter.format(r) for r in records)


# --- the feed on its own -------------------------------------------------------------------------


def test_every_outage_recovers_quickly_however_many_came_before(
    engine: Engine, sql: Sql
) -> None:
    # The backoff is for a database that stays away: after listening again it starts over
    # (with 0.1 s doubling per outage, the fourth would wait 0.8 s).
    with running_feed(engine) as (_feed, cache):
        for outage in range(1, 5):
            wait_until(lambda: len(listening_backends(sql)) == 1, 3.0, "one LISTEN backend")
            (killed,) = kill_feed_backend(sql)

            def back(killed: int = killed) -> bool:
                return cache.active and any(p != killed for p in listening_backends(sql))

            wait_until(back, 0.5, f"the feed back after outage {outage}")


def test_a_feed_outage_logs_no_error_with_a_traceback(
    engine: Engine, sql: Sql, caplog: pytest.LogCaptureFixture
) -> None:
    # Only the feed's own one-line warning: the dead connection is closed directly, not
    # reset (rolled back) through the pool, which would log an ERROR with a traceback.
    caplog.set_level(logging.INFO)
    with running_feed(engine) as (_feed, cache):
        wait_until(lambda: len(listening_backends(sql)) == 1, 3.0, "one LISTEN backend")
        (killed,) = kill_feed_backend(sql)
        wait_until(lambda: cache.active and any(p != killed for p in listening_backends(sql)),
                   5.0, "the feed back")
    assert feed_down_records(caplog)
    errors = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


def test_a_feed_connection_that_silently_stops_answering_is_not_trusted_for_long(
    pg_url: str, db: Session, sql: Sql
) -> None:
    # No error, no EOF: the heartbeat just never gets its answer. The cache must stop
    # vouching when the feed's lease (three heartbeats) runs out, not at the entries' TTL.
    target = make_url(pg_url)
    link = FrozenLink((target.host or "127.0.0.1", target.port or 5432))
    proxied = make_engine(make_test_settings(
        target.set(host="127.0.0.1", port=link.port).render_as_string(hide_password=False),
        DB_POOL_SIZE=1, DB_MAX_OVERFLOW=0))
    heartbeat = 0.2
    try:
        with running_feed(proxied, poll_seconds=0.05, heartbeat_seconds=heartbeat) as (
            _feed, cache
        ):
            try:
                user = make_user(db)
                remember = cache.remember
                remember(cache.generation(), user.id, "sess_f", 0)
                # Control: through the link, while it flows, a revocation is heard.
                sql("UPDATE users SET token_version = 1 WHERE id = %s", (user.id,))
                wait_until(lambda: not cache.is_valid(user.id, "sess_f", 0), 1.0, "heard")
                remember(cache.generation(), user.id, "sess_f", 1)
                assert cache.is_valid(user.id, "sess_f", 1)

                link.freeze()
                sql("UPDATE users SET token_version = 2 WHERE id = %s", (user.id,))
                # Heard, or the silence noticed: version 1 is no longer vouched for
                # once the lease (3 heartbeats, renewed at most one heartbeat ago) ends.
                elapsed = wait_until(lambda: not cache.is_valid(user.id, "sess_f", 1),
                                     1.5, "the dead link noticed")
                assert elapsed < 4 * heartbeat + 0.3
                # Nor is anything new remembered while nothing proves the feed alive.
                remember(cache.generation(), user.id, "sess_f", 2)
                assert not cache.is_valid(user.id, "sess_f", 2)

                link.thaw()  # the held heartbeat answer and NOTIFY arrive

                def vouching_again() -> bool:
                    remember(cache.generation(), user.id, "sess_f", 2)
                    return cache.is_valid(user.id, "sess_f", 2)

                wait_until(vouching_again, 2.0, "the cache trusted again")
                assert not cache.is_valid(user.id, "sess_f", 1)
            finally:
                link.close()  # a heartbeat stuck on the link fails, so stop() is quick
    finally:
        link.close()
        proxied.dispose()
