"""Dependencies that load a recipe and enforce who may see or change it.

Anything the caller may not see answers exactly like a missing id (404), so that
existence of another user's private recipe is never disclosed; a recipe the caller may see
but not change (someone else's public recipe) also answers 404 on write routes.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from app.auth.dependencies import CurrentPrincipal
from app.db.session import SessionDep
from app.recipes import repository
from app.recipes.exceptions import RecipeNotFound
from app.recipes.models import Recipe

RecipeId = Annotated[uuid.UUID, Path(description="The recipe's id (a UUID).")]


def get_visible_recipe(recipe_id: RecipeId, user: CurrentPrincipal, session: SessionDep) -> Recipe:
    """The recipe row (no children loaded) if the caller owns it or it is public."""
    recipe = repository.find_visible(session, recipe_id, user.id)
    if recipe is None:
        raise RecipeNotFound()
    return recipe


def get_owned_recipe(recipe_id: RecipeId, user: CurrentPrincipal, session: SessionDep) -> Recipe:
    """The recipe row (no children loaded) if the caller owns it."""
    recipe = repository.find_owned(session, recipe_id, user.id)
    if recipe is None:
        raise RecipeNotFound()
    return recipe


VisibleRecipe = Annotated[Recipe, Depends(get_visible_recipe)]
OwnedRecipe = Annotated[Recipe, Depends(get_owned_recipe)]
