"""Meal plans: a rotating template of N weeks, its entries, and the calendar feed token."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey, utcnow

#: Entry days, in the stored order (0 = Monday, as ``date.weekday()``).
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Meals, in the order a day shows them.
MEALS = ("breakfast", "lunch", "dinner", "snack")
MAX_ROTATION_WEEKS = 12


class MealPlan(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "meal_plans"
    __table_args__ = (
        CheckConstraint(f"rotation_weeks BETWEEN 1 AND {MAX_ROTATION_WEEKS}",
                        name="rotation_weeks"),
        # Keyset pages, newest first.
        Index("ix_meal_plans_owner_created", "owner_id", "created_at", "id"),
        # At most one active plan per owner: a partial unique index (the exclusion
        # constraint's own btree over (owner_id) WHERE is_active). An exclusion constraint
        # rather than CREATE UNIQUE INDEX because it can be DEFERRABLE INITIALLY IMMEDIATE:
        # checked at the end of each statement, so the one UPDATE that switches the active
        # plan may flip both rows in whatever order PostgreSQL visits them (a plain unique
        # index checks row by row and fails half the time).
        ExcludeConstraint(
            ("owner_id", "="), where=text("is_active"), name="ex_meal_plans_one_active",
            using="btree", deferrable=True, initially="IMMEDIATE",
        ).ddl_if(dialect="postgresql"),
    )

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    rotation_weeks: Mapped[int] = mapped_column(Integer, default=1)
    is_active: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false"))
    # Bumped on every change (activation included); the ETag is derived from it.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


class MealPlanEntry(Base):
    __tablename__ = "meal_plan_entries"
    __table_args__ = (
        CheckConstraint(f"week BETWEEN 1 AND {MAX_ROTATION_WEEKS}", name="week"),
        CheckConstraint("day BETWEEN 0 AND 6", name="day"),
        CheckConstraint("meal IN ('breakfast', 'lunch', 'dinner', 'snack')", name="meal"),
        CheckConstraint("servings BETWEEN 1 AND 1000", name="servings"),
        # No "recipe or title" constraint: deleting a recipe sets recipe_id to NULL, and
        # that must never fail because the entry had no title of its own.
    )

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("meal_plans.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    week: Mapped[int] = mapped_column(SmallInteger)
    day: Mapped[int] = mapped_column(SmallInteger)
    meal: Mapped[str] = mapped_column(String(10))
    # The entry outlives its recipe (deleted, or its owner erased): it then shows
    # ``recipe: null`` and keeps its own title and note.
    recipe_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("recipes.id", ondelete="SET NULL"), index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    servings: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(String(500))


class CalendarFeedToken(Base):
    """One secret feed URL per user. Only the SHA-256 of the token is stored.

    ``token_version`` is the user's token_version when the feed was made: a logout
    everywhere (or an erasure) bumps the user's, and the feed stops matching at once.
    """

    __tablename__ = "calendar_feed_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    token_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
