"""A database outage: 503 problem JSON while it lasts, service again when it ends, no restart.

The app's only path to PostgreSQL goes through a loopback TCP proxy the test cuts (live
connections killed, new ones refused) and restores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import psycopg2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import Conflict
from app.db.session import SessionDep
from app.main import create_app
from tests.factories import auth_headers, make_user
from tests.fakes.tcp_proxy import TcpProxy
from tests.hardening.support import ME_URL, assert_problem


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    with TcpProxy("127.0.0.1", 5432) as running:
        yield running


@pytest.fixture
def outage_client(
    pg_url: str, proxy: TcpProxy, make_settings: Callable[..., Settings], engine: object
) -> Iterator[TestClient]:
    """An app with its own engine, whose every connection goes through ``proxy``.

    (``engine`` is requested so the tables are emptied after the test.)
    """
    database = urlsplit(pg_url).path.lstrip("/")
    settings = make_settings(
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{proxy.port}/{database}",
        DB_POOL_SIZE=2, DB_MAX_OVERFLOW=0, DB_POOL_TIMEOUT=2, DB_CONNECT_TIMEOUT=2,
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _assert_db_unavailable(response: httpx.Response) -> None:
    body = assert_problem(response, 503, "database-unavailable")
    assert response.headers["retry-after"] == "1"
    assert "psycopg2" not in response.text and "5432" not in response.text
    assert body["detail"] == "The database is unavailable; retry shortly."


def test_requests_get_503_during_an_outage_and_succeed_after_it(
    outage_client: TestClient, proxy: TcpProxy, db: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = make_user(db)
    headers = auth_headers(outage_client.app, user)
    assert outage_client.get(ME_URL, headers=headers).status_code == 200
    assert outage_client.get("/ready").status_code == 200

    proxy.cut()
    # Several requests: the pooled connections die first, then new ones are refused.
    for _ in range(4):
        _assert_db_unavailable(outage_client.get(ME_URL, headers=headers))
        assert_problem(outage_client.get("/ready"), 503, "not-ready")
    assert outage_client.get("/health").status_code == 200  # liveness is not readiness
    assert any(getattr(r, "event", None) == "db.unavailable" for r in caplog.records)

    proxy.restore()
    response = outage_client.get(ME_URL, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(user.id)
    assert outage_client.get("/ready").status_code == 200


def test_ready_is_not_fooled_by_a_pooled_connection_that_died_in_a_blip(
    outage_client: TestClient, proxy: TcpProxy
) -> None:
    # A blip no request saw: the pooled connection, used a moment ago and so not pinged
    # (app/db/engine.py), is dead, yet the database answers. Readiness is the database's.
    assert outage_client.get("/ready").status_code == 200
    proxy.cut()
    proxy.restore()
    response = outage_client.get("/ready")
    assert response.status_code == 200, response.text
    assert outage_client.get("/ready").status_code == 200


def test_a_connection_lost_mid_request_is_503_and_the_pool_recovers(
    outage_client: TestClient, proxy: TcpProxy
) -> None:
    def cut_between_statements(session: SessionDep) -> dict[str, int]:
        session.execute(text("SELECT 1"))
        proxy.cut()
        return {"value": session.execute(text("SELECT 2")).scalar_one()}

    outage_client.app.add_api_route("/test/cut", cut_between_statements)  # type: ignore[attr-defined]
    _assert_db_unavailable(outage_client.get("/test/cut"))
    proxy.restore()
    assert outage_client.get("/ready").status_code == 200


def test_a_failed_rollback_does_not_mask_the_error_in_flight(
    outage_client: TestClient, proxy: TcpProxy
) -> None:
    # The route's own error (409) happens mid-transaction while the database is gone, so
    # the unit of work's rollback fails too; the client must still see the 409.
    def conflict_during_outage(session: SessionDep) -> None:
        session.execute(text("SELECT 1"))
        proxy.cut()
        raise Conflict("That name is taken.")

    outage_client.app.add_api_route("/test/conflict", conflict_during_outage)  # type: ignore[attr-defined]
    body = assert_problem(outage_client.get("/test/conflict"), 409, "conflict")
    assert body["detail"] == "That name is taken."
    proxy.restore()
    assert outage_client.get("/ready").status_code == 200


def test_a_closed_connection_interface_error_is_503_not_500(
    outage_client: TestClient,
) -> None:
    def closed() -> None:
        raise InterfaceError("SELECT 1", {}, psycopg2.InterfaceError("connection already closed"))

    outage_client.app.add_api_route("/test/closed", closed)  # type: ignore[attr-defined]
    _assert_db_unavailable(outage_client.get("/test/closed"))
