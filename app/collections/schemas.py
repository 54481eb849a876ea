"""Request and response shapes of the collections API.

A smart collection's ``filter`` is a saved recipe-list filter: the query parameters of
GET /recipes without ``cursor``, ``limit`` and ``include_total``, checked by the same
model (unknown keys and oversized values are a 422). It may not name a collection id
(a smart collection built on another could form a cycle); ``collection: "none"`` (recipes
in no hand-picked collection) is allowed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, Field, model_validator

from app.core.sanitize import PlainText
from app.recipes.schemas import Input, RecipeFilter

MAX_NAME = 100
MAX_DESCRIPTION = 2_000
MAX_POSITION = 100_000
#: Per user, and per hand-picked collection.
MAX_COLLECTIONS = 200
MAX_RECIPES_PER_COLLECTION = 5_000

Name = PlainText(MAX_NAME, min_len=1)
Position = Annotated[int, Field(ge=0, le=MAX_POSITION)]


def _blank_is_none(value: str | None) -> str | None:
    return value or None


Description = Annotated[
    PlainText(MAX_DESCRIPTION, multiline=True) | None, AfterValidator(_blank_is_none)
]


class SmartFilter(RecipeFilter):
    @model_validator(mode="after")
    def _names_no_collection(self) -> Self:
        if self.collection not in (None, "none"):
            raise ValueError("a smart collection's filter cannot name a collection")
        return self


class CollectionCreate(Input):
    name: Name
    description: Description = None
    #: Where it sorts in the list; by default after the caller's last collection.
    position: Position | None = None
    #: Makes a smart collection: its recipes are those matching the filter now.
    filter: SmartFilter | None = None


#: Fields of CollectionUpdate that may be set to null.
NULLABLE_FIELDS = frozenset({"description"})


class CollectionUpdate(Input):
    """A partial update; ``filter`` only on a smart collection (the kind is fixed)."""

    name: Name | None = None
    description: Description = None
    position: Position | None = None
    filter: SmartFilter | None = None

    @model_validator(mode="after")
    def _null_only_where_clearable(self) -> Self:
        for name in self.model_fields_set - NULLABLE_FIELDS:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class CollectionRead(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    position: int
    kind: Literal["hand-picked", "smart"]
    #: The saved filter of a smart collection; null for a hand-picked one.
    filter: dict[str, Any] | None
    #: Recipes in it that the caller may see now (a smart one: matching its filter now).
    recipe_count: int
    version: int
    created_at: datetime
    updated_at: datetime


class CollectionList(BaseModel):
    items: list[CollectionRead]


class MembershipState(BaseModel):
    collection_id: uuid.UUID
    recipe_id: uuid.UUID
    in_collection: bool


class ExportedMembership(BaseModel):
    recipe_id: uuid.UUID
    added_at: datetime


class ExportedCollection(BaseModel):
    """A collection in the GDPR export (app/users/schemas.UserExport)."""

    id: uuid.UUID
    name: str
    description: str | None
    position: int
    filter: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    recipes: list[ExportedMembership]
