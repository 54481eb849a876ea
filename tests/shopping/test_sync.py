"""Sync between phones: a server-side change counter, tombstones, and refused tokens."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.shopping.models import ShoppingListItem
from app.shopping.sync_token import SyncPoint, encode_token, token_key
from tests.shopping.support import (
    add_item,
    assert_problem,
    item_url,
    items_url,
    list_url,
    new_list,
)


def _sync(client, headers, list_id, token=None):
    params = {} if token is None else {"changed_since": token}
    return client.get(items_url(list_id), params=params, headers=headers)


def test_two_phones_see_each_others_changes_and_deletions(client, as_alice) -> None:
    list_id = new_list(client, as_alice)
    bread = add_item(client, as_alice, list_id, name="bread")
    milk = add_item(client, as_alice, list_id, name="milk")
    phone_a = _sync(client, as_alice, list_id).json()
    phone_b = client.get(list_url(list_id), headers=as_alice).json()
    assert [i["name"] for i in phone_a["items"]] == ["bread", "milk"]
    assert phone_a["deleted"] == []

    # Nothing changed: an empty answer and a token that is still good.
    quiet = _sync(client, as_alice, list_id, phone_a["sync_token"]).json()
    assert quiet["items"] == [] and quiet["deleted"] == []

    client.patch(item_url(list_id, bread["id"]), json={"checked": True}, headers=as_alice)
    client.delete(item_url(list_id, milk["id"]), headers=as_alice)
    eggs = add_item(client, as_alice, list_id, name="eggs")

    changes = _sync(client, as_alice, list_id, phone_b["sync_token"]).json()
    assert [(i["name"], i["checked"]) for i in changes["items"]] == [
        ("bread", True), ("eggs", False)]
    assert [t["id"] for t in changes["deleted"]] == [milk["id"]]
    # The same token again gives the same answer (a retry after a dropped connection).
    again = _sync(client, as_alice, list_id, phone_b["sync_token"]).json()
    assert again["items"] == changes["items"] and again["deleted"] == changes["deleted"]
    # The new token moves past all of it.
    after = _sync(client, as_alice, list_id, changes["sync_token"]).json()
    assert after["items"] == [] and after["deleted"] == []
    assert eggs["change_seq"] > bread["change_seq"]


def test_bulk_deletions_reach_the_other_phone_as_tombstones(client, as_alice) -> None:
    list_id = new_list(client, as_alice)
    ids = [add_item(client, as_alice, list_id, name=f"item {n}")["id"] for n in range(4)]
    token = _sync(client, as_alice, list_id).json()["sync_token"]
    client.patch(items_url(list_id), json={"action": "delete", "ids": ids[1:3]}, headers=as_alice)
    changes = _sync(client, as_alice, list_id, token).json()
    assert changes["items"] == []
    assert sorted(t["id"] for t in changes["deleted"]) == sorted(ids[1:3])
    assert [i["id"] for i in _sync(client, as_alice, list_id).json()["items"]] == [
        ids[0], ids[3]]


def test_malformed_or_forged_tokens_are_400(client, as_alice, as_bob, app) -> None:
    list_id = new_list(client, as_alice)
    other_list = new_list(client, as_alice, "Other")
    good = _sync(client, as_alice, list_id).json()["sync_token"]
    body, mac = good.split(".")
    forged_key = token_key("not the server's secret key at all, 32+ bytes")
    now = int(time.time())
    forged = encode_token(forged_key, uuid.UUID(list_id), SyncPoint(seq=0, issued_at=now))
    for token in ("", "garbage", "a.b", "a.b.c", body, f"{body}.{mac[:-2]}", f"{body}x.{mac}",
                  forged, "é.é", "%00", good[::-1]):
        assert_problem(_sync(client, as_alice, list_id, token), 400, "invalid-sync-token")
    # A genuine token of another list (even my own) is not valid here.
    other_token = _sync(client, as_alice, other_list).json()["sync_token"]
    assert_problem(_sync(client, as_alice, list_id, other_token), 400, "invalid-sync-token")
    assert_problem(_sync(client, as_alice, list_id, "x" * 5000), 422)
    # Someone else's list with a valid-looking token is still a 404.
    assert_problem(_sync(client, as_bob, list_id, good), 404, "shopping-list-not-found")


def test_a_token_older_than_the_retention_is_410(client, as_alice, app) -> None:
    list_id = new_list(client, as_alice)
    key = token_key(app.state.key_ring.current_key)
    retention = app.state.settings.SHOPPING_TOMBSTONE_RETENTION_DAYS * 86400
    old = encode_token(key, uuid.UUID(list_id),
                       SyncPoint(seq=0, issued_at=int(time.time()) - retention - 60))
    problem = assert_problem(_sync(client, as_alice, list_id, old), 410, "sync-token-expired")
    assert "full reload" in problem["detail"]


def test_a_token_from_before_a_purged_tombstone_is_410(
    client, as_alice, app, db: Session
) -> None:
    list_id = new_list(client, as_alice)
    ids = [add_item(client, as_alice, list_id, name=f"item {n}")["id"] for n in range(3)]
    early = _sync(client, as_alice, list_id).json()["sync_token"]
    client.delete(item_url(list_id, ids[0]), headers=as_alice)
    # That deletion is now older than the retention; the next deletion purges it.
    db.execute(update(ShoppingListItem).where(ShoppingListItem.deleted_at.is_not(None))
               .values(deleted_at=utcnow() - timedelta(days=400)))
    db.commit()
    late = _sync(client, as_alice, list_id).json()["sync_token"]
    client.delete(item_url(list_id, ids[1]), headers=as_alice)

    assert_problem(_sync(client, as_alice, list_id, early), 410, "sync-token-expired")
    changes = _sync(client, as_alice, list_id, late).json()
    assert [t["id"] for t in changes["deleted"]] == [ids[1]]
    assert db.get(ShoppingListItem, uuid.UUID(ids[0])) is None  # purged
