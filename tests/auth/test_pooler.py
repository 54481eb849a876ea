"""The validity cache behind a transaction-mode pooler (PgBouncer, as Neon's "-pooler"
endpoint is): notifications do not cross it, so the cache must never turn on there, and
must turn on with DATABASE_LISTEN_URL pointing past it.

A real PgBouncer 1.x in transaction mode, started for these tests. .ci/run installs it
(Debian package pgbouncer); without it these tests skip and say why.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.main import create_app
from tests.auth.feed_support import PRINCIPAL_URL, cache_of, principal_probe, probe, wait_until
from tests.factories import make_user, token_for
from tests.pgbouncer_support import running_pgbouncer
from tests.sql_counting import counting


@pytest.fixture(scope="module")
def pooler_port() -> Iterator[int]:
    with running_pgbouncer() as port:
        yield port


@pytest.fixture
def pooled_client(pooler_port: int, pg_url: str, make_settings) -> Iterator:
    """An app whose own engine (DATABASE_URL) goes through the pooler."""
    clients: list[TestClient] = []

    def start(**overrides: str) -> TestClient:
        pooled = make_url(pg_url).set(host="127.0.0.1", port=pooler_port)
        settings: Settings = make_settings(
            DATABASE_URL=pooled.render_as_string(hide_password=False), **overrides)
        app = create_app(settings)
        app.add_api_route(PRINCIPAL_URL, principal_probe, methods=["GET"])
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def test_behind_a_transaction_pooler_the_cache_never_turns_on(
    pooled_client, db: Session
) -> None:
    client = pooled_client()
    user = make_user(db)
    token = token_for(client.app, user, sid="sess_pooled")  # type: ignore[arg-type]
    engine = client.app.state.engine  # type: ignore[attr-defined]
    deadline = time.monotonic() + 5  # two heartbeats and more
    while time.monotonic() < deadline:
        with counting(engine) as statements:
            assert probe(client, token).status_code == 200
        # Nothing vouches for the token: every request checks the database.
        assert len(statements) == 1, statements
        assert not cache_of(client).active
        time.sleep(0.25)


def test_through_the_pooler_with_a_direct_listen_url_the_cache_turns_on_and_revokes(
    pooled_client, pg_url: str, db: Session
) -> None:
    client = pooled_client(DATABASE_LISTEN_URL=pg_url)
    wait_until(lambda: cache_of(client).active, 5.0, "the feed listening on the direct host")
    user = make_user(db)
    token = token_for(client.app, user, sid="sess_direct")  # type: ignore[arg-type]
    engine = client.app.state.engine  # type: ignore[attr-defined]
    assert probe(client, token).status_code == 200
    with counting(engine) as statements:
        assert probe(client, token).status_code == 200
    assert statements == []  # vouched for by the cache

    user.token_version += 1
    db.commit()  # another session, as another process or an operator would
    wait_until(lambda: probe(client, token).status_code == 401, 1.0, "the revocation heard")
