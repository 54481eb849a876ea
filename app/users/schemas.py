from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.collections.schemas import ExportedCollection
from app.core.sanitize import PlainText
from app.idempotency.schemas import ExportedIdempotencyKey
from app.mealplans.schemas import ExportedCalendarFeed, ExportedMealPlan
from app.media.schemas import ExportedMedia
from app.shopping.schemas import ExportedShoppingList

MeasurementSystem = Literal["metric", "us"]

DISPLAY_NAME_MAX = 100
BIO_MAX = 2000
DIETARY_TAG_MAX = 40
DIETARY_TAGS_MAX = 20


def _dedupe(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


def _no_default(schema: dict[str, object]) -> None:
    # The None default only marks "not sent"; advertising null would invite it (a 422).
    schema.pop("default", None)


# Folded before the length check: lowercasing can lengthen a tag ("İ" is two characters).
DietaryTag = PlainText(DIETARY_TAG_MAX, min_len=1, fold=True)


class UserMe(BaseModel):
    """The caller's own profile: what Clerk told us plus the fields this service owns."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str | None
    first_name: str | None
    last_name: str | None
    username: str | None
    image_url: str | None
    display_name: str | None
    bio: str | None
    measurement_system: MeasurementSystem
    dietary_tags: list[str]
    role: str
    created_at: datetime
    updated_at: datetime


class UserUpdate(BaseModel):
    """Only the fields this service owns. Anything else (email, role, ...) is a 422.

    A field left out is unchanged; null clears display_name or bio. Markup is stripped;
    control characters are refused.
    """

    model_config = ConfigDict(extra="forbid")

    display_name: PlainText(DISPLAY_NAME_MAX) | None = None  # type: ignore[valid-type]
    bio: PlainText(BIO_MAX, multiline=True) | None = None  # type: ignore[valid-type]
    # No null: a preference always has a value. The None default is never stored,
    # because only fields the client sent are applied.
    measurement_system: MeasurementSystem = Field(  # type: ignore[assignment]
        default=None, json_schema_extra=_no_default
    )
    dietary_tags: Annotated[
        list[DietaryTag], Field(max_length=DIETARY_TAGS_MAX), AfterValidator(_dedupe)
    ] = Field(default=None, json_schema_extra=_no_default)  # type: ignore[assignment]

    def changes(self) -> dict[str, object]:
        values = self.model_dump(exclude_unset=True)
        for name in ("display_name", "bio"):
            # Nothing left after cleaning means "no value", stored as null.
            if name in values and not values[name]:
                values[name] = None
        return values


class ExportedProfile(UserMe):
    clerk_user_id: str


class PublicProfile(BaseModel):
    """What anyone signed in may see about a person: never their email."""

    id: uuid.UUID
    display_name: str | None
    avatar_url: str | None
    public_recipe_count: int


class ExportedIngredient(BaseModel):
    position: int
    quantity: str | None = Field(description="Decimal as a string, to keep every digit.")
    unit: str | None
    name: str
    note: str | None


class ExportedStep(BaseModel):
    position: int
    text: str


class ExportedRecipe(BaseModel):
    id: uuid.UUID
    title: str
    description: str | None
    servings: int
    prep_minutes: int
    cook_minutes: int
    total_minutes: int
    cuisine: str | None
    source_url: str | None
    visibility: str
    created_at: datetime
    updated_at: datetime
    tags: list[str]
    ingredients: list[ExportedIngredient]
    steps: list[ExportedStep]


class ExportedFavorite(BaseModel):
    recipe_id: uuid.UUID
    created_at: datetime


class UserExport(BaseModel):
    """Everything stored about the caller (GDPR access and portability)."""

    exported_at: datetime
    profile: ExportedProfile
    recipes: list[ExportedRecipe]
    favorites: list[ExportedFavorite]
    idempotency_keys: list[ExportedIdempotencyKey]
    collections: list[ExportedCollection]
    meal_plans: list[ExportedMealPlan] = Field(default_factory=list)
    calendar_feed: ExportedCalendarFeed | None = None
    shopping_lists: list[ExportedShoppingList]
    media: ExportedMedia
