"""The project's own app with trivial routes added, to price authentication alone.

    uvicorn bench.probe_app:create_app --factory

Built by ``app.main.create_app`` (all middleware, settings, lifespan) plus four routes with
the same trivial handler, mounted outside the protected router so only the dependency
differs:

    GET /bench/open          no authentication
    GET /bench/authed        the same handler behind ``require_user`` (token + user lookup)
    GET /bench/open-db       a session and SELECT 1, no authentication
    GET /bench/authed-db     the same behind ``require_user``
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import text

from app.auth.dependencies import require_user
from app.db.session import SessionDep
from app.main import create_app as create_project_app

OPEN = "/bench/open"
AUTHED = "/bench/authed"
OPEN_DB = "/bench/open-db"
AUTHED_DB = "/bench/authed-db"


def _trivial() -> dict[str, str]:
    return {"status": "ok"}


def _trivial_db(session: SessionDep) -> dict[str, str]:
    session.execute(text("SELECT 1"))
    return {"status": "ok"}


def add_probe_routes(app: FastAPI) -> FastAPI:
    app.add_api_route(OPEN, _trivial, methods=["GET"])
    app.add_api_route(AUTHED, _trivial, methods=["GET"], dependencies=[require_user])
    app.add_api_route(OPEN_DB, _trivial_db, methods=["GET"])
    app.add_api_route(AUTHED_DB, _trivial_db, methods=["GET"], dependencies=[require_user])
    return app


def create_app() -> FastAPI:
    return add_probe_routes(create_project_app())
