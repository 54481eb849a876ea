"""DATABASE_LISTEN_URL: where the revocation feed listens (Neon's pooler cannot deliver
NOTIFY, so deployments on it give the direct host here)."""

from __future__ import annotations

import socket
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.secret_key import generate_secret_key
from app.core.startup import validate_settings
from tests.auth.feed_support import Sql, cache_of, listening_backends, probe_counted
from tests.factories import make_user, token_for


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_feed_listens_where_database_listen_url_points(start, pg_url: str, sql: Sql) -> None:
    # The same database under another URL (its own application_name is set by the feed).
    listen_url = make_url(pg_url).update_query_dict({"connect_timeout": "3"})
    client: TestClient = start(
        DATABASE_LISTEN_URL=listen_url.render_as_string(hide_password=False))
    assert cache_of(client).active
    assert len(listening_backends(sql)) == 1


def test_an_unreachable_listen_url_leaves_the_cache_off_and_requests_working(
    start, pg_url: str, engine: Engine, db: Session
) -> None:
    dead = make_url(pg_url).set(host="127.0.0.1", port=_closed_port())
    client: TestClient = start(
        DATABASE_LISTEN_URL=dead.render_as_string(hide_password=False), wait_active=False)
    user = make_user(db)
    token = token_for(client.app, user, sid="sess_listen")  # type: ignore[arg-type]
    time.sleep(0.3)  # a few failed attempts of the feed
    for _ in range(3):
        response, statements = probe_counted(client, engine, token)
        # Served, and checked against the database every time: nothing vouches for it.
        assert (response.status_code, statements) == (200, 1), response.text
    assert not cache_of(client).active


@pytest.mark.parametrize("listen_url", [
    "postgresql://app:pw@direct.example.com/homechef",
    "sqlite:///listen.db",
])
def test_production_refuses_a_listen_url_without_tls(listen_url: str) -> None:
    settings = Settings(
        _env_file=None, ENVIRONMENT="production", SECRET_KEY=generate_secret_key(),
        DATABASE_URL="postgresql://app:pw@db.example.com/homechef?sslmode=verify-full",
        DATABASE_LISTEN_URL=listen_url,
        CLERK_SECRET_KEY="sk_live_" + "x" * 40,
        CLERK_PUBLISHABLE_KEY="pk_live_Y2xlcmsuZXhhbXBsZS5jb20k",
        CLERK_WEBHOOK_SECRET="whsec_" + "A" * 32, ALLOWED_ORIGINS="https://app.example.com",
    )
    errors = [f for f in validate_settings(settings) if f.severity == "error"]
    assert errors and all("DATABASE_LISTEN_URL" in f.message for f in errors)
    assert all("pw" not in f.message for f in errors)


