"""Rotation arithmetic: which week of a plan a calendar date falls in. Pure, no I/O.

Weeks run Monday to Sunday. Week 1 is the week (Monday-Sunday) that contains the plan's
``start_date``; the next week is week 2, and after week N the rotation starts again at 1.
Dates before ``start_date`` continue the same cycle backwards: the week before week 1 is
week N. The schedule therefore never depends on the server's clock or time zone, only on
the dates the client sends.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.mealplans.exceptions import InvalidScheduleRange
from app.mealplans.models import MEALS

_MEAL_ORDER = {meal: index for index, meal in enumerate(MEALS)}


@dataclass(frozen=True, slots=True)
class PlannedRecipe:
    """One planned recipe on one date (for other domains: shopping lists, the feed)."""

    date: datetime.date
    meal: str
    recipe_id: uuid.UUID
    servings: int | None


@dataclass(frozen=True, slots=True)
class PlanEntry:
    """A stored entry as read (``day`` 0 = Monday)."""

    position: int
    week: int
    day: int
    meal: str
    recipe_id: uuid.UUID | None
    title: str | None
    servings: int | None
    note: str | None


@dataclass(frozen=True, slots=True)
class ScheduledDay:
    date: datetime.date
    week: int
    entries: list[PlanEntry]


def _monday(day: datetime.date) -> datetime.date:
    # Never underflows: 0001-01-01 is itself a Monday.
    return day - datetime.timedelta(days=day.weekday())


def rotation_week(start_date: datetime.date, rotation_weeks: int, day: datetime.date) -> int:
    """The 1-based rotation week ``day`` falls in (see the module docstring)."""
    weeks = (_monday(day) - _monday(start_date)).days // 7
    return weeks % rotation_weeks + 1


def date_range(start: datetime.date, days: int) -> list[datetime.date]:
    """``days`` consecutive dates from ``start``; InvalidScheduleRange past 9999-12-31."""
    if days < 1 or start.toordinal() + days - 1 > datetime.date.max.toordinal():
        raise InvalidScheduleRange()
    first = start.toordinal()
    return [datetime.date.fromordinal(first + offset) for offset in range(days)]


def entry_order(entry: PlanEntry) -> tuple[int, int]:
    return _MEAL_ORDER.get(entry.meal, len(_MEAL_ORDER)), entry.position


def schedule(
    start_date: datetime.date, rotation_weeks: int, entries: Iterable[PlanEntry],
    dates: Sequence[datetime.date],
) -> list[ScheduledDay]:
    """Each date with its rotation week and that weekday's entries in meal order."""
    slots: dict[tuple[int, int], list[PlanEntry]] = defaultdict(list)
    for entry in sorted(entries, key=entry_order):
        slots[(entry.week, entry.day)].append(entry)
    days = []
    for day in dates:
        week = rotation_week(start_date, rotation_weeks, day)
        days.append(ScheduledDay(day, week, slots.get((week, day.weekday()), [])))
    return days
