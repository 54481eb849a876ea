"""List, search and detail run a constant number of SQL statements, whatever the size."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.recipe_collections.factories import make_collection
from tests.recipes.factories import make_recipe, make_recipes
from tests.recipes.support import RECIPES, recipe_url
from tests.sql_counting import counting


def statements_for(client, engine: Engine, url: str, headers, **params: Any) -> int:
    """Statements the route ran. The token check is left out: it is one query, or none
    when the validity cache vouches for the token (tests/auth/test_revocation_feed.py)."""
    with counting(engine) as statements:
        response = client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return len([s for s in statements if "revoked_sessions" not in s])


LIST_QUERIES: list[dict[str, Any]] = [
    {},
    {"q": "soup"},
    {"q": "soup", "sort": "relevance"},
    {"tag": ["vegan", "quick"], "ingredient": "salt", "include_total": True},
    {"favorites": True, "sort": "title"},
    {"owner": "me", "sort": "quickest"},
    {"scope": "all", "sort": "title"},
    {"scope": "public", "q": "soup"},
    {"collection": "none", "include_total": True},
    {"collection": "none", "scope": "all", "tag": "vegan"},
]


@pytest.mark.parametrize("params", LIST_QUERIES, ids=str)
def test_list_statement_count_does_not_grow_with_page_size(
    client, engine: Engine, db: Session, alice, bob, as_alice, params: dict[str, Any]
) -> None:
    fields = {"title": "Tomato soup", "tags": ["vegan", "quick", "soup"],
              "ingredients": ["salt", "tomatoes"], "steps": ["Cook."]}
    mine = make_recipes(db, alice, 30, **fields)
    make_recipes(db, bob, 30, visibility="public", **fields)
    for recipe in mine:
        client.put(f"{recipe_url(recipe.id)}/favorite", headers=as_alice)

    one = statements_for(client, engine, RECIPES, as_alice, limit=1, **params)
    fifty = statements_for(client, engine, RECIPES, as_alice, limit=50, **params)
    assert one == fifty
    # The page with each row's tags (and the total, when asked for).
    assert fifty == 1 + bool(params.get("include_total"))


@pytest.mark.parametrize("smart", [False, True], ids=["hand-picked", "smart"])
@pytest.mark.parametrize("include_total", [False, True])
def test_every_page_of_a_collection_is_one_statement(
    client, engine: Engine, db: Session, alice, bob, as_alice, smart: bool, include_total: bool
) -> None:
    """The page (rows, their tags and collections) and the collection's row (whose it is,
    and a smart one's saved filter) are one statement, first page and next. The first
    look at a smart collection in this process costs one more (its filter, then its page:
    tests/recipe_collections/test_list_statements.py)."""
    fields = {"title": "Tomato soup", "tags": ["vegan", "soup"], "ingredients": ["salt"]}
    mine = make_recipes(db, alice, 30, **fields)
    theirs = make_recipes(db, bob, 30, visibility="public", **fields)
    book = make_collection(db, alice, name="Book", recipes=[*mine, *theirs])
    make_collection(db, alice, name="Second", recipes=mine)
    chosen = make_collection(db, alice, name="Smart", filter={"tag": ["vegan"], "scope": "all"}) \
        if smart else book
    params = {"collection": str(chosen.id), "include_total": include_total}

    first = statements_for(client, engine, RECIPES, as_alice, limit=1, **params)
    assert first == (2 if smart else 1) + include_total  # a smart one's first look
    one = statements_for(client, engine, RECIPES, as_alice, limit=1, **params)
    fifty = statements_for(client, engine, RECIPES, as_alice, limit=50, **params)
    assert one == fifty == 1 + include_total
    cursor = client.get(RECIPES, params={**params, "limit": 20}, headers=as_alice).json()[
        "next_cursor"]
    assert cursor
    following = statements_for(client, engine, RECIPES, as_alice, limit=20, cursor=cursor,
                               **params)
    assert following == 1 + include_total


def test_collections_list_counts_every_collection_in_one_statement(
    client, engine: Engine, db: Session, alice, bob, as_alice
) -> None:
    recipes = make_recipes(db, alice, 10, tags=["vegan"])
    make_recipes(db, bob, 5, visibility="public", tags=["vegan"])

    def furnish(start: int, count: int) -> None:
        for i in range(start, start + count):
            smart = {"tag": ["vegan"], "scope": "all", "max_total_minutes": 100 + i}
            make_collection(db, alice, name=f"c{i}", position=i,
                            **({"filter": smart} if i % 2 else {"recipes": recipes[: i % 10]}))

    furnish(0, 2)
    few = statements_for(client, engine, "/api/v1/collections", as_alice)
    furnish(2, 18)
    many = statements_for(client, engine, "/api/v1/collections", as_alice)
    # The collections, then all their counts (hand-picked and smart) in one statement.
    assert few == many == 2
    counts = client.get("/api/v1/collections", headers=as_alice).json()["items"]
    assert [c["recipe_count"] for c in counts] == [0 if i % 2 == 0 and i % 10 == 0
                                                   else 15 if i % 2 else i % 10
                                                   for i in range(20)]


def test_detail_statement_count_does_not_grow_with_the_recipe(
    client, engine: Engine, db: Session, alice, as_alice
) -> None:
    small = make_recipe(db, alice, tags=["a"], ingredients=["salt"], steps=["Stir."])
    big = make_recipe(db, alice, tags=[f"t{i}" for i in range(20)],
                      ingredients=[{"name": f"i{i}", "quantity": i} for i in range(100)],
                      steps=[f"Step {i}" for i in range(100)])
    counts = {
        statements_for(client, engine, recipe_url(recipe.id), as_alice, **params)
        for recipe in (small, big) for params in ({}, {"servings": 7})
    }
    # The recipe with its tags, ingredients and steps (aggregated beside the row on
    # PostgreSQL).
    assert counts == {1}


def test_cover_links_and_galleries_cost_no_statement(
    client, engine: Engine, db: Session, alice, bob, as_alice
) -> None:
    """Every card's signed thumbnail rides on the page row, every photo of a recipe on
    the detail row: photos add no statement to a list or a GET."""
    from tests.media.factories import add_photo

    mine = make_recipes(db, alice, 12, title="Tomato soup")
    theirs = make_recipes(db, bob, 12, visibility="public", title="Tomato soup")
    for i, recipe in enumerate(mine + theirs):
        for j in range(1 + i % 3):
            add_photo(db, recipe, f"{i}-{j}".encode())

    for params in LIST_QUERIES[:3]:
        assert statements_for(client, engine, RECIPES, as_alice, limit=50, **params) == 1
    page = client.get(RECIPES, params={"limit": 50, "scope": "all"},
                      headers=as_alice).json()["items"]
    assert len(page) == 24 and all(item["image"]["thumb_url"] for item in page)
    assert statements_for(client, engine, recipe_url(mine[2].id), as_alice) == 1
    detail = client.get(recipe_url(mine[2].id), headers=as_alice).json()
    assert len(detail["images"]) == 3
