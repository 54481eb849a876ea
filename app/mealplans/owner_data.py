"""What the users domain needs from meal plans: a person's data, erased or exported.

A person's meal-plan data: their plans with entries, and their calendar feed token (of
which only the hash is stored, and only the hash is exported).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.mealplans import feed_repository, repository
from app.mealplans.models import DAYS
from app.mealplans.repository import PlanRow
from app.recipes import service as recipes_service


def erase_owner_data(session: Session, owner_id: uuid.UUID) -> None:
    feed_repository.delete_token(session, owner_id)
    repository.delete_plans_of(session, owner_id)


def export_owner_data(session: Session, owner_id: uuid.UUID) -> dict[str, Any]:
    plans = repository.plans_of(session, owner_id)
    # A recipe the person can no longer see is exported as null, as the API shows it.
    wanted = {e.recipe_id for plan in plans for e in plan.entries if e.recipe_id is not None}
    visible = recipes_service.visible_recipe_ids(session, owner_id, wanted) if wanted else set()
    token = feed_repository.token_of(session, owner_id)
    return {
        "meal_plans": [_plan(plan, visible) for plan in plans],
        "calendar_feed": None if token is None else {
            "token_sha256": token.token_sha256, "created_at": token.created_at,
        },
    }


def _plan(plan: PlanRow, visible: set[uuid.UUID]) -> dict[str, Any]:
    return {
        "id": plan.id,
        "name": plan.name,
        "start_date": plan.start_date,
        "rotation_weeks": plan.rotation_weeks,
        "is_active": plan.is_active,
        "created_at": plan.created_at,
        "updated_at": plan.updated_at,
        "entries": [
            {
                "week": e.week, "day": DAYS[e.day], "meal": e.meal,
                "recipe_id": e.recipe_id if e.recipe_id in visible else None,
                "title": e.title, "servings": e.servings, "note": e.note,
            }
            for e in plan.entries
        ],
    }
