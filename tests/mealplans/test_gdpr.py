"""Erasure and meal plans: the person's plans and feed go; other people's entries that
pointed at the person's recipes stay, showing ``recipe: null``."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.mealplans.models import CalendarFeedToken, MealPlan, MealPlanEntry
from tests.mealplans.factories import entry, make_plan, plan_url
from tests.recipes.factories import make_recipe


def test_erasure_keeps_other_peoples_entries_without_the_recipe(
    client: TestClient, db: Session, alice, bob, as_alice, as_bob
) -> None:
    bobs_recipe = make_recipe(db, bob, visibility="public", title="Bob's bread")
    mine = client.post("/api/v1/meal-plans", json={"name": "Mine", "entries": [
        entry(recipe_id=bobs_recipe.id, title="Bread night")]}, headers=as_alice).json()
    client.post("/api/v1/meal-plans/feed-token", headers=as_bob)
    make_plan(db, bob, entries=[entry(recipe_id=bobs_recipe.id)])

    assert client.delete("/api/v1/users/me", headers=as_bob).status_code == 204

    kept = client.get(plan_url(mine["id"]), headers=as_alice).json()
    assert kept["entries"][0]["recipe"] is None
    assert kept["entries"][0]["title"] == "Bread night"
    db.expire_all()
    assert db.scalar(select(MealPlanEntry.recipe_id)) is None
    assert db.scalar(select(func.count()).select_from(MealPlan)
                     .where(MealPlan.owner_id == bob.id)) == 0
    assert db.scalar(select(func.count()).select_from(CalendarFeedToken)) == 0


def test_deleting_a_recipe_leaves_the_entry_with_its_own_title(
    client: TestClient, db: Session, alice, as_alice
) -> None:
    soup = make_recipe(db, alice, title="Soup")
    plan = client.post("/api/v1/meal-plans", json={"name": "P", "entries": [
        entry(recipe_id=soup.id, title="Soup day"), entry(recipe_id=soup.id)]},
        headers=as_alice).json()
    assert client.delete(f"/api/v1/recipes/{soup.id}", headers=as_alice).status_code == 204
    entries = client.get(plan_url(plan["id"]), headers=as_alice).json()["entries"]
    assert [(e["recipe"], e["title"]) for e in entries] == [(None, "Soup day"), (None, None)]
