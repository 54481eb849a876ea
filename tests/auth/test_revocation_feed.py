"""The validity cache in a running app, fed by the revocation feed (LISTEN/NOTIFY on the
real PostgreSQL, triggers from migration 0002).

What must hold: a token the cache vouches for costs no SQL; a revocation made anywhere
(this instance, another instance, an operator's SQL, the ``homechef revoke-user`` command
in another process) stops it within a second everywhere, and at once in the instance that
made it; while the feed is down, or silent past its lease, nothing cached is trusted; an
expired token is refused even when both its verification and its validity were cached.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import psycopg2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, make_url
from sqlalchemy.orm import Session

from app.auth.change_feed import RevocationFeed
from app.auth.dependencies import CurrentPrincipal
from app.auth.validity import ValidityCache
from app.core import tokens
from app.core.config import TOKEN_AUDIENCE, TOKEN_ISSUER, Settings
from app.core.logs import JsonFormatter
from app.core.secret_key import generate_secret_key, key_fingerprint
from app.core.tokens import (
    LEEWAY_SECONDS,
    InvalidAccessToken,
    KeyRing,
    issue_access_token,
    verify_access_token,
)
from app.db.engine import make_engine
from app.users.models import User
from tests.auth.support import LOGOUT_URL, ME_URL, assert_unauthorized, bearer
from tests.conftest import make_test_settings
from tests.factories import make_user, token_for
from tests.fakes.clerk import sign_jwt
from tests.fakes.svix_signing import new_webhook_secret, svix_headers
from tests.webhooks.events import session_event

#: A route that needs only the principal (as every recipe route does): when the cache
#: vouches for the token, it runs no SQL at all.
PRINCIPAL_URL = "/api/v1/_principal_probe"
WEBHOOK_URL = "/api/v1/webhooks/clerk"
#: How fast another instance must hear of a revocation.
PROPAGATION_SECONDS = 1.0


async def _principal_probe(principal: CurrentPrincipal) -> dict[str, str]:
    return {"id": str(principal.id), "sid": principal.sid}


# --- helpers -----------------------------------------------------------------------------------


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``predicate``; the seconds it took, or fail after ``timeout``."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.005)
    return time.monotonic() - start


def cache_of(client: TestClient) -> ValidityCache:
    return client.app.state.validity_cache  # type: ignore[attr-defined]


@pytest.fixture
def start(make_client: Callable[..., TestClient], make_settings: Callable[..., Settings]):
    """A started app with the principal probe; by default waits for its feed to listen."""

    def factory(*, wait_active: bool = True, **overrides: Any) -> TestClient:
        client = make_client(make_settings(**overrides))
        client.app.add_api_route(  # type: ignore[attr-defined]
            PRINCIPAL_URL, _principal_probe, methods=["GET"])
        if wait_active:
            wait_until(lambda: cache_of(client).active, 5.0, "the revocation feed listening")
        return client

    return factory


def probe(client: TestClient, token: str) -> httpx.Response:
    return client.get(PRINCIPAL_URL, headers=bearer(token))


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def probe_counted(client: TestClient, engine: Engine, token: str) -> tuple[httpx.Response, int]:
    """The response and how many SQL statements the request ran."""
    with counting(engine) as statements:
        response = probe(client, token)
    return response, len(statements)


def warm(client: TestClient, engine: Engine, token: str) -> None:
    """Make ``client`` vouch for ``token``: checked once, then served from the cache."""
    response, first = probe_counted(client, engine, token)
    assert response.status_code == 200, response.text
    response, second = probe_counted(client, engine, token)
    assert response.status_code == 200, response.text
    assert (first, second) == (1, 0)


def refused_within(client: TestClient, token: str, timeout: float = 5.0) -> float:
    """Poll ``client`` until it refuses ``token``; the seconds that took."""
    last: list[httpx.Response] = []

    def refused() -> bool:
        last[:] = [probe(client, token)]
        assert last[0].status_code in (200, 401), last[0].text
        return last[0].status_code == 401

    elapsed = wait_until(refused, timeout, "the revocation reaching this instance")
    assert_unauthorized(last[0])
    return elapsed


Sql = Callable[..., list[tuple[Any, ...]]]


@pytest.fixture
def sql(pg_url: str) -> Iterator[Sql]:
    """Plain SQL on a connection of its own, autocommit: an operator at psql, or any other
    process writing to the same database."""
    conn = psycopg2.connect(pg_url, connect_timeout=5)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SET lock_timeout = '5s'")  # a mistake fails, it does not hang

    def run(statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with conn.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    yield run
    conn.close()


def listening_backends(sql: Sql) -> list[int]:
    """Backends of this database whose last statement was the feed's LISTEN (the test
    databases are private to this pytest process). The feed's first heartbeat (after
    2 s) replaces that text, so the tests look right after the feed (re)connects."""
    rows = sql("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
               "AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%%'")
    return [pid for (pid,) in rows]


def kill_feed_backend(sql: Sql) -> list[int]:
    pids = listening_backends(sql)
    assert pids, "no LISTEN backend to kill"
    for pid in pids:
        sql("SELECT pg_terminate_backend(%s)", (pid,))
    return pids


def feed_down_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == "auth.revocation_feed_down"]


def secret_key(settings: Settings) -> str:
    return settings.SECRET_KEY.get_secret_value()  # type: ignore[union-attr]


def sign_internal(
    user: User, *, sid: str, key: str, kid_key: str | None = None, **claims: Any
) -> str:
    """An internal token built by hand, signed with ``key`` (kid: ``kid_key``'s)."""
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": TOKEN_ISSUER, "aud": TOKEN_AUDIENCE, "sub": str(user.id),
        "iat": now, "nbf": now, "exp": now + 600, "jti": uuid.uuid4().hex,
        "typ": "access", "sid": sid, "ver": user.token_version,
    }
    values.update(claims)
    header = {"alg": "HS256", "typ": "JWT", "kid": key_fingerprint(kid_key or key)}
    return sign_jwt(header, values, key.encode())


