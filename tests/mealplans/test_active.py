"""One active plan: switching, leaving none active, and concurrent switches on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.mealplans.models import MealPlan
from app.mealplans.schemas import MAX_PLANS
from tests.mealplans.factories import (
    ACTIVE,
    PLANS,
    assert_problem,
    entry,
    make_plan,
    plan_body,
    plan_url,
)


def active_ids(db: Session, owner) -> list:
    db.expire_all()
    return list(db.scalars(
        select(MealPlan.id).where(MealPlan.owner_id == owner.id, MealPlan.is_active)))


def test_no_active_plan_is_a_404(client: TestClient, as_alice) -> None:
    assert_problem(client.get(ACTIVE, headers=as_alice), 404, "no-active-meal-plan")
    assert_problem(client.get(f"{ACTIVE}/schedule", params={"from": "2026-12-07"},
                              headers=as_alice), 404, "no-active-meal-plan")


def test_activating_a_plan_switches_from_the_previous_one(
    client: TestClient, db: Session, alice, bob, as_alice
) -> None:
    first = make_plan(db, alice, name="First", entries=[entry()])
    second = make_plan(db, alice, name="Second")
    bobs = make_plan(db, bob, name="Bob's")
    client.put(f"{plan_url(bobs.id)}/active", headers={})  # unauthenticated: nothing

    on = client.put(f"{plan_url(first.id)}/active", headers=as_alice)
    assert on.status_code == 200 and on.json()["is_active"] is True
    assert client.get(ACTIVE, headers=as_alice).json()["name"] == "First"

    switched = client.put(f"{plan_url(second.id)}/active", headers=as_alice)
    assert switched.status_code == 200
    assert active_ids(db, alice) == [second.id]
    assert client.get(ACTIVE, headers=as_alice).json()["id"] == str(second.id)
    # Idempotent: activating the active plan again changes nothing.
    assert client.put(f"{plan_url(second.id)}/active", headers=as_alice).status_code == 200
    assert active_ids(db, alice) == [second.id]
    assert active_ids(db, bob) == []

    assert client.delete(ACTIVE, headers=as_alice).status_code == 204
    assert client.delete(ACTIVE, headers=as_alice).status_code == 204
    assert active_ids(db, alice) == []
    assert_problem(client.get(ACTIVE, headers=as_alice), 404)


def test_activating_someone_elses_plan_keeps_mine_active(
    client: TestClient, db: Session, alice, bob, as_alice
) -> None:
    mine = make_plan(db, alice)
    theirs = make_plan(db, bob)
    client.put(f"{plan_url(mine.id)}/active", headers=as_alice)
    assert_problem(client.put(f"{plan_url(theirs.id)}/active", headers=as_alice), 404)
    assert active_ids(db, alice) == [mine.id]
    assert active_ids(db, bob) == []


def test_activation_changes_the_etag(client: TestClient, db: Session, alice, as_alice) -> None:
    plan = make_plan(db, alice)
    before = client.get(plan_url(plan.id), headers=as_alice).headers["etag"]
    client.put(f"{plan_url(plan.id)}/active", headers=as_alice)
    stale = client.patch(plan_url(plan.id), json={"name": "x"},
                         headers={**as_alice, "If-Match": before})
    assert_problem(stale, 412)


def test_the_database_refuses_a_second_active_plan(db: Session, alice) -> None:
    make_plan(db, alice, is_active=True)
    with pytest.raises(IntegrityError):
        make_plan(db, alice, is_active=True)
    db.rollback()


def test_twenty_concurrent_switches_end_with_exactly_one_active_plan(
    client: TestClient, db: Session, alice, as_alice
) -> None:
    plans = [make_plan(db, alice, name=f"Plan {n}") for n in range(20)]
    start = threading.Barrier(20)

    def switch(plan: MealPlan) -> int:
        start.wait()
        return client.put(f"{plan_url(plan.id)}/active", headers=as_alice).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(switch, plans))

    assert statuses == [200] * 20
    winner = active_ids(db, alice)
    assert len(winner) == 1 and winner[0] in {p.id for p in plans}
    with db.get_bind().connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM meal_plans WHERE is_active")).scalar_one() == 1


def test_concurrent_creates_cannot_pass_the_plan_limit_together(
    client: TestClient, db: Session, alice, as_alice
) -> None:
    for _ in range(MAX_PLANS - 2):
        make_plan(db, alice)
    start = threading.Barrier(6)

    def create(_: int) -> int:
        start.wait()
        return client.post(PLANS, json=plan_body(), headers=as_alice).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(create, range(6)))

    assert statuses == [201, 201, 409, 409, 409, 409]
    db.expire_all()
    assert len(list(db.scalars(select(MealPlan.id).where(MealPlan.owner_id == alice.id)))) == 100


def test_concurrent_patches_with_one_etag_let_exactly_one_win(
    client: TestClient, db: Session, alice, as_alice
) -> None:
    plan = make_plan(db, alice, entries=[entry()])
    etag = client.get(plan_url(plan.id), headers=as_alice).headers["etag"]
    start = threading.Barrier(8)

    def patch(n: int) -> int:
        start.wait()
        return client.patch(plan_url(plan.id), json={"name": f"Writer {n}",
                                                     "entries": [entry(title=f"W{n}")] * 3},
                            headers={**as_alice, "If-Match": etag}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(patch, range(8)))

    assert statuses == [200] + [412] * 7
    final = client.get(plan_url(plan.id), headers=as_alice).json()
    assert len(final["entries"]) == 3
    assert {e["title"] for e in final["entries"]} == {final["name"].replace("Writer ", "W")}
