"""Recipes into a list: exact scaling, merging rules, and taking a recipe back out."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session

from app.users.models import User
from tests.recipes.factories import make_recipe
from tests.shopping.support import (
    add_item,
    add_recipe,
    assert_problem,
    item_url,
    lines,
    list_url,
    new_list,
    recipes_url,
)


def _recipe(db: Session, owner: User, *ingredients: object, servings: int = 1, **fields: object):
    return make_recipe(db, owner, servings=servings, ingredients=list(ingredients), **fields)


def test_three_thirds_of_a_cup_make_exactly_one_cup(client, as_alice, alice, db) -> None:
    # 1 cup for 3 servings, asked for 1 serving: a third of a cup, three times over.
    recipes = [_recipe(db, alice, {"name": "milk", "quantity": "1", "unit": "cup"}, servings=3)
               for _ in range(3)]
    list_id = new_list(client, as_alice)
    detail = add_recipe(client, as_alice, list_id, recipes[0].id, servings=1)
    assert lines(detail) == [("milk", "0.333333333333", "cup", False)]
    assert detail["items"][0]["display_quantity"] == "0.333"
    add_recipe(client, as_alice, list_id, recipes[1].id, servings=1)
    detail = add_recipe(client, as_alice, list_id, recipes[2].id, servings=1)
    assert lines(detail) == [("milk", "1", "cup", False)]


def test_quantities_scale_exactly_to_the_servings_asked(client, as_alice, alice, db) -> None:
    soup = _recipe(db, alice, {"name": "tomatoes", "quantity": "800", "unit": "g"},
                   {"name": "olive oil", "quantity": "1", "unit": "tbsp"}, "salt", servings=4)
    list_id = new_list(client, as_alice)
    detail = add_recipe(client, as_alice, list_id, soup.id, servings=6)
    assert lines(detail) == [("tomatoes", "1.2", "kg", False),
                             ("olive oil", "1.5", "tbsp", False), ("salt", None, None, False)]


def test_names_merge_across_case_whitespace_and_simple_plurals(client, as_alice, alice, db):
    first = _recipe(db, alice, {"name": "Tomatoes", "quantity": "2"},
                    {"name": "red  onion", "quantity": "1"}, {"name": "Berries", "quantity": "100",
                                                               "unit": "g"})
    second = _recipe(db, alice, {"name": "tomato", "quantity": "3"},
                     {"name": "Red Onions", "quantity": "2"}, {"name": "berry", "quantity": "50",
                                                                "unit": "grams"})
    list_id = new_list(client, as_alice)
    add_recipe(client, as_alice, list_id, first.id)
    detail = add_recipe(client, as_alice, list_id, second.id)
    assert lines(detail) == [("Tomatoes", "5", None, False), ("red  onion", "3", None, False),
                             ("Berries", "150", "g", False)]


def test_compatible_units_convert_and_read_best(client, as_alice, alice, db) -> None:
    a = _recipe(db, alice, {"name": "flour", "quantity": "750", "unit": "g"},
                {"name": "butter", "quantity": "1", "unit": "lb"},
                {"name": "sugar", "quantity": "2", "unit": "tbsp"})
    b = _recipe(db, alice, {"name": "flour", "quantity": "0.75", "unit": "kg"},
                {"name": "butter", "quantity": "4", "unit": "oz"},
                {"name": "sugar", "quantity": "1", "unit": "tsp"})
    list_id = new_list(client, as_alice)
    add_recipe(client, as_alice, list_id, a.id)
    detail = add_recipe(client, as_alice, list_id, b.id)
    assert lines(detail) == [("flour", "1.5", "kg", False), ("butter", "1.25", "lb", False),
                             ("sugar", "2.333333333333", "tbsp", False)]
    assert detail["items"][2]["display_quantity"] == "2.33"


@pytest.mark.parametrize(("system", "expected"), [
    ("metric", ("336.5882365", "ml")),
    ("us", ("1.422675283773", "cup")),
])
def test_mixed_systems_follow_the_measurement_preference(
    client, app, db, system, expected
) -> None:
    from tests.factories import auth_headers, make_user

    cook = make_user(db, measurement_system=system)
    headers = auth_headers(app, cook)
    a = _recipe(db, cook, {"name": "stock", "quantity": "1", "unit": "cup"})
    b = _recipe(db, cook, {"name": "stock", "quantity": "100", "unit": "ml"})
    list_id = new_list(client, headers)
    add_recipe(client, headers, list_id, a.id)
    detail = add_recipe(client, headers, list_id, b.id)
    assert lines(detail) == [("stock", *expected, False)]


def test_never_across_dimensions_nor_into_a_ticked_item(client, as_alice, alice, db) -> None:
    cups = _recipe(db, alice, {"name": "flour", "quantity": "2", "unit": "cup"})
    grams = _recipe(db, alice, {"name": "flour", "quantity": "100", "unit": "g"})
    list_id = new_list(client, as_alice)
    add_recipe(client, as_alice, list_id, cups.id)
    detail = add_recipe(client, as_alice, list_id, grams.id)
    assert lines(detail) == [("flour", "2", "cup", False), ("flour", "100", "g", False)]
    client.patch(item_url(list_id, detail["items"][1]["id"]), json={"checked": True},
                 headers=as_alice)
    detail = add_recipe(client, as_alice, list_id, grams.id)
    assert lines(detail) == [("flour", "2", "cup", False), ("flour", "100", "g", True),
                             ("flour", "100", "g", False)]


def test_a_line_without_quantity_merges_by_name(client, as_alice, alice, db) -> None:
    a = _recipe(db, alice, "Salt", {"name": "pepper", "quantity": "1", "unit": "tsp"})
    b = _recipe(db, alice, {"name": "salt", "quantity": "1", "unit": "tsp"}, "pepper", "salt")
    list_id = new_list(client, as_alice)
    add_recipe(client, as_alice, list_id, a.id)
    detail = add_recipe(client, as_alice, list_id, b.id)
    assert lines(detail) == [("Salt", "1", "tsp", False), ("pepper", "1", "tsp", False)]


def test_unknown_units_are_kept_as_text_and_never_merged(client, as_alice, alice, db) -> None:
    a = _recipe(db, alice, {"name": "garlic", "quantity": "2", "unit": "clove"},
                {"name": "basil", "quantity": "1", "unit": "handful"})
    list_id = new_list(client, as_alice)
    add_item(client, as_alice, list_id, name="garlic", quantity="1", unit="clove")
    add_recipe(client, as_alice, list_id, a.id)
    detail = add_recipe(client, as_alice, list_id, a.id, servings=2)
    assert lines(detail) == [
        ("garlic", "1", "clove", False), ("garlic", "2", "clove", False),
        ("basil", "1", "handful", False), ("garlic", "4", "clove", False),
        ("basil", "2", "handful", False),
    ]


def test_removing_a_recipe_subtracts_exactly_its_share(client, as_alice, alice, db) -> None:
    a = _recipe(db, alice, {"name": "milk", "quantity": "1", "unit": "cup"},
                {"name": "eggs", "quantity": "2"}, servings=3)
    b = _recipe(db, alice, {"name": "milk", "quantity": "250", "unit": "ml"}, "cinnamon")
    list_id = new_list(client, as_alice)
    add_item(client, as_alice, list_id, name="egg", quantity="6")
    add_recipe(client, as_alice, list_id, a.id, servings=1)
    add_recipe(client, as_alice, list_id, b.id)
    before = add_recipe(client, as_alice, list_id, a.id, servings=1)
    assert lines(before) == [("egg", "7.333333333333", None, False),
                             ("milk", "407.725491", "ml", False), ("cinnamon", None, None, False)]

    response = client.delete(f"{recipes_url(list_id)}/{a.id}", headers=as_alice)
    assert response.status_code == 200
    assert lines(response.json()) == [("egg", "6", None, False), ("milk", "250", "ml", False),
                                      ("cinnamon", None, None, False)]
    after_b = client.delete(f"{recipes_url(list_id)}/{b.id}", headers=as_alice).json()
    assert lines(after_b) == [("egg", "6", None, False)]
    assert_problem(client.delete(f"{recipes_url(list_id)}/{b.id}", headers=as_alice), 404,
                   "recipe-not-on-shopping-list")


def test_removing_a_recipe_keeps_ticked_and_hand_edited_items(client, as_alice, alice, db):
    a = _recipe(db, alice, {"name": "milk", "quantity": "1", "unit": "l"},
                {"name": "flour", "quantity": "500", "unit": "g"},
                {"name": "sugar", "quantity": "100", "unit": "g"})
    list_id = new_list(client, as_alice)
    items = add_recipe(client, as_alice, list_id, a.id)["items"]
    client.patch(item_url(list_id, items[0]["id"]), json={"checked": True}, headers=as_alice)
    client.patch(item_url(list_id, items[1]["id"]), json={"quantity": "600"}, headers=as_alice)
    detail = client.delete(f"{recipes_url(list_id)}/{a.id}", headers=as_alice).json()
    assert lines(detail) == [("milk", "1", "l", True), ("flour", "600", "g", False)]
    assert detail["items"][1]["edited"] is True


def test_a_merge_into_an_edited_item_adds_to_its_own_quantity(client, as_alice, alice, db):
    a = _recipe(db, alice, {"name": "rice", "quantity": "200", "unit": "g"})
    list_id = new_list(client, as_alice)
    item = add_recipe(client, as_alice, list_id, a.id)["items"][0]
    client.patch(item_url(list_id, item["id"]), json={"quantity": "1", "unit": "kg"},
                 headers=as_alice)
    detail = add_recipe(client, as_alice, list_id, a.id)
    assert lines(detail) == [("rice", "1.2", "kg", False)]


def test_someone_elses_private_recipe_is_404_and_adds_nothing(
    client, as_alice, bob, db
) -> None:
    private = _recipe(db, bob, {"name": "saffron", "quantity": "1", "unit": "g"})
    public = _recipe(db, bob, {"name": "rice", "quantity": "1", "unit": "kg"},
                     visibility="public")
    list_id = new_list(client, as_alice)
    for recipe_id in (private.id, uuid.uuid4()):
        response = client.post(recipes_url(list_id), json={"recipe_id": str(recipe_id)},
                               headers=as_alice)
        assert_problem(response, 404, "recipe-not-found")
    assert client.get(list_url(list_id), headers=as_alice).json()["items"] == []
    assert lines(add_recipe(client, as_alice, list_id, public.id)) == [
        ("rice", "1", "kg", False)]


def test_add_recipe_input_is_bounded(client, as_alice, alice, db) -> None:
    list_id = new_list(client, as_alice)
    recipe = _recipe(db, alice, "salt")
    for body in ({"recipe_id": str(recipe.id), "servings": 0},
                 {"recipe_id": str(recipe.id), "servings": 1001},
                 {"recipe_id": "nope"}, {"recipe_id": str(recipe.id), "extra": 1}):
        assert_problem(client.post(recipes_url(list_id), json=body, headers=as_alice), 422)
