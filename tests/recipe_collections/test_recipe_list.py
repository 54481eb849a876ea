"""GET /recipes with collections: the collection and "uncollected" filters, the
collections of each summary and of a recipe, cursors bound to the filter."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.recipe_collections.factories import collection_url, create, make_collection, member_url
from tests.recipes.factories import make_recipe, make_recipes
from tests.recipes.support import RECIPES, assert_problem, recipe_url


def _page(client, headers, **params: Any) -> dict[str, Any]:
    response = client.get(RECIPES, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_collection_filter_lists_members_including_others_public_recipes(
    client, db: Session, alice, bob, as_alice
) -> None:
    mine = make_recipe(db, alice, title="Mine")
    theirs = make_recipe(db, bob, title="Theirs", visibility="public")
    make_recipe(db, alice, title="Outside")
    book = make_collection(db, alice, name="Book", recipes=[mine, theirs])
    page = _page(client, as_alice, collection=str(book.id), sort="title")
    assert [item["title"] for item in page["items"]] == ["Mine", "Theirs"]
    scoped = _page(client, as_alice, collection=str(book.id), scope="mine")
    assert [item["title"] for item in scoped["items"]] == ["Mine"]
    loose = _page(client, as_alice, collection="none")
    assert [item["title"] for item in loose["items"]] == ["Outside"]


def test_summaries_and_detail_carry_the_callers_collections_and_an_image_slot(
    client, db: Session, alice, bob, as_alice, as_bob
) -> None:
    recipe = make_recipe(db, alice, title="Soup", visibility="public")
    make_collection(db, alice, name="Winter", position=1, recipes=[recipe])
    make_collection(db, alice, name="Autumn", position=1, recipes=[recipe])
    make_collection(db, alice, name="Smart", filter={"tag": ["x"]})
    make_collection(db, bob, name="Bob's secret book", recipes=[recipe])
    item = _page(client, as_alice)["items"][0]
    assert [c["name"] for c in item["collections"]] == ["Autumn", "Winter"]
    assert set(item["collections"][0]) == {"id", "name"}
    assert item["image"] is None
    detail = client.get(recipe_url(recipe.id), headers=as_alice).json()
    assert [c["name"] for c in detail["collections"]] == ["Autumn", "Winter"]
    patched = client.patch(recipe_url(recipe.id), json={"title": "Stew"}, headers=as_alice)
    assert [c["name"] for c in patched.json()["collections"]] == ["Autumn", "Winter"]
    # Bob sees his own book only, never Alice's.
    bobs = _page(client, as_bob, scope="all")["items"][0]
    assert [c["name"] for c in bobs["collections"]] == ["Bob's secret book"]
    as_bob_detail = client.get(recipe_url(recipe.id), headers=as_bob)
    assert "Winter" not in as_bob_detail.text


def test_pages_of_a_collection_cover_it_once_and_cursors_stay_with_their_filter(
    client, db: Session, alice, as_alice
) -> None:
    inside = make_recipes(db, alice, 7, title="In")
    make_recipes(db, alice, 5, title="Out")
    book = make_collection(db, alice, recipes=inside)
    other = make_collection(db, alice, name="Other")
    seen: list[str] = []
    params: dict[str, Any] = {"collection": str(book.id), "limit": 3}
    while True:
        page = _page(client, as_alice, **params)
        seen += [item["id"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
        for moved in ({"collection": str(other.id)}, {"collection": "none"}, {"scope": "mine"},
                      {"collection": None}):
            wrong = {**params, **moved}
            assert_problem(client.get(RECIPES, params={k: v for k, v in wrong.items() if v},
                                      headers=as_alice), 400)
    assert sorted(seen) == sorted(str(r.id) for r in inside)
    total = _page(client, as_alice, collection=str(book.id), include_total=True, limit=1)
    assert total["total"] == 7


def test_malformed_collection_ids_are_422_never_500(client, as_alice) -> None:
    for bad in ("x", "None", "00000000-0000-0000-0000-00000000000", "1' OR '1'='1", "%00",
                "0" * 37, "../../etc", "🍅"):
        assert_problem(client.get(RECIPES, params={"collection": bad}, headers=as_alice), 422)


def test_a_smart_filter_changed_under_a_cursor_invalidates_it(
    client, db: Session, alice, as_alice
) -> None:
    make_recipes(db, alice, 4, tags=["a", "b"])
    smart = create(client, as_alice, name="S", filter={"tag": ["a"]}).json()
    first = _page(client, as_alice, collection=smart["id"], limit=2)
    client.patch(collection_url(smart["id"]), json={"filter": {"tag": ["b"]}}, headers=as_alice)
    stale = client.get(RECIPES, params={"collection": smart["id"], "limit": 2,
                                        "cursor": first["next_cursor"]}, headers=as_alice)
    assert_problem(stale, 400)


def test_removing_a_recipe_updates_its_summary(client, db: Session, alice, as_alice) -> None:
    recipe = make_recipe(db, alice)
    book = make_collection(db, alice, name="B", recipes=[recipe])
    client.delete(member_url(book.id, recipe.id), headers=as_alice)
    assert _page(client, as_alice)["items"][0]["collections"] == []
    assert _page(client, as_alice, collection=str(book.id))["items"] == []


def test_a_collection_id_in_any_spelling_is_the_same_filter(
    client, db: Session, alice, as_alice
) -> None:
    book = make_collection(db, alice, recipes=make_recipes(db, alice, 3))
    first = _page(client, as_alice, collection=str(book.id), limit=2)
    shouting = _page(client, as_alice, collection=str(book.id).upper(), limit=2,
                     cursor=first["next_cursor"])
    assert len(shouting["items"]) == 1
    assert _page(client, as_alice, collection=book.id.hex)["items"]
