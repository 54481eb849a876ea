"""The purge of expired keys, and the mechanism on the embedded SQLite default."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from app.cli import main as homechef
from app.db.engine import make_engine
from app.db.migrations import upgrade_to_head
from app.idempotency.cleanup import purge_expired_keys
from app.idempotency.models import IdempotencyKey
from app.main import create_app
from tests.conftest import make_test_settings
from tests.factories import auth_headers, make_user
from tests.idempotency.factories import make_idempotency_key, with_key
from tests.recipes.support import RECIPES, payload


def test_the_purge_deletes_expired_keys_in_batches_and_keeps_live_ones(
    engine: Engine, db: Session, alice, bob
) -> None:
    for n in range(7):
        make_idempotency_key(db, alice, f"old-{n}", age=timedelta(hours=24, minutes=n))
    make_idempotency_key(db, bob, "old", age=timedelta(days=3))
    make_idempotency_key(db, alice, "fresh", age=timedelta(hours=23))

    assert purge_expired_keys(engine, batch=3) == 8

    db.expire_all()
    left = db.scalars(select(IdempotencyKey.key)).all()
    assert left == ["fresh"]


def test_the_purge_skips_a_key_a_request_holds_instead_of_waiting(
    engine: Engine, db: Session, alice
) -> None:
    make_idempotency_key(db, alice, "held", age=timedelta(days=2))
    make_idempotency_key(db, alice, "free", age=timedelta(days=2))
    holder = engine.connect()
    try:
        holder.execute(text("SELECT 1 FROM idempotency_keys WHERE key = 'held' FOR UPDATE"))
        done = threading.Event()
        purged: list[int] = []

        def purge() -> None:
            purged.append(purge_expired_keys(engine))
            done.set()

        threading.Thread(target=purge, daemon=True).start()
        assert done.wait(timeout=30), "the purge waited for a locked row"
        assert purged == [1]
    finally:
        holder.rollback()
        holder.close()


def test_the_command_reports_what_it_purged(
    engine: Engine, db: Session, alice, pg_url: str, monkeypatch, capsys
) -> None:
    make_idempotency_key(db, alice, "old", age=timedelta(days=2))
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("ENVIRONMENT", "test")
    from app.core.config import get_settings

    get_settings.cache_clear()
    try:
        assert homechef(["purge-idempotency-keys", "--batch", "10"]) == 0
    finally:
        get_settings.cache_clear()
    assert "Deleted 1 expired idempotency keys." in capsys.readouterr().out


@pytest.fixture
def sqlite_app(tmp_path: Path):
    settings = make_test_settings(f"sqlite:///{tmp_path / 'homechef.db'}")
    engine = make_engine(settings)
    upgrade_to_head(engine)
    with Session(engine, expire_on_commit=False) as db:
        cook = make_user(db)
    app = create_app(settings, engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, auth_headers(app, cook), engine
    engine.dispose()


def test_replay_and_reuse_work_on_sqlite(sqlite_app) -> None:
    client, as_cook, engine = sqlite_app
    first = client.post(RECIPES, json=payload(), headers=with_key(as_cook, "k"))
    again = client.post(RECIPES, json=payload(), headers=with_key(as_cook, "k"))
    other = client.post(RECIPES, json=payload(title="Other"), headers=with_key(as_cook, "k"))
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422
    assert purge_expired_keys(engine) == 0
    assert len(client.get(RECIPES, headers=as_cook).json()["items"]) == 1


def test_the_marker_as_a_parameter_instead_of_a_route_dependency_fails_loudly(
    make_settings, engine: Engine, db: Session, alice
) -> None:
    """The route class must see the marker to run the claim in the endpoint's thread;
    a route that hides it in a parameter would silently lose idempotency otherwise."""
    from fastapi import APIRouter, Depends

    from app.db.session import UnitOfWorkRoute
    from app.idempotency.dependencies import idempotency

    router = APIRouter(route_class=UnitOfWorkRoute)

    @router.post("/api/v1/misdeclared", status_code=201)
    def misdeclared(_: None = Depends(idempotency)) -> dict[str, str]:
        return {"ok": "yes"}

    app = create_app(make_settings(), engine=engine)
    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        headers = with_key(auth_headers(app, alice), "k")
        assert client.post("/api/v1/misdeclared", headers=headers).status_code == 500
        # Without a key nothing is claimed, so nothing is wrong.
        assert client.post("/api/v1/misdeclared", headers=auth_headers(app, alice)
                           ).status_code == 201
