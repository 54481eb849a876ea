"""Lists: create, read, rename with If-Match, delete; limits; other people's lists."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.shopping.models import ShoppingList
from app.users.models import User
from tests.shopping.support import LISTS, add_item, assert_problem, list_url, new_list


def test_create_read_rename_delete_a_list(client, as_alice) -> None:
    created = client.post(LISTS, json={"name": "Weekend"}, headers=as_alice)
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "Weekend" and body["version"] == 1
    assert created.headers["location"] == list_url(body["id"])

    got = client.get(list_url(body["id"]), headers=as_alice)
    assert got.status_code == 200
    assert got.json()["items"] == [] and got.json()["sync_token"]
    etag = got.headers["etag"]
    assert etag == created.headers["etag"]

    renamed = client.patch(list_url(body["id"]), json={"name": "Saturday"},
                           headers={**as_alice, "If-Match": etag})
    assert renamed.status_code == 200 and renamed.json()["version"] == 2
    assert [item["name"] for item in client.get(LISTS, headers=as_alice).json()["items"]] == [
        "Saturday"]

    assert client.delete(list_url(body["id"]), headers=as_alice).status_code == 204
    assert_problem(client.get(list_url(body["id"]), headers=as_alice), 404,
                   "shopping-list-not-found")


def test_a_stale_if_match_is_412_and_changes_nothing(client, as_alice) -> None:
    list_id = new_list(client, as_alice)
    stale = client.get(list_url(list_id), headers=as_alice).headers["etag"]
    renamed = client.patch(list_url(list_id), json={"name": "First"}, headers=as_alice)
    assert renamed.status_code == 200
    response = client.patch(list_url(list_id), json={"name": "Second"},
                            headers={**as_alice, "If-Match": stale})
    assert_problem(response, 412, "shopping-list-changed")
    assert_problem(client.delete(list_url(list_id), headers={**as_alice, "If-Match": stale}),
                   412, "shopping-list-changed")
    assert client.get(list_url(list_id), headers=as_alice).json()["name"] == "First"


def test_another_users_list_is_404_for_every_verb_like_a_missing_one(
    client, as_alice, as_bob
) -> None:
    theirs = new_list(client, as_bob, "Bob's")
    item = add_item(client, as_bob, theirs, name="milk")
    missing = str(uuid.uuid4())
    for list_id in (theirs, missing):
        calls = [
            ("GET", list_url(list_id), None),
            ("PATCH", list_url(list_id), {"name": "mine now"}),
            ("DELETE", list_url(list_id), None),
            ("GET", f"{list_url(list_id)}/items", None),
            ("POST", f"{list_url(list_id)}/items", {"name": "eggs"}),
            ("PATCH", f"{list_url(list_id)}/items", {"action": "check", "ids": [item["id"]]}),
            ("PATCH", f"{list_url(list_id)}/items/{item['id']}", {"checked": True}),
            ("DELETE", f"{list_url(list_id)}/items/{item['id']}", None),
            ("POST", f"{list_url(list_id)}/recipes", {"recipe_id": missing}),
            ("DELETE", f"{list_url(list_id)}/recipes/{missing}", None),
            ("POST", f"{list_url(list_id)}/meal-plan", {"from": "2026-12-07", "days": 7}),
        ]
        for method, url, body in calls:
            response = client.request(method, url, json=body, headers=as_alice)
            problem = assert_problem(response, 404, "shopping-list-not-found")
            assert "Bob" not in response.text, (method, url, problem)
    detail = client.get(list_url(theirs), headers=as_bob).json()
    assert detail["name"] == "Bob's"
    assert [(i["name"], i["checked"]) for i in detail["items"]] == [("milk", False)]


def test_the_fifty_first_list_is_refused_with_409(
    client, as_alice, alice: User, db: Session
) -> None:
    db.add_all([ShoppingList(owner_id=alice.id, name=f"List {n}") for n in range(50)])
    db.commit()
    assert_problem(client.post(LISTS, json={"name": "One more"}, headers=as_alice), 409,
                   "too-many-shopping-lists")
    assert len(client.get(LISTS, headers=as_alice).json()["items"]) == 50


def test_list_names_are_bounded_and_plain(client, as_alice) -> None:
    for body in ({"name": ""}, {"name": "x" * 101}, {"name": "a\x00b"}, {},
                 {"name": "ok", "owner_id": str(uuid.uuid4())}):
        assert_problem(client.post(LISTS, json=body, headers=as_alice), 422)
