"""Fixtures for the ops tests: PostgreSQL with TLS on, a fake Clerk, scratch databases."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator

import psycopg2
import pytest

from tests.fakes.clerk import FakeClerk
from tests.ops.support import IN_CI, PG_ADMIN_DSN, ROOT


def _admin(sql: str) -> list[tuple]:
    conn = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def _ssl_on() -> bool:
    return _admin("SHOW ssl")[0][0] == "on"


@pytest.fixture(scope="session")
def postgres_tls(pg_url: str) -> None:
    """The shared server has TLS on: CI's .ci/run did it, or we run the same script.

    Never skipped under CI=true; locally only when TLS is off and we are not root.
    """
    if _ssl_on():
        return
    if os.geteuid() != 0 and not IN_CI:
        pytest.skip("PostgreSQL has ssl=off; run `sudo .ci/postgres-tls` to enable TLS")
    subprocess.run([str(ROOT / ".ci" / "postgres-tls")], check=True, capture_output=True)
    assert _ssl_on()


@pytest.fixture
def scratch_database(pg_url: str) -> Iterator[Callable[[], str]]:
    """Empty databases (no migrations run), dropped after the test."""
    created: list[str] = []

    def create() -> str:
        name = f"homechef_ops_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        _admin(f'CREATE DATABASE "{name}"')
        created.append(name)
        return PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"

    yield create
    for name in created:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fake_clerk() -> Iterator[FakeClerk]:
    with FakeClerk(secret_key="sk_live_fakeclerk0123456789abcdef") as fake:
        yield fake
