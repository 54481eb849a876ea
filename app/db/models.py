"""Imports every model so that Base.metadata is complete (for Alembic and test setup)."""

from app.auth.models import RevokedSession
from app.collections.models import Collection, CollectionRecipe
from app.db.base import Base
from app.idempotency.models import IdempotencyKey
from app.mealplans.models import CalendarFeedToken, MealPlan, MealPlanEntry
from app.media.models import MediaBlob, MediaImage, MediaVariant
from app.recipes.models import (
    Favorite,
    Recipe,
    RecipeIngredient,
    RecipeStep,
    RecipeTag,
)
from app.shopping.models import ShoppingItemSource, ShoppingList, ShoppingListItem
from app.users.models import User
from app.webhooks.models import WebhookEvent

__all__ = [
    "Base",
    "CalendarFeedToken",
    "Collection",
    "CollectionRecipe",
    "Favorite",
    "IdempotencyKey",
    "MealPlan",
    "MealPlanEntry",
    "MediaBlob",
    "MediaImage",
    "MediaVariant",
    "Recipe",
    "RecipeIngredient",
    "RecipeStep",
    "RecipeTag",
    "RevokedSession",
    "ShoppingItemSource",
    "ShoppingList",
    "ShoppingListItem",
    "User",
    "WebhookEvent",
]
