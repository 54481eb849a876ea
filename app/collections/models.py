"""Collections: hand-picked books of recipes, and smart ones (a saved recipe-list filter)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey, utcnow


class Collection(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "collections"
    __table_args__ = (
        # Names are unique per owner whatever their case; the index also serves "my
        # collections" (owner_id first).
        Index("uq_collections_owner_lower_name", "owner_id", func.lower(text("name")),
              unique=True),
    )

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: A smart collection's saved recipe-list filter; NULL for a hand-picked one.
    filter: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


class CollectionRecipe(Base):
    __tablename__ = "collection_recipes"
    __table_args__ = (Index("ix_collection_recipes_recipe_id", "recipe_id"),)

    collection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True
    )
    recipe_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recipes.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
