"""Items: typed lines, partial edits, deletes, bulk changes, and hostile input."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.shopping.models import ShoppingListItem
from app.shopping.schemas import MAX_ITEMS_PER_LIST
from tests.shopping.support import (
    add_item,
    assert_problem,
    item_url,
    items_url,
    list_url,
    new_list,
)


def test_add_edit_tick_and_delete_an_item(client, as_alice) -> None:
    list_id = new_list(client, as_alice)
    item = add_item(client, as_alice, list_id, name="Oat milk", quantity="1.5", unit="l",
                    note="unsweetened", category="dairy")
    assert (item["name"], item["quantity"], item["unit"], item["note"], item["category"]) == (
        "Oat milk", "1.5", "l", "unsweetened", "dairy")
    assert item["checked"] is False and item["edited"] is False

    ticked = client.patch(item_url(list_id, item["id"]), json={"checked": True}, headers=as_alice)
    assert ticked.status_code == 200
    assert ticked.json()["checked"] is True and ticked.json()["checked_at"] is not None
    assert ticked.json()["edited"] is False and ticked.json()["quantity"] == "1.5"

    edited = client.patch(item_url(list_id, item["id"]), json={"quantity": "2", "note": None},
                          headers=as_alice).json()
    assert (edited["quantity"], edited["note"], edited["checked"], edited["edited"]) == (
        "2", None, True, True)

    assert client.delete(item_url(list_id, item["id"]), headers=as_alice).status_code == 204
    assert client.get(list_url(list_id), headers=as_alice).json()["items"] == []
    assert_problem(client.delete(item_url(list_id, item["id"]), headers=as_alice), 404,
                   "shopping-item-not-found")


def test_items_keep_their_order_of_addition(client, as_alice) -> None:
    list_id = new_list(client, as_alice)
    for name in ("bread", "apples", "cheese"):
        add_item(client, as_alice, list_id, name=name)
    detail = client.get(list_url(list_id), headers=as_alice).json()
    assert [i["name"] for i in detail["items"]] == ["bread", "apples", "cheese"]
    assert [i["position"] for i in detail["items"]] == [0, 1, 2]


def test_bulk_check_uncheck_and_delete_in_one_call(client, as_alice) -> None:
    list_id = new_list(client, as_alice)
    ids = [add_item(client, as_alice, list_id, name=f"thing {n}")["id"] for n in range(5)]
    response = client.patch(items_url(list_id), json={"action": "check", "ids": ids[:3]},
                            headers=as_alice)
    assert response.json() == {"action": "check", "count": 3}
    client.patch(items_url(list_id), json={"action": "uncheck", "ids": ids[:1]}, headers=as_alice)
    deleted = client.patch(items_url(list_id), json={"action": "delete", "ids": ids[3:]},
                           headers=as_alice)
    assert deleted.json()["count"] == 2
    items = client.get(list_url(list_id), headers=as_alice).json()["items"]
    assert [(i["name"], i["checked"]) for i in items] == [
        ("thing 0", False), ("thing 1", True), ("thing 2", True)]


def test_a_bulk_call_with_ten_thousand_ids_is_refused_cleanly(client, as_alice) -> None:
    list_id = new_list(client, as_alice)
    ids = [str(uuid.uuid4()) for _ in range(10_000)]
    response = client.patch(items_url(list_id), json={"action": "check", "ids": ids},
                            headers=as_alice)
    assert response.status_code in (413, 422)
    assert_problem(response, response.status_code)
    five_hundred_one = ids[:501]
    assert_problem(client.patch(items_url(list_id),
                                json={"action": "check", "ids": five_hundred_one},
                                headers=as_alice), 422)
    for body in ({"action": "check", "ids": []}, {"action": "burn", "ids": ids[:1]},
                 {"action": "check", "ids": ["not-a-uuid"]}):
        assert_problem(client.patch(items_url(list_id), json=body, headers=as_alice), 422)


def test_a_bulk_call_mixing_my_ids_and_someone_elses_is_refused_whole(
    client, as_alice, as_bob
) -> None:
    """Chosen rule: all refused (404, as for a missing id); nothing changes on either side."""
    mine = new_list(client, as_alice)
    theirs = new_list(client, as_bob)
    my_ids = [add_item(client, as_alice, mine, name=f"mine {n}")["id"] for n in range(3)]
    their_ids = [add_item(client, as_bob, theirs, name=f"theirs {n}")["id"] for n in range(2)]
    for action in ("check", "delete"):
        response = client.patch(items_url(mine), json={"action": action,
                                                       "ids": my_ids + their_ids},
                                headers=as_alice)
        assert_problem(response, 404, "shopping-item-not-found")
    my_items = client.get(list_url(mine), headers=as_alice).json()["items"]
    assert len(my_items) == 3 and not any(i["checked"] for i in my_items)
    bob_items = client.get(list_url(theirs), headers=as_bob).json()["items"]
    assert [(i["name"], i["checked"]) for i in bob_items] == [
        ("theirs 0", False), ("theirs 1", False)]


def test_an_item_of_another_users_list_under_my_list_id_is_404(
    client, as_alice, as_bob
) -> None:
    mine = new_list(client, as_alice)
    theirs = new_list(client, as_bob)
    their_item = add_item(client, as_bob, theirs, name="caviar", quantity="1")
    other_of_mine = new_list(client, as_alice, "Other")
    my_other_item = add_item(client, as_alice, other_of_mine, name="tea")
    for item_id in (their_item["id"], my_other_item["id"], str(uuid.uuid4())):
        assert_problem(client.patch(item_url(mine, item_id), json={"checked": True},
                                    headers=as_alice), 404, "shopping-item-not-found")
        assert_problem(client.delete(item_url(mine, item_id), headers=as_alice), 404,
                       "shopping-item-not-found")
    caviar = client.get(list_url(theirs), headers=as_bob).json()["items"][0]
    assert (caviar["checked"], caviar["quantity"]) == (False, "1")


def test_hostile_quantities_are_refused_with_422(client, as_alice) -> None:
    list_id = new_list(client, as_alice)
    item = add_item(client, as_alice, list_id, name="flour", quantity="1", unit="kg")
    for quantity in (1e30, "1e30", -1, "-1", "NaN", "nan", "Infinity", "1e-30", True, "x"):
        assert_problem(client.post(items_url(list_id), json={"name": "x", "quantity": quantity},
                                   headers=as_alice), 422)
        assert_problem(client.patch(item_url(list_id, item["id"]), json={"quantity": quantity},
                                    headers=as_alice), 422)
    for body in ({"name": None}, {"checked": None}, {"name": ""}, {"unit": "u" * 41},
                 {"list_id": str(uuid.uuid4())}):
        assert_problem(client.patch(item_url(list_id, item["id"]), json=body,
                                    headers=as_alice), 422)
    assert client.get(list_url(list_id), headers=as_alice).json()["items"][0]["quantity"] == "1"


def test_a_unit_pint_cannot_parse_is_kept_as_text(client, as_alice) -> None:
    list_id = new_list(client, as_alice)
    for unit in ("handful", "kg**99999", "__import__('os')", "1e999 g", "clove", "pinch"):
        item = add_item(client, as_alice, list_id, name="herbs", quantity="2", unit=unit)
        assert (item["quantity"], item["unit"]) == ("2", unit)
    assert len(client.get(list_url(list_id), headers=as_alice).json()["items"]) == 6


def test_the_thousand_and_first_item_is_refused_with_409(
    client, as_alice, db: Session
) -> None:
    list_id = new_list(client, as_alice)
    db.add_all([
        ShoppingListItem(list_id=uuid.UUID(list_id), position=n, name=f"i{n}", name_key=f"i{n}",
                         change_seq=1)
        for n in range(MAX_ITEMS_PER_LIST)
    ])
    db.commit()
    assert_problem(client.post(items_url(list_id), json={"name": "one more"}, headers=as_alice),
                   409, "too-many-shopping-items")
    count = db.scalar(select(func.count()).select_from(ShoppingListItem))
    assert count == MAX_ITEMS_PER_LIST
