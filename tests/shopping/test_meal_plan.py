"""A meal-plan range into a list: every planned recipe at its entry's servings."""

from __future__ import annotations

import uuid

from tests.recipes.factories import make_recipe
from tests.shopping.factories import MONDAY, make_plan
from tests.shopping.support import assert_problem, lines, list_url, new_list
from tests.sql_counting import counting


def _meal_plan_url(list_id: str) -> str:
    return f"{list_url(list_id)}/meal-plan"


def _recipes(db, owner, count: int, **fields):
    return [make_recipe(db, owner, servings=2, ingredients=[
        {"name": "rice", "quantity": "150", "unit": "g"},
        {"name": "onions", "quantity": "1"},
        {"name": f"dish {n} topping", "quantity": "1", "unit": "tbsp"},
    ], **fields) for n in range(count)]


def test_a_week_of_the_active_plan_becomes_one_merged_list(client, as_alice, alice, db):
    plan_recipes = _recipes(db, alice, 21)
    make_plan(db, alice, plan_recipes)
    list_id = new_list(client, as_alice)
    response = client.post(_meal_plan_url(list_id), json={"from": str(MONDAY), "days": 7},
                           headers=as_alice)
    assert response.status_code == 200, response.text
    got = lines(response.json())
    assert got[:2] == [("rice", "3.15", "kg", False), ("onions", "21", None, False)]
    assert len(got) == 23


def test_entry_servings_scale_and_the_range_limits_the_days(client, as_alice, alice, db):
    plan = make_plan(db, alice, _recipes(db, alice, 6), servings=4, active=False)
    list_id = new_list(client, as_alice)
    # Tuesday only: entries 3..5 (Tuesday's breakfast, lunch and dinner), doubled.
    body = {"plan_id": str(plan.id), "from": str(MONDAY.replace(day=8)), "days": 1}
    got = lines(client.post(_meal_plan_url(list_id), json=body, headers=as_alice).json())
    assert got[:2] == [("rice", "900", "g", False), ("onions", "6", None, False)]
    assert len(got) == 5


def test_statement_count_does_not_grow_with_the_number_of_recipes(
    client, as_alice, alice, db, engine
) -> None:
    counts = []
    for size in (3, 21):
        plan = make_plan(db, alice, _recipes(db, alice, size), active=False)
        list_id = new_list(client, as_alice, f"{size}")
        body = {"plan_id": str(plan.id), "from": str(MONDAY), "days": 7}
        with counting(engine) as statements:
            assert client.post(_meal_plan_url(list_id), json=body,
                               headers=as_alice).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 10, counts


def test_other_peoples_plans_and_private_recipes_stay_out(client, as_alice, alice, bob, db):
    bobs_plan = make_plan(db, bob, _recipes(db, bob, 2))
    list_id = new_list(client, as_alice)
    body = {"plan_id": str(bobs_plan.id), "from": str(MONDAY), "days": 7}
    assert_problem(client.post(_meal_plan_url(list_id), json=body, headers=as_alice), 404)
    # No active plan of mine: a 404 too.
    body = {"from": str(MONDAY), "days": 7}
    assert_problem(client.post(_meal_plan_url(list_id), json=body, headers=as_alice), 404)
    # My plan pointing at Bob's recipe that has turned private: skipped, not leaked.
    secret = make_recipe(db, bob, servings=1, title="Bob's secret",
                         ingredients=[{"name": "truffle", "quantity": "1"}])
    make_plan(db, alice, [secret, *_recipes(db, alice, 1)])
    response = client.post(_meal_plan_url(list_id), json=body, headers=as_alice)
    assert response.status_code == 200
    assert "truffle" not in response.text and "secret" not in response.text
    assert client.get(list_url(list_id), headers=as_alice).json()["items"][0]["name"] == "rice"


def test_meal_plan_input_is_bounded(client, as_alice) -> None:
    list_id = new_list(client, as_alice)
    for body in ({"from": str(MONDAY), "days": 0}, {"from": str(MONDAY), "days": 32},
                 {"from": "yesterday", "days": 7}, {"days": 7},
                 {"from": str(MONDAY), "days": 7, "plan_id": "x"},
                 {"from": "9999-12-31", "days": 7, "plan_id": str(uuid.uuid4())}):
        response = client.post(_meal_plan_url(list_id), json=body, headers=as_alice)
        assert response.status_code in (404, 422), (body, response.text)
        assert_problem(response, response.status_code)
