"""Imports every model so that Base.metadata is complete (for Alembic and test setup)."""

from app.auth.models import RevokedSession
from app.db.base import Base
from app.media.models import MediaBlob, MediaImage, MediaVariant
from app.recipes.models import (
    Favorite,
    Recipe,
    RecipeIngredient,
    RecipeStep,
    RecipeTag,
)
from app.users.models import User
from app.webhooks.models import WebhookEvent

__all__ = [
    "Base",
    "Favorite",
    "MediaBlob",
    "MediaImage",
    "MediaVariant",
    "Recipe",
    "RecipeIngredient",
    "RecipeStep",
    "RecipeTag",
    "RevokedSession",
    "User",
    "WebhookEvent",
]
