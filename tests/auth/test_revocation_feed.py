"""The validity cache in a running app, fed by the revocation feed (LISTEN/NOTIFY on the
real PostgreSQL, triggers from migration 0002).

What must hold: a token the cache vouches for costs no SQL; a revocation made anywhere
(this instance, another instance, an operator's SQL, the ``homechef revoke-user`` command
in another process) stops it within a second everywhere, and at once in the instance that
made it; with AUTH_CACHE_SECONDS=0 every request checks the database; an expired token is
refused even when both its verification and its validity were cached. The feed down,
killed or silent is in test_revocation_feed_outages.py; the helpers are in feed_support.py
and the ``start`` and ``sql`` fixtures in conftest.py.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core import tokens
from app.core.config import Settings
from app.core.secret_key import generate_secret_key
from app.core.tokens import (
    LEEWAY_SECONDS,
    InvalidAccessToken,
    KeyRing,
    verify_access_token,
)
from app.users.models import User
from tests.auth.feed_support import (
    PROPAGATION_SECONDS,
    Sql,
    cache_of,
    counting,
    listening_backends,
    probe,
    probe_counted,
    refused_within,
    secret_key,
    sign_internal,
    wait_until,
    warm,
)
from tests.auth.support import LOGOUT_URL, ME_URL, assert_unauthorized, bearer
from tests.factories import make_user, token_for
from tests.fakes.svix_signing import new_webhook_secret, svix_headers
from tests.webhooks.events import session_event

WEBHOOK_URL = "/api/v1/webhooks/clerk"


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
