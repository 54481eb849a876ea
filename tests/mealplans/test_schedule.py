"""The schedule by date: rotation weeks from start_date, hostile ranges, statement counts,
and planned_recipes() for other domains."""

from __future__ import annotations

import datetime
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.mealplans import service
from app.mealplans.exceptions import InvalidScheduleRange, MealPlanNotFound, NoActiveMealPlan
from app.mealplans.schedule import PlannedRecipe, rotation_week
from tests.mealplans.factories import ACTIVE, assert_problem, entry, make_plan, plan_url
from tests.media.factories import add_photo
from tests.recipes.factories import make_recipe
from tests.sql_counting import counting

MONDAY = datetime.date(2026, 11, 30)


@pytest.mark.parametrize(("day", "week"), [
    (MONDAY, 1), (datetime.date(2026, 12, 6), 1),  # the whole first Monday-Sunday week
    (datetime.date(2026, 12, 7), 2), (datetime.date(2026, 12, 14), 3),
    (datetime.date(2026, 12, 21), 1),  # the rotation starts again
    (datetime.date(2026, 11, 29), 3),  # before start_date: the cycle runs backwards
    (datetime.date(2026, 11, 16), 2), (datetime.date(2026, 11, 9), 1),
])
def test_rotation_week_counts_monday_weeks_from_the_start_date(day, week) -> None:
    # Started on a Wednesday: week 1 is still the week from Monday 30 November.
    assert rotation_week(datetime.date(2026, 12, 2), 3, day) == week


def test_rotation_week_at_the_ends_of_the_calendar() -> None:
    assert rotation_week(datetime.date(1, 1, 1), 12, datetime.date(9999, 12, 31)) in range(1, 13)
    assert rotation_week(datetime.date(9999, 12, 31), 5, datetime.date(1, 1, 1)) in range(1, 6)


def test_schedule_lists_each_date_with_its_week_and_meals(
    client: TestClient, db: Session, alice, as_alice
) -> None:
    soup = make_recipe(db, alice, title="Soup")
    plan = make_plan(db, alice, rotation_weeks=2, start_date=MONDAY, entries=[
        entry(1, "mon", "dinner", recipe_id=soup.id, servings=3),
        entry(1, "mon", "breakfast", title="Porridge"),
        entry(2, "mon", "lunch", title="Week two"),
        entry(1, "wed", "snack", title="Apple"),
    ])

    response = client.get(f"{plan_url(plan.id)}/schedule",
                          params={"from": "2026-12-13", "days": 3}, headers=as_alice)

    assert response.status_code == 200, response.text
    days = response.json()["days"]
    assert [(d["date"], d["week"], d["day"]) for d in days] == [
        ("2026-12-13", 2, "sun"), ("2026-12-14", 1, "mon"), ("2026-12-15", 1, "tue")]
    assert days[0]["meals"] == [] and days[2]["meals"] == []
    monday = days[1]["meals"]
    assert [m["meal"] for m in monday] == ["breakfast", "dinner"]
    assert monday[1]["recipe"]["title"] == "Soup" and monday[1]["servings"] == 3
    assert monday[0] == {"meal": "breakfast", "recipe": None, "title": "Porridge",
                         "servings": None, "note": None}


def test_active_schedule_uses_the_active_plan(
    client: TestClient, db: Session, alice, as_alice
) -> None:
    make_plan(db, alice, entries=[entry(title="Inactive")])
    make_plan(db, alice, is_active=True, entries=[entry(day="tue", title="Active")])
    response = client.get(f"{ACTIVE}/schedule", params={"from": "2026-12-01", "days": 1},
                          headers=as_alice)
    assert response.status_code == 200
    assert response.json()["days"][0]["meals"][0]["title"] == "Active"
    assert client.get(f"{ACTIVE}/schedule", params={"from": "2026-12-01"},
                      headers=as_alice).json()["days"].__len__() == 7


@pytest.mark.parametrize("params", [
    {"from": "2026-12-01", "days": 0},
    {"from": "2026-12-01", "days": 32},
    {"from": "2026-12-01", "days": 1000},
    {"from": "2026-12-01", "days": "many"},
    {"from": "2026-13-45"},
    {"from": "tomorrow"},
    {"from": "2026-12-01T00:00:00"},
    {"from": "20261201" * 100},
    {},
    {"from": "9999-12-31", "days": 2},
    {"from": "9999-12-28", "days": 31},
])
def test_a_bad_range_is_a_clean_422(
    client: TestClient, db: Session, alice, as_alice, params
) -> None:
    make_plan(db, alice, is_active=True, entries=[entry()])
    assert_problem(client.get(f"{ACTIVE}/schedule", params=params, headers=as_alice), 422)


@pytest.mark.parametrize(("start", "days"), [("0001-01-01", 31), ("9999-12-25", 7)])
def test_the_ends_of_the_calendar_are_handled(
    client: TestClient, db: Session, alice, as_alice, start, days
) -> None:
    make_plan(db, alice, is_active=True, rotation_weeks=4, entries=[entry(week=2)])
    response = client.get(f"{ACTIVE}/schedule", params={"from": start, "days": days},
                          headers=as_alice)
    assert response.status_code == 200, response.text
    assert len(response.json()["days"]) == days


