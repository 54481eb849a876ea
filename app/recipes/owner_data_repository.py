"""Queries over everything one person owns in the recipes domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from app.recipes.models import Favorite, Recipe


def delete_favorites_of(session: Session, user_id: uuid.UUID) -> None:
    session.execute(
        delete(Favorite).where(Favorite.user_id == user_id)
        .execution_options(synchronize_session=False)
    )


def delete_recipes_of(session: Session, owner_id: uuid.UUID) -> None:
    # ON DELETE CASCADE takes the tags, ingredients, steps, image and everyone's
    # favorites of these recipes in the same statement.
    session.execute(
        delete(Recipe).where(Recipe.owner_id == owner_id)
        .execution_options(synchronize_session=False)
    )


def recipes_of(session: Session, owner_id: uuid.UUID) -> Sequence[Recipe]:
    statement = (
        select(Recipe)
        .where(Recipe.owner_id == owner_id)
        .options(
            selectinload(Recipe.tags), selectinload(Recipe.ingredients), selectinload(Recipe.steps)
        )
        .order_by(Recipe.created_at, Recipe.id)
    )
    return session.scalars(statement).all()


def favorites_of(session: Session, user_id: uuid.UUID) -> Sequence[Favorite]:
    statement = (
        select(Favorite).where(Favorite.user_id == user_id)
        .order_by(Favorite.created_at, Favorite.recipe_id)
    )
    return session.scalars(statement).all()


def count_public_recipes(session: Session, owner_id: uuid.UUID) -> int:
    statement = select(func.count()).select_from(Recipe).where(
        Recipe.owner_id == owner_id, Recipe.visibility == "public"
    )
    return session.scalar(statement) or 0
