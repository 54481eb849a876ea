"""Request and response shapes of the shopping-list API.

Inputs forbid unknown fields and bound every string, number and list. Quantities are
decimals in JSON strings or numbers, finite, 0..1,000,000 (1e30, -1 and NaN are a 422);
responses give them as strings so no digit is lost to a JSON float.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.sanitize import PlainText
from app.recipes.schemas import MAX_SERVINGS

MAX_LISTS_PER_USER = 50
MAX_ITEMS_PER_LIST = 1_000
MAX_BULK_IDS = 500
MAX_QUANTITY = Decimal(1_000_000)

ListName = PlainText(100, min_len=1)
ItemName = PlainText(200, min_len=1)
Unit = PlainText(40)
Note = PlainText(500)
Category = PlainText(60)
Quantity = Annotated[
    Decimal, Field(ge=0, le=MAX_QUANTITY, max_digits=16, decimal_places=6, allow_inf_nan=False)
]


def _blank_is_none(value: str | None) -> str | None:
    return value or None


OptionalUnit = Annotated[Unit | None, AfterValidator(_blank_is_none)]
OptionalNote = Annotated[Note | None, AfterValidator(_blank_is_none)]
OptionalCategory = Annotated[Category | None, AfterValidator(_blank_is_none)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListCreate(Input):
    name: ListName


class ListUpdate(Input):
    name: ListName


class ItemCreate(Input):
    name: ItemName
    quantity: Quantity | None = None
    unit: OptionalUnit = None
    note: OptionalNote = None
    category: OptionalCategory = None


class ItemUpdate(Input):
    """Only the fields present change; quantity, unit, note and category may be null."""

    name: ItemName | None = None
    quantity: Quantity | None = None
    unit: OptionalUnit = None
    note: OptionalNote = None
    category: OptionalCategory = None
    checked: bool | None = None


#: ItemUpdate fields that mark an item as edited by hand (recipe removal leaves it alone).
EDITING_FIELDS = frozenset({"name", "quantity", "unit"})
NON_NULL_FIELDS = frozenset({"name", "checked"})


class BulkItems(Input):
    action: Literal["check", "uncheck", "delete"]
    ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_BULK_IDS)]


class AddRecipe(Input):
    recipe_id: uuid.UUID
    servings: Annotated[int, Field(ge=1, le=MAX_SERVINGS)] | None = None


class AddMealPlan(Input):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    plan_id: uuid.UUID | None = None
    start: date = Field(alias="from")
    days: Annotated[int, Field(ge=1, le=31)]


class ItemRead(BaseModel):
    id: uuid.UUID
    position: int
    name: str
    #: Exact, as stored (a string: no JSON float rounding).
    quantity: str | None
    #: Rounded for a person to read (1.5, 0.333).
    display_quantity: str | None
    unit: str | None
    note: str | None
    category: str | None
    checked: bool
    checked_at: datetime | None
    edited: bool
    change_seq: int
    updated_at: datetime


class Tombstone(BaseModel):
    id: uuid.UUID
    deleted_at: datetime
    change_seq: int


class ListRead(BaseModel):
    id: uuid.UUID
    name: str
    version: int
    created_at: datetime
    updated_at: datetime


class ListPage(BaseModel):
    items: list[ListRead]


class ListDetail(ListRead):
    items: list[ItemRead]
    #: Pass as changed_since to GET /items to receive only what changed after this read.
    sync_token: str


class SyncPage(BaseModel):
    #: Items added or changed since the token (all live items without a token).
    items: list[ItemRead]
    #: Items deleted since the token (tombstones); empty without a token.
    deleted: list[Tombstone]
    sync_token: str


class BulkResult(BaseModel):
    """No sync token here: the phone keeps its own, or it would skip others' changes."""

    action: str
    count: int


# --- GDPR export (see owner_data) -------------------------------------------------------


class ExportedSource(BaseModel):
    recipe_id: uuid.UUID | None
    servings: int | None
    recipe_servings: int | None
    quantity: str | None = Field(description="Decimal as a string, to keep every digit.")
    unit: str | None


class ExportedItem(BaseModel):
    id: uuid.UUID
    position: int
    name: str
    quantity: str | None = Field(description="Decimal as a string, to keep every digit.")
    unit: str | None
    note: str | None
    category: str | None
    checked: bool
    checked_at: datetime | None
    edited: bool
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    sources: list[ExportedSource]


class ExportedShoppingList(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime
    updated_at: datetime
    items: list[ExportedItem]
