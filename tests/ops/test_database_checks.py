"""Database reachability and migration state, on the real PostgreSQL."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import psycopg2

from app.db.migrations import head_revisions
from app.ops.database_checks import (
    check_database_connect,
    check_database_tls,
    check_migrations,
    inspect_database,
)
from tests.ops.support import settings_of, text_of


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_reachable_database_passes(pg_url: str):
    settings = settings_of({"ENVIRONMENT": "test", "DATABASE_URL": pg_url})
    [result] = check_database_connect(settings, inspect_database(settings))
    assert result.status == "PASS" and "127.0.0.1:5432" in result.reason


def test_an_unreachable_database_fails_within_the_connect_timeout_without_the_password():
    url = f"postgresql://homechef:pw-secret-9876@127.0.0.1:{_closed_port()}/homechef"
    settings = settings_of({"ENVIRONMENT": "test", "DATABASE_URL": url, "DB_CONNECT_TIMEOUT": 2})
    observation = inspect_database(settings)
    results = (check_database_connect(settings, observation)
               + check_database_tls(settings, observation) + check_migrations(observation))
    assert [r.status for r in results] == ["FAIL", "WARN", "WARN"]
    assert "within 2s" in results[0].reason and "DATABASE_URL" in results[0].fix
    assert "pw-secret-9876" not in text_of(results)


def test_a_database_at_head_passes(pg_url: str):
    settings = settings_of({"ENVIRONMENT": "test", "DATABASE_URL": pg_url})
    [result] = check_migrations(inspect_database(settings))
    assert result.status == "PASS"
    assert all(head in result.reason for head in head_revisions())


def test_a_database_behind_head_fails_and_lists_the_pending_revisions(
    scratch_database: Callable[[], str],
):
    settings = settings_of({"ENVIRONMENT": "test", "DATABASE_URL": scratch_database()})
    [result] = check_migrations(inspect_database(settings))
    assert result.status == "FAIL"
    assert "0001 (" in result.reason  # the first migration, with its message
    assert "homechef migrate" in result.fix


def test_a_database_at_an_unknown_revision_fails(scratch_database: Callable[[], str]):
    url = scratch_database()
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        cur.execute("INSERT INTO alembic_version VALUES ('9999')")
    conn.close()
    settings = settings_of({"ENVIRONMENT": "test", "DATABASE_URL": url})
    [result] = check_migrations(inspect_database(settings))
    assert result.status == "FAIL" and "9999" in result.reason


def test_a_missing_sqlite_file_is_reported_and_not_created(tmp_path: Path):
    target = tmp_path / "homechef.db"
    settings = settings_of({"ENVIRONMENT": "development", "DATABASE_URL": f"sqlite:///{target}"})
    observation = inspect_database(settings)
    assert check_database_connect(settings, observation)[0].status == "WARN"
    assert check_database_tls(settings, observation)[0].status == "PASS"
    assert not target.exists()
