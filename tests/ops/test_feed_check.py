"""validate_setup's revocation-feed check, on the real PostgreSQL and a real PgBouncer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from app.ops.feed_checks import check_revocation_feed
from tests.ops.support import settings_of
from tests.pgbouncer_support import running_pgbouncer


@pytest.fixture(scope="module")
def pooled_url(pg_url: str) -> Iterator[str]:
    with running_pgbouncer() as port:
        yield make_url(pg_url).set(host="127.0.0.1", port=port).render_as_string(
            hide_password=False)


def test_a_direct_connection_passes(pg_url: str) -> None:
    [result] = check_revocation_feed(settings_of({"ENVIRONMENT": "test", "DATABASE_URL": pg_url}))
    assert result.status == "PASS" and "reached a LISTEN" in result.reason


def test_behind_a_transaction_pooler_it_warns_and_names_the_fix(pooled_url: str) -> None:
    settings = settings_of({"ENVIRONMENT": "test", "DATABASE_URL": pooled_url,
                            "DB_STATEMENT_TIMEOUT_MS": 0})
    [result] = check_revocation_feed(settings)
    assert result.status == "WARN"
    assert "stays off" in result.reason and "DATABASE_LISTEN_URL" in result.fix


def test_the_pooler_with_a_direct_listen_url_passes(pooled_url: str, pg_url: str) -> None:
    settings = settings_of({"ENVIRONMENT": "test", "DATABASE_URL": pooled_url,
                            "DATABASE_LISTEN_URL": pg_url, "DB_STATEMENT_TIMEOUT_MS": 0})
    [result] = check_revocation_feed(settings)
    assert result.status == "PASS"


def test_cache_off_and_sqlite_pass_without_connecting(pg_url: str) -> None:
    off = settings_of({"ENVIRONMENT": "test", "DATABASE_URL": pg_url, "AUTH_CACHE_SECONDS": 0})
    assert check_revocation_feed(off)[0].status == "PASS"
    sqlite = settings_of({"ENVIRONMENT": "test", "DATABASE_URL": "sqlite:///nowhere.db"})
    assert check_revocation_feed(sqlite)[0].status == "PASS"
