"""Recipe factories: rows written straight to the database, search column included."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.recipes.models import Recipe, RecipeIngredient, RecipeStep, RecipeTag
from app.recipes.search import refresh_search_vectors
from app.users.models import User

IngredientSpec = str | Mapping[str, Any]


def _ingredient(position: int, spec: IngredientSpec) -> RecipeIngredient:
    fields = {"name": spec} if isinstance(spec, str) else dict(spec)
    if fields.get("quantity") is not None:
        fields["quantity"] = Decimal(str(fields["quantity"]))
    return RecipeIngredient(position=position, **fields)


def build_recipe(
    owner: User,
    *,
    tags: Iterable[str] = (),
    ingredients: Iterable[IngredientSpec] = (),
    steps: Iterable[str] = (),
    **fields: Any,
) -> Recipe:
    values: dict[str, Any] = {
        "title": f"Recipe {uuid.uuid4().hex[:8]}",
        "servings": 4,
        "prep_minutes": 10,
        "cook_minutes": 20,
        "visibility": "private",
    }
    values.update(fields)
    values.setdefault("total_minutes", values["prep_minutes"] + values["cook_minutes"])
    recipe = Recipe(owner_id=owner.id, **values)
    recipe.tags = [RecipeTag(tag=tag) for tag in dict.fromkeys(tags)]
    recipe.ingredients = [_ingredient(i, spec) for i, spec in enumerate(ingredients)]
    recipe.steps = [RecipeStep(position=i, text=text) for i, text in enumerate(steps)]
    return recipe


def make_recipe(db: Session, owner: User, **fields: Any) -> Recipe:
    """One committed recipe. ``tags``, ``ingredients`` (names or dicts) and ``steps`` are
    lists; every other keyword is a Recipe column (``visibility="public"``, ``created_at``...).
    """
    return make_recipes(db, owner, 1, **fields)[0]


def make_recipes(db: Session, owner: User, count: int, **fields: Any) -> list[Recipe]:
    """``count`` committed recipes sharing ``fields`` (titles differ), in one transaction."""
    recipes = [build_recipe(owner, **fields) for _ in range(count)]
    db.add_all(recipes)
    db.flush()
    refresh_search_vectors(db, [r.id for r in recipes])
    db.commit()
    return recipes
