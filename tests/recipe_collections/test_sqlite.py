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
