"""Shopping lists, their items, and which recipe contributed what to each item."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey


class ShoppingList(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "shopping_lists"
    __table_args__ = (Index("ix_shopping_lists_owner_created", "owner_id", "created_at", "id"),)

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    # Bumped on a rename; the list's ETag is derived from it.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    # The sync counter: bumped by every write to the list's items, in the same UPDATE that
    # takes the list's row lock, so values are handed out in commit order.
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # The highest change_seq of a tombstone purged after the retention: a sync token at or
    # below it may have missed a deletion (410, reload).
    purged_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))


class ShoppingListItem(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "shopping_list_items"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity"),
        Index("ix_shopping_list_items_list_seq", "list_id", "change_seq"),
    )

    list_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("shopping_lists.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    # Exact (NUMERIC without a scale): merged totals keep every digit of their shares.
    quantity: Mapped[Decimal | None] = mapped_column(Numeric)
    unit: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    #: The name as merging compares it (case, whitespace, simple plural folded).
    name_key: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(500))
    category: Mapped[str | None] = mapped_column(String(60))
    checked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    checked_at: Mapped[datetime | None] = mapped_column()
    #: Quantity, unit or name changed by hand: removing a recipe leaves the item alone.
    edited: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    change_seq: Mapped[int] = mapped_column(BigInteger)
    #: Set for a tombstone: kept for the retention so syncing phones learn of the deletion.
    deleted_at: Mapped[datetime | None] = mapped_column()


class ShoppingItemSource(UUIDPrimaryKey, Base):
    """One contribution to an item: a recipe's share, or what the person typed.

    The share is ``quantity * servings / recipe_servings`` in ``unit``: the recipe's own
    exact quantity and the servings asked for, so the share is an exact rational (a third
    of a cup) rather than a rounded decimal. Hand-added quantities have no servings.
    """

    __tablename__ = "shopping_item_sources"

    item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("shopping_list_items.id", ondelete="CASCADE"), index=True
    )
    # SET NULL: deleting a recipe must not change other people's lists; its share stays.
    recipe_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("recipes.id", ondelete="SET NULL"), index=True
    )
    servings: Mapped[int | None] = mapped_column(Integer)
    recipe_servings: Mapped[int | None] = mapped_column(Integer)
    quantity: Mapped[Decimal | None] = mapped_column(Numeric)
    unit: Mapped[str | None] = mapped_column(String(40))
