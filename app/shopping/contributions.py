"""Recipes into a shopping list and back out: adding, removing, a meal-plan range.

Adding reads every recipe's ingredients in one statement (visible recipes only, the
recipes domain's rule), scales them exactly (``app.recipes.scaling.exact_scale``) and
merges them under the list's row lock, so concurrent additions to one list apply one
after another and give the same result as sequential ones. The number of statements
does not grow with the number of recipes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.db.base import utcnow
from app.mealplans import service as mealplans_service
from app.recipes import service as recipes_service
from app.recipes.exceptions import RecipeNotFound
from app.shopping import repository
from app.shopping.exceptions import RecipeNotOnList, TooManyShoppingItems
from app.shopping.merging import Line, Merger, Share, take_back
from app.shopping.repository import Bumped
from app.shopping.schemas import MAX_ITEMS_PER_LIST, AddMealPlan, AddRecipe
from app.shopping.service import SyncConfig, lock_list
from app.shopping.units import System
from app.users import service as users_service

#: (recipe id, servings or None for the recipe's own), in the order they are added.
Wanted = Sequence[tuple[uuid.UUID, int | None]]


def _line(row: Any) -> Line:
    """A Line from a row of repository.ITEM_COLUMNS + name_key."""
    return Line(id=row[0], position=row[1], name=row[2], quantity=row[3], unit=row[4],
                edited=row[9], name_key=row[-1], note=row[5], category=row[6])


def _system(measurement_system: str) -> System:
    return "us" if measurement_system == "us" else "metric"


def add_recipes(
    session: Session, user: Principal, list_id: uuid.UUID, wanted: Wanted,
    *, skip_missing: bool = False,
) -> None:
    """Merge the ingredients of ``wanted`` into the list's open items.

    A recipe the caller may not see is a 404 (as a missing one), unless ``skip_missing``
    (a meal plan's entries, whose recipes may have turned private since).
    """
    users_service.guard_active_for_write(session, user.id)
    _merge(session, user, list_id, lock_list(session, user, list_id), wanted, skip_missing)


def _merge(
    session: Session, user: Principal, list_id: uuid.UUID, bumped: Bumped, wanted: Wanted,
    skip_missing: bool,
) -> None:
    recipes = recipes_service.visible_recipe_ingredients(
        session, user.id, {recipe_id for recipe_id, _ in wanted})
    if not skip_missing and any(recipe_id not in recipes for recipe_id, _ in wanted):
        raise RecipeNotFound()
    rows = repository.live_items(session, list_id)
    open_lines = [_line(row) for row in rows if not row[7]]
    shares = repository.shares_of(session, [line.id for line in open_lines])
    for line in open_lines:
        line.shares = shares[line.id]
    merger = Merger(open_lines, _system(bumped.measurement_system),
                    next_position=max((row[1] for row in rows), default=-1) + 1)
    added: list[tuple[uuid.UUID, Share]] = []
    for recipe_id, servings in wanted:
        recipe = recipes.get(recipe_id)
        if recipe is None:
            continue
        for quantity, unit, name in recipe.rows:
            share = Share(recipe_id=recipe_id, servings=servings or recipe.servings,
                          recipe_servings=recipe.servings, quantity=quantity, unit=unit)
            added.append((merger.add(name, share).id, share))
    lines = merger.finish()
    new = [line for line in lines if line.new]
    if len(rows) + len(new) > MAX_ITEMS_PER_LIST:
        raise TooManyShoppingItems()
    repository.insert_lines(session, list_id, new, bumped.seq, utcnow())
    repository.update_lines(
        session, [line for line in lines if line.changed and not line.new], bumped.seq)
    repository.insert_shares(session, added)


def add_recipe(session: Session, user: Principal, list_id: uuid.UUID, body: AddRecipe) -> None:
    add_recipes(session, user, list_id, [(body.recipe_id, body.servings)])


def add_meal_plan(
    session: Session, user: Principal, list_id: uuid.UUID, body: AddMealPlan
) -> int:
    """Every planned recipe from ``start`` for ``days`` days, at each entry's servings;
    how many planned entries were added."""
    users_service.guard_active_for_write(session, user.id)
    bumped = lock_list(session, user, list_id)  # first: someone else's list is a 404
    planned = mealplans_service.planned_recipes(
        session, user.id, body.plan_id, body.start, body.days)
    _merge(session, user, list_id, bumped,
           [(entry.recipe_id, entry.servings) for entry in planned], skip_missing=True)
    return len(planned)


def remove_recipe(
    session: Session, user: Principal, list_id: uuid.UUID, recipe_id: uuid.UUID,
    config: SyncConfig,
) -> None:
    """Take back exactly the recipe's shares. Ticked and hand-edited items stay as they
    are; an item left with no share goes (a tombstone)."""
    bumped = lock_list(session, user, list_id)
    rows = repository.items_with_recipe(session, list_id, recipe_id)
    if not rows:
        raise RecipeNotOnList()
    lines = [_line(row) for row in rows]
    shares = repository.shares_of(session, [line.id for line in lines])
    system = _system(bumped.measurement_system)
    gone: list[uuid.UUID] = []
    for line, row in zip(lines, rows, strict=True):
        line.shares = shares[line.id]
        if take_back(line, recipe_id, checked=row[7], system=system):
            gone.append(line.id)
    repository.delete_recipe_shares(session, [line.id for line in lines], recipe_id)
    repository.update_lines(session, [line for line in lines if line.changed], bumped.seq)
    if gone:
        repository.tombstone(session, list_id, gone, bumped.seq)
        repository.purge_tombstones(session, list_id, utcnow() - config.retention)
