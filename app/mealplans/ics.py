"""The calendar feed's body: one all-day event per planned meal, built with ``icalendar``."""

from __future__ import annotations

import datetime

from icalendar import Calendar, Event

from app.mealplans.repository import PlanRow
from app.mealplans.schedule import PlanEntry, ScheduledDay
from app.recipes.repository import RecipeCard

PRODID = "-//HomeChef Companion//Meal plans//EN"


def _summary(entry: PlanEntry, card: RecipeCard | None) -> str:
    # A recipe the subscriber can no longer see contributes nothing, not even its title.
    parts = [card.title] if card is not None else []
    if entry.title and entry.title not in parts:
        parts.append(entry.title)
    meal = entry.meal.capitalize()
    return f"{meal}: {' · '.join(parts)}" if parts else meal


def _description(entry: PlanEntry) -> str | None:
    lines = []
    if entry.servings is not None:
        lines.append(f"Servings: {entry.servings}")
    if entry.note:
        lines.append(entry.note)
    return "\n".join(lines) or None


def build_calendar(
    plan: PlanRow | None, days: list[ScheduledDay], cards: dict[object, RecipeCard],
    stamp: datetime.datetime,
) -> bytes:
    """The iCalendar text; an empty calendar when no plan is active."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Meals: {plan.name}" if plan else "Meals")
    for day in days:
        for entry in day.entries:
            card = cards.get(entry.recipe_id) if entry.recipe_id is not None else None
            event = Event()
            # Stable across fetches, so calendar apps update events instead of duplicating.
            event.add("uid", f"{plan.id if plan else ''}-{day.date.isoformat()}-"
                             f"{entry.position}@homechef")
            event.add("dtstamp", stamp)
            event.add("dtstart", day.date)
            event.add("dtend", day.date + datetime.timedelta(days=1))
            event.add("summary", _summary(entry, card))
            description = _description(entry)
            if description:
                event.add("description", description)
            event.add("transp", "TRANSPARENT")
            calendar.add_component(event)
    return calendar.to_ical()
