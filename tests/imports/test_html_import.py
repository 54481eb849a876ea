"""POST /api/v1/recipe-imports/html: fixture pages in the shapes of big recipe sites."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.users.models import User
from tests.imports import pages
from tests.problems import assert_problem
from tests.recipes.factories import make_recipe

HTML = "/api/v1/recipe-imports/html"
SOURCE = "https://recipes.example/mac-and-cheese/"


def _import(client: TestClient, headers: dict[str, str], html: str,
            source_url: str | None = SOURCE) -> dict:
    body = {"html": html} | ({"source_url": source_url} if source_url else {})
    response = client.post(HTML, json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_graph_page_becomes_a_draft_that_posts_back_unchanged(
    client: TestClient, as_alice: dict[str, str]
) -> None:
    result = _import(client, as_alice, pages.graph_page())
    draft = result["draft"]
    assert result["method"] == "json-ld"
    assert result["source"] == {"url": SOURCE, "final_url": SOURCE,
                                "site_name": "Recipes Example"}
    assert draft["title"] == "Baked Mac & Cheese"
    assert draft["description"] == "A creamy baked mac & cheese with a crisp top."
    assert (draft["servings"], draft["prep_minutes"], draft["cook_minutes"]) == (4, 15, 45)
    assert draft["cuisine"] == "American"
    assert draft["tags"] == ["pasta", "cheese", "comfort food", "dinner", "main course"]
    assert draft["ingredients"][0] == {"quantity": "1.5", "unit": "cup",
                                       "name": "elbow macaroni", "note": None}
    assert draft["ingredients"][3] == {"quantity": "8", "unit": "oz", "name": "sharp cheddar",
                                       "note": "For the sauce; grated"}
    assert [s["text"] for s in draft["steps"]] == [
        "Pasta: Boil the macaroni until al dente.", "Drain and toss with the butter.",
        "Sauce: Warm the milk & stir in the cheese.", "Bake at 190°C for 20 minutes."]
    assert result["image_urls"] == ["https://recipes.example/img/mac-16x9.jpg",
                                    "https://recipes.example/img/mac-1x1.jpg",
                                    "https://recipes.example/img/mac-4x3.jpg"]
    assert result["warnings"] == []
    created = client.post("/api/v1/recipes", json=draft, headers=as_alice)
    assert created.status_code == 201, created.text
    assert created.json()["ingredients"][0]["quantity"] == "1.5"


def test_json_ld_array_with_text_instructions_and_makes_yield(
    client: TestClient, as_alice: dict[str, str]
) -> None:
    result = _import(client, as_alice, pages.array_page())
    draft = result["draft"]
    assert draft["servings"] == 12
    assert [s["text"] for s in draft["steps"]] == ["Heat the oven.", "Mix everything.",
                                                   "Bake 12 minutes."]
    assert draft["cook_minutes"] == 35
    assert [w["code"] for w in result["warnings"]] == ["guessed"]  # total time only


def test_microdata_page(client: TestClient, as_alice: dict[str, str]) -> None:
    result = _import(client, as_alice, pages.microdata_page())
    assert result["method"] == "microdata"
    draft = result["draft"]
    assert (draft["title"], draft["servings"], draft["cuisine"]) == ("Tomato Soup", 6, "Italian")
    assert draft["ingredients"][0] == {"quantity": "2", "unit": "can",
                                       "name": "chopped tomatoes", "note": "400g"}
    assert len(draft["steps"]) == 2


def test_recipe_inside_an_item_list_is_found_by_the_fallback(
    client: TestClient, as_alice: dict[str, str]
) -> None:
    result = _import(client, as_alice, pages.itemlist_page())
    assert result["draft"]["title"] == "Green Salad"
    assert [s["text"] for s in result["draft"]["steps"]] == ["Wash the lettuce.",
                                                             "Dress and serve."]


def test_pasted_json_ld_on_its_own(client: TestClient, as_alice: dict[str, str]) -> None:
    recipe = {"@context": "https://schema.org", "@type": "Recipe", "name": "Toast",
              "recipeIngredient": ["2 slices bread"], "recipeInstructions": ["Toast it."]}
    result = _import(client, as_alice, json.dumps(recipe), source_url=None)
    assert result["method"] == "json-ld"
    assert result["draft"]["source_url"] is None
    assert result["source"] == {"url": None, "final_url": None, "site_name": None}


def test_opengraph_only_recipe_page_gives_a_thin_draft_with_warnings(
    client: TestClient, as_alice: dict[str, str]
) -> None:
    result = _import(client, as_alice, pages.opengraph_recipe_page())
    assert result["method"] == "opengraph"
    assert result["draft"]["title"] == "Grandma's Stew"
    assert result["image_urls"] == ["https://stew.example/stew.jpg"]
    assert {(w["code"], w["field"]) for w in result["warnings"]} >= {
        ("dropped", "ingredients"), ("dropped", "steps"), ("guessed", "servings")}


def test_known_site_uses_its_own_parser(client: TestClient, as_alice: dict[str, str]) -> None:
    result = _import(client, as_alice, pages.graph_page(),
                     source_url="https://www.allrecipes.com/recipe/1/mac/")
    assert result["method"] == "site-parser"
    assert result["draft"]["title"] == "Baked Mac & Cheese"
    assert result["draft"]["source_url"] == "https://www.allrecipes.com/recipe/1/mac/"


def test_page_without_a_recipe_is_a_422_saying_so(client: TestClient,
                                                  as_alice: dict[str, str]) -> None:
    response = client.post(HTML, json={"html": pages.no_recipe_page()}, headers=as_alice)
    assert_problem(response, 422, "import-no-recipe")
    for junk in ("not html at all", "{not json", "[]", "<" * 10_000, "<html>\x00</html>"):
        response = client.post(HTML, json={"html": junk}, headers=as_alice)
        assert_problem(response, 422, "import-no-recipe")


def test_bot_wall_page_says_paste_instead(client: TestClient, as_alice: dict[str, str]) -> None:
    response = client.post(HTML, json={"html": pages.bot_wall_page()}, headers=as_alice)
    body = assert_problem(response, 422, "import-site-refused")
    assert body["paste_instead"] is True


def test_text_over_our_limits_is_cut_with_warnings(client: TestClient,
                                                   as_alice: dict[str, str]) -> None:
    result = _import(client, as_alice, pages.graph_page(pages.overlong_recipe(), chrome=False))
    draft = result["draft"]
    assert len(draft["title"]) == 200 and draft["title"].endswith("…")
    assert len(draft["description"]) <= 10_000
    assert len(draft["ingredients"]) == 100 and len(draft["tags"]) == 20
    assert draft["servings"] == 1000 and draft["cook_minutes"] == 10_080
    fields = {(w["code"], w["field"]) for w in result["warnings"]}
    assert fields >= {("truncated", "title"), ("truncated", "description"),
                      ("truncated", "servings"), ("truncated", "cook_minutes"),
                      ("dropped", "tags"), ("dropped", "ingredients"), ("truncated", "steps")}
    assert client.post("/api/v1/recipes", json=draft, headers=as_alice).status_code == 201


def test_hostile_text_is_cleaned_not_refused(client: TestClient, as_alice: dict[str, str]) -> None:
    recipe = {"@context": "https://schema.org", "@type": "Recipe",
              "name": "<script>alert(1)</script>Pie\u0007 &lt;b&gt;",
              "description": "a\u0000b &amp;amp; <img src=x onerror=alert(1)>",
              "recipeIngredient": ["1 cup <i>flour</i>\u0001", "\u0000"],
              "recipeInstructions": [{"@type": "HowToStep", "text": "<p>Mix\u000b</p>"}],
              "recipeYield": {"weird": True}, "prepTime": "P1Y", "keywords": 42,
              "image": ["javascript:alert(1)", "file:///etc/passwd",
                        {"url": "//cdn.example/a.jpg"}]}
    result = _import(client, as_alice, json.dumps(recipe), source_url="https://pie.example/p")
    draft = result["draft"]
    assert "<" not in draft["title"] and "script" not in draft["title"]
    assert "\u0000" not in (draft["description"] or "")
    assert draft["ingredients"][0]["name"] == "flour"
    assert result["image_urls"] == ["https://cdn.example/a.jpg"]
    assert client.post("/api/v1/recipes", json=draft, headers=as_alice).status_code == 201


def test_duplicates_are_the_callers_own_recipes_with_the_same_canonical_url(
    client: TestClient, db: Session, alice: User, bob: User, as_alice: dict[str, str]
) -> None:
    mine = make_recipe(db, alice, title="My mac", source_url="https://RECIPES.example/mac-and-cheese/#top")
    make_recipe(db, alice, title="Other page", source_url="https://recipes.example/other/")
    make_recipe(db, bob, title="Bob's", source_url=SOURCE, visibility="public")
    db.commit()
    result = _import(client, as_alice, pages.graph_page(),
                     source_url=f"{SOURCE}?utm_source=newsletter&fbclid=abc")
    assert result["draft"]["source_url"] == SOURCE
    assert result["duplicates"] == [{"id": str(mine.id), "title": "My mac"}]


def test_html_import_needs_a_token_and_bounds_its_input(client: TestClient,
                                                        as_alice: dict[str, str]) -> None:
    assert_problem(client.post(HTML, json={"html": "<html></html>"}), 401)
    assert_problem(client.post(HTML, json={"html": ""}, headers=as_alice), 422)
    assert_problem(client.post(HTML, json={"html": "x", "extra": 1}, headers=as_alice), 422)
    assert_problem(client.post(HTML, json={"html": "x", "source_url": "javascript:1"},
                               headers=as_alice), 422)


def test_fraction_strings_are_accepted_as_quantities(client: TestClient,
                                                     as_alice: dict[str, str]) -> None:
    recipe = {"title": "Fractions", "ingredients": [
        {"quantity": q, "name": "x"} for q in ("1/2", "1 1/2", "½", "1-1/2", "1/3", "2")]}
    response = client.post("/api/v1/recipes", json=recipe, headers=as_alice)
    assert response.status_code == 201, response.text
    assert [i["quantity"] for i in response.json()["ingredients"]] == [
        "0.5", "1.5", "0.5", "1.5", "0.3333", "2"]
    for bad in ("1/0", "abc", "-1/2", "1//2"):
        response = client.post("/api/v1/recipes", headers=as_alice, json={
            "title": "Bad", "ingredients": [{"quantity": bad, "name": "x"}]})
        assert_problem(response, 422)


def test_a_pasted_page_may_be_larger_than_a_json_body(client: TestClient,
                                                      as_alice: dict[str, str]) -> None:
    padded = pages.array_page().replace("<body>", "<body>" + "<p>filler</p>" * 120_000)
    assert len(padded) > 1024 * 1024  # over MAX_JSON_BODY_BYTES, under the page cap
    assert _import(client, as_alice, padded)["draft"]["title"] == "Oat Cookies"
