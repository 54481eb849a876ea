"""Health, readiness and the one error shape."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from tests.conftest import make_test_settings
from tests.problems import assert_problem


def test_health_touches_nothing() -> None:
    # No database at all: /health must still answer.
    settings = make_test_settings("postgresql://nobody@127.0.0.1:1/none", DB_CONNECT_TIMEOUT=1)
    with TestClient(create_app(settings)) as client:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_database_is_at_head(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"


def test_ready_is_503_json_quickly_when_database_port_is_closed() -> None:
    settings = make_test_settings("postgresql://postgres@127.0.0.1:1/none", DB_CONNECT_TIMEOUT=2)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.get("/ready")
    body = assert_problem(response, 503)
    assert "psycopg2" not in response.text and "127.0.0.1" not in response.text
    assert body["type"].endswith("not-ready")


def test_ready_is_503_when_schema_is_behind(engine, make_settings: Callable[..., Settings]) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    try:
        with TestClient(create_app(make_settings(), engine=engine)) as client:
            response = client.get("/ready")
        assert_problem(response, 503)
    finally:
        from app.db.migrations import head_revisions

        with engine.begin() as conn:
            conn.execute(
                text("UPDATE alembic_version SET version_num = :v"), {"v": head_revisions()[0]}
            )


def test_unknown_route_is_404_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/nope/../etc/passwd"), 404)
    assert body["type"] == "urn:homechef:problem:not-found"


def test_wrong_method_is_405_problem(client: TestClient) -> None:
    assert_problem(client.delete("/health"), 405)


def test_incoming_request_id_is_echoed_only_when_sane(client: TestClient) -> None:
    good = client.get("/health", headers={"X-Request-ID": "abc-123-DEF_456"})
    assert good.headers["x-request-id"] == "abc-123-DEF_456"
    bad = client.get("/health", headers={"X-Request-ID": "x" * 500})
    assert bad.headers["x-request-id"] != "x" * 500
    evil = client.get("/health", headers={"X-Request-ID": "a\tb<script>"})
    assert "<" not in evil.headers["x-request-id"]


def test_unhandled_exception_is_generic_500_without_details(
    make_settings: Callable[..., Settings], engine, caplog
) -> None:
    app = create_app(make_settings(), engine=engine)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals: SELECT * FROM users /srv/app.py")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    body = assert_problem(response, 500)
    assert "secret internals" not in response.text
    assert "SELECT" not in response.text and "/srv" not in response.text
    assert body["detail"] == "The server could not complete the request."
    # ...but the traceback is logged server-side.
    assert any(r.exc_info for r in caplog.records if r.name == "homechef.errors")


def test_validation_error_is_422_problem_without_echoing_input(
    make_settings: Callable[..., Settings], engine
) -> None:
    app = create_app(make_settings(), engine=engine)

    @app.get("/typed")
    def typed(n: int) -> dict:
        return {"n": n}

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/typed", params={"n": "sk_live_notanumber"})
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", "n"]
    assert "sk_live_notanumber" not in response.text
