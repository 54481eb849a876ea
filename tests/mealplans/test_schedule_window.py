"""The SQL pre-filter of a schedule's entries (app/mealplans/repository.py, _IN_WINDOW)
agrees with the rotation arithmetic in Python (app/mealplans/schedule.py) everywhere:
any start date, rotation, first date and length, the ends of the calendar included."""

from __future__ import annotations

import datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.mealplans import repository
from app.mealplans.models import DAYS, MealPlan
from app.mealplans.schedule import date_range, schedule
from tests.factories import make_user
from tests.mealplans.factories import entry, make_plan

LAST_START = datetime.date.max - datetime.timedelta(days=60)


@settings(max_examples=60)
@given(
    start_date=st.dates(),
    rotation_weeks=st.integers(1, 12),
    first=st.dates(max_value=LAST_START),
    days=st.sampled_from([1, 2, 6, 7, 8, 13, 31, 57]),
)
def test_the_window_keeps_exactly_the_entries_the_schedule_shows(
    db: Session, start_date, rotation_weeks, first, days
) -> None:
    owner = make_user(db)
    # An entry on every (week, day) of a 12-week rotation; those past rotation_weeks are
    # never shown, whatever the window says.
    plan = make_plan(db, owner, rotation_weeks=12, entries=[
        entry(week, day) for week in range(1, 13) for day in DAYS])
    db.execute(update(MealPlan).where(MealPlan.id == plan.id).values(
        start_date=start_date, rotation_weeks=rotation_weeks))
    db.commit()

    full = repository.read_plan(db, owner.id, plan.id)
    windowed = repository.read_plan(db, owner.id, plan.id, (first, days))

    assert full is not None and windowed is not None
    dates = date_range(first, days)
    expected = schedule(start_date, rotation_weeks, full.entries, dates)
    assert schedule(start_date, rotation_weeks, windowed.entries, dates) == expected
    shown = {e.position for day in expected for e in day.entries}
    assert {e.position for e in windowed.entries} - shown <= {
        e.position for e in windowed.entries if e.week > rotation_weeks}
