"""Smart collections: a saved recipe-list filter, validated like the list, counted and
listed with the list's own statements."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.recipe_collections.factories import COLLECTIONS, collection_url, create
from tests.recipes.factories import make_recipe
from tests.recipes.support import RECIPES, assert_problem


def _titles(client, headers, **params: Any) -> list[str]:
    response = client.get(RECIPES, params={"sort": "title", **params}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


def test_smart_collection_lists_and_counts_what_matches_now(
    client, db: Session, alice, bob, as_alice
) -> None:
    make_recipe(db, alice, title="Quick vegan", tags=["vegan"], prep_minutes=5, cook_minutes=5)
    make_recipe(db, alice, title="Slow vegan", tags=["vegan"], prep_minutes=60, cook_minutes=60)
    make_recipe(db, bob, title="Bob vegan", tags=["vegan"], visibility="public",
                prep_minutes=1, cook_minutes=1)
    mine = create(client, as_alice, name="Vegan", filter={"tag": ["Vegan"]})
    assert mine.status_code == 201, mine.text
    body = mine.json()
    assert body["kind"] == "smart" and body["filter"] == {"tag": ["vegan"]}
    assert body["recipe_count"] == 2
    everyone = create(client, as_alice, name="All quick",
                      filter={"max_total_minutes": 15, "scope": "all"}).json()
    assert everyone["recipe_count"] == 2

    assert _titles(client, as_alice, collection=body["id"]) == ["Quick vegan", "Slow vegan"]
    assert _titles(client, as_alice, collection=everyone["id"]) == ["Bob vegan", "Quick vegan"]
    # The request narrows a smart collection: tags add up, the smaller time wins.
    assert _titles(client, as_alice, collection=body["id"], max_total_minutes=30) == [
        "Quick vegan"]
    make_recipe(db, alice, title="New vegan", tags=["vegan"])
    counts = {c["name"]: c["recipe_count"]
              for c in client.get(COLLECTIONS, headers=as_alice).json()["items"]}
    assert counts == {"Vegan": 3, "All quick": 2}


def test_smart_filter_can_be_changed_but_not_removed(client, as_alice) -> None:
    smart = create(client, as_alice, name="S", filter={"tag": ["a"]})
    url = smart.headers["location"]
    changed = client.patch(url, json={"filter": {"cuisine": "Thai", "sort": "title"}},
                           headers={**as_alice, "If-Match": smart.headers["etag"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["filter"] == {"cuisine": "Thai", "sort": "title"}
    assert_problem(client.patch(url, json={"filter": None}, headers=as_alice), 422)
    hand = create(client, as_alice, name="H").headers["location"]
    refused = client.patch(hand, json={"filter": {"tag": ["a"]}}, headers=as_alice)
    assert_problem(refused, 409)


@pytest.mark.parametrize("bad", [
    {"unknown": 1},
    {"tag": ["x"] * 21},
    {"q": "x" * 201},
    {"limit": 10},
    {"cursor": "abc"},
    {"max_total_minutes": -1},
    {"owner": "nobody"},
    {"scope": "everyone"},
    {"sort": "relevance"},
    {"tag": "not-a-list-but-fine"} | {"ingredient": [{"nested": True}]},
    {"collection": "00000000-0000-4000-8000-000000000000"},
    {"collection": "not-an-id"},
])
def test_bad_filters_are_refused(client, as_alice, bad: dict[str, Any]) -> None:
    assert_problem(create(client, as_alice, name="Bad", filter=bad), 422)
    assert client.get(COLLECTIONS, headers=as_alice).json()["items"] == []


def test_a_filter_naming_a_collection_is_refused_on_update_too(client, as_alice) -> None:
    first = create(client, as_alice, name="First", filter={"tag": ["a"]}).json()
    second = create(client, as_alice, name="Second", filter={"tag": ["b"]})
    for target in (first["id"], second.json()["id"]):
        refused = client.patch(second.headers["location"],
                               json={"filter": {"collection": target}}, headers=as_alice)
        assert_problem(refused, 422)
    # "none" (recipes in no hand-picked collection) names no collection: allowed.
    uncollected = create(client, as_alice, name="Loose", filter={"collection": "none"})
    assert uncollected.status_code == 201


def test_smart_collection_of_uncollected_recipes(client, db: Session, alice, as_alice) -> None:
    kept = make_recipe(db, alice, title="Kept")
    make_recipe(db, alice, title="Loose")
    book = create(client, as_alice, name="Book").json()
    client.put(f"{collection_url(book['id'])}/recipes/{kept.id}", headers=as_alice)
    loose = create(client, as_alice, name="Loose ones", filter={"collection": "none"}).json()
    assert loose["recipe_count"] == 1
    assert _titles(client, as_alice, collection=loose["id"]) == ["Loose"]
    assert _titles(client, as_alice, collection="none") == ["Loose"]


SAVED_FILTERS: list[dict[str, Any]] = [
    {"tag": ["vegan"]}, {"tag": ["vegan", "quick"]}, {"max_total_minutes": 20},
    {"cuisine": "thai"}, {"ingredient": ["garlic"]}, {"q": "soup"}, {"collection": "none"},
    {"visibility": "private"}, {"owner": "me", "visibility": "public"}, {"favorites": True},
    {"scope": "public", "tag": ["vegan"]}, {"scope": "all", "max_total_minutes": 20},
    {"sort": "quickest", "tag": ["quick"]},
]


def test_every_count_of_the_collections_list_is_the_lists_own_total(
    client, db: Session, alice, bob, as_alice
) -> None:
    """The counts of the one statement (the caller's own recipes in one pass, the rest one
    subquery each) agree with the recipe list's own total for each smart collection."""
    for i in range(8):
        for owner, visibility in ((alice, "private"), (alice, "public"), (bob, "public")):
            recipe = make_recipe(
                db, owner, title=f"Soup {i}" if i % 2 else f"Stew {i}", visibility=visibility,
                tags=["vegan", "quick"][: i % 3], cuisine="Thai" if i % 4 == 0 else None,
                ingredients=["garlic"] if i % 3 == 0 else ["salt"],
                prep_minutes=5 * i, cook_minutes=i)
            if i % 2 and owner is bob:
                client.put(f"{RECIPES}/{recipe.id}/favorite", headers=as_alice)
    book = create(client, as_alice, name="Book").json()
    client.put(f"{collection_url(book['id'])}/recipes/{recipe.id}", headers=as_alice)
    smart = {create(client, as_alice, name=f"S{i}", filter=saved).json()["id"]: saved
             for i, saved in enumerate(SAVED_FILTERS)}
    counts = {c["id"]: c["recipe_count"]
              for c in client.get(COLLECTIONS, headers=as_alice).json()["items"]}
    for collection_id, saved in smart.items():
        total = client.get(RECIPES, params={"collection": collection_id, "include_total": True},
                           headers=as_alice).json()["total"]
        assert counts[collection_id] == total, saved
    assert sum(counts.values()) > len(SAVED_FILTERS)  # the filters match something