# --- the cache is used -------------------------------------------------------------------------


def test_a_vouched_token_runs_no_sql_at_all(start, engine: Engine, db: Session) -> None:
    client = start()
    user = make_user(db)
    token = token_for(client.app, user, sid="sess_cached")  # type: ignore[arg-type]

    response, statements = probe_counted(client, engine, token)
    assert response.status_code == 200, response.text
    assert statements == 1  # the one token-subject query
    for _ in range(3):
        response, statements = probe_counted(client, engine, token)
        assert response.status_code == 200, response.text
        assert response.json() == {"id": str(user.id), "sid": "sess_cached"}
        assert statements == 0
    assert cache_of(client).is_valid(user.id, "sess_cached", 0)
    # On a real route: only the route's own query, no token check.
    with counting(engine) as statements_:
        response = client.get("/api/v1/recipes", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert statements_ and not any("revoked_sessions" in s or "FROM users" in s
                                   for s in statements_), statements_


def test_the_cache_never_vouches_for_a_token_that_fails_verification(
    start, engine: Engine, db: Session, settings: Settings
) -> None:
    client = start()
    user = make_user(db)
    warm(client, engine, token_for(client.app, user, sid="sess_x"))  # type: ignore[arg-type]
    now = int(time.time())
    # The same (user, sid, version) the cache vouches for, in tokens that must not pass.
    ours = secret_key(settings)
    forged = sign_internal(user, sid="sess_x", key=generate_secret_key(), kid_key=ours)
    expired = sign_internal(user, sid="sess_x", key=ours, exp=now - LEEWAY_SECONDS - 60)
    for token in (forged, expired):
        assert_unauthorized(probe(client, token))
    assert cache_of(client).is_valid(user.id, "sess_x", 0)


@pytest.mark.parametrize("why", ["version_ahead", "revoked_session", "unknown_user"])
def test_refusals_are_never_remembered(
    start, engine: Engine, db: Session, sql: Sql, settings: Settings, why: str
) -> None:
    client = start()
    user = make_user(db)
    key = secret_key(settings)
    if why == "version_ahead":
        token = sign_internal(user, sid="sess_y", key=key, ver=1)
    elif why == "revoked_session":
        sql("INSERT INTO revoked_sessions (sid, revoked_at) VALUES ('sess_y', now())")
        token = sign_internal(user, sid="sess_y", key=key)
    else:
        token = sign_internal(user, sid="sess_y", key=key, sub=str(uuid.uuid4()))
    for _ in range(3):
        response, statements = probe_counted(client, engine, token)
        assert_unauthorized(response)
        assert statements == 1  # asked the database every time
    assert len(cache_of(client)) == 0


# --- revocations reach every instance -------------------------------------------------------


def _revoke_by_cli(settings: Settings, pg_url: str, user: User, cwd: Path) -> None:
    # The operator's command, in a process of its own (a directory without a .env).
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(DATABASE_URL=pg_url, SECRET_KEY=secret_key(settings), ENVIRONMENT="test")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "revoke-user", "--user-id", str(user.id)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr


def _post_webhook(client: TestClient, secret: str, payload: dict[str, Any]) -> httpx.Response:
    body = json.dumps(payload)
    headers = {**svix_headers(secret, body), "content-type": "application/json"}
    return client.post(WEBHOOK_URL, content=body, headers=headers)


REVOCATIONS = [
    "logout_on_other_instance",
    "erasure_on_other_instance",
    "clerk_session_revoked_webhook_on_other_instance",
    "sql_token_version_bump",
    "sql_erasure_only_deleted_at",
    "sql_delete_user",
    "sql_revoke_session",
    "homechef_revoke_user_cli_process",
]


@pytest.mark.parametrize("how", REVOCATIONS)
def test_a_revocation_elsewhere_reaches_this_instance_within_a_second(
    start, engine: Engine, db: Session, sql: Sql, settings: Settings, pg_url: str,
    tmp_path: Path, how: str,
) -> None:
    secret = new_webhook_secret()
    other = start(CLERK_WEBHOOK_SECRET=secret)  # instance A: where the revocation is made
    this = start()  # instance B: its own cache and feed, on the same database
    user, bystander = make_user(db), make_user(db)
    sid = f"sess_{uuid.uuid4().hex[:12]}"
    token = token_for(this.app, user, sid=sid)  # type: ignore[arg-type]
    same_user_other_session = token_for(this.app, user, sid="sess_other")  # type: ignore[arg-type]
    unrelated = token_for(this.app, bystander, sid="sess_bystander")  # type: ignore[arg-type]
    for warm_token in (token, same_user_other_session, unrelated):
        warm(this, engine, warm_token)

    if how == "logout_on_other_instance":
        assert other.post(LOGOUT_URL, headers=bearer(token)).status_code == 204
    elif how == "erasure_on_other_instance":
        assert other.delete(ME_URL, headers=bearer(token)).status_code == 204
    elif how == "clerk_session_revoked_webhook_on_other_instance":
        response = _post_webhook(other, secret, session_event("revoked", sid, user.clerk_user_id))
        assert response.status_code == 200, response.text
    elif how == "sql_token_version_bump":
        sql("UPDATE users SET token_version = token_version + 1 WHERE id = %s", (user.id,))
    elif how == "sql_erasure_only_deleted_at":
        sql("UPDATE users SET deleted_at = now() WHERE id = %s", (user.id,))
    elif how == "sql_delete_user":
        sql("DELETE FROM users WHERE id = %s", (user.id,))
    elif how == "sql_revoke_session":
        sql("INSERT INTO revoked_sessions (sid, revoked_at) VALUES (%s, now())", (sid,))
    else:
        _revoke_by_cli(settings, pg_url, user, tmp_path)

    elapsed = refused_within(this, token)
    assert elapsed < PROPAGATION_SECONDS, f"{how}: refused after {elapsed:.2f} s"
    # Only what the revocation named was forgotten.
    this_cache = cache_of(this)
    assert this_cache.is_valid(bystander.id, "sess_bystander", 0)
    session_only = how in ("clerk_session_revoked_webhook_on_other_instance", "sql_revoke_session")
    assert this_cache.is_valid(user.id, "sess_other", 0) == session_only
    assert (probe(this, same_user_other_session).status_code == 200) == session_only


@contextmanager
def triggers_disabled(sql: Sql, *triggers: tuple[str, str]) -> Iterator[None]:
    """No NOTIFY from these triggers: only the writing process itself can forget."""
    for table, trigger in triggers:
        sql(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    try:
        yield
    finally:
        for table, trigger in triggers:
            sql(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")


@pytest.mark.parametrize("how", ["logout", "erasure", "clerk_session_revoked_webhook"])
def test_a_revocation_in_this_instance_is_enforced_on_the_very_next_request(
    start, engine: Engine, db: Session, sql: Sql, how: str
) -> None:
    secret = new_webhook_secret()
    client = start(CLERK_WEBHOOK_SECRET=secret)
    control = start()  # hears of revocations only through the triggers
    user = make_user(db)
    sid = f"sess_{uuid.uuid4().hex[:12]}"
    token = token_for(client.app, user, sid=sid)  # type: ignore[arg-type]
    warm(client, engine, token)
    warm(control, engine, token)

    # Without the triggers the feed cannot help: the refusal below can only come from the
    # commit forgetting in-process (note_revoked + install), before the response.
    with triggers_disabled(sql, ("users", "users_auth_change"),
                           ("revoked_sessions", "revoked_sessions_auth_change")):
        if how == "logout":
            assert client.post(LOGOUT_URL, headers=bearer(token)).status_code == 204
        elif how == "erasure":
            assert client.delete(ME_URL, headers=bearer(token)).status_code == 204
        else:
            event_ = session_event("revoked", sid, user.clerk_user_id)
            assert _post_webhook(client, secret, event_).status_code == 200

        assert_unauthorized(probe(client, token))
        # The control instance heard nothing (so the triggers were really off).
        response, statements = probe_counted(control, engine, token)
        assert (response.status_code, statements) == (200, 0)


@pytest.mark.parametrize("table", ["users", "revoked_sessions"])
def test_a_truncate_empties_every_cache(
    start, engine: Engine, db: Session, sql: Sql, table: str
) -> None:
    client = start()
    users = [make_user(db) for _ in range(3)]
    tokens_ = [token_for(client.app, u, sid=f"sess_{i}") for i, u in enumerate(users)]  # type: ignore[arg-type]
    for token in tokens_:
        warm(client, engine, token)
    assert len(cache_of(client)) == 3

    sql(f"TRUNCATE {table} CASCADE")

    elapsed = wait_until(lambda: len(cache_of(client)) == 0, 5.0, "the cache emptied")
    assert elapsed < PROPAGATION_SECONDS
    response, statements = probe_counted(client, engine, tokens_[0])
    assert statements == 1  # checked against the database again
    if table == "users":
        assert_unauthorized(response)
    else:
        assert response.status_code == 200, response.text


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


@contextmanager
def feed_cannot_reconnect(engine: Engine) -> Iterator[None]:
    """Refuse the feed thread's connection checkouts, so an outage lasts until we end it.

    PostgreSQL itself stays up for the request path: this is the feed's connection lost
    (a killed backend, a network cut) while the pool still works. A real refusal (e.g.
    ALLOW_CONNECTIONS false) would not do: the feed reconnects through the engine's pool,
    which hands it one of its idle, still-open connections.
    """

    def refuse(_dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if threading.current_thread().name == "revocation-feed":
            raise ConnectionRefusedError("test: the feed cannot reach PostgreSQL")

    event.listen(engine, "checkout", refuse)
    try:
        yield
    finally:
        event.remove(engine, "checkout", refuse)


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


def test_with_auth_cache_seconds_zero_every_request_checks_the_database(
    start, engine: Engine, db: Session, sql: Sql
) -> None:
    feeds_before = sum(t.name == "revocation-feed" for t in threading.enumerate())
    client = start(AUTH_CACHE_SECONDS=0, wait_active=False)
    user = make_user(db)
    token = token_for(client.app, user, sid="sess_off")  # type: ignore[arg-type]

    for _ in range(3):
        response, statements = probe_counted(client, engine, token)
        assert (response.status_code, statements) == (200, 1), response.text
    assert not cache_of(client).active
    assert len(cache_of(client)) == 0
    assert sum(t.name == "revocation-feed" for t in threading.enumerate()) == feeds_before
    wait_until(lambda: not listening_backends(sql), 3.0, "no LISTEN backend")

    sql("UPDATE users SET token_version = token_version + 1 WHERE id = %s", (user.id,))
    assert_unauthorized(probe(client, token))


# --- expiry of a cached token ------------------------------------------------------------------


def test_a_cached_token_is_refused_once_it_expires(
    start, engine: Engine, db: Session, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    client = start()
    ring: KeyRing = client.app.state.key_ring  # type: ignore[attr-defined]
    user = make_user(db)
    if time.time() % 1 > 0.7:  # leave at least 1.3 s before the expiry below
        time.sleep(1 - time.time() % 1)
    now = int(time.time())
    # Past exp, but inside the leeway until the clock reaches now + 2.
    token = sign_internal(user, sid="sess_exp", key=secret_key(settings), iat=now - 600,
                          nbf=now - 600, exp=now - LEEWAY_SECONDS + 1)
    warm(client, engine, token)  # both caches now hold it
    assert cache_of(client).is_valid(user.id, "sess_exp", 0)
    hits = ring.verified.cache_info().hits

    time.sleep(max(0.0, now + 2 - time.time()) + 0.02)
    caplog.set_level(logging.INFO, logger="homechef")
    assert_unauthorized(probe(client, token))

    assert ring.verified.cache_info().hits > hits  # refused on the cached verification
    reasons = [r.reason for r in caplog.records  # type: ignore[attr-defined]
               if getattr(r, "event", None) == "auth.token_rejected"]
    assert reasons == ["expired"]


def test_verify_access_token_rechecks_exp_on_a_cached_verification(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ring = KeyRing(settings)
    user = User(id=uuid.uuid4(), token_version=0)
    start_ = int(time.time())
    token = sign_internal(user, sid="sess_clock", key=secret_key(settings), exp=start_ + 60)
    assert verify_access_token(ring, token).sid == "sess_clock"
    assert ring.verified.cache_info().currsize == 1

    # Only this module's clock moves; the cached verification is not redone.
    clock = SimpleNamespace(time=lambda: float(start_))
    monkeypatch.setattr(tokens, "time", clock)
    clock.time = lambda: float(start_ + 60 + LEEWAY_SECONDS)  # the last accepted second
    assert verify_access_token(ring, token).sid == "sess_clock"
    clock.time = lambda: float(start_ + 60 + LEEWAY_SECONDS + 1)
    with pytest.raises(InvalidAccessToken) as refused:
        verify_access_token(ring, token)
    assert refused.value.reason == "expired"
    assert ring.verified.cache_info().misses == 1  # both answers came from the cache


# --- the feed on its own -------------------------------------------------------------------------


@contextmanager
def running_feed(engine: Engine, **timing: float) -> Iterator[tuple[RevocationFeed, ValidityCache]]:
    cache = ValidityCache(60)
    feed = RevocationFeed(engine, cache, **timing)
    feed.start()
    try:
        wait_until(lambda: cache.active, 5.0, "the feed listening")
        yield feed, cache
    finally:
        feed.stop()


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


class FrozenLink:
    """A loopback TCP relay to PostgreSQL that can go silent: ``freeze()`` keeps every
    connection open and acknowledged but forwards nothing more, either way (a stalled
    proxy or middlebox; to the client, a peer that never answers)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = False
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        """Deliver what was held, and carry on."""
        self._flowing.set()

    def close(self) -> None:
        self._closed = True
        self._flowing.set()
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target, timeout=5)
            upstream.settimeout(None)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                self._flowing.wait()
                if self._closed:
                    return
                sink.sendall(data)


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
