"""Create, read, list, update and delete meal plans; hostile input beside the happy path."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.mealplans.models import MealPlanEntry
from app.mealplans.schemas import MAX_ENTRIES, MAX_PLANS
from app.recipes.schemas import MAX_SERVINGS
from tests.mealplans.factories import (
    PLANS,
    assert_problem,
    entry,
    make_plan,
    plan_body,
    plan_url,
)
from tests.recipes.factories import make_recipe


def test_create_returns_the_plan_with_location_and_etag(
    client: TestClient, db: Session, alice, as_alice
) -> None:
    soup = make_recipe(db, alice, title="Soup", prep_minutes=5, cook_minutes=20)
    body = plan_body(entries=[
        entry(1, "mon", "dinner", recipe_id=soup.id, servings=2, note="double batch"),
        entry(2, "fri", "lunch", title="Eat out"),
        entry(1, "mon", "breakfast", recipe_id=soup.id, title="Soup again"),
    ])

    response = client.post(PLANS, json=body, headers=as_alice)

    assert response.status_code == 201, response.text
    plan = response.json()
    assert response.headers["location"] == plan_url(plan["id"])
    assert response.headers["etag"].startswith('"')
    assert (plan["name"], plan["start_date"], plan["rotation_weeks"]) == (
        "Weeknights", "2026-11-30", 2)
    assert plan["is_active"] is False and plan["entry_count"] == 3
    first = plan["entries"][0]
    assert first["recipe"] == {"id": str(soup.id), "title": "Soup", "total_minutes": 25,
                               "image": None}
    assert (first["servings"], first["note"], first["title"]) == (2, "double batch", None)
    assert plan["entries"][1]["recipe"] is None
    assert plan["entries"][1]["title"] == "Eat out"

    again = client.get(response.headers["location"], headers=as_alice)
    assert again.status_code == 200
    assert again.json() == plan
    assert again.headers["etag"] == response.headers["etag"]


def test_start_date_defaults_to_the_creation_date(client: TestClient, as_alice) -> None:
    response = client.post(PLANS, json={"name": "Default start"}, headers=as_alice)
    assert response.status_code == 201, response.text
    assert response.json()["start_date"]  # today (UTC), as the docs say
    assert response.json()["rotation_weeks"] == 1 and response.json()["entries"] == []


@pytest.mark.parametrize("bad_entry", [
    {"week": 1, "day": "mon", "meal": "dinner"},  # neither recipe nor title
    {"week": 1, "day": "mon", "meal": "dinner", "title": "   "},
    {"week": 0, "day": "mon", "meal": "dinner", "title": "x"},
    {"week": 1, "day": "monday", "meal": "dinner", "title": "x"},
    {"week": 1, "day": "mon", "meal": "brunch", "title": "x"},
    {"week": 1, "day": "mon", "meal": "dinner", "title": "x", "servings": 0},
    {"week": 1, "day": "mon", "meal": "dinner", "title": "x", "servings": MAX_SERVINGS + 1},
    {"week": 1, "day": "mon", "meal": "dinner", "title": "x", "owner_id": str(uuid.uuid4())},
    {"week": 1, "day": "mon", "meal": "dinner", "title": "x" * 201},
    {"week": 1, "day": "mon", "meal": "dinner", "title": "bad\x00byte"},
    {"week": 1, "day": "mon", "meal": "dinner", "recipe_id": "not-a-uuid"},
])
def test_an_invalid_entry_is_a_422(client: TestClient, as_alice, bad_entry) -> None:
    response = client.post(PLANS, json=plan_body(entries=[bad_entry]), headers=as_alice)
    assert_problem(response, 422, "validation-error")


def test_week_beyond_rotation_weeks_is_a_422(client: TestClient, as_alice) -> None:
    body = plan_body(rotation_weeks=2, entries=[entry(week=3)])
    assert_problem(client.post(PLANS, json=body, headers=as_alice), 422)
    assert_problem(client.post(PLANS, json=plan_body(rotation_weeks=13), headers=as_alice), 422)


def test_servings_at_the_limit_are_accepted(client: TestClient, as_alice) -> None:
    body = plan_body(entries=[entry(servings=MAX_SERVINGS), entry(servings=1)])
    assert client.post(PLANS, json=body, headers=as_alice).status_code == 201


def test_more_than_500_entries_is_a_422(client: TestClient, as_alice) -> None:
    full = plan_body(rotation_weeks=1, entries=[entry() for _ in range(MAX_ENTRIES)])
    assert client.post(PLANS, json=full, headers=as_alice).status_code == 201
    over = plan_body(rotation_weeks=1, entries=[entry() for _ in range(MAX_ENTRIES + 1)])
    assert_problem(client.post(PLANS, json=over, headers=as_alice), 422)


def test_the_101st_plan_is_refused(client: TestClient, db: Session, alice, as_alice) -> None:
    for _ in range(MAX_PLANS - 1):
        make_plan(db, alice)
    assert client.post(PLANS, json=plan_body(), headers=as_alice).status_code == 201
    assert_problem(client.post(PLANS, json=plan_body(), headers=as_alice), 409, "meal-plan-limit")


def test_someone_elses_private_recipe_in_an_entry_is_a_404_like_a_missing_one(
    client: TestClient, db: Session, alice, bob, as_alice
) -> None:
    private = make_recipe(db, bob, visibility="private")
    public = make_recipe(db, bob, visibility="public")
    hidden = client.post(PLANS, json=plan_body(entries=[entry(recipe_id=private.id)]),
                         headers=as_alice)
    missing = client.post(PLANS, json=plan_body(entries=[entry(recipe_id=uuid.uuid4())]),
                          headers=as_alice)
    body = assert_problem(hidden, 404, "recipe-not-found")
    other = assert_problem(missing, 404, "recipe-not-found")
    assert body["detail"] == other["detail"]
    ok = client.post(PLANS, json=plan_body(entries=[entry(recipe_id=public.id)]),
                     headers=as_alice)
    assert ok.status_code == 201


def test_a_recipe_the_caller_can_no_longer_see_shows_as_null(
    client: TestClient, db: Session, alice, bob, as_alice
) -> None:
    public = make_recipe(db, bob, visibility="public", title="Bob's secret now")
    gone = make_recipe(db, bob, visibility="public", title="Deleted later")
    created = client.post(PLANS, json=plan_body(entries=[
        entry(recipe_id=public.id, title="My note title"), entry(recipe_id=gone.id)]),
        headers=as_alice).json()
    public.visibility = "private"
    db.delete(gone)
    db.commit()

    response = client.get(plan_url(created["id"]), headers=as_alice)

    assert response.status_code == 200
    assert [e["recipe"] for e in response.json()["entries"]] == [None, None]
    assert response.json()["entries"][0]["title"] == "My note title"
    for leaked in (str(public.id), "Bob's secret now", str(gone.id), "Deleted later"):
        assert leaked not in response.text


def test_every_verb_on_someone_elses_plan_is_a_404(
    client: TestClient, db: Session, bob, as_alice
) -> None:
    theirs = make_plan(db, bob, entries=[entry()])
    missing = uuid.uuid4()
    for plan_id in (theirs.id, missing):
        calls = [
            client.get(plan_url(plan_id), headers=as_alice),
            client.patch(plan_url(plan_id), json={"name": "Mine now"}, headers=as_alice),
            client.patch(plan_url(plan_id), json={"name": "x"},
                         headers={**as_alice, "If-Match": "*"}),
            client.delete(plan_url(plan_id), headers=as_alice),
            client.put(f"{plan_url(plan_id)}/active", headers=as_alice),
            client.get(f"{plan_url(plan_id)}/schedule", params={"from": "2026-12-07"},
                       headers=as_alice),
        ]
        for response in calls:
            assert_problem(response, 404, "meal-plan-not-found")
    db.refresh(theirs)
    assert theirs.name != "Mine now" and theirs.is_active is False


def test_list_is_newest_first_in_keyset_pages_with_search(
    client: TestClient, db: Session, alice, bob, as_alice
) -> None:
    for n in range(5):
        make_plan(db, alice, name=f"Winter {n}", entries=[entry()] * n)
    make_plan(db, alice, name="Summer 100%_done")
    make_plan(db, bob, name="Winter of Bob")

    first = client.get(PLANS, params={"limit": 4}, headers=as_alice).json()
    second = client.get(PLANS, params={"limit": 4, "cursor": first["next_cursor"]},
                        headers=as_alice).json()

    names = [p["name"] for p in first["items"] + second["items"]]
    assert names == ["Summer 100%_done", "Winter 4", "Winter 3", "Winter 2", "Winter 1",
                     "Winter 0"]
    assert second["next_cursor"] is None
    assert first["items"][1]["entry_count"] == 4
    assert first["items"][1].keys() >= {"is_active", "rotation_weeks", "start_date"}
    winter = client.get(PLANS, params={"q": "winter"}, headers=as_alice).json()
    assert len(winter["items"]) == 5
    wildcard = client.get(PLANS, params={"q": "%_"}, headers=as_alice).json()
    assert [p["name"] for p in wildcard["items"]] == ["Summer 100%_done"]
    assert_problem(client.get(PLANS, params={"cursor": "garbage"}, headers=as_alice), 400)
    foreign = client.get(PLANS, params={"q": "Summer", "cursor": first["next_cursor"]},
                         headers=as_alice)
    assert_problem(foreign, 400)


def test_patch_replaces_entries_whole_and_needs_a_fresh_etag(
    client: TestClient, db: Session, alice, as_alice
) -> None:
    created = client.post(PLANS, json=plan_body(entries=[entry(), entry(day="tue")]),
                          headers=as_alice)
    etag = created.headers["etag"]
    url = plan_url(created.json()["id"])

    updated = client.patch(url, json={"name": "Renamed", "entries": [entry(day="sun")]},
                           headers={**as_alice, "If-Match": etag})

    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "Renamed"
    assert [e["day"] for e in updated.json()["entries"]] == ["sun"]
    assert updated.headers["etag"] != etag
    stale = client.patch(url, json={"name": "Lost update"}, headers={**as_alice, "If-Match": etag})
    assert_problem(stale, 412, "meal-plan-changed")
    assert_problem(client.delete(url, headers={**as_alice, "If-Match": etag}), 412)
    assert client.get(url, headers=as_alice).json()["name"] == "Renamed"
    count = db.scalar(select(func.count()).select_from(MealPlanEntry))
    assert count == 1


def test_patch_cannot_shrink_the_rotation_below_its_entries(
    client: TestClient, as_alice
) -> None:
    created = client.post(PLANS, json=plan_body(rotation_weeks=3, entries=[entry(week=3)]),
                          headers=as_alice).json()
    url = plan_url(created["id"])
    assert_problem(client.patch(url, json={"rotation_weeks": 2}, headers=as_alice), 422,
                   "week-outside-rotation")
    assert_problem(client.patch(url, json={"entries": [entry(week=4)]}, headers=as_alice), 422)
    assert_problem(client.patch(url, json={"name": None}, headers=as_alice), 422)
    unchanged = client.patch(url, json={}, headers=as_alice)
    assert unchanged.status_code == 200 and unchanged.json()["version"] == created["version"]
    after = client.get(url, headers=as_alice).json()
    assert after["rotation_weeks"] == 3 and after["version"] == created["version"]
    both = client.patch(url, json={"rotation_weeks": 1, "entries": [entry(week=1)]},
                        headers=as_alice)
    assert both.status_code == 200 and both.json()["rotation_weeks"] == 1


def test_delete_removes_the_plan_and_its_entries(
    client: TestClient, db: Session, alice, as_alice
) -> None:
    created = client.post(PLANS, json=plan_body(), headers=as_alice)
    url = plan_url(created.json()["id"])
    response = client.delete(url, headers={**as_alice, "If-Match": created.headers["etag"]})
    assert response.status_code == 204
    assert_problem(client.get(url, headers=as_alice), 404)
    assert db.scalar(select(func.count()).select_from(MealPlanEntry)) == 0
    assert_problem(client.delete(url, headers=as_alice), 404)
