"""The search column is computed from the recipe's fields, with their weights."""

from __future__ import annotations

from sqlalchemy import select, text

from app.recipes.models import Recipe
from tests.factories import make_user
from tests.recipes.factories import make_recipe


def test_search_vector_weights_title_tags_ingredients_description(db) -> None:
    owner = make_user(db)
    recipe = make_recipe(
        db, owner, title="Tomato Soup", tags=["vegan"], ingredients=["basil"],
        description="Simple and warming",
    )
    vector = db.execute(
        select(text("search_vector::text")).select_from(Recipe).where(Recipe.id == recipe.id)
    ).scalar_one()
    assert "'tomato':1A" in vector
    assert "'vegan'" in vector and "B" in vector.split("'vegan':")[1][:4]
    assert "'basil'" in vector and "C" in vector.split("'basil':")[1][:4]
    assert "'simpl'" in vector
