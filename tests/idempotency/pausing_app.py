"""The API with a pause between the commit of an idempotent create and its response.

Test-only (``uvicorn --factory tests.idempotency.pausing_app:create_app``): it widens
the window in which a worker can die after committing but before answering, so a test
can kill it there for certain. The pause is a SQLAlchemy ``after_commit`` listener, so
the production code path is untouched.
"""

from __future__ import annotations

import os
import time
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.idempotency.models import IdempotencyKey
from app.main import create_app as create_real_app

_STORED_A_KEY = "test.stored_idempotency_key"


def create_app() -> FastAPI:
    pause = float(os.environ.get("TEST_PAUSE_AFTER_KEY_COMMIT", "0"))

    @event.listens_for(Session, "after_flush")
    def noticed(session: Session, _context: Any) -> None:
        if any(isinstance(row, IdempotencyKey) for row in session.new):
            session.info[_STORED_A_KEY] = True

    @event.listens_for(Session, "after_commit")
    def paused(session: Session) -> None:
        if session.info.pop(_STORED_A_KEY, False):
            time.sleep(pause)

    return create_real_app()