def test_entries_carry_the_recipes_cover_as_links_a_browser_loads(
    client: TestClient, db: Session, alice, bob, as_alice
) -> None:
    """A plan tile shows the recipe's cover through the same signed links as a list card:
    no token needed to load it, and nothing for a recipe without photos."""
    pictured = make_recipe(db, alice, title="Pictured")
    cover = add_photo(db, pictured, width=900, height=600)
    add_photo(db, pictured)  # a second photo: the entry shows the cover only
    plain = make_recipe(db, bob, title="Plain", visibility="public")
    plan = make_plan(db, alice, start_date=MONDAY, entries=[
        entry(1, "mon", "dinner", recipe_id=pictured.id),
        entry(1, "mon", "lunch", recipe_id=plain.id),
    ])

    days = client.get(f"{plan_url(plan.id)}/schedule", params={"from": "2026-12-14", "days": 1},
                      headers=as_alice).json()["days"]
    lunch, dinner = days[0]["meals"]
    detail = client.get(plan_url(plan.id), headers=as_alice).json()

    assert lunch["recipe"]["image"] is None
    image = dinner["recipe"]["image"]
    assert (image["id"], image["width"], image["height"]) == (str(cover.id), 900, 600)
    assert [e["recipe"]["image"] for e in detail["entries"]
            if e["recipe"]["id"] == str(pictured.id)] == [image]
    thumb = client.get(image["thumb_url"], headers={"Origin": "https://app.example"})
    assert thumb.status_code == 200
    assert thumb.headers["cross-origin-resource-policy"] == "cross-origin"


def _statements(client: TestClient, engine: Engine, url: str, headers, **params) -> int:
    with counting(engine) as statements:
        response = client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return len([s for s in statements if "revoked_sessions" not in s])


def test_schedule_statement_count_is_constant_in_days_and_entries(
    client: TestClient, db: Session, engine: Engine, alice, bob, as_alice
) -> None:
    recipes = [make_recipe(db, alice), make_recipe(db, bob, visibility="public")]
    small = make_plan(db, alice, entries=[entry(recipe_id=recipes[0].id)])
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    big = make_plan(db, alice, rotation_weeks=4, is_active=True, entries=[
        entry(week, day, meal, recipe_id=recipes[(week + i) % 2].id)
        for week in range(1, 5) for i, day in enumerate(days)
        for meal in ("breakfast", "lunch", "dinner")
    ])
    counts = {
        _statements(client, engine, f"{plan_url(plan.id)}/schedule", as_alice,
                    **{"from": "2026-11-30", "days": n})
        for plan in (small, big) for n in (1, 31)
    }
    counts.add(_statements(client, engine, f"{ACTIVE}/schedule", as_alice,
                           **{"from": "2026-12-01", "days": 7}))
    # The plan with its entries; the cards of the recipes in the range (none to look up:
    # no second statement, see below).
    assert counts == {2}
    detail = {_statements(client, engine, plan_url(plan.id), as_alice) for plan in (small, big)}
    assert detail == {2}
    # A plan without recipes needs no cards.
    free = make_plan(db, alice, entries=[entry(title="Eat out")])
    assert _statements(client, engine, f"{plan_url(free.id)}/schedule", as_alice,
                       **{"from": "2026-12-01"}) == 1


def test_planned_recipes_lists_visible_recipes_by_date(
    db: Session, alice, bob
) -> None:
    mine = make_recipe(db, alice)
    public = make_recipe(db, bob, visibility="public")
    private = make_recipe(db, bob, visibility="public")
    plan = make_plan(db, alice, rotation_weeks=2, start_date=MONDAY, is_active=True, entries=[
        entry(1, "mon", "dinner", recipe_id=mine.id, servings=2),
        entry(1, "mon", "breakfast", recipe_id=public.id),
        entry(1, "tue", "lunch", recipe_id=private.id),
        entry(1, "tue", "dinner", title="Takeaway"),
        entry(2, "mon", "dinner", recipe_id=public.id, servings=6),
    ])
    private.visibility = "private"
    db.commit()

    planned = service.planned_recipes(db, alice.id, None, MONDAY, 8)

    assert planned == [
        PlannedRecipe(MONDAY, "breakfast", public.id, None),
        PlannedRecipe(MONDAY, "dinner", mine.id, 2),
        PlannedRecipe(datetime.date(2026, 12, 7), "dinner", public.id, 6),
    ]
    assert service.planned_recipes(db, alice.id, plan.id, MONDAY, 8) == planned


def test_planned_recipes_refuses_missing_foreign_and_inactive_plans(
    db: Session, alice, bob
) -> None:
    theirs = make_plan(db, bob, is_active=True)
    with pytest.raises(NoActiveMealPlan):
        service.planned_recipes(db, alice.id, None, MONDAY, 7)
    for plan_id in (theirs.id, uuid.uuid4()):
        with pytest.raises(MealPlanNotFound):
            service.planned_recipes(db, alice.id, plan_id, MONDAY, 7)
    mine = make_plan(db, alice)
    for days in (0, 32):
        with pytest.raises(InvalidScheduleRange):
            service.planned_recipes(db, alice.id, mine.id, MONDAY, days)
    with pytest.raises(InvalidScheduleRange):
        service.planned_recipes(db, alice.id, mine.id, datetime.date(9999, 12, 31), 2)
