"""Concurrent writers on PostgreSQL (real threads through the app, real transactions)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.collections.models import Collection, CollectionRecipe
from tests.recipe_collections.factories import COLLECTIONS, make_collection, member_url
from tests.recipes.factories import make_recipe, make_recipes

WRITERS = 20


def _together(call: Callable[[int], int]) -> list[int]:
    start = threading.Barrier(WRITERS)  # release all writers at once, so they overlap

    def run(i: int) -> int:
        start.wait(timeout=30)
        return call(i)

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        return list(pool.map(run, range(WRITERS)))


def test_twenty_concurrent_adds_of_one_recipe_leave_one_row(
    client, db: Session, alice, bob, as_alice
) -> None:
    recipe = make_recipe(db, bob, visibility="public")
    book = make_collection(db, alice)
    statuses = _together(
        lambda _: client.put(member_url(book.id, recipe.id), headers=as_alice).status_code)
    assert statuses == [200] * WRITERS
    rows = db.scalar(select(func.count()).select_from(CollectionRecipe)
                     .where(CollectionRecipe.collection_id == book.id))
    assert rows == 1


def test_twenty_concurrent_creates_with_one_name_leave_one_collection(
    client, db: Session, alice, as_alice
) -> None:
    statuses = _together(lambda i: client.post(
        COLLECTIONS, json={"name": "Dinner" if i % 2 else "DINNER"}, headers=as_alice
    ).status_code)
    assert sorted(statuses) == [201] + [409] * (WRITERS - 1)
    assert db.scalar(select(func.count()).select_from(Collection)
                     .where(Collection.owner_id == alice.id)) == 1


def test_concurrent_adds_cannot_overrun_the_size_limit(
    client, db: Session, alice, as_alice, monkeypatch
) -> None:
    monkeypatch.setattr("app.collections.service.MAX_RECIPES_PER_COLLECTION", 5)
    recipes = make_recipes(db, alice, WRITERS)
    book = make_collection(db, alice)
    statuses = _together(lambda i: client.put(member_url(book.id, recipes[i].id),
                                              headers=as_alice).status_code)
    assert sorted(statuses) == [200] * 5 + [409] * (WRITERS - 5)


def test_concurrent_creates_cannot_overrun_the_collection_limit(
    client, db: Session, alice, as_alice, monkeypatch
) -> None:
    monkeypatch.setattr("app.collections.service.MAX_COLLECTIONS", 3)
    statuses = _together(lambda i: client.post(
        COLLECTIONS, json={"name": f"c{i}"}, headers=as_alice).status_code)
    assert sorted(statuses) == [201] * 3 + [409] * (WRITERS - 3)
