"""GET /recipes/{id} revalidation (If-None-Match -> 304): the ETag changes whenever the
body would, including the reader's collections of the recipe (ids and names), and the
same ETag still works as If-Match for the owner's writes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.recipe_collections.factories import collection_url, make_collection, member_url
from tests.recipes.factories import make_recipe
from tests.recipes.support import recipe_url


def _etag(client, headers, url) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


def _revalidate(client, headers, url, etag):
    return client.get(url, headers={**headers, "If-None-Match": etag})


def test_adding_to_renaming_and_removing_from_a_collection_change_the_etag(
    client, db: Session, alice, as_alice,
) -> None:
    recipe = make_recipe(db, alice)
    book = make_collection(db, alice, name="Weeknight")
    url = recipe_url(recipe.id)
    seen = [_etag(client, as_alice, url)]
    assert _revalidate(client, as_alice, url, seen[0]).status_code == 304

    steps = [
        lambda: client.put(member_url(book.id, recipe.id), headers=as_alice),
        lambda: client.patch(collection_url(book.id), json={"name": "Sunday"},
                             headers=as_alice),
        lambda: client.delete(member_url(book.id, recipe.id), headers=as_alice),
    ]
    for step in steps:
        assert step().status_code < 300
        stale = _revalidate(client, as_alice, url, seen[-1])
        assert stale.status_code == 200, "a stale ETag must get the new body"
        assert stale.headers["etag"] not in seen[-1:]
        seen.append(stale.headers["etag"])
        assert _revalidate(client, as_alice, url, seen[-1]).status_code == 304
    names = [ref["name"] for ref in client.get(url, headers=as_alice).json()["collections"]]
    assert names == []


def test_another_readers_collections_do_not_touch_my_etag(
    client, db: Session, alice, bob, as_alice, as_bob,
) -> None:
    public = make_recipe(db, alice, visibility="public")
    url = recipe_url(public.id)
    mine = _etag(client, as_alice, url)
    make_collection(db, bob, recipes=[public])
    assert _revalidate(client, as_alice, url, mine).status_code == 304
    bobs = client.get(url, headers=as_bob)
    assert bobs.headers["etag"] != mine
    assert [ref["name"] for ref in bobs.json()["collections"]] != []


def test_the_get_etag_of_a_collected_recipe_is_a_valid_if_match(
    client, db: Session, alice, as_alice,
) -> None:
    recipe = make_recipe(db, alice)
    make_collection(db, alice, recipes=[recipe])
    url = recipe_url(recipe.id)
    etag = _etag(client, as_alice, url)
    patched = client.patch(url, json={"title": "Better"}, headers={**as_alice, "If-Match": etag})
    assert patched.status_code == 200, patched.text
    # The PATCH answer's ETag is the one a GET now sends, and revalidates.
    assert patched.headers["etag"] == _etag(client, as_alice, url)
    assert _revalidate(client, as_alice, url, patched.headers["etag"]).status_code == 304
    stale = client.patch(url, json={"title": "Worse"}, headers={**as_alice, "If-Match": etag})
    assert stale.status_code == 412
    deleted = client.delete(url, headers={**as_alice, "If-Match": patched.headers["etag"]})
    assert deleted.status_code == 204


def test_a_matching_etag_reveals_nothing_about_a_hidden_recipe(
    client, db: Session, alice, as_alice, as_bob,
) -> None:
    recipe = make_recipe(db, alice)
    url = recipe_url(recipe.id)
    etag = _etag(client, as_alice, url)
    hidden = _revalidate(client, as_bob, url, etag)
    assert hidden.status_code == 404
    assert "etag" not in hidden.headers
    assert _revalidate(client, as_bob, url, "*").status_code == 404


def test_scaled_servings_revalidate_separately(client, db: Session, alice, as_alice) -> None:
    recipe = make_recipe(db, alice)
    url = recipe_url(recipe.id)
    plain = _etag(client, as_alice, url)
    scaled = _etag(client, as_alice, f"{url}?servings=7")
    assert plain != scaled
    assert _revalidate(client, as_alice, f"{url}?servings=7", plain).status_code == 200
    assert _revalidate(client, as_alice, f"{url}?servings=7", scaled).status_code == 304
