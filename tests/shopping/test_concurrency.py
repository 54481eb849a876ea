"""Concurrent writers on one list, with real concurrent requests on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.orm import Session

from app.shopping.models import ShoppingList
from app.users.models import User
from tests.recipes.factories import make_recipe
from tests.shopping.support import (
    LISTS,
    add_item,
    add_recipe,
    item_url,
    list_url,
    new_list,
    recipes_url,
)


def _together(calls: list, workers: int | None = None) -> list:
    """Run the calls at once: a barrier releases them together so they really overlap."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=workers or len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_phones_ticking_different_items_both_win(client, as_alice) -> None:
    list_id = new_list(client, as_alice)
    ids = [add_item(client, as_alice, list_id, name=f"item {n}")["id"] for n in range(10)]
    calls = [
        (lambda item_id=item_id: client.patch(item_url(list_id, item_id), json={"checked": True},
                                              headers=as_alice).status_code)
        for item_id in ids
    ]
    assert _together(calls) == [200] * 10
    items = client.get(list_url(list_id), headers=as_alice).json()["items"]
    assert all(item["checked"] for item in items)
    # Every write got its own change number: a syncing phone misses none of them.
    assert len({item["change_seq"] for item in items}) == 10


def test_tick_and_edit_of_one_item_keep_both_fields(client, as_alice) -> None:
    list_id = new_list(client, as_alice)
    for round_ in range(5):
        item = add_item(client, as_alice, list_id, name=f"milk {round_}", quantity="1", unit="l")
        url = item_url(list_id, item["id"])
        statuses = _together([
            lambda url=url: client.patch(url, json={"checked": True},
                                         headers=as_alice).status_code,
            lambda url=url: client.patch(url, json={"quantity": "2", "note": "oat"},
                                         headers=as_alice).status_code,
        ])
        assert statuses == [200, 200]
        final = next(i for i in client.get(list_url(list_id), headers=as_alice).json()["items"]
                     if i["id"] == item["id"])
        assert (final["checked"], final["quantity"], final["note"]) == (True, "2", "oat")


def test_the_last_write_of_one_field_wins(client, as_alice) -> None:
    list_id = new_list(client, as_alice)
    item = add_item(client, as_alice, list_id, name="bread")
    url = item_url(list_id, item["id"])
    results = _together([
        lambda n=n: client.patch(url, json={"note": f"writer {n}"}, headers=as_alice).json()
        for n in range(6)
    ])
    last = max(results, key=lambda body: body["change_seq"])
    final = client.get(list_url(list_id), headers=as_alice).json()["items"][0]
    assert final["note"] == last["note"] and final["change_seq"] == last["change_seq"]


def _twenty_recipes(db: Session, owner: User) -> list:
    recipes = []
    for n in range(20):
        recipes.append(make_recipe(db, owner, servings=3, ingredients=[
            {"name": "flour", "quantity": str(100 + n), "unit": "g" if n % 2 else "kg"},
            {"name": "milk", "quantity": "1", "unit": "cup" if n % 3 else "ml"},
            {"name": "Eggs", "quantity": "1"},
            "salt",
            {"name": f"spice {n}", "quantity": "1", "unit": "pinch"},
        ]))
    return recipes


def test_twenty_concurrent_recipe_additions_equal_the_sequential_result(
    client, as_alice, alice, db
) -> None:
    recipes = _twenty_recipes(db, alice)
    sequential = new_list(client, as_alice, "One by one")
    for recipe in recipes:
        add_recipe(client, as_alice, sequential, recipe.id, servings=2)
    concurrent = new_list(client, as_alice, "All at once")
    calls = [
        (lambda recipe=recipe: client.post(
            recipes_url(concurrent), json={"recipe_id": str(recipe.id), "servings": 2},
            headers=as_alice).status_code)
        for recipe in recipes
    ]
    assert _together(calls) == [200] * 20

    def content(list_id: str) -> list[tuple]:
        items = client.get(list_url(list_id), headers=as_alice).json()["items"]
        return sorted((i["name"].lower(), i["quantity"] or "", i["unit"] or "") for i in items)

    result = content(concurrent)
    assert result == content(sequential)
    assert len(result) == 24  # flour, milk, eggs, salt + 20 spices
    assert ("eggs", "13.333333333333", "") in result  # 20 x 1 egg x 2/3


def test_concurrent_creates_cannot_pass_the_fifty_list_limit(
    client, as_alice, alice, db
) -> None:
    db.add_all([ShoppingList(owner_id=alice.id, name=f"List {n}") for n in range(48)])
    db.commit()
    statuses = _together([
        lambda n=n: client.post(LISTS, json={"name": f"new {n}"}, headers=as_alice).status_code
        for n in range(6)
    ])
    assert sorted(statuses) == [201, 201, 409, 409, 409, 409]
    assert len(client.get(LISTS, headers=as_alice).json()["items"]) == 50
