"""One unit of work per request, ended by the route (app/db/session.UnitOfWorkRoute):
committed before the response leaves, rolled back on any error, the connection always
returned; for sync endpoints in their own worker thread, for async ones by the route."""

from __future__ import annotations

import time
import uuid

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.db.session import SessionDep, UnitOfWorkRoute
from app.users.models import User
from tests.problems import assert_problem


def _new_user(clerk_id: str) -> User:
    return User(clerk_user_id=clerk_id, email=f"{clerk_id}@example.com")


def _pool_drained(engine: Engine) -> bool:
    """Every connection back in the pool. Polled briefly: the revocation feed's heartbeat
    borrows one for a moment every 2 s; a leaked one never comes back."""
    deadline = time.monotonic() + 1.0
    while engine.pool.checkedout() and time.monotonic() < deadline:
        time.sleep(0.01)
    return engine.pool.checkedout() == 0


def _stored(db: Session, clerk_id: str) -> bool:
    found = db.scalar(select(User.id).where(User.clerk_user_id == clerk_id)) is not None
    db.rollback()  # hand the inspecting session's connection back too
    return found


@pytest.fixture
def routes(app: FastAPI) -> FastAPI:
    @app.post("/uow/sync/{clerk_id}")
    def write_sync(clerk_id: str, session: SessionDep) -> dict[str, bool]:
        session.add(_new_user(clerk_id))
        return {"ok": True}

    @app.post("/uow/async/{clerk_id}")
    async def write_async(clerk_id: str, session: SessionDep) -> dict[str, bool]:
        session.add(_new_user(clerk_id))
        return {"ok": True}

    @app.post("/uow/sync-fails/{clerk_id}")
    def write_then_fail(clerk_id: str, session: SessionDep) -> None:
        session.add(_new_user(clerk_id))
        session.flush()  # the row reached the database, inside the transaction
        raise RuntimeError("after the write")

    @app.post("/uow/async-fails/{clerk_id}")
    async def write_then_fail_async(clerk_id: str, session: SessionDep) -> None:
        session.add(_new_user(clerk_id))
        raise RuntimeError("after the write")

    @app.post("/uow/commit-fails/{clerk_id}")
    def duplicate_at_commit(clerk_id: str, session: SessionDep) -> dict[str, bool]:
        # Two rows with one unique clerk_user_id: nothing fails until the commit flushes.
        session.add_all([_new_user(clerk_id), _new_user(clerk_id)])
        return {"ok": True}

    return app


def test_every_api_route_ends_its_unit_of_work(app: FastAPI) -> None:
    routes = [ctx.original_route for ctx in iter_route_contexts(app.routes)
              if isinstance(ctx.original_route, APIRoute)]
    assert routes
    assert [r.path for r in routes if not isinstance(r, UnitOfWorkRoute)] == []


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_write_is_committed_before_the_response(
    routes: FastAPI, client: TestClient, db: Session, engine: Engine, kind: str
) -> None:
    clerk_id = f"user_{uuid.uuid4().hex[:12]}"
    assert client.post(f"/uow/{kind}/{clerk_id}").status_code == 200
    assert _stored(db, clerk_id)
    assert _pool_drained(engine)


@pytest.mark.parametrize("kind", ["sync-fails", "async-fails"])
def test_an_error_after_a_write_leaves_nothing(
    routes: FastAPI, client: TestClient, db: Session, engine: Engine, kind: str
) -> None:
    clerk_id = f"user_{uuid.uuid4().hex[:12]}"
    assert_problem(client.post(f"/uow/{kind}/{clerk_id}"), 500)
    assert not _stored(db, clerk_id)
    assert _pool_drained(engine)


def test_a_failed_commit_is_never_answered_2xx(
    routes: FastAPI, client: TestClient, db: Session, engine: Engine
) -> None:
    clerk_id = f"user_{uuid.uuid4().hex[:12]}"
    response = client.post(f"/uow/commit-fails/{clerk_id}")
    assert response.status_code >= 400
    assert not _stored(db, clerk_id)
    assert _pool_drained(engine)


def test_a_session_on_a_route_that_would_never_end_it_is_refused(
    client: TestClient, app: FastAPI, engine: Engine
) -> None:
    plain = APIRouter()  # the default APIRoute: nobody would commit or close

    @plain.get("/uow/plain")
    def leaky(session: SessionDep) -> dict[str, bool]:
        return {"ok": True}

    app.include_router(plain)
    assert_problem(client.get("/uow/plain"), 500)
    assert _pool_drained(engine)
