"""Liveness and readiness probes; public, and cheap enough to be polled."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from app.core.errors import ServiceUnavailable, problem_responses
from app.db.migrations import current_revisions, head_revisions
from app.db.session import UnitOfWorkRoute

router = APIRouter(tags=["health"], route_class=UnitOfWorkRoute)
logger = logging.getLogger("homechef.health")


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    schema_revision: str


class NotReady(ServiceUnavailable):
    code = "not-ready"


@router.get("/health", response_model=Health)
def health() -> Health:
    """The process is alive. Touches nothing else."""
    return Health(status="ok")


@router.get("/ready", response_model=Readiness, responses=problem_responses(503))
def ready(request: Request) -> Readiness:
    """The database answers and its schema is at the Alembic head."""
    engine: Engine = request.app.state.engine
    try:
        current = _current_revisions(engine)
    except Exception as exc:
        # The class name only: a driver message can quote the connection string.
        logger.warning(
            "db.unavailable",
            extra={"event": "db.unavailable", "reason": "ready_probe", "error": type(exc).__name__},
        )
        raise NotReady("The database is unreachable.") from None
    heads = head_revisions()
    if set(current) != set(heads):
        raise NotReady(
            "The database schema is not at the current migration head; run `homechef migrate`."
        )
    return Readiness(status="ready", database="ok", schema_revision=",".join(heads))


def _current_revisions(engine: Engine) -> tuple[str, ...]:
    """Asks the database, once more on a new connection if a pooled one had died.

    A pooled connection used a moment ago is not pinged (app/db/engine.py), so the first
    probe after the database came back can draw one that died with the outage. That
    failure invalidates the pool; the question is whether the database answers now, so
    the probe asks again, and only a second failure means not ready.
    """
    try:
        with engine.connect() as connection:
            return current_revisions(connection)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with engine.connect() as connection:
        return current_revisions(connection)
