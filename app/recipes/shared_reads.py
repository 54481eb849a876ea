"""What other domains read of recipes they point at (meal plans, shopping lists,
collections): which ids the caller may see, their cards and their ingredients. Each is
one statement whatever the number of ids; visibility is ``repository.visible_to``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Text, Uuid, and_, any_, bindparam, cast, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from app.db.session import read_rows
from app.media.models import MediaImage
from app.recipes.models import Recipe, RecipeIngredient
from app.recipes.repository import visible_to


def visible_ids(
    session: Session, recipe_ids: Sequence[uuid.UUID], user_id: uuid.UUID
) -> set[uuid.UUID]:
    """Which of ``recipe_ids`` the caller may see, in one statement."""
    if not recipe_ids:
        return set()
    return set(session.scalars(
        select(Recipe.id).where(Recipe.id.in_(set(recipe_ids)), visible_to(user_id))
    ))


@dataclass(frozen=True, slots=True)
class RecipeCard:
    """What another domain shows of a recipe it points at (a plan entry, a list item)."""

    id: uuid.UUID
    title: str
    total_minutes: int
    has_image: bool
    #: The cover photo (id, width, height) for a signed link, or None.
    cover_id: uuid.UUID | None = None
    cover_width: int | None = None
    cover_height: int | None = None


_CARD_COLUMNS = (Recipe.id, Recipe.title, Recipe.total_minutes,
                 Recipe.image_sha256.is_not(None), MediaImage.id, MediaImage.width,
                 MediaImage.height)
# The cover rides along as the list's does: one probe of the one-cover unique index.
_WITH_COVER = Recipe.__table__.outerjoin(
    MediaImage.__table__, and_(MediaImage.recipe_id == Recipe.id, MediaImage.is_cover))
# Built once, with bound parameters (see repository._DETAIL). On PostgreSQL the ids travel as one
# array parameter: an expanding IN renders one placeholder per id on every call, a third
# of this read's CPU for a week of meals (bench/mealplans.py).
_CARDS = {
    True: select(*_CARD_COLUMNS).select_from(_WITH_COVER).where(
        Recipe.id == any_(cast(bindparam("ids", type_=postgresql.ARRAY(Text)),
                               postgresql.ARRAY(Uuid))),
        visible_to(bindparam("user_id"))),  # type: ignore[arg-type]
    False: select(*_CARD_COLUMNS).select_from(_WITH_COVER).where(
        Recipe.id.in_(bindparam("ids", expanding=True)),
        visible_to(bindparam("user_id"))),  # type: ignore[arg-type]
}


def visible_cards(
    session: Session, recipe_ids: Sequence[uuid.UUID], user_id: uuid.UUID
) -> dict[uuid.UUID, RecipeCard]:
    """Cards of those of ``recipe_ids`` the caller may see, in one statement."""
    if not recipe_ids:
        return {}
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    ids = [str(i) for i in set(recipe_ids)] if on_postgresql else list(set(recipe_ids))
    rows = read_rows(session, _CARDS[on_postgresql], {"ids": ids, "user_id": user_id})
    return {row[0]: RecipeCard(*row) for row in rows}


@dataclass(frozen=True, slots=True)
class RecipeIngredients:
    """A recipe's servings and ingredient rows (quantity, unit, name), for scaling."""

    id: uuid.UUID
    servings: int
    rows: list[tuple[Decimal | None, str | None, str]]


_INGREDIENTS = (
    select(Recipe.id, Recipe.servings, RecipeIngredient.quantity, RecipeIngredient.unit,
           RecipeIngredient.name)
    .outerjoin(RecipeIngredient, RecipeIngredient.recipe_id == Recipe.id)
    .where(Recipe.id.in_(bindparam("ids", expanding=True)),
           visible_to(bindparam("user_id")))  # type: ignore[arg-type]
    .order_by(Recipe.id, RecipeIngredient.position)
)


def visible_ingredients(
    session: Session, recipe_ids: Sequence[uuid.UUID], user_id: uuid.UUID
) -> dict[uuid.UUID, RecipeIngredients]:
    """Servings and ingredients of those of ``recipe_ids`` the caller may see, in one
    statement whatever their number."""
    if not recipe_ids:
        return {}
    found: dict[uuid.UUID, RecipeIngredients] = {}
    rows = read_rows(session, _INGREDIENTS, {"ids": list(set(recipe_ids)), "user_id": user_id})
    for recipe_id, servings, quantity, unit, name in rows:
        recipe = found.setdefault(recipe_id, RecipeIngredients(recipe_id, servings, []))
        if name is not None:
            recipe.rows.append((quantity, unit, name))
    return found
