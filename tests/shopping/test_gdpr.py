"""GDPR: a person's lists, items and sources are exported and erased; others' stay."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.shopping.models import ShoppingItemSource, ShoppingList
from tests.factories import auth_headers
from tests.recipes.factories import make_recipe
from tests.shopping.factories import make_shopping_list
from tests.shopping.support import add_recipe, item_url, lines, list_url, new_list

ME = "/api/v1/users/me"


def test_export_has_my_lists_items_and_each_recipes_share(
    client, app, alice, bob, db: Session
) -> None:
    recipe = make_recipe(db, alice, servings=3, ingredients=[
        {"name": "milk", "quantity": "1", "unit": "cup"}])
    headers = auth_headers(app, alice)
    list_id = new_list(client, headers, "Party")
    add_recipe(client, headers, list_id, recipe.id, servings=1)
    make_shopping_list(db, bob, None)

    export = client.get(f"{ME}/export", headers=headers).json()

    assert [shopping_list["name"] for shopping_list in export["shopping_lists"]] == ["Party"]
    (item,) = export["shopping_lists"][0]["items"]
    assert (item["name"], item["quantity"], item["unit"]) == ("milk", "0.333333333333", "cup")
    assert item["sources"] == [{"recipe_id": str(recipe.id), "servings": 1,
                                "recipe_servings": 3, "quantity": "1.0000", "unit": "cup"}]
    assert "Oat milk" not in str(export)  # Bob's list


def test_erasure_takes_my_lists_and_keeps_others_shares_of_my_recipes(
    client, app, alice, bob, db: Session
) -> None:
    shared = make_recipe(db, alice, visibility="public", servings=1, ingredients=[
        {"name": "lentils", "quantity": "250", "unit": "g"}])
    make_shopping_list(db, alice, shared)
    as_bob = auth_headers(app, bob)
    bobs_list = new_list(client, as_bob)
    add_recipe(client, as_bob, bobs_list, shared.id)

    assert client.delete(ME, headers=auth_headers(app, alice)).status_code == 204

    assert db.scalars(select(ShoppingList).where(ShoppingList.owner_id == alice.id)).all() == []
    detail = client.get(list_url(bobs_list), headers=as_bob).json()
    assert lines(detail) == [("lentils", "250", "g", False)]
    db.expire_all()
    (source,) = db.scalars(select(ShoppingItemSource)).all()
    assert source.recipe_id is None and source.quantity == 250
    # The share is Bob's now: ticking and editing still work.
    item_id = detail["items"][0]["id"]
    assert client.patch(item_url(bobs_list, item_id), json={"checked": True},
                        headers=as_bob).status_code == 200
