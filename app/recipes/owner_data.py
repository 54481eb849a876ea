"""What the users domain needs from recipes: a person's data, erased or exported.

Erasure and export must agree on what "a person's data" is, so both live here.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.recipes import owner_data_repository as repository
from app.recipes.models import Favorite, Recipe
from app.recipes.scaling import format_quantity


def erase_owner_data(session: Session, owner_id: uuid.UUID) -> None:
    """Delete the owner's recipes (with their parts and favorites) and favorites. Photos
    go first, with app/media's owner_data."""
    repository.delete_favorites_of(session, owner_id)
    repository.delete_recipes_of(session, owner_id)


def count_public_recipes(session: Session, owner_id: uuid.UUID) -> int:
    return repository.count_public_recipes(session, owner_id)


def export_owner_data(session: Session, owner_id: uuid.UUID) -> dict[str, Any]:
    """The owner's recipes (with ingredients, steps, tags) and favorites; their photos are
    under the export's "media" key (app/media/owner_data.py)."""
    recipes = [_recipe(recipe) for recipe in repository.recipes_of(session, owner_id)]
    favorites = [_favorite(favorite) for favorite in repository.favorites_of(session, owner_id)]
    return {"recipes": recipes, "favorites": favorites}


def _recipe(recipe: Recipe) -> dict[str, Any]:
    return {
        "id": recipe.id,
        "title": recipe.title,
        "description": recipe.description,
        "servings": recipe.servings,
        "prep_minutes": recipe.prep_minutes,
        "cook_minutes": recipe.cook_minutes,
        "total_minutes": recipe.total_minutes,
        "cuisine": recipe.cuisine,
        "source_url": recipe.source_url,
        "visibility": recipe.visibility,
        "created_at": recipe.created_at,
        "updated_at": recipe.updated_at,
        "tags": [tag.tag for tag in recipe.tags],
        "ingredients": [
            {
                "position": item.position,
                # As the API shows it ("800", "1.5"): a string keeps every stored digit
                # (a JSON number would round), without the column's padding zeros.
                "quantity": None if item.quantity is None else format_quantity(item.quantity),
                "unit": item.unit,
                "name": item.name,
                "note": item.note,
            }
            for item in recipe.ingredients
        ],
        "steps": [{"position": step.position, "text": step.text} for step in recipe.steps],
    }


def _favorite(favorite: Favorite) -> dict[str, Any]:
    return {"recipe_id": favorite.recipe_id, "created_at": favorite.created_at}
