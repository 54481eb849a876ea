"""Test harness on real services.

- PostgreSQL: one throwaway database per pytest process, built by the Alembic
  migrations (so every run also proves them). Each test is isolated by truncating every
  table afterwards: unlike a rolled-back outer transaction, this lets the app commit for
  real, from several connections and threads, exactly as in production.
- Redis and a loopback fake Clerk are started by the tests that need them.

If PostgreSQL cannot be reached, its tests are skipped with a loud reason, except under
CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.config import Settings, normalize_database_url
from app.core.secret_key import generate_secret_key
from app.db.engine import make_engine
from app.db.migrations import upgrade_to_head
from app.db.models import Base
from app.users.models import User
from tests.app_reuse import AppPool, ReusableApp
from tests.factories import auth_headers, make_user

# The developer's shell must not leak configuration into tests.
for _name in Settings.model_fields:
    os.environ.pop(_name, None)

hypothesis_settings.register_profile(
    "default", max_examples=50, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
hypothesis_settings.load_profile("default")

PG_ADMIN_DSN = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_SECRET_KEY = generate_secret_key()


def _postgres_reachable() -> str | None:
    try:
        psycopg2.connect(PG_ADMIN_DSN, connect_timeout=3).close()
    except psycopg2.Error as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    return None


_PG_ERROR = _postgres_reachable()


def pytest_sessionstart(session: pytest.Session) -> None:
    if _PG_ERROR and IN_CI:
        raise pytest.UsageError(
            f"CI=true but PostgreSQL at {PG_ADMIN_DSN} is unreachable ({_PG_ERROR}); "
            "refusing to skip its tests."
        )


def pytest_report_header(config: pytest.Config) -> str:
    if _PG_ERROR:
        return f"PostgreSQL UNREACHABLE ({_PG_ERROR}): PostgreSQL tests will be SKIPPED"
    return f"PostgreSQL: {PG_ADMIN_DSN.rsplit('@', 1)[-1]}"


def _admin_execute(sql: str) -> None:
    conn = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of this process's private database, migrated to head."""
    if _PG_ERROR:
        pytest.skip(f"PostgreSQL unreachable: {_PG_ERROR}")
    name = f"homechef_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(Settings(_env_file=None), normalize_database_url(url))
    try:
        upgrade_to_head(engine)
    finally:
        engine.dispose()
    yield url
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_test_settings(database_url: str | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "ENVIRONMENT": "test",
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATABASE_URL": database_url,
        "LOG_FORMAT": "json",
        "DB_POOL_SIZE": 5,
        "DB_MAX_OVERFLOW": 15,
        "DB_POOL_TIMEOUT": 5,
        # Off so bursts in other tests are not throttled; tests/hardening turns it on.
        "RATE_LIMIT_ENABLED": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session")
def _shared_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(make_test_settings(pg_url))
    yield engine
    engine.dispose()


# Children first, so no foreign key is ever left dangling mid-statement.
_EMPTY_TABLES = "; ".join(
    f'DELETE FROM "{t.name}"' for t in reversed(Base.metadata.sorted_tables)
)


@pytest.fixture
def engine(_shared_engine: Engine) -> Iterator[Engine]:
    """The test database; every table is emptied after the test.

    DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE's new files for 20
    tables and their indexes cost ~50 ms a test against ~5 ms (no sequences to restart:
    every key is a UUID or a composite). One round trip for all of them.
    """
    yield _shared_engine
    with _shared_engine.begin() as conn:
        conn.exec_driver_sql(_EMPTY_TABLES)


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session for arranging and inspecting data directly (factories commit)."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def make_settings(pg_url: str) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        return make_test_settings(pg_url, **overrides)

    return factory


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


_APPS = AppPool()


@pytest.fixture
def make_client(engine: Engine) -> Iterator[Callable[..., TestClient]]:
    """A started app (lifespan run) for given settings, sharing the test engine.

    An app an earlier test used with the same settings is reused, with a new lifespan
    (tests/app_reuse.py says when and why).
    """
    from app.main import create_app

    started: list[tuple[TestClient, ReusableApp]] = []

    def factory(settings: Settings, **client_kwargs: Any) -> TestClient:
        held = _APPS.take(id(engine), settings)
        if held is None:
            held = ReusableApp.wrap(create_app(settings, engine=engine), settings)
        client = TestClient(held.app, raise_server_exceptions=False, **client_kwargs)
        client.__enter__()
        started.append((client, held))
        return client

    yield factory
    for client, held in started:
        client.__exit__(None, None, None)
        _APPS.give_back(id(engine), held)


@pytest.fixture
def client(make_client: Callable[..., TestClient], settings: Settings) -> TestClient:
    return make_client(settings)


@pytest.fixture
def app(client: TestClient) -> FastAPI:
    return client.app  # type: ignore[return-value]


# --- two cooks, Alice and Bob, each with a token for the test app (recipes, meal plans) ---


@pytest.fixture
def alice(db: Session) -> User:
    return make_user(db, first_name="Alice")


@pytest.fixture
def bob(db: Session) -> User:
    return make_user(db, first_name="Bob")


@pytest.fixture
def as_alice(app: FastAPI, alice: User) -> dict[str, str]:
    return auth_headers(app, alice)


@pytest.fixture
def as_bob(app: FastAPI, bob: User) -> dict[str, str]:
    return auth_headers(app, bob)
