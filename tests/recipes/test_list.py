"""GET /recipes: visibility, filters, sorting, keyset pagination and its cursors."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.factories import auth_headers, make_user
from tests.recipes.factories import make_recipe, make_recipes
from tests.recipes.support import RECIPES, assert_problem, recipe_url

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def titles(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


def walk(client, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every item of a listing, page by page, following next_cursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        response = client.get(RECIPES, params={**params, **({"cursor": cursor} if cursor else {})},
                              headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= params.get("limit", 20)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


# --- what is listed ----------------------------------------------------------------------------


def test_lists_own_recipes_by_default_and_others_public_ones_only_when_asked(
    client, db: Session, alice, bob, as_alice
) -> None:
    make_recipe(db, alice, title="Alice private", visibility="private")
    make_recipe(db, alice, title="Alice public", visibility="public")
    make_recipe(db, bob, title="Bob private", visibility="private")
    make_recipe(db, bob, title="Bob public", visibility="public")

    def listed(**params: Any) -> list[str]:
        return titles(client.get(RECIPES, params={"sort": "title", **params}, headers=as_alice))

    assert listed() == ["Alice private", "Alice public"]
    assert listed(scope="mine") == ["Alice private", "Alice public"]
    assert listed(scope="all") == ["Alice private", "Alice public", "Bob public"]
    assert listed(scope="public") == ["Bob public"]
    assert listed(scope="public", owner="me") == []
    assert listed(scope="mine", owner=str(bob.id)) == []
    for bad in ("everyone", "", "ALL"):
        assert_problem(client.get(RECIPES, params={"scope": bad}, headers=as_alice), 422)


def test_items_are_summaries_with_tags_and_image_flag(client, db: Session, alice, as_alice) -> None:
    recipe = make_recipe(
        db, alice, title="Soup", description="x" * 500, tags=["b-tag", "a-tag"],
        ingredients=["salt"], steps=["Stir"], prep_minutes=5, cook_minutes=7, cuisine="Thai",
    )
    item = client.get(RECIPES, headers=as_alice).json()["items"][0]
    assert item["id"] == str(recipe.id)
    assert item["tags"] == ["a-tag", "b-tag"]
    assert item["total_minutes"] == 12 and item["cuisine"] == "Thai"
    assert item["has_image"] is False and item["is_favorite"] is False
    assert item["description_excerpt"] == "x" * 280 + "…"
    assert "steps" not in item and "ingredients" not in item


def test_owner_filter(client, db: Session, alice, bob, as_alice) -> None:
    make_recipe(db, alice, title="Mine")
    make_recipe(db, bob, title="Bob public", visibility="public")
    make_recipe(db, bob, title="Bob private")
    assert titles(client.get(RECIPES, params={"owner": "me"}, headers=as_alice)) == ["Mine"]
    by_bob = client.get(RECIPES, params={"owner": str(bob.id)}, headers=as_alice)
    assert titles(by_bob) == ["Bob public"]
    by_me_id = client.get(RECIPES, params={"owner": str(alice.id)}, headers=as_alice)
    assert titles(by_me_id) == ["Mine"]
    bob_private = {"owner": str(bob.id), "visibility": "private"}
    assert titles(client.get(RECIPES, params=bob_private, headers=as_alice)) == []
    for bad in ["you", "1' OR 1=1--", "%", "0" * 37]:
        assert_problem(client.get(RECIPES, params={"owner": bad}, headers=as_alice), 422)


def test_visibility_filter(client, db: Session, alice, bob, as_alice) -> None:
    make_recipe(db, alice, title="A private")
    make_recipe(db, alice, title="A public", visibility="public")
    make_recipe(db, bob, title="B public", visibility="public")
    private = client.get(RECIPES, params={"visibility": "private"}, headers=as_alice)
    assert titles(private) == ["A private"]
    public = client.get(RECIPES, params={"visibility": "public", "sort": "title", "scope": "all"},
                        headers=as_alice)
    assert titles(public) == ["A public", "B public"]
    own_public = client.get(RECIPES, params={"visibility": "public"}, headers=as_alice)
    assert titles(own_public) == ["A public"]
    assert_problem(client.get(RECIPES, params={"visibility": "secret"}, headers=as_alice), 422)


def test_tag_filter_requires_every_tag(client, db: Session, alice, as_alice) -> None:
    make_recipe(db, alice, title="Both", tags=["vegan", "quick"])
    make_recipe(db, alice, title="Vegan only", tags=["vegan"])
    make_recipe(db, alice, title="Quick only", tags=["quick"])
    both = client.get(RECIPES, params={"tag": ["vegan", "Quick "]}, headers=as_alice)
    assert titles(both) == ["Both"]
    one = client.get(RECIPES, params={"tag": "vegan", "sort": "title"}, headers=as_alice)
    assert titles(one) == ["Both", "Vegan only"]


def test_ingredient_filter_requires_every_ingredient(client, db: Session, alice, as_alice) -> None:
    make_recipe(db, alice, title="Caprese", ingredients=["Cherry tomatoes", "mozzarella", "basil"])
    make_recipe(db, alice, title="Pesto", ingredients=["basil", "pine nuts"])
    both = client.get(RECIPES, params={"ingredient": ["TOMATO", "basil"]}, headers=as_alice)
    assert titles(both) == ["Caprese"]
    basil = client.get(RECIPES, params={"ingredient": "basil", "sort": "title"}, headers=as_alice)
    assert titles(basil) == ["Caprese", "Pesto"]


def test_sql_wildcards_and_quotes_in_filters_match_literally(
    client, db: Session, alice, as_alice
) -> None:
    make_recipe(db, alice, title="Percent", tags=["50%"], ingredients=["100% cocoa"],
                cuisine="O'Brien's")
    make_recipe(db, alice, title="Under", tags=["a_b"], ingredients=["a_b flour"],
                cuisine="back\\slash")
    make_recipe(db, alice, title="Plain", tags=["500", "axb"], ingredients=["1000 cocoa", "axb"],
                cuisine="Other")

    def only(**params: Any) -> list[str]:
        return titles(client.get(RECIPES, params=params, headers=as_alice))

    assert only(tag="50%") == ["Percent"]
    assert only(tag="%") == [] and only(tag="a_b") == ["Under"]
    assert only(ingredient="100%") == ["Percent"]
    assert only(ingredient="%") == ["Percent"]
    assert only(ingredient="a_b") == ["Under"] and only(ingredient="_") == ["Under"]
    assert only(cuisine="o'brien's") == ["Percent"] and only(cuisine="%") == []
    assert only(cuisine="back\\slash") == ["Under"]
    assert only(ingredient="\\") == [] and only(ingredient="'; DROP TABLE recipes; --") == []


def test_cuisine_and_max_total_minutes(client, db: Session, alice, as_alice) -> None:
    make_recipe(db, alice, title="Quick Thai", cuisine="Thai", prep_minutes=5, cook_minutes=10)
    make_recipe(db, alice, title="Slow Thai", cuisine="thai", prep_minutes=30, cook_minutes=90)
    make_recipe(db, alice, title="Quick Greek", cuisine="Greek", prep_minutes=5, cook_minutes=5)
    thai = client.get(RECIPES, params={"cuisine": "THAI", "sort": "title"}, headers=as_alice)
    assert titles(thai) == ["Quick Thai", "Slow Thai"]
    quick = client.get(RECIPES, params={"max_total_minutes": 15, "sort": "title"},
                       headers=as_alice)
    assert titles(quick) == ["Quick Greek", "Quick Thai"]
    for bad in ["-1", "20161", "soon"]:
        params = {"max_total_minutes": bad}
        assert_problem(client.get(RECIPES, params=params, headers=as_alice), 422)


def test_hostile_filter_values_are_refused_or_harmless(client, as_alice) -> None:
    for params in [{"q": "a\x00b"}, {"tag": "x\x00"}, {"ingredient": "\x1b[31m"},
                   {"cuisine": "a\x00"}, {"q": "x" * 201}, {"tag": ["t"] * 21},
                   {"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"sort": "random"},
                   {"tags": "vegan"}, {"page": "2"}, {"favorites": "maybe"}]:
        assert_problem(client.get(RECIPES, params=params, headers=as_alice), 422)
    assert client.get(RECIPES, params={"q": "", "tag": "", "cursor": ""},
                      headers=as_alice).status_code == 200
    # Percent-escapes that are not UTF-8 (an overlong NUL, a lone surrogate, bare bytes).
    for raw in ["q=%ff%fe", "tag=%C0%80", "q=%ED%A0%80", "cuisine=%00", "cursor=%ff"]:
        response = client.get(f"{RECIPES}?{raw}", headers=as_alice)
        assert response.status_code in (200, 400, 422), response.text


# --- sorting and pages ---------------------------------------------------------------------------


def test_sorts(client, db: Session, alice, as_alice) -> None:
    make_recipe(db, alice, title="Banana bread", created_at=T0, prep_minutes=20, cook_minutes=60)
    make_recipe(db, alice, title="Apple pie", created_at=T0 + timedelta(days=1),
                prep_minutes=30, cook_minutes=45)
    make_recipe(db, alice, title="Cherry salad", created_at=T0 + timedelta(days=2),
                prep_minutes=10, cook_minutes=0)
    order = {
        None: ["Cherry salad", "Apple pie", "Banana bread"],
        "newest": ["Cherry salad", "Apple pie", "Banana bread"],
        "oldest": ["Banana bread", "Apple pie", "Cherry salad"],
        "title": ["Apple pie", "Banana bread", "Cherry salad"],
        "quickest": ["Cherry salad", "Apple pie", "Banana bread"],
    }
    for sort, expected in order.items():
        params = {"sort": sort} if sort else {}
        assert titles(client.get(RECIPES, params=params, headers=as_alice)) == expected
    body = assert_problem(client.get(RECIPES, params={"sort": "relevance"}, headers=as_alice), 422)
    assert body["type"].endswith("relevance-needs-query")


@pytest.mark.parametrize("sort", ["newest", "oldest", "title", "quickest"])
def test_cursor_pages_cover_everything_once_even_with_ties(
    client, db: Session, alice, bob, as_alice, sort: str
) -> None:
    # Ties on every sort key: equal timestamps, titles and times, so only the id breaks them.
    make_recipes(db, alice, 9, created_at=T0, title="Same", prep_minutes=1, cook_minutes=1)
    make_recipes(db, bob, 8, created_at=T0, title="Same", prep_minutes=1, cook_minutes=1,
                 visibility="public")
    make_recipes(db, bob, 3, visibility="private")
    for i in range(6):
        make_recipe(db, alice if i % 2 else bob, title=f"T{i}", created_at=T0 + timedelta(hours=i),
                    prep_minutes=i, cook_minutes=0, visibility="public")
    everything = walk(client, as_alice, sort=sort, limit=100, scope="all")
    assert len(everything) == 23
    for limit in (1, 4, 7):
        paged = walk(client, as_alice, sort=sort, limit=limit, scope="all")
        assert [item["id"] for item in paged] == [item["id"] for item in everything]


def test_default_limit_and_total(client, db: Session, alice, as_alice) -> None:
    make_recipes(db, alice, 25)
    first = client.get(RECIPES, headers=as_alice).json()
    assert len(first["items"]) == 20 and first["next_cursor"] and first["total"] is None
    with_total = client.get(RECIPES, params={"include_total": "true", "limit": 5},
                            headers=as_alice).json()
    assert with_total["total"] == 25 and len(with_total["items"]) == 5
    second = client.get(RECIPES, params={"cursor": first["next_cursor"], "include_total": True},
                        headers=as_alice).json()
    assert len(second["items"]) == 5 and second["next_cursor"] is None and second["total"] == 25
    filtered = client.get(RECIPES, params={"include_total": True, "tag": "none"},
                          headers=as_alice).json()
    assert filtered["total"] == 0 and filtered["items"] == []


# --- hostile cursors -----------------------------------------------------------------------------


@pytest.fixture
def cursor(client, db: Session, alice, as_alice) -> str:
    make_recipes(db, alice, 3, tags=["soup"])
    page = client.get(RECIPES, params={"limit": 1, "tag": "soup"}, headers=as_alice).json()
    assert page["next_cursor"]
    return page["next_cursor"]


def _flip(text: str, index: int) -> str:
    char = text[index]
    return text[:index] + ("A" if char != "A" else "B") + text[index + 1:]


def test_tampered_cursors_are_400(client, cursor: str, as_alice) -> None:
    base = {"limit": 1, "tag": "soup"}
    ok = client.get(RECIPES, params={**base, "cursor": cursor}, headers=as_alice)
    assert ok.status_code == 200
    body, mac = cursor.split(".")
    decoded = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    forged_body = base64.urlsafe_b64encode(decoded.replace(b'"f"', b'"g"')).decode().rstrip("=")
    hostile = [
        _flip(cursor, 3), _flip(cursor, len(cursor) - 2), cursor + "x", cursor[:-4],
        f"{forged_body}.{mac}", "not-a-cursor", "%%%%", "a.b", "....", "", "🍅.🍅",
        base64.urlsafe_b64encode(b'{"f":"x","k":1,"i":"00"}').decode() + ".AAAA",
        "A" * 10_000, "A" * 100 + "." + "B" * 43,
    ]
    for token in hostile:
        if not token:
            continue
        response = client.get(RECIPES, params={**base, "cursor": token}, headers=as_alice)
        problem = assert_problem(response, 400)
        assert problem["type"].endswith("invalid-cursor")


def test_cursor_of_another_query_or_user_is_400(client, cursor: str, app, bob, as_alice) -> None:
    for other_query in [{"tag": "stew"}, {"tag": "soup", "sort": "oldest"}, {},
                        {"tag": "soup", "q": "x"}, {"tag": "soup", "favorites": True}]:
        response = client.get(RECIPES, params={**other_query, "cursor": cursor}, headers=as_alice)
        assert_problem(response, 400)
    # Page size is not part of the query: changing it keeps the cursor valid.
    resized = client.get(RECIPES, params={"tag": "soup", "limit": 50, "cursor": cursor},
                         headers=as_alice)
    assert resized.status_code == 200 and len(resized.json()["items"]) == 2
    as_bob = auth_headers(app, bob)
    stolen = client.get(RECIPES, params={"tag": "soup", "limit": 1, "cursor": cursor},
                        headers=as_bob)
    assert_problem(stolen, 400)


def test_cursor_signed_with_another_secret_is_400(
    client, cursor: str, make_client, make_settings, db: Session, alice
) -> None:
    from app.core.secret_key import generate_secret_key

    other = make_client(make_settings(SECRET_KEY=generate_secret_key()))
    headers = auth_headers(other.app, alice)
    response = other.get(RECIPES, params={"limit": 1, "tag": "soup", "cursor": cursor},
                         headers=headers)
    assert_problem(response, 400)


def test_a_deleted_cursor_row_does_not_break_the_next_page(
    client, db: Session, alice, as_alice
) -> None:
    make_recipes(db, alice, 4)
    page = client.get(RECIPES, params={"limit": 2}, headers=as_alice).json()
    client.delete(recipe_url(page["items"][-1]["id"]), headers=as_alice)
    rest = client.get(RECIPES, params={"limit": 2, "cursor": page["next_cursor"]},
                      headers=as_alice)
    assert rest.status_code == 200 and len(rest.json()["items"]) == 2


def test_other_users_unrelated(client, db: Session, as_alice) -> None:
    stranger = make_user(db)
    make_recipes(db, stranger, 3)
    assert client.get(RECIPES, headers=as_alice).json()["items"] == []
