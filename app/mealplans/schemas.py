"""Request and response shapes of the meal-plans API.

Input models forbid unknown fields and bound every string and list; text goes through
``PlainText`` like recipes' (control characters refused, HTML stripped).
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from app.core.sanitize import PlainText
from app.mealplans.models import MAX_ROTATION_WEEKS
from app.media.schemas import ImageLink
from app.recipes.schemas import MAX_SERVINGS

MAX_PLANS = 100
MAX_ENTRIES = 500
MAX_SCHEDULE_DAYS = 31

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Meal = Literal["breakfast", "lunch", "dinner", "snack"]
Name = PlainText(100, min_len=1)
EntryTitle = PlainText(200, min_len=1)
Note = PlainText(500, multiline=True)
Week = Annotated[int, Field(ge=1, le=MAX_ROTATION_WEEKS)]
RotationWeeks = Annotated[int, Field(ge=1, le=MAX_ROTATION_WEEKS)]
Servings = Annotated[int, Field(ge=1, le=MAX_SERVINGS)]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_only(value: object) -> object:
    # Pydantic would also take a midnight timestamp or a number; a date is all we mean.
    if not isinstance(value, str | datetime.date) or isinstance(value, datetime.datetime):
        raise ValueError("must be a date, YYYY-MM-DD")
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date, YYYY-MM-DD")
    return value


CalendarDate = Annotated[datetime.date, BeforeValidator(_date_only)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EntryIn(Input):
    week: Week
    day: Day
    meal: Meal
    recipe_id: uuid.UUID | None = None
    title: EntryTitle | None = None
    servings: Servings | None = None
    note: Note | None = None

    @model_validator(mode="after")
    def _recipe_or_title(self) -> Self:
        if self.recipe_id is None and not self.title:
            raise ValueError("an entry needs a recipe_id, a title, or both")
        return self


Entries = Annotated[list[EntryIn], Field(max_length=MAX_ENTRIES)]


def _weeks_fit(entries: list[EntryIn] | None, rotation_weeks: int | None) -> None:
    if entries and rotation_weeks is not None and any(
        entry.week > rotation_weeks for entry in entries
    ):
        raise ValueError("an entry's week is beyond rotation_weeks")


class MealPlanCreate(Input):
    name: Name
    start_date: CalendarDate | None = Field(
        None, description="Week 1 is the Monday-Sunday week containing it; default: today (UTC).")
    rotation_weeks: RotationWeeks = 1
    entries: Entries = Field(default_factory=list)

    @model_validator(mode="after")
    def _weeks_within_rotation(self) -> Self:
        _weeks_fit(self.entries, self.rotation_weeks)
        return self


class MealPlanUpdate(Input):
    """A partial update; ``entries``, when given, replaces the old list whole."""

    name: Name | None = None
    start_date: CalendarDate | None = None
    rotation_weeks: RotationWeeks | None = None
    entries: Entries | None = None

    @model_validator(mode="after")
    def _no_nulls_and_weeks_within_rotation(self) -> Self:
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        _weeks_fit(self.entries, self.rotation_weeks)
        return self


class MealPlanListParams(Input):
    q: PlainText(100) | None = Field(None, description="Part of a plan's name.")  # type: ignore[valid-type]
    limit: int = Field(20, ge=1, le=MAX_PLANS)
    # Unbounded here on purpose: an overlong or malformed cursor is a 400, not a 422.
    cursor: str | None = None


# --- responses ---------------------------------------------------------------------------


class RecipeCardOut(BaseModel):
    id: uuid.UUID
    title: str
    total_minutes: int
    image: ImageLink | None = Field(
        None, description="The recipe's cover photo as signed, expiring links, or null.")


class EntryOut(BaseModel):
    week: int
    day: Day
    meal: Meal
    recipe: RecipeCardOut | None = Field(
        description="Null when there is none, or the caller can no longer see it.")
    title: str | None
    servings: int | None
    note: str | None


class MealPlanSummary(BaseModel):
    id: uuid.UUID
    name: str
    start_date: datetime.date
    rotation_weeks: int
    is_active: bool
    entry_count: int
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class MealPlanRead(MealPlanSummary):
    entries: list[EntryOut]


class MealPlanPage(BaseModel):
    items: list[MealPlanSummary]
    next_cursor: str | None


class ScheduledMeal(BaseModel):
    meal: Meal
    recipe: RecipeCardOut | None
    title: str | None
    servings: int | None
    note: str | None


class ScheduleDayOut(BaseModel):
    date: datetime.date
    week: int = Field(description="The rotation week (1..rotation_weeks) of this date.")
    day: Day
    meals: list[ScheduledMeal]


class ScheduleOut(BaseModel):
    plan_id: uuid.UUID
    name: str
    rotation_weeks: int
    start_date: datetime.date
    days: list[ScheduleDayOut]


class FeedTokenOut(BaseModel):
    url: str = Field(description="The secret feed URL; shown once, never again.")
    created_at: datetime.datetime


# --- GDPR export (app/mealplans/owner_data.py) -----------------------------------------------


class ExportedEntry(BaseModel):
    week: int
    day: Day
    meal: Meal
    recipe_id: uuid.UUID | None
    title: str | None
    servings: int | None
    note: str | None


class ExportedMealPlan(BaseModel):
    id: uuid.UUID
    name: str
    start_date: datetime.date
    rotation_weeks: int
    is_active: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime
    entries: list[ExportedEntry]


class ExportedCalendarFeed(BaseModel):
    """The feed token's hash: the token itself is never stored, so never exported."""

    token_sha256: str
    created_at: datetime.datetime
