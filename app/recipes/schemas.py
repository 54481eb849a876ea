"""Request and response shapes of the recipes API.

Input models forbid unknown fields (owner, id, version... are the server's) and bound every
string and list. Text is cleaned by ``PlainText``: control characters are refused with a
422 and HTML is stripped, so what is stored is plain text.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from app.core.sanitize import PlainText, fold_case, refuse_control_characters
from app.media.schemas import ImageLink, PhotoLink
from app.recipes.fractions import quantity_before_validation

MAX_TITLE = 200
MAX_DESCRIPTION = 10_000
MAX_INGREDIENTS = 100
MAX_STEPS = 100
MAX_STEP = 5_000
MAX_TAGS = 20
MAX_TAG = 40
MAX_MINUTES = 10_080
MAX_SERVINGS = 1_000
MAX_URL = 2_048

Visibility = Literal["private", "public"]
Minutes = Annotated[int, Field(ge=0, le=MAX_MINUTES)]
Servings = Annotated[int, Field(ge=1, le=MAX_SERVINGS)]
# Fits NUMERIC(14, 4): at most 10 digits before the point and 4 after. A fraction string
# ("1/2", "1 1/2", "½") is accepted too and stored as its decimal (app/recipes/fractions.py).
Quantity = Annotated[
    Decimal,
    BeforeValidator(quantity_before_validation),
    Field(ge=0, max_digits=14, decimal_places=4, allow_inf_nan=False),
]
Title = PlainText(MAX_TITLE, min_len=1)
LongText = PlainText(MAX_DESCRIPTION, multiline=True)
StepText = PlainText(MAX_STEP, multiline=True, min_len=1)
IngredientName = PlainText(200, min_len=1)
Unit = PlainText(40)
Note = PlainText(500)
Cuisine = PlainText(60)


# Folded (NFC + lowercase) before the length check: lowercasing can lengthen a tag.
Tag = PlainText(MAX_TAG, min_len=1, fold=True)


def _dedupe(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_dedupe)]

_URL_FORBIDDEN = frozenset(' <>"`\\{}|^')


def _http_url(value: str) -> str:
    value = refuse_control_characters(value.strip())
    if len(value) > MAX_URL:
        raise ValueError(f"must be at most {MAX_URL} characters")
    if any(char in _URL_FORBIDDEN for char in value):
        raise ValueError("must be a URL without spaces or quotes")
    parts = urlsplit(value)  # ValueError on a malformed host, which is a 422
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http or https URL")
    _ = parts.port  # ValueError on a malformed port
    return value


# Never fetched by the server: it is a reference for the cook, nothing more.
SourceUrl = Annotated[str, Field(max_length=MAX_URL + 64), AfterValidator(_http_url)]


def _blank_is_none(value: str | None) -> str | None:
    return value or None


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class IngredientIn(Input):
    quantity: Quantity | None = None
    unit: Annotated[Unit | None, AfterValidator(_blank_is_none)] = None
    name: IngredientName
    note: Annotated[Note | None, AfterValidator(_blank_is_none)] = None


class StepIn(Input):
    text: StepText


Description = Annotated[LongText | None, AfterValidator(_blank_is_none)]
OptionalCuisine = Annotated[Cuisine | None, AfterValidator(_blank_is_none)]
OptionalUrl = Annotated[SourceUrl | None, AfterValidator(_blank_is_none)]
Ingredients = Annotated[list[IngredientIn], Field(max_length=MAX_INGREDIENTS)]
Steps = Annotated[list[StepIn], Field(max_length=MAX_STEPS)]


class RecipeCreate(Input):
    title: Title
    description: Description = None
    servings: Servings = 1
    prep_minutes: Minutes = 0
    cook_minutes: Minutes = 0
    cuisine: OptionalCuisine = None
    source_url: OptionalUrl = None
    visibility: Visibility = "private"
    tags: Tags = Field(default_factory=list)
    ingredients: Ingredients = Field(default_factory=list)
    steps: Steps = Field(default_factory=list)


#: Fields of RecipeUpdate that may be cleared with null; the rest may only be replaced.
NULLABLE_FIELDS = frozenset({"description", "cuisine", "source_url"})


class RecipeUpdate(Input):
    """A partial update: only the fields present change; a list given replaces the old one."""

    title: Title | None = None
    description: Description = None
    servings: Servings | None = None
    prep_minutes: Minutes | None = None
    cook_minutes: Minutes | None = None
    cuisine: OptionalCuisine = None
    source_url: OptionalUrl = None
    visibility: Visibility | None = None
    tags: Tags | None = None
    ingredients: Ingredients | None = None
    steps: Steps | None = None

    @model_validator(mode="after")
    def _null_only_where_clearable(self) -> Self:
        for name in self.model_fields_set - NULLABLE_FIELDS:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


# --- responses ------------------------------------------------------------------------


class IngredientOut(BaseModel):
    #: A decimal number as a string ("1.5"), never a float; scaled when servings= is given.
    quantity: str | None
    unit: str | None
    name: str
    note: str | None


class StepOut(BaseModel):
    text: str


class CollectionRef(BaseModel):
    id: uuid.UUID
    name: str


class RecipeRead(BaseModel):
    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    description: str | None
    #: The servings the quantities are for: the requested number when scaled.
    servings: int
    #: The recipe's own servings when the quantities were scaled, else null.
    scaled_from_servings: int | None = None
    prep_minutes: int
    cook_minutes: int
    total_minutes: int
    cuisine: str | None
    source_url: str | None
    visibility: Visibility
    tags: list[str]
    ingredients: list[IngredientOut]
    steps: list[StepOut]
    has_image: bool
    #: The caller's hand-picked collections holding this recipe (smart ones are filters).
    collections: list[CollectionRef] = Field(default_factory=list)
    #: The photos in gallery order (the cover first only if it is first), with signed
    #: links that expire: fetch the recipe again for fresh ones.
    images: list[PhotoLink] = Field(default_factory=list)
    version: int
    created_at: datetime
    updated_at: datetime


class RecipeSummary(BaseModel):
    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    #: The start of the description (up to 280 characters, "…" when cut).
    description_excerpt: str | None
    servings: int
    prep_minutes: int
    cook_minutes: int
    total_minutes: int
    cuisine: str | None
    visibility: Visibility
    tags: list[str]
    has_image: bool
    #: The cover photo with signed links (thumb_url: the card size), or null.
    image: ImageLink | None = None
    is_favorite: bool
    #: The caller's hand-picked collections holding this recipe.
    collections: list[CollectionRef] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class RecipePage(BaseModel):
    items: list[RecipeSummary]
    #: Opaque; pass it back as ``cursor`` with the same filters for the next page.
    next_cursor: str | None
    #: Only when ``include_total=true``.
    total: int | None = None


class TagCount(BaseModel):
    tag: str
    count: int


class TagList(BaseModel):
    items: list[TagCount]


class FavoriteState(BaseModel):
    recipe_id: uuid.UUID
    is_favorite: bool


# --- list parameters -------------------------------------------------------------------

SortOrder = Literal["newest", "oldest", "title", "quickest", "relevance"]


def _single_line(value: str) -> str:
    return refuse_control_characters(value).strip()


FilterText = Annotated[str, Field(max_length=200), AfterValidator(_single_line)]
def _tag_filter(value: str) -> str:
    # Folded exactly as stored tags are, and only then measured.
    value = fold_case(_single_line(value))
    if len(value) > MAX_TAG:
        raise ValueError(f"must be at most {MAX_TAG} characters")
    return value


TagFilter = Annotated[str, Field(max_length=MAX_TAG * 4), AfterValidator(_tag_filter)]


def _owner(value: str) -> str:
    if value != "me":
        uuid.UUID(value)  # ValueError (422) unless a user id
    return value


def _collection(value: str) -> str:
    if value == "none":
        return value
    # ValueError (422) unless a collection id; one spelling, so cursors match.
    return str(uuid.UUID(value))


Scope = Literal["mine", "public", "all"]
CollectionFilter = Annotated[str, Field(max_length=36), AfterValidator(_collection)]


class RecipeFilter(Input):
    """Which recipes a list shows and in which order: the query parameters of GET /recipes
    without paging, and what a smart collection saves."""

    q: FilterText | None = Field(None, description="Web-search syntax; the last word is a prefix.")
    tag: list[TagFilter] = Field(default_factory=list, max_length=MAX_TAGS)
    ingredient: list[FilterText] = Field(default_factory=list, max_length=MAX_TAGS)
    cuisine: FilterText | None = None
    max_total_minutes: int | None = Field(None, ge=0, le=2 * MAX_MINUTES)
    owner: Annotated[str, Field(max_length=36), AfterValidator(_owner)] | None = Field(
        None, description='"me" or a user id; another user shows only their public recipes.'
    )
    scope: Scope | None = Field(
        None,
        description='"mine" (the default), "public" (other people\'s public recipes) or "all" '
        "(both). With owner, favorites or a collection id the default is \"all\".",
    )
    collection: CollectionFilter | None = Field(
        None, description='A collection id (hand-picked or smart), or "none": recipes in no '
        "hand-picked collection of the caller's.",
    )
    favorites: bool = False
    visibility: Visibility | None = None
    sort: SortOrder = "newest"


class RecipeListParams(RecipeFilter):
    """Query parameters of GET /recipes. Unknown parameters are refused, so a typo such
    as ``tags=`` fails loudly instead of silently returning everything."""

    limit: int = Field(20, ge=1, le=100)
    # Unbounded here on purpose: an overlong or malformed cursor is a 400, not a 422.
    cursor: str | None = None
    include_total: bool = False
