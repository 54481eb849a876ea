"""The home list's statement is built once and shared (app/recipes/listing._plain_page):
every caller still sees only their own and public recipes, page after page."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.recipes import listing
from tests.recipes.factories import make_recipes
from tests.recipes.support import RECIPES


def _titles_over_all_pages(client, headers: dict[str, str]) -> list[str]:
    titles: list[str] = []
    params: dict[str, object] = {"limit": 2}
    while True:
        response = client.get(RECIPES, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        titles += [item["title"] for item in body["items"]]
        if not body["next_cursor"]:
            return titles
        params["cursor"] = body["next_cursor"]


def test_one_shared_statement_keeps_every_caller_to_their_own_rows(
    client, db: Session, alice, bob, as_alice, as_bob
) -> None:
    make_recipes(db, alice, 3, title="Alice private")
    make_recipes(db, bob, 3, title="Bob private")
    make_recipes(db, bob, 2, title="Bob public", visibility="public")
    before = listing._plain_page.cache_info()

    for _ in range(2):
        alice_sees = _titles_over_all_pages(client, as_alice)
        bob_sees = _titles_over_all_pages(client, as_bob)
        assert sorted(alice_sees) == sorted(["Alice private"] * 3 + ["Bob public"] * 2)
        assert sorted(bob_sees) == sorted(["Bob private"] * 3 + ["Bob public"] * 2)

    after = listing._plain_page.cache_info()
    # The first and the following pages: at most two shapes built for this page size,
    # every other request served by a statement built before.
    assert after.currsize - before.currsize <= 2
    assert after.hits - before.hits >= 10


def test_filtered_lists_are_not_served_by_the_shared_statement(
    client, db: Session, alice, as_alice
) -> None:
    make_recipes(db, alice, 2, title="Soup", tags=["vegan"])
    make_recipes(db, alice, 2, title="Stew")
    before = listing._plain_page.cache_info()
    response = client.get(RECIPES, params={"tag": "vegan"}, headers=as_alice)
    assert [item["title"] for item in response.json()["items"]] == ["Soup", "Soup"]
    after = listing._plain_page.cache_info()
    assert (after.hits, after.misses) == (before.hits, before.misses)
