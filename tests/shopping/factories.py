"""Shopping-list factories: meal plans to generate lists from, and a furnished list."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from app.mealplans.models import MealPlan, MealPlanEntry
from app.recipes.models import Recipe
from app.shopping.models import ShoppingItemSource, ShoppingList, ShoppingListItem
from app.users.models import User

#: A Monday: plans start on it and a 7-day range from it covers each weekday once.
MONDAY = date(2026, 12, 7)
MEALS = ("breakfast", "lunch", "dinner")


def make_plan(
    db: Session, owner: User, recipes: Sequence[Recipe], *, active: bool = True,
    servings: int | None = None,
) -> MealPlan:
    """A one-week plan: the recipes fill breakfast, lunch and dinner from Monday on."""
    plan = MealPlan(owner_id=owner.id, name="Week", start_date=MONDAY, rotation_weeks=1,
                    is_active=active)
    db.add(plan)
    db.flush()
    db.add_all([
        MealPlanEntry(plan_id=plan.id, position=n, week=1, day=n // 3, meal=MEALS[n % 3],
                      recipe_id=recipe.id, servings=servings)
        for n, recipe in enumerate(recipes)
    ])
    db.commit()
    return plan


def make_shopping_list(db: Session, owner: User, recipe: Recipe | None) -> ShoppingList:
    """A list with a typed item and an item with a recipe's share (for GDPR tests)."""
    shopping_list = ShoppingList(owner_id=owner.id, name=f"List of {owner.clerk_user_id}",
                                 change_seq=2)
    db.add(shopping_list)
    db.flush()
    typed = ShoppingListItem(list_id=shopping_list.id, position=0, name="Oat milk",
                             name_key="oat milk", quantity=Decimal(1), unit="l",
                             change_seq=1)
    from_recipe = ShoppingListItem(list_id=shopping_list.id, position=1, name="beans",
                                   name_key="bean", quantity=Decimal("1.125"), unit="kg",
                                   change_seq=2)
    db.add_all([typed, from_recipe])
    db.flush()
    db.add_all([
        ShoppingItemSource(id=uuid.uuid4(), item_id=typed.id, quantity=Decimal(1), unit="l"),
        ShoppingItemSource(id=uuid.uuid4(), item_id=from_recipe.id,
                           recipe_id=None if recipe is None else recipe.id, servings=4,
                           recipe_servings=4, quantity=Decimal("1.125"), unit="kg"),
    ])
    db.commit()
    return shopping_list
