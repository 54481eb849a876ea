"""Every POST that creates or adds something honours Idempotency-Key: a retried request
replays the first answer and writes nothing more, in every domain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.collections.models import Collection
from app.idempotency.dependencies import Idempotent
from app.mealplans.models import MealPlan
from app.shopping.models import ShoppingList, ShoppingListItem
from tests.idempotency.factories import with_key
from tests.recipes.factories import make_recipe

pytestmark = pytest.mark.postgres

API = "/api/v1"


def _count(db: Session, model: Any) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model)) or 0


def _new_list(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post(f"{API}/shopping-lists", json={"name": "Base"}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


CASES: dict[str, tuple[Callable[..., tuple[str, dict[str, Any]]], Any]] = {
    "collection": (lambda c, h, r: (f"{API}/collections", {"name": "Weeknights"}), Collection),
    "meal plan": (lambda c, h, r: (f"{API}/meal-plans", {
        "name": "Rotation", "rotation_weeks": 1,
        "entries": [{"week": 1, "day": "mon", "meal": "dinner", "recipe_id": str(r.id)}]}),
        MealPlan),
    "shopping list": (lambda c, h, r: (f"{API}/shopping-lists", {"name": "Saturday"}),
                      ShoppingList),
    "shopping item": (lambda c, h, r: (f"{API}/shopping-lists/{_new_list(c, h)}/items",
                                       {"name": "oat milk", "quantity": "1", "unit": "l"}),
                      ShoppingListItem),
    "recipe into a list": (lambda c, h, r: (
        f"{API}/shopping-lists/{_new_list(c, h)}/recipes", {"recipe_id": str(r.id)}),
        ShoppingListItem),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_retried_create_replays_and_writes_once(
    case: str, client: TestClient, db: Session, alice, as_alice
) -> None:
    recipe = make_recipe(db, alice, ingredients=[
        {"name": "flour", "quantity": "200", "unit": "g"}, "salt"])
    build, model = CASES[case]
    path, body = build(client, as_alice, recipe)
    before = _count(db, model)

    first = client.post(path, json=body, headers=with_key(as_alice, f"retry-{case}"))
    written = _count(db, model)
    again = client.post(path, json=body, headers=with_key(as_alice, f"retry-{case}"))

    assert first.status_code in (200, 201), first.text
    assert again.status_code == first.status_code
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert written > before
    assert _count(db, model) == written


def test_every_create_post_of_the_api_opts_in(app: FastAPI) -> None:
    """A new create route that forgets the marker fails here, not in a phone's retry."""
    # Not creates: the token exchange, logout and the webhook have their own replay rules;
    # imports store nothing (drafts); a calendar feed token is a secret not to be stored;
    # a photo upload is idempotent by content: the same photo again returns the photo it
    # made (200; tests/media/test_retries_and_shared_bytes.py), and the marker would buffer
    # the whole multipart body before the owner check.
    exempt = {"/api/v1/auth/token", "/api/v1/auth/logout", "/api/v1/webhooks/clerk",
              "/api/v1/meal-plans/feed-token", "/api/v1/recipes/{recipe_id}/images"}
    missing = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or "POST" not in route.methods:
            continue
        if route.path in exempt or route.path.startswith("/api/v1/recipe-imports"):
            continue
        if Idempotent not in route.dependencies:
            missing.append(route.path)
    assert missing == []
