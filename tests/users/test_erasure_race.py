"""An erasure racing a write: nothing may be left behind for the tombstone."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.recipes.models import Recipe
from app.users import service as users_service
from tests.factories import auth_headers, make_user

RECIPE = {"title": "Late soup", "servings": 2, "prep_minutes": 5, "cook_minutes": 10,
          "ingredients": [{"name": "water"}], "steps": [{"text": "Boil."}]}


def _wait_for_lock_waiter(engine, deadline_s: float = 20.0) -> None:
    # Poll until the request's share lock is queued behind the erasure's row lock.
    end = time.monotonic() + deadline_s
    with engine.connect() as conn:
        while time.monotonic() < end:
            waiting = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                " AND pid <> pg_backend_pid()"
            )).scalar_one()
            conn.rollback()  # activity stats are a per-transaction snapshot
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("the create request never waited on the erasure lock")


def test_recipe_created_during_an_erasure_is_refused_not_orphaned(
    client: TestClient, db: Session, engine
) -> None:
    user = make_user(db)
    headers = auth_headers(client.app, user)  # type: ignore[arg-type]
    result: dict[str, int] = {}

    with Session(engine) as eraser:
        target = eraser.get(type(user), user.id)
        users_service.erase_user(eraser, target)  # row locked for update, not committed

        def create() -> None:
            result["status"] = client.post("/api/v1/recipes", json=RECIPE,
                                           headers=headers).status_code

        worker = threading.Thread(target=create)
        worker.start()
        _wait_for_lock_waiter(engine)
        eraser.commit()
        worker.join(timeout=30)

    assert result["status"] == 401
    owned = db.scalar(select(func.count()).select_from(Recipe).where(Recipe.owner_id == user.id))
    assert owned == 0
