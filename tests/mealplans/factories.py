"""Meal-plan factories (rows written straight to the database) and request helpers."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.mealplans.models import DAYS, CalendarFeedToken, MealPlan, MealPlanEntry
from app.users.models import User
from tests.problems import assert_problem as assert_problem  # re-exported

PLANS = "/api/v1/meal-plans"
ACTIVE = f"{PLANS}/active"
FEED_TOKEN = f"{PLANS}/feed-token"


def plan_url(plan_id: object) -> str:
    return f"{PLANS}/{plan_id}"


def entry(week: int = 1, day: str = "mon", meal: str = "dinner", **fields: Any) -> dict[str, Any]:
    """An entry as the API takes it; a free title unless a recipe_id or title is given."""
    body: dict[str, Any] = {"week": week, "day": day, "meal": meal, **fields}
    if "recipe_id" not in body and "title" not in body:
        body["title"] = "Leftovers"
    if isinstance(body.get("recipe_id"), uuid.UUID):
        body["recipe_id"] = str(body["recipe_id"])
    return body


def plan_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Weeknights", "start_date": "2026-11-30",
                            "rotation_weeks": 2, "entries": [entry()]}
    body.update(overrides)
    return body


def make_plan(
    db: Session, owner: User, *, entries: Iterable[Mapping[str, Any]] = (), **fields: Any
) -> MealPlan:
    """One committed plan. Entries are dicts like ``entry()``'s (day as "mon".."sun")."""
    values: dict[str, Any] = {"name": f"Plan {uuid.uuid4().hex[:6]}", "rotation_weeks": 1,
                              "start_date": datetime.date(2026, 11, 30)}
    values.update(fields)
    plan = MealPlan(owner_id=owner.id, **values)
    db.add(plan)
    db.flush()
    for position, spec in enumerate(entries):
        spec = dict(spec)
        spec["day"] = DAYS.index(spec.get("day", "mon"))
        if isinstance(spec.get("recipe_id"), str):
            spec["recipe_id"] = uuid.UUID(spec["recipe_id"])
        db.add(MealPlanEntry(plan_id=plan.id, position=position, **spec))
    db.commit()
    return plan


def make_feed_token(db: Session, owner: User, digest: str = "0" * 64) -> CalendarFeedToken:
    token = CalendarFeedToken(user_id=owner.id, token_sha256=digest,
                              token_version=owner.token_version)
    db.add(token)
    db.commit()
    return token
