"""Meal-plan rules: ownership, limits, preconditions, the active plan, schedules.

Every query is in ``repository``; this module never commits. Recipe visibility is the
recipes service's decision (``visible_recipe_cards`` / ``require_visible_recipes``).
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.cursors import (
    Position,
    cursor_key,
    decode_cursor,
    encode_cursor,
    query_fingerprint,
)
from app.mealplans import repository
from app.mealplans.exceptions import (
    InvalidScheduleRange,
    MealPlanChanged,
    MealPlanNotFound,
    NoActiveMealPlan,
    TooManyMealPlans,
    WeekOutsideRotation,
)
from app.mealplans.models import DAYS
from app.mealplans.repository import PlanRow
from app.mealplans.schedule import PlanEntry, PlannedRecipe, ScheduledDay, date_range, schedule
from app.mealplans.schemas import (
    MAX_PLANS,
    MAX_SCHEDULE_DAYS,
    EntryIn,
    EntryOut,
    MealPlanCreate,
    MealPlanListParams,
    MealPlanPage,
    MealPlanRead,
    MealPlanSummary,
    MealPlanUpdate,
    RecipeCardOut,
    ScheduleDayOut,
    ScheduledMeal,
    ScheduleOut,
)
from app.media.links import LinkSigner, image_link
from app.recipes import service as recipes_service
from app.recipes.shared_reads import RecipeCard
from app.users import service as users_service

Cards = dict[uuid.UUID, RecipeCard]


# --- ETags --------------------------------------------------------------------------------


def plan_etag(plan_id: uuid.UUID, version: int) -> str:
    basis = f"meal-plan:{plan_id}:{version}"
    return '"' + hashlib.sha256(basis.encode()).hexdigest()[:32] + '"'


def _expected_version(
    session: Session, owner_id: uuid.UUID, plan_id: uuid.UUID, if_match: str | None
) -> int | None:
    if if_match is None:
        return None
    plan = load_plan(session, owner_id, plan_id)
    if not recipes_service.etag_matches(if_match, plan_etag(plan.id, plan.version)):
        raise MealPlanChanged()
    return plan.version


# --- reads -----------------------------------------------------------------------------------


def load_plan(
    session: Session, owner_id: uuid.UUID, plan_id: uuid.UUID | None,
    window: tuple[datetime.date, int] | None = None,
) -> PlanRow:
    """The owner's plan (None: their active plan) with its entries; 404 otherwise.

    With ``window`` (first date, days), entries that occur on none of those dates may be
    left out: for schedules, which show nothing else.
    """
    plan = repository.read_plan(session, owner_id, plan_id, window)
    if plan is None:
        raise NoActiveMealPlan() if plan_id is None else MealPlanNotFound()
    return plan


def recipe_cards(session: Session, user_id: uuid.UUID, entries: Iterable[PlanEntry]) -> Cards:
    ids = {entry.recipe_id for entry in entries if entry.recipe_id is not None}
    return recipes_service.visible_recipe_cards(session, user_id, ids)


def _card(
    cards: Cards, recipe_id: uuid.UUID | None, links: LinkSigner, exp: int
) -> RecipeCardOut | None:
    card = cards.get(recipe_id) if recipe_id is not None else None
    if card is None:
        return None
    image = None
    if card.cover_id is not None:
        image = image_link(links, card.cover_id, card.cover_width or 0, card.cover_height or 0,
                           exp)
    return RecipeCardOut(id=card.id, title=card.title, total_minutes=card.total_minutes,
                         image=image)


def to_read(
    session: Session, user_id: uuid.UUID, plan: PlanRow, links: LinkSigner
) -> MealPlanRead:
    cards = recipe_cards(session, user_id, plan.entries)
    exp = links.expiry()  # one expiry per response: its links are one cacheable set
    return MealPlanRead(
        id=plan.id, name=plan.name, start_date=plan.start_date,
        rotation_weeks=plan.rotation_weeks, is_active=plan.is_active,
        entry_count=len(plan.entries), version=plan.version, created_at=plan.created_at,
        updated_at=plan.updated_at,
        entries=[
            EntryOut(week=e.week, day=DAYS[e.day], meal=e.meal,  # type: ignore[arg-type]
                     recipe=_card(cards, e.recipe_id, links, exp), title=e.title,
                     servings=e.servings,
                     note=e.note)
            for e in plan.entries
        ],
    )


def get_plan(session: Session, user: Principal, plan_id: uuid.UUID | None) -> PlanRow:
    return load_plan(session, user.id, plan_id)


# --- schedules ----------------------------------------------------------------------------


def scheduled_days(
    plan: PlanRow, start: datetime.date, days: int
) -> list[ScheduledDay]:
    return schedule(plan.start_date, plan.rotation_weeks, plan.entries, date_range(start, days))


def get_schedule(
    session: Session, user: Principal, plan_id: uuid.UUID | None, start: datetime.date,
    days: int, links: LinkSigner,
) -> ScheduleOut:
    """The concrete days from ``start``: two statements whatever ``days`` and the number
    of entries (the plan with the entries in the range, the recipe cards)."""
    dates = date_range(start, days)  # refused before any query
    plan = load_plan(session, user.id, plan_id, (start, days))
    scheduled = schedule(plan.start_date, plan.rotation_weeks, plan.entries, dates)
    # Cards only for the entries in the range: a week of a 4-week plan needs a quarter.
    cards = recipe_cards(session, user.id, (e for day in scheduled for e in day.entries))
    exp = links.expiry()
    return ScheduleOut(
        plan_id=plan.id, name=plan.name, rotation_weeks=plan.rotation_weeks,
        start_date=plan.start_date,
        days=[
            ScheduleDayOut(
                date=day.date, week=day.week, day=DAYS[day.date.weekday()],  # type: ignore[arg-type]
                meals=[
                    ScheduledMeal(meal=e.meal,  # type: ignore[arg-type]
                                  recipe=_card(cards, e.recipe_id, links, exp),
                                  title=e.title, servings=e.servings, note=e.note)
                    for e in day.entries
                ],
            )
            for day in scheduled
        ],
    )


def planned_recipes(
    session: Session, user_id: uuid.UUID, plan_id: uuid.UUID | None, start: datetime.date,
    days: int,
) -> list[PlannedRecipe]:
    """Every planned entry with a recipe ``user_id`` may still see, on the ``days`` dates
    from ``start``, for the plan ``plan_id`` or (None) the user's active plan; in date
    order, then meal order (breakfast, lunch, dinner, snack), then entry position.

    For other domains (shopping lists). Raises MealPlanNotFound (404) when the plan is
    missing or someone else's, NoActiveMealPlan (a MealPlanNotFound) when plan_id is None
    and no plan is active, and InvalidScheduleRange (422) unless 1 <= days <= 31 and the
    range ends by 9999-12-31. Two statements, whatever ``days`` and the plan's size.
    """
    if not 1 <= days <= MAX_SCHEDULE_DAYS:
        raise InvalidScheduleRange()
    dates = date_range(start, days)
    plan = load_plan(session, user_id, plan_id, (start, days))
    scheduled = schedule(plan.start_date, plan.rotation_weeks, plan.entries, dates)
    wanted = {e.recipe_id for day in scheduled for e in day.entries if e.recipe_id is not None}
    visible = recipes_service.visible_recipe_ids(session, user_id, wanted) if wanted else set()
    return [
        PlannedRecipe(date=day.date, meal=entry.meal, recipe_id=entry.recipe_id,
                      servings=entry.servings)
        for day in scheduled for entry in day.entries
        if entry.recipe_id is not None and entry.recipe_id in visible
    ]


# --- writes ---------------------------------------------------------------------------------


def _entry_values(entry: EntryIn) -> dict[str, Any]:
    return {
        "week": entry.week, "day": DAYS.index(entry.day), "meal": entry.meal,
        "recipe_id": entry.recipe_id, "title": entry.title, "servings": entry.servings,
        "note": entry.note,
    }


def _require_recipes(session: Session, user_id: uuid.UUID, entries: Iterable[EntryIn]) -> None:
    """One query for every recipe id; any the caller may not see is a 404 like a missing one."""
    ids = {entry.recipe_id for entry in entries if entry.recipe_id is not None}
    if ids:
        recipes_service.require_visible_recipes(session, user_id, ids)


def create_plan(session: Session, user: Principal, data: MealPlanCreate) -> PlanRow:
    # The exclusive user lock: two concurrent creates cannot both pass the count check
    # (and an erasure racing this request cannot leave a plan behind).
    users_service.lock_active_for_write(session, user.id)
    if repository.count_plans(session, user.id) >= MAX_PLANS:
        raise TooManyMealPlans()
    _require_recipes(session, user.id, data.entries)
    start_date = data.start_date or datetime.datetime.now(datetime.UTC).date()
    plan_id = repository.insert_plan(session, {
        "owner_id": user.id, "name": data.name, "start_date": start_date,
        "rotation_weeks": data.rotation_weeks,
    })
    repository.insert_entries(session, plan_id, [_entry_values(e) for e in data.entries])
    return load_plan(session, user.id, plan_id)


def update_plan(
    session: Session, user: Principal, plan_id: uuid.UUID, changes: MealPlanUpdate,
    if_match: str | None,
) -> PlanRow:
    expected = _expected_version(session, user.id, plan_id, if_match)
    given = changes.model_fields_set
    if not given:
        return load_plan(session, user.id, plan_id)
    if changes.entries is not None:
        users_service.guard_active_for_write(session, user.id)
        _require_recipes(session, user.id, changes.entries)
    values = {name: getattr(changes, name)
              for name in ("name", "start_date", "rotation_weeks") if name in given}
    # The guarded UPDATE first: its row lock serialises the entry replacement below.
    if repository.update_plan(session, user.id, plan_id, values,
                              expected_version=expected) is None:
        raise MealPlanChanged() if expected is not None else MealPlanNotFound()
    if changes.entries is not None:
        repository.replace_entries(session, plan_id, [_entry_values(e) for e in changes.entries])
    plan = load_plan(session, user.id, plan_id)
    if any(entry.week > plan.rotation_weeks for entry in plan.entries):
        # Rolled back with the request: nothing of this PATCH is kept.
        raise WeekOutsideRotation()
    return plan


def delete_plan(
    session: Session, user: Principal, plan_id: uuid.UUID, if_match: str | None
) -> None:
    expected = _expected_version(session, user.id, plan_id, if_match)
    if not repository.delete_plan(session, user.id, plan_id, expected_version=expected):
        raise MealPlanChanged() if expected is not None else MealPlanNotFound()


def activate_plan(session: Session, user: Principal, plan_id: uuid.UUID) -> PlanRow:
    """Make ``plan_id`` the one active plan: one UPDATE under the user's exclusive lock,
    so concurrent switches queue and the last one wins, never an error."""
    users_service.lock_active_for_write(session, user.id)
    if not repository.activate(session, user.id, plan_id):
        raise MealPlanNotFound()
    return load_plan(session, user.id, plan_id)


def deactivate(session: Session, user: Principal) -> None:
    users_service.lock_active_for_write(session, user.id)
    repository.deactivate(session, user.id)


# --- lists ----------------------------------------------------------------------------------


def list_plans(
    session: Session, user: Principal, params: MealPlanListParams, secret: str
) -> MealPlanPage:
    """The caller's plans, newest first, in keyset pages (cursors as recipes' lists)."""
    q = " ".join(params.q.split()) if params.q else None
    fingerprint = query_fingerprint({"domain": "meal-plans", "user": user.id, "q": q or ""})
    key = cursor_key(secret)
    after = None
    if params.cursor:
        position = decode_cursor(key, params.cursor, fingerprint, datetime.datetime)
        after = (position.key, position.id)
    rows = repository.list_plans(session, user.id, q=q, after=after, limit=params.limit + 1)
    more, rows = len(rows) > params.limit, rows[: params.limit]
    next_cursor = None
    if more and rows:
        next_cursor = encode_cursor(key, fingerprint, Position(rows[-1].created_at, rows[-1].id))
    return MealPlanPage(
        items=[MealPlanSummary(**row._mapping) for row in rows], next_cursor=next_cursor)
