"""PUT/DELETE /collections/{id}/recipes/{recipe_id}: idempotent, visibility by the recipes
service, limits, and recipes that turn private or are deleted dropping out."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.collections import schemas
from app.collections.models import Collection, CollectionRecipe
from tests.recipe_collections.factories import collection_url, make_collection, member_url
from tests.recipes.factories import make_recipe
from tests.recipes.support import RECIPES, assert_problem, comparable, recipe_url


def _count(client, headers, collection_id) -> int:
    return client.get(collection_url(collection_id), headers=headers).json()["recipe_count"]


def test_put_and_delete_are_idempotent(client, db: Session, alice, bob, as_alice) -> None:
    mine = make_recipe(db, alice)
    public = make_recipe(db, bob, visibility="public")
    book = make_collection(db, alice)
    for recipe in (mine, public, mine, public):
        response = client.put(member_url(book.id, recipe.id), headers=as_alice)
        assert response.status_code == 200, response.text
        assert response.json() == {"collection_id": str(book.id), "recipe_id": str(recipe.id),
                                   "in_collection": True}
    assert _count(client, as_alice, book.id) == 2
    for _ in range(2):
        gone = client.delete(member_url(book.id, mine.id), headers=as_alice)
        assert gone.status_code == 200 and gone.json()["in_collection"] is False
    assert _count(client, as_alice, book.id) == 1


def test_others_private_recipe_is_404_like_a_missing_one(
    client, db: Session, alice, bob, as_alice
) -> None:
    private = make_recipe(db, bob, title="Bob's secret")
    book = make_collection(db, alice)
    hidden = client.put(member_url(book.id, private.id), headers=as_alice)
    missing = client.put(member_url(book.id, "00000000-0000-4000-8000-000000000000"),
                         headers=as_alice)
    assert_problem(hidden, 404)
    assert comparable(hidden.json()) | {"x": 0} == comparable(missing.json()) | {"x": 0}
    assert_problem(client.delete(member_url(book.id, private.id), headers=as_alice), 404)
    assert_problem(client.put(member_url(book.id, "nope"), headers=as_alice), 422)
    assert db.scalar(select(func.count()).select_from(CollectionRecipe)) == 0


def test_smart_collection_refuses_membership_edits(client, db: Session, alice, as_alice) -> None:
    recipe = make_recipe(db, alice)
    smart = make_collection(db, alice, filter={"tag": ["vegan"]})
    for method in ("PUT", "DELETE"):
        response = client.request(method, member_url(smart.id, recipe.id), headers=as_alice)
        assert_problem(response, 409)
        assert response.json()["type"].endswith("smart-collection")


def test_a_recipe_that_turns_private_or_is_deleted_drops_out_without_a_trace(
    client, db: Session, alice, bob, as_alice, as_bob
) -> None:
    public = make_recipe(db, bob, title="Bob's pie", visibility="public")
    other = make_recipe(db, bob, title="Bob's tart", visibility="public")
    book = make_collection(db, alice, name="Sweet")
    for recipe in (public, other):
        assert client.put(member_url(book.id, recipe.id), headers=as_alice).status_code == 200
    assert _count(client, as_alice, book.id) == 2

    assert client.patch(recipe_url(public.id), json={"visibility": "private"},
                        headers=as_bob).status_code == 200
    assert client.delete(recipe_url(other.id), headers=as_bob).status_code == 204

    listed = client.get(RECIPES, params={"collection": str(book.id)}, headers=as_alice)
    assert listed.status_code == 200 and listed.json()["items"] == []
    assert "Bob's" not in listed.text
    assert _count(client, as_alice, book.id) == 0
    assert client.get(collection_url("").rstrip("/"), headers=as_alice).json()["items"][0][
        "recipe_count"] == 0
    export = client.get("/api/v1/users/me/export", headers=as_alice).json()
    assert export["collections"][0]["recipes"] == []
    # Alice can still take the now-private recipe out (idempotent), and not put it back.
    assert client.delete(member_url(book.id, public.id), headers=as_alice).status_code == 200
    assert_problem(client.put(member_url(book.id, public.id), headers=as_alice), 404)
    # Made public again, it is not silently back: Alice took it out.
    client.patch(recipe_url(public.id), json={"visibility": "public"}, headers=as_bob)
    assert _count(client, as_alice, book.id) == 0


def test_collection_holds_at_most_the_limit(
    client, db: Session, alice, as_alice, monkeypatch
) -> None:
    monkeypatch.setattr("app.collections.service.MAX_RECIPES_PER_COLLECTION", 2)
    recipes = [make_recipe(db, alice) for _ in range(3)]
    book = make_collection(db, alice, recipes=recipes[:2])
    full = client.put(member_url(book.id, recipes[2].id), headers=as_alice)
    assert_problem(full, 409)
    assert full.json()["type"].endswith("collection-full")
    # Re-adding a member of a full collection is still idempotent.
    assert client.put(member_url(book.id, recipes[0].id), headers=as_alice).status_code == 200
    assert schemas.MAX_RECIPES_PER_COLLECTION == 5_000


def test_at_most_200_collections_per_user(client, db: Session, alice, as_alice) -> None:
    db.add_all(Collection(owner_id=alice.id, name=f"c{i}", position=i)
               for i in range(schemas.MAX_COLLECTIONS))
    db.commit()
    refused = client.post("/api/v1/collections", json={"name": "one more"}, headers=as_alice)
    assert_problem(refused, 409)
    assert refused.json()["type"].endswith("too-many-collections")
