"""/api/v1/collections: create, read, list (ordered, counted), update, delete."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.recipe_collections.factories import (
    COLLECTIONS,
    collection_url,
    create,
    make_collection,
    member_url,
)
from tests.recipes.factories import make_recipe
from tests.recipes.support import assert_problem


def test_create_answers_201_with_location_and_etag(client, as_alice) -> None:
    response = create(client, as_alice, name="  <b>Weeknight</b> ", description="Fast")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Weeknight" and body["description"] == "Fast"
    assert body["kind"] == "hand-picked" and body["filter"] is None
    assert body["recipe_count"] == 0 and body["version"] == 1
    assert response.headers["location"] == collection_url(body["id"])
    fetched = client.get(response.headers["location"], headers=as_alice)
    assert fetched.status_code == 200 and fetched.json() == body
    assert fetched.headers["etag"] == response.headers["etag"]


def test_list_is_ordered_by_position_then_name_with_counts(
    client, db: Session, alice, bob, as_alice
) -> None:
    mine = make_recipe(db, alice)
    theirs = make_recipe(db, bob, visibility="public")
    make_collection(db, alice, name="b", position=1, recipes=[mine, theirs])
    make_collection(db, alice, name="a", position=1)
    make_collection(db, alice, name="z", position=0, recipes=[mine])
    make_collection(db, bob, name="Bob's", recipes=[mine])
    listed = client.get(COLLECTIONS, headers=as_alice).json()["items"]
    assert [(c["name"], c["recipe_count"]) for c in listed] == [("z", 1), ("a", 0), ("b", 2)]


def test_positions_default_to_after_the_last(client, as_alice) -> None:
    positions = [create(client, as_alice, name=f"c{i}").json()["position"] for i in range(3)]
    assert positions == [0, 1, 2]
    assert create(client, as_alice, name="first", position=0).json()["position"] == 0


def test_names_are_unique_per_owner_ignoring_case(client, as_alice, as_bob) -> None:
    assert create(client, as_alice, name="Desserts").status_code == 201
    clash = create(client, as_alice, name="dESSERTS")
    assert_problem(clash, 409)
    assert clash.json()["type"].endswith("collection-name-taken")
    assert create(client, as_bob, name="desserts").status_code == 201  # per owner
    other = create(client, as_alice, name="Cakes").json()
    renamed = client.patch(collection_url(other["id"]), json={"name": "DESSERTS"},
                           headers=as_alice)
    assert_problem(renamed, 409)


def test_patch_with_if_match_and_stale_etag(client, as_alice) -> None:
    created = create(client, as_alice, name="Soups")
    url, etag = created.headers["location"], created.headers["etag"]
    patched = client.patch(url, json={"name": "Stews", "description": None, "position": 4},
                           headers={**as_alice, "If-Match": etag})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["name"], body["description"], body["position"], body["version"]) == (
        "Stews", None, 4, 2)
    assert patched.headers["etag"] != etag
    stale = client.patch(url, json={"name": "Again"}, headers={**as_alice, "If-Match": etag})
    assert_problem(stale, 412)
    assert_problem(client.delete(url, headers={**as_alice, "If-Match": etag}), 412)
    assert client.patch(url, json={}, headers=as_alice).json()["version"] == 2
    for bad in ({"name": None}, {"position": None}, {"name": ""}, {"name": "x" * 101},
                {"owner_id": "x"}, {"position": -1}):
        assert_problem(client.patch(url, json=bad, headers=as_alice), 422)


def test_delete_removes_the_collection_but_not_its_recipes(
    client, db: Session, alice, as_alice
) -> None:
    recipe = make_recipe(db, alice)
    collection = make_collection(db, alice, recipes=[recipe])
    url = collection_url(collection.id)
    etag = client.get(url, headers=as_alice).headers["etag"]
    assert client.delete(url, headers={**as_alice, "If-Match": etag}).status_code == 204
    assert_problem(client.get(url, headers=as_alice), 404)
    assert client.get(f"/api/v1/recipes/{recipe.id}", headers=as_alice).status_code == 200


def test_another_users_collection_is_404_on_every_verb(
    client, db: Session, alice, bob, as_alice, as_bob
) -> None:
    recipe = make_recipe(db, alice, visibility="public")
    theirs = make_collection(db, bob, recipes=[recipe])
    url = collection_url(theirs.id)
    missing = collection_url("00000000-0000-4000-8000-000000000000")
    for target in (url, missing):
        answers = [
            client.get(target, headers=as_alice),
            client.patch(target, json={"name": "mine now"}, headers=as_alice),
            client.delete(target, headers=as_alice),
            client.put(f"{target}/recipes/{recipe.id}", headers=as_alice),
            client.delete(f"{target}/recipes/{recipe.id}", headers=as_alice),
            client.get("/api/v1/recipes", params={"collection": target.rsplit("/", 1)[1]},
                       headers=as_alice),
        ]
        for response in answers:
            assert_problem(response, 404)
        assert {r.json()["type"] for r in answers[:5]} == {
            "urn:homechef:problem:collection-not-found"}
    # Bob's collection is untouched.
    body = client.get(url, headers=as_bob).json()
    assert body["name"] == theirs.name and body["recipe_count"] == 1
    assert client.put(member_url(theirs.id, recipe.id), headers=as_bob).status_code == 200


def test_hostile_bodies_are_422(client, as_alice) -> None:
    for body in ({"name": "a\x00b"}, {"name": "ok", "extra": 1}, {"name": "ok", "position": 10**9},
                 {"name": "ok", "description": "d" * 9000}, {}, {"name": ["x"]}):
        assert_problem(client.post(COLLECTIONS, json=body, headers=as_alice), 422)
    assert_problem(client.get(collection_url("not-a-uuid"), headers=as_alice), 422)
