"""A page of a collection is ONE statement on PostgreSQL: the collection's row rides along
with the page (app/collections/list_parts.with_collection_row). These tests pin what that
must keep: a 404 for a collection that is not the caller's, whatever else is wrong with
the request; an empty page for an empty one; a smart collection's filter changed by
another worker seen at once."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from app.collections.models import Collection
from tests.recipe_collections.factories import COLLECTIONS, collection_url, make_collection
from tests.recipes.factories import make_recipes
from tests.recipes.support import RECIPES, assert_problem
from tests.sql_counting import counting


def _get(client, engine: Engine, headers, **params: Any) -> tuple[Any, int]:
    """The response and the statements it cost (the token check left out)."""
    with counting(engine) as statements:
        response = client.get(RECIPES, params=params, headers=headers)
    return response, len([s for s in statements if "revoked_sessions" not in s])


def _titles(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


def test_another_users_or_a_missing_collection_is_the_same_404_in_one_statement(
    client, engine: Engine, db: Session, alice, bob, as_alice, as_bob
) -> None:
    theirs = make_recipes(db, bob, 3, visibility="public", title="Soup")
    hand = make_collection(db, bob, name="Bob's book", recipes=theirs)
    smart = make_collection(db, bob, name="Bob's smart", filter={"q": "soup"})
    # Bob's own look at his smart collection puts its filter in this process's cache.
    assert len(_titles(_get(client, engine, as_bob, collection=str(smart.id))[0])) == 3
    bodies = []
    for collection_id in (hand.id, smart.id, uuid.uuid4()):
        for extra in ({}, {"cursor": "garbage"}, {"sort": "relevance"}, {"limit": 100}):
            response, statements = _get(client, engine, as_alice,
                                        collection=str(collection_id), **extra)
            assert_problem(response, 404)
            # The page with the row, or (a cursor or sort it cannot plan) the row alone.
            assert statements == 1, extra
            body = response.json()
            bodies.append((body["type"], body["title"], body["status"]))
    assert len(set(bodies)) == 1


def test_the_callers_own_collection_answers_its_own_errors_after_the_404_check(
    client, engine: Engine, db: Session, alice, as_alice
) -> None:
    book = make_collection(db, alice, name="Book", recipes=make_recipes(db, alice, 2))
    assert_problem(client.get(RECIPES, params={"collection": str(book.id), "cursor": "x"},
                              headers=as_alice), 400)
    assert_problem(client.get(RECIPES, params={"collection": str(book.id), "sort": "relevance"},
                              headers=as_alice), 422)


def test_an_empty_collection_is_an_empty_page_in_one_statement(
    client, engine: Engine, db: Session, alice, as_alice
) -> None:
    make_recipes(db, alice, 3, title="Stew", tags=["winter"])
    empty = make_collection(db, alice, name="Empty")
    nothing = make_collection(db, alice, name="Nothing matches", filter={"tag": ["summer"]})
    assert _get(client, engine, as_alice, collection=str(nothing.id))[1] == 2  # first look
    for collection in (empty, nothing):
        response, statements = _get(client, engine, as_alice, collection=str(collection.id),
                                    include_total=True)
        assert response.status_code == 200, response.text
        assert response.json() == {"items": [], "next_cursor": None, "total": 0}
        assert statements == 2  # the page with the row, and the total


def test_a_smart_filter_changed_by_another_worker_is_seen_at_once(
    client, engine: Engine, db: Session, alice, as_alice
) -> None:
    make_recipes(db, alice, 2, title="Soup", tags=["winter"])
    make_recipes(db, alice, 3, title="Salad", tags=["summer"])
    smart = make_collection(db, alice, name="Season", filter={"tag": ["winter"]})
    params = {"collection": str(smart.id), "limit": 1}
    first = client.get(RECIPES, params=params, headers=as_alice).json()
    assert [item["title"] for item in first["items"]] == ["Soup"] and first["next_cursor"]
    # Another worker (no cache here knows) saves a new filter.
    db.execute(update(Collection).where(Collection.id == smart.id)
               .values(filter={"tag": ["summer"]}, version=Collection.version + 1))
    db.commit()
    response, statements = _get(client, engine, as_alice, **params)
    assert _titles(response) == ["Salad"] and statements == 2  # stale, then rerun
    response, statements = _get(client, engine, as_alice, **params)
    assert _titles(response) == ["Salad"] and statements == 1
    # A cursor of the old filter is refused, as it always was.
    assert_problem(client.get(RECIPES, params={**params, "cursor": first["next_cursor"]},
                              headers=as_alice), 400)


def test_a_deleted_collection_is_404_on_its_next_page(
    client, engine: Engine, db: Session, alice, as_alice
) -> None:
    recipes = make_recipes(db, alice, 3, title="Soup", tags=["winter"])
    for collection in (make_collection(db, alice, name="Hand", recipes=recipes),
                       make_collection(db, alice, name="Smart", filter={"tag": ["winter"]})):
        params = {"collection": str(collection.id), "limit": 1}
        cursor = client.get(RECIPES, params=params, headers=as_alice).json()["next_cursor"]
        assert client.delete(collection_url(collection.id), headers=as_alice).status_code == 204
        response, statements = _get(client, engine, as_alice, **params, cursor=cursor)
        assert_problem(response, 404)
        assert statements == 1


def test_uncollected_is_one_statement(
    client, engine: Engine, db: Session, alice, as_alice
) -> None:
    recipes = make_recipes(db, alice, 4, title="Soup")
    make_collection(db, alice, name="Book", recipes=recipes[:2])
    response, statements = _get(client, engine, as_alice, collection="none", limit=1)
    assert len(_titles(response)) == 1 and statements == 1
    cursor = response.json()["next_cursor"]
    response, statements = _get(client, engine, as_alice, collection="none", limit=1,
                                cursor=cursor)
    assert len(_titles(response)) == 1 and statements == 1


def test_a_smart_collection_seen_in_the_collections_list_opens_in_one_statement(
    client, engine: Engine, db: Session, alice, as_alice
) -> None:
    make_recipes(db, alice, 2, title="Soup", tags=["winter"])
    smart = make_collection(db, alice, name="Winter", filter={"tag": ["winter"]})
    assert client.get(COLLECTIONS, headers=as_alice).status_code == 200
    response, statements = _get(client, engine, as_alice, collection=str(smart.id))
    assert _titles(response) == ["Soup", "Soup"] and statements == 1
