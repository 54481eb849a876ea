"""GET /tags and PUT/DELETE /recipes/{id}/favorite."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.recipes.models import Favorite
from tests.recipes.factories import make_recipe
from tests.recipes.support import RECIPES, TAGS, assert_problem, comparable, recipe_url


def favorite_url(recipe_id: object) -> str:
    return f"{recipe_url(recipe_id)}/favorite"


# --- tags ---------------------------------------------------------------------------------------


def test_tags_are_the_callers_own_with_counts(client, db: Session, alice, bob, as_alice) -> None:
    make_recipe(db, alice, tags=["vegan", "quick"])
    make_recipe(db, alice, tags=["vegan"])
    make_recipe(db, alice, tags=[])
    make_recipe(db, bob, tags=["vegan", "bobs"], visibility="public")
    response = client.get(TAGS, headers=as_alice)
    assert response.status_code == 200
    assert response.json() == {"items": [{"tag": "vegan", "count": 2},
                                         {"tag": "quick", "count": 1}]}


def test_tags_when_there_are_none(client, as_alice) -> None:
    assert client.get(TAGS, headers=as_alice).json() == {"items": []}
    assert_problem(client.get(TAGS), 401)


# --- favourites ---------------------------------------------------------------------------------


def test_favorite_is_idempotent_and_shows_in_lists(client, db: Session, alice, as_alice) -> None:
    recipe = make_recipe(db, alice, title="Mine")
    make_recipe(db, alice, title="Other")
    for _ in range(2):
        response = client.put(favorite_url(recipe.id), headers=as_alice)
        assert response.status_code == 200
        assert response.json() == {"recipe_id": str(recipe.id), "is_favorite": True}
    assert db.scalar(select(func.count()).select_from(Favorite)) == 1

    items = client.get(RECIPES, params={"sort": "title"}, headers=as_alice).json()["items"]
    assert [(i["title"], i["is_favorite"]) for i in items] == [("Mine", True), ("Other", False)]
    favorites = client.get(RECIPES, params={"favorites": "true"}, headers=as_alice).json()
    assert [i["title"] for i in favorites["items"]] == ["Mine"]

    for _ in range(2):
        response = client.delete(favorite_url(recipe.id), headers=as_alice)
        assert response.status_code == 200
        assert response.json() == {"recipe_id": str(recipe.id), "is_favorite": False}
    assert client.get(RECIPES, params={"favorites": True}, headers=as_alice).json()["items"] == []


def test_any_visible_recipe_can_be_a_favorite(client, db: Session, alice, as_bob) -> None:
    public = make_recipe(db, alice, visibility="public", title="Shared")
    assert client.put(favorite_url(public.id), headers=as_bob).status_code == 200
    listed = client.get(RECIPES, params={"favorites": True}, headers=as_bob).json()["items"]
    assert [i["title"] for i in listed] == ["Shared"]


def test_another_users_private_recipe_cannot_be_a_favorite(
    client, db: Session, alice, as_bob
) -> None:
    private = make_recipe(db, alice)
    missing = "4f1c9a0e-0000-4000-8000-000000000000"
    hidden = assert_problem(client.put(favorite_url(private.id), headers=as_bob), 404)
    absent = assert_problem(client.put(favorite_url(missing), headers=as_bob), 404)
    assert comparable(hidden) == comparable(absent)
    assert_problem(client.delete(favorite_url(private.id), headers=as_bob), 404)
    assert_problem(client.put(favorite_url("nope"), headers=as_bob), 422)
    assert db.scalar(select(func.count()).select_from(Favorite)) == 0


def test_a_favorite_of_a_recipe_turned_private_can_be_removed_but_is_not_listed(
    client, db: Session, alice, as_alice, as_bob
) -> None:
    recipe = make_recipe(db, alice, visibility="public")
    client.put(favorite_url(recipe.id), headers=as_bob)
    client.patch(recipe_url(recipe.id), json={"visibility": "private"}, headers=as_alice)
    assert client.get(RECIPES, params={"favorites": True}, headers=as_bob).json()["items"] == []
    assert client.delete(favorite_url(recipe.id), headers=as_bob).status_code == 200
    assert db.scalar(select(func.count()).select_from(Favorite)) == 0


def test_deleting_a_recipe_removes_its_favorites(client, db: Session, alice, as_alice) -> None:
    recipe = make_recipe(db, alice)
    client.put(favorite_url(recipe.id), headers=as_alice)
    assert client.delete(recipe_url(recipe.id), headers=as_alice).status_code == 204
    assert db.scalar(select(func.count()).select_from(Favorite)) == 0


def test_twenty_concurrent_favorite_toggles_stay_consistent(
    client, db: Session, alice, as_bob, bob
) -> None:
    recipe = make_recipe(db, alice, visibility="public")
    url = favorite_url(recipe.id)

    def toggle(i: int) -> tuple[int, bool]:
        response = client.put(url, headers=as_bob) if i % 2 else client.delete(url, headers=as_bob)
        return response.status_code, response.json().get("is_favorite")

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(toggle, range(20)))
    assert {status for status, _ in results} == {200}
    rows = db.scalar(select(func.count()).select_from(Favorite).where(Favorite.user_id == bob.id))
    assert rows in (0, 1)
    listed = client.get(RECIPES, params={"favorites": True}, headers=as_bob).json()["items"]
    assert len(listed) == rows

    with ThreadPoolExecutor(max_workers=20) as pool:
        puts = list(pool.map(lambda _: client.put(url, headers=as_bob).status_code, range(20)))
    assert puts == [200] * 20
    assert db.scalar(select(func.count()).select_from(Favorite)) == 1


def test_favoriting_while_the_owner_deletes_is_never_a_500(
    client, db: Session, alice, as_alice, as_bob
) -> None:
    recipe = make_recipe(db, alice, visibility="public")

    def act(i: int) -> int:
        if i == 10:
            return client.delete(recipe_url(recipe.id), headers=as_alice).status_code
        return client.put(favorite_url(recipe.id), headers=as_bob).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(act, range(20)))
    assert statuses[10] == 204
    assert set(statuses[:10] + statuses[11:]) <= {200, 404}
    assert db.scalar(select(func.count()).select_from(Favorite)) == 0
