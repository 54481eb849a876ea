from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, Timestamps, UUIDPrimaryKey, utcnow

# PostgreSQL keeps a weighted tsvector; SQLite has no such type and searches differently.
SearchVector = TSVECTOR().with_variant(Text(), "sqlite")


class Recipe(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "recipes"
    __table_args__ = (
        CheckConstraint("visibility IN ('private', 'public')", name="visibility"),
        CheckConstraint("servings BETWEEN 1 AND 1000", name="servings"),
        CheckConstraint("prep_minutes BETWEEN 0 AND 10080", name="prep_minutes"),
        CheckConstraint("cook_minutes BETWEEN 0 AND 10080", name="cook_minutes"),
        # Keyset pagination indexes: (sort key, id) so deep pages cost what page 1 costs.
        Index("ix_recipes_owner_created", "owner_id", "created_at", "id"),
        Index("ix_recipes_visibility_created", "visibility", "created_at", "id"),
        Index("ix_recipes_total_minutes", "total_minutes", "id"),
        Index("ix_recipes_title", "title", "id"),
        Index("ix_recipes_search_vector", "search_vector", postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
        # Public recipes only, covering owner and cuisine: counts of smart collections over
        # other people's public recipes read no heap (migration 0008).
        Index("ix_recipes_public_minutes", "total_minutes", "id",
              postgresql_include=["owner_id", "cuisine"],
              postgresql_where=text("visibility = 'public'")).ddl_if(dialect="postgresql"),
    )

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    servings: Mapped[int] = mapped_column(Integer, default=1)
    prep_minutes: Mapped[int] = mapped_column(Integer, default=0)
    cook_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # Derived (prep + cook), stored so "quickest" sorts and filters use an index.
    total_minutes: Mapped[int] = mapped_column(Integer, default=0)
    cuisine: Mapped[str | None] = mapped_column(String(60), index=True)
    source_url: Mapped[str | None] = mapped_column(String(2048))
    visibility: Mapped[str] = mapped_column(String(10), default="private")
    # Bumped on every change; the ETag is derived from it.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    # The cover photo's hash while the recipe has photos (app/media): "has image" and the
    # ETag without touching image rows.
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    search_vector: Mapped[str | None] = mapped_column(SearchVector, deferred=True)

    tags: Mapped[list[RecipeTag]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise",
        order_by="RecipeTag.tag",
    )
    ingredients: Mapped[list[RecipeIngredient]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise",
        order_by="RecipeIngredient.position",
    )
    steps: Mapped[list[RecipeStep]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise",
        order_by="RecipeStep.position",
    )


class RecipeTag(Base):
    __tablename__ = "recipe_tags"
    __table_args__ = (Index("ix_recipe_tags_tag", "tag", "recipe_id"),)

    recipe_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recipes.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)


class RecipeIngredient(Base):
    __tablename__ = "recipe_ingredients"

    recipe_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recipes.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    unit: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200), index=True)
    note: Mapped[str | None] = mapped_column(String(500))


class RecipeStep(Base):
    __tablename__ = "recipe_steps"

    recipe_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recipes.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class Favorite(Base):
    __tablename__ = "favorites"
    __table_args__ = (Index("ix_favorites_recipe_id", "recipe_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    recipe_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recipes.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
