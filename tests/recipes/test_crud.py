"""POST/GET/PATCH/DELETE /recipes: whole-recipe writes, ownership, ETags and preconditions."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.recipes.models import Recipe, RecipeIngredient, RecipeStep, RecipeTag
from tests.recipes.factories import make_recipe
from tests.recipes.support import RECIPES, assert_problem, comparable, payload, recipe_url

# --- create --------------------------------------------------------------------------------


def test_create_stores_the_whole_recipe_in_one_request(client, as_alice, alice) -> None:
    response = client.post(RECIPES, json=payload(), headers=as_alice)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == recipe_url(body["id"])
    assert response.headers["etag"].startswith('"')
    assert body["owner_id"] == str(alice.id)
    assert body["title"] == "Tomato Soup"
    assert body["total_minutes"] == 35
    assert body["tags"] == ["soup", "vegan"]
    assert [i["name"] for i in body["ingredients"]] == ["tomatoes", "olive oil", "salt"]
    assert body["ingredients"][0] == {
        "quantity": "800", "unit": "g", "name": "tomatoes", "note": "ripe",
    }
    assert body["ingredients"][2]["quantity"] is None
    assert [s["text"] for s in body["steps"]] == ["Chop the tomatoes.", "Simmer for 20 minutes."]
    assert body["visibility"] == "private" and body["version"] == 1
    assert body["has_image"] is False

    fetched = client.get(response.headers["location"], headers=as_alice)
    assert fetched.status_code == 200
    assert fetched.json() == body
    assert fetched.headers["etag"] == response.headers["etag"]


def test_create_with_only_a_title_uses_defaults(client, as_alice) -> None:
    response = client.post(RECIPES, json={"title": "Toast"}, headers=as_alice)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["servings"] == 1 and body["total_minutes"] == 0
    assert body["tags"] == [] and body["ingredients"] == [] and body["steps"] == []


def test_tags_are_trimmed_lowercased_and_deduplicated(client, as_alice) -> None:
    tags = [" Quick ", "QUICK", "Weeknight  Dinner", "quick"]
    body = client.post(RECIPES, json=payload(tags=tags), headers=as_alice).json()
    assert body["tags"] == ["quick", "weeknight dinner"]


def test_html_is_stripped_so_stored_text_is_plain(client, as_alice, db: Session) -> None:
    response = client.post(RECIPES, json=payload(
        title="<b>Soup</b><script>x</script>",
        description='<p onclick="x()">Hot &amp; <i>spicy</i></p><img src=x onerror=alert(1)>',
        tags=["<em>Vegan</em>"],
        ingredients=[{"name": "<a href='javascript:x'>salt</a>", "note": "<u>fine</u>"}],
        steps=[{"text": "Stir<script>steal()</script>\nthen serve"}],
    ), headers=as_alice)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["title"] == "Soup"
    assert body["description"] == "Hot & spicy"
    assert body["tags"] == ["vegan"]
    assert body["ingredients"][0]["name"] == "salt"
    assert body["ingredients"][0]["note"] == "fine"
    assert body["steps"][0]["text"] == "Stir\nthen serve"
    stored = db.scalar(select(Recipe.title).where(Recipe.id == body["id"]))
    assert stored == "Soup"


def test_title_that_is_only_markup_is_refused(client, as_alice) -> None:
    for title in ["<script>alert(1)</script>", "<b></b>", "   ", ""]:
        response = client.post(RECIPES, json=payload(title=title), headers=as_alice)
        assert_problem(response, 422)


def test_sql_metacharacters_are_stored_literally(client, as_alice) -> None:
    title = "Robert'); DROP TABLE recipes;-- 50% _off_ \\ \"quoted\""
    response = client.post(RECIPES, json=payload(title=title), headers=as_alice)
    assert response.status_code == 201, response.text
    assert client.get(response.headers["location"], headers=as_alice).json()["title"] == title


def test_unknown_fields_are_refused(client, as_alice) -> None:
    for extra in [
        {"owner_id": "00000000-0000-0000-0000-000000000000"}, {"owner": "bob"},
        {"id": "00000000-0000-0000-0000-000000000000"}, {"created_at": "2020-01-01T00:00:00Z"},
        {"version": 7}, {"total_minutes": 1}, {"has_image": True}, {"image_sha256": "x"},
    ]:
        response = client.post(RECIPES, json=payload(**extra), headers=as_alice)
        assert_problem(response, 422)
    nested = payload(ingredients=[{"name": "salt", "position": 3}])
    assert_problem(client.post(RECIPES, json=nested, headers=as_alice), 422)
    step = payload(steps=[{"text": "Stir", "image": "x"}])
    assert_problem(client.post(RECIPES, json=step, headers=as_alice), 422)


def test_limits_are_accepted_and_one_past_them_refused(client, as_alice) -> None:
    at_limit = {
        "title": "t" * 200,
        "description": "d" * 10_000,
        "ingredients": [{"name": f"item {i}"} for i in range(100)],
        "steps": [{"text": "s" * 5_000}] * 100,
        "tags": [f"tag{i:02d}" + "x" * 35 for i in range(20)],
        "servings": 1000, "prep_minutes": 10_080, "cook_minutes": 10_080,
        "source_url": "https://example.com/" + "a" * (2048 - 20),
    }
    response = client.post(RECIPES, json=payload(**at_limit), headers=as_alice)
    assert response.status_code == 201, response.text
    assert response.json()["total_minutes"] == 20_160

    past_limit = {
        "title": "t" * 201,
        "description": "d" * 10_001,
        "ingredients": [{"name": "x"}] * 101,
        "steps": [{"text": "s"}] * 101,
        "tags": [f"tag{i}" for i in range(21)],
        "servings": 1001, "prep_minutes": 10_081, "cook_minutes": -1,
        "source_url": "https://example.com/" + "a" * (2049 - 20),
    }
    for field, value in past_limit.items():
        response = client.post(RECIPES, json=payload(**{field: value}), headers=as_alice)
        assert_problem(response, 422)
    for bad in [[{"text": "s" * 5_001}], [{"text": ""}]]:
        assert_problem(client.post(RECIPES, json=payload(steps=bad), headers=as_alice), 422)
    for bad_tag in ["x" * 41, "", "<b></b>"]:
        response = client.post(RECIPES, json=payload(tags=[bad_tag]), headers=as_alice)
        assert_problem(response, 422)
    assert_problem(client.post(RECIPES, json=payload(servings=0), headers=as_alice), 422)


def test_quantities_are_decimals_that_fit_the_column(client, as_alice) -> None:
    good = client.post(RECIPES, json=payload(ingredients=[
        {"name": "a", "quantity": "9999999999.9999"}, {"name": "b", "quantity": 0.1},
        {"name": "c", "quantity": "1.50000"}, {"name": "d", "quantity": 0},
    ]), headers=as_alice)
    assert good.status_code == 201, good.text
    assert [i["quantity"] for i in good.json()["ingredients"]] == [
        "9999999999.9999", "0.1", "1.5", "0",
    ]
    for quantity in ["99999999999", "0.00001", -1, "NaN", "Infinity", "1e400", 1e300, "abc",
                     True, [], {}]:
        body = payload(ingredients=[{"name": "x", "quantity": quantity}])
        assert_problem(client.post(RECIPES, json=body, headers=as_alice), 422)


def test_source_url_must_be_http_or_https(client, as_alice) -> None:
    for url in ["http://example.com", "https://example.com/a?b=1&c=%20"]:
        response = client.post(RECIPES, json=payload(source_url=url), headers=as_alice)
        assert response.status_code == 201, response.text
        assert response.json()["source_url"] == url
    for url in ["javascript:alert(1)", "ftp://example.com/x", "data:text/html,x", "//example.com",
                "https://", "https://exa mple.com", "https://example.com:99999/",
                "http://[::1", "https://example.com/\x00"]:
        response = client.post(RECIPES, json=payload(source_url=url), headers=as_alice)
        assert_problem(response, 422)


def test_nul_bytes_and_control_characters_are_refused(client, as_alice) -> None:
    json_headers = {**as_alice, "content-type": "application/json"}
    hostile = ["a\x00b", "a\x07b", "a\x1bb", "a\x7fb", "a\u0085b", "a\ud800b", "&#1;"]
    for text in hostile:
        for body in [
            payload(title=text), payload(description=text), payload(tags=[text]),
            payload(ingredients=[{"name": text}]), payload(steps=[{"text": text}]),
            payload(cuisine=text),
        ]:
            # Sent as escaped JSON: a lone surrogate cannot be encoded by the client itself.
            response = client.post(RECIPES, content=json.dumps(body), headers=json_headers)
            assert_problem(response, 422)
    # A single-line field refuses newlines; long text keeps them (and tabs).
    assert_problem(client.post(RECIPES, json=payload(title="a\nb"), headers=as_alice), 422)
    ok = client.post(RECIPES, json=payload(description="a\r\n\tb"), headers=as_alice)
    assert ok.status_code == 201 and ok.json()["description"] == "a\n\tb"


def test_wrong_types_and_bodies_are_422_not_500(client, as_alice) -> None:
    for body in [None, [], "text", 42, {"title": 42}, {"title": ["a"]}, {"title": None},
                 payload(tags="vegan"), payload(ingredients={"name": "x"}),
                 payload(visibility="friends"), payload(servings="many")]:
        assert_problem(client.post(RECIPES, json=body, headers=as_alice), 422)
    raw = client.post(RECIPES, content=b"{not json", headers={
        **as_alice, "content-type": "application/json",
    })
    assert_problem(raw, 422)


def test_recipes_need_a_token(client) -> None:
    assert_problem(client.post(RECIPES, json=payload()), 401)
    assert_problem(client.get(RECIPES), 401)


# --- read ------------------------------------------------------------------------------------


def test_another_users_private_recipe_is_404_exactly_like_a_missing_id(
    client, db: Session, alice, as_bob
) -> None:
    private = make_recipe(db, alice, visibility="private")
    hidden = assert_problem(client.get(recipe_url(private.id), headers=as_bob), 404)
    missing = assert_problem(
        client.get(recipe_url("0b7c1f52-2f43-4c1e-9d5e-8d7c2b1a0f00"), headers=as_bob), 404
    )
    assert comparable(hidden) == comparable(missing)


def test_another_users_public_recipe_is_readable(client, db: Session, alice, as_bob) -> None:
    public = make_recipe(db, alice, visibility="public", title="Shared Stew")
    response = client.get(recipe_url(public.id), headers=as_bob)
    assert response.status_code == 200
    assert response.json()["title"] == "Shared Stew"


def test_malformed_id_is_422(client, as_alice) -> None:
    for bad in ["not-a-uuid", "1' OR '1'='1", "%00"]:
        assert_problem(client.get(recipe_url(bad), headers=as_alice), 422)


def test_if_none_match_gives_304_until_the_recipe_changes(client, as_alice) -> None:
    created = client.post(RECIPES, json=payload(), headers=as_alice)
    url, etag = created.headers["location"], created.headers["etag"]
    not_modified = client.get(url, headers={**as_alice, "If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.headers["etag"] == etag
    assert not_modified.content == b""
    weak_and_listed = client.get(url, headers={**as_alice, "If-None-Match": f'"x", W/{etag}'})
    assert weak_and_listed.status_code == 304

    client.patch(url, json={"title": "Better Soup"}, headers=as_alice)
    changed = client.get(url, headers={**as_alice, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


def test_servings_scales_quantities_with_decimal_rounding(client, as_alice) -> None:
    body = payload(servings=4, ingredients=[
        {"quantity": "800", "unit": "g", "name": "tomatoes"},
        {"quantity": "1", "unit": "tbsp", "name": "olive oil"},
        {"quantity": "0.3333", "unit": "cup", "name": "cream"},
        {"name": "salt"},
    ])
    url = client.post(RECIPES, json=body, headers=as_alice).headers["location"]

    six = client.get(url, params={"servings": 6}, headers=as_alice)
    assert six.status_code == 200
    data = six.json()
    assert data["servings"] == 6 and data["scaled_from_servings"] == 4
    assert [i["quantity"] for i in data["ingredients"]] == ["1200", "1.5", "0.5", None]

    three = client.get(url, params={"servings": 3}, headers=as_alice).json()
    assert [i["quantity"] for i in three["ingredients"]] == ["600", "0.75", "0.25", None]

    one = client.get(url, params={"servings": 1}, headers=as_alice).json()
    assert [i["quantity"] for i in one["ingredients"]] == ["200", "0.25", "0.0833", None]

    same = client.get(url, params={"servings": 4}, headers=as_alice).json()
    assert same["scaled_from_servings"] is None
    assert [i["quantity"] for i in same["ingredients"]] == ["800", "1", "0.3333", None]
    assert six.headers["etag"] != client.get(url, headers=as_alice).headers["etag"]


def test_servings_out_of_range_is_422(client, as_alice) -> None:
    url = client.post(RECIPES, json=payload(), headers=as_alice).headers["location"]
    for value in ["0", "1001", "-1", "abc", "1.5", "1e3"]:
        assert_problem(client.get(url, params={"servings": value}, headers=as_alice), 422)


# --- update ------------------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields(client, as_alice) -> None:
    created = client.post(RECIPES, json=payload(), headers=as_alice).json()
    response = client.patch(
        recipe_url(created["id"]), json={"title": "Roast Tomato Soup", "prep_minutes": 5},
        headers=as_alice,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "Roast Tomato Soup"
    assert body["total_minutes"] == 30
    assert body["version"] == created["version"] + 1
    assert body["ingredients"] == created["ingredients"]
    assert body["steps"] == created["steps"] and body["tags"] == created["tags"]
    assert response.headers["etag"] == client.get(
        recipe_url(created["id"]), headers=as_alice
    ).headers["etag"]


def test_patch_replaces_a_given_list_whole(client, as_alice, db: Session) -> None:
    created = client.post(RECIPES, json=payload(), headers=as_alice).json()
    body = client.patch(recipe_url(created["id"]), json={
        "ingredients": [{"quantity": "2", "name": "eggs"}],
        "steps": [],
        "tags": ["Breakfast"],
    }, headers=as_alice).json()
    assert [i["name"] for i in body["ingredients"]] == ["eggs"]
    assert body["steps"] == [] and body["tags"] == ["breakfast"]
    assert db.scalar(select(func.count()).select_from(RecipeIngredient)) == 1
    assert db.scalar(select(func.count()).select_from(RecipeStep)) == 0


def test_patch_null_clears_optional_fields_only(client, as_alice) -> None:
    url = client.post(RECIPES, json=payload(), headers=as_alice).headers["location"]
    cleared = client.patch(url, json={"description": None, "cuisine": None, "source_url": None},
                           headers=as_alice)
    assert cleared.status_code == 200
    assert cleared.json()["description"] is None and cleared.json()["cuisine"] is None
    for field in ["title", "servings", "visibility", "tags", "ingredients", "steps"]:
        assert_problem(client.patch(url, json={field: None}, headers=as_alice), 422)


def test_patch_refuses_unknown_fields_and_hostile_text(client, as_alice) -> None:
    url = client.post(RECIPES, json=payload(), headers=as_alice).headers["location"]
    for body in [{"owner_id": "x"}, {"version": 99}, {"id": "x"}, {"title": "a\x00"},
                 {"title": "<i></i>"}, {"tags": ["t"] * 21}, {"servings": 1001}]:
        assert_problem(client.patch(url, json=body, headers=as_alice), 422)
    assert client.get(url, headers=as_alice).json()["version"] == 1


def test_empty_patch_changes_nothing(client, as_alice) -> None:
    created = client.post(RECIPES, json=payload(), headers=as_alice)
    response = client.patch(created.headers["location"], json={}, headers=as_alice)
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert response.headers["etag"] == created.headers["etag"]


def test_non_owner_patch_and_delete_are_404(client, db: Session, alice, as_bob) -> None:
    for visibility in ["private", "public"]:
        recipe = make_recipe(db, alice, visibility=visibility, title="Alice's")
        assert_problem(client.patch(recipe_url(recipe.id), json={"title": "Mine"},
                                    headers=as_bob), 404)
        assert_problem(client.delete(recipe_url(recipe.id), headers=as_bob), 404)
        db.expire_all()
        assert db.get(Recipe, recipe.id).title == "Alice's"


def test_stale_if_match_is_412_and_changes_nothing(client, as_alice) -> None:
    created = client.post(RECIPES, json=payload(), headers=as_alice)
    url, first_etag = created.headers["location"], created.headers["etag"]
    fresh = client.patch(
        url, json={"title": "Second"}, headers={**as_alice, "If-Match": first_etag}
    )
    assert fresh.status_code == 200

    stale = client.patch(url, json={"title": "Third", "tags": []},
                         headers={**as_alice, "If-Match": first_etag})
    body = assert_problem(stale, 412)
    assert body["type"].endswith("recipe-changed")
    current = client.get(url, headers=as_alice).json()
    assert current["title"] == "Second" and current["tags"] == ["soup", "vegan"]

    assert_problem(client.delete(url, headers={**as_alice, "If-Match": first_etag}), 412)
    # Not an ETag at all: the client is told so (400), not that the recipe changed.
    garbage = client.patch(url, json={"title": "x"}, headers={**as_alice, "If-Match": "junk"})
    assert_problem(garbage, 400, "malformed-if-match")
    assert client.get(url, headers=as_alice).status_code == 200
    star = client.patch(url, json={"title": "Any"}, headers={**as_alice, "If-Match": "*"})
    assert star.status_code == 200


def test_delete_removes_the_recipe_and_its_children(client, as_alice, db: Session) -> None:
    created = client.post(RECIPES, json=payload(), headers=as_alice)
    url = created.headers["location"]
    response = client.delete(url, headers={**as_alice, "If-Match": created.headers["etag"]})
    assert response.status_code == 204 and response.content == b""
    assert_problem(client.get(url, headers=as_alice), 404)
    assert_problem(client.delete(url, headers=as_alice), 404)
    for model in (Recipe, RecipeTag, RecipeIngredient, RecipeStep):
        assert db.scalar(select(func.count()).select_from(model)) == 0


def test_created_body_equals_a_later_get_whatever_the_tag_order(client, as_alice) -> None:
    created = client.post(RECIPES, json=payload(tags=["zesty", "apple", "Mild"]), headers=as_alice)
    assert created.json()["tags"] == ["apple", "mild", "zesty"]
    assert client.get(created.headers["location"], headers=as_alice).json() == created.json()
