"""Collections on the embedded SQLite default: the same answers, by SQLite's own paths
(a page's collections read by one more statement, no advisory lock)."""

from __future__ import annotations

from tests.recipe_collections.factories import COLLECTIONS, member_url
from tests.recipes.support import RECIPES, assert_problem, payload
from tests.recipes.test_sqlite_smoke import sqlite_client

__all__ = ["sqlite_client"]


def test_collections_on_sqlite(sqlite_client) -> None:
    client, as_alice, as_bob = sqlite_client
    soup = client.post(RECIPES, json=payload(title="Soup", tags=["vegan"]), headers=as_alice)
    recipe_id = soup.json()["id"]
    client.post(RECIPES, json=payload(title="Loose", tags=["meat"]), headers=as_alice)
    book = client.post(COLLECTIONS, json={"name": "Book"}, headers=as_alice).json()
    smart = client.post(COLLECTIONS, json={"name": "Vegan", "filter": {"tag": ["vegan"]}},
                        headers=as_alice).json()
    assert_problem(client.post(COLLECTIONS, json={"name": "BOOK"}, headers=as_alice), 409)
    assert client.put(member_url(book["id"], recipe_id), headers=as_alice).status_code == 200
    assert client.put(member_url(book["id"], recipe_id), headers=as_alice).status_code == 200
    assert_problem(client.put(member_url(book["id"], recipe_id), headers=as_bob), 404)

    counts = {c["name"]: c["recipe_count"]
              for c in client.get(COLLECTIONS, headers=as_alice).json()["items"]}
    assert counts == {"Book": 1, "Vegan": 1}
    for collection, expected in ((book["id"], ["Soup"]), (smart["id"], ["Soup"]),
                                 ("none", ["Loose"])):
        page = client.get(RECIPES, params={"collection": collection}, headers=as_alice).json()
        assert [item["title"] for item in page["items"]] == expected
    items = client.get(RECIPES, headers=as_alice).json()["items"]
    item = next(item for item in items if item["id"] == recipe_id)
    assert item["collections"] == [{"id": book["id"], "name": "Book"}]
    detail = client.get(f"{RECIPES}/{recipe_id}", headers=as_alice).json()
    assert detail["collections"] == [{"id": book["id"], "name": "Book"}]


def test_collection_pages_on_sqlite_with_the_collections_row_beside_them(sqlite_client) -> None:
    """The page statement carrying the collection's row works on SQLite too: 404 for
    another user's, an empty page for an empty one, cursors, a changed smart filter."""
    client, as_alice, as_bob = sqlite_client
    ids = [client.post(RECIPES, json=payload(title=f"Soup {i}", tags=["vegan"]),
                       headers=as_alice).json()["id"] for i in range(3)]
    book = client.post(COLLECTIONS, json={"name": "Book"}, headers=as_alice).json()
    empty = client.post(COLLECTIONS, json={"name": "Empty"}, headers=as_alice).json()
    smart = client.post(COLLECTIONS, json={"name": "Vegan", "filter": {"tag": ["vegan"]}},
                        headers=as_alice).json()
    for recipe_id in ids:
        client.put(member_url(book["id"], recipe_id), headers=as_alice)
    for collection in (book, smart):
        seen: list[str] = []
        params = {"collection": collection["id"], "limit": 2}
        while True:
            page = client.get(RECIPES, params=params, headers=as_alice).json()
            seen += [item["id"] for item in page["items"]]
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
        assert sorted(seen) == sorted(ids)
        assert_problem(client.get(RECIPES, params={"collection": collection["id"]},
                                  headers=as_bob), 404)
    page = client.get(RECIPES, params={"collection": empty["id"]}, headers=as_alice).json()
    assert page == {"items": [], "next_cursor": None, "total": None}
    changed = client.patch(f"{COLLECTIONS}/{smart['id']}", json={"filter": {"tag": ["meat"]}},
                           headers=as_alice)
    assert changed.status_code == 200, changed.text
    page = client.get(RECIPES, params={"collection": smart["id"]}, headers=as_alice).json()
    assert page["items"] == []
