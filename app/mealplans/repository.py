"""Every SQL query about meal plans and their entries. Nothing here commits.

The calendar feed token's queries are in ``feed_repository``.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, aliased

from app.db.session import read_rows
from app.mealplans.models import MealPlan, MealPlanEntry
from app.mealplans.schedule import PlanEntry


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One plan with its entries (in position order), read without ORM objects."""

    id: uuid.UUID
    name: str
    start_date: datetime.date
    rotation_weeks: int
    is_active: bool
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    entries: list[PlanEntry]


_PLAN_COLUMNS = (
    MealPlan.id, MealPlan.name, MealPlan.start_date, MealPlan.rotation_weeks,
    MealPlan.is_active, MealPlan.version, MealPlan.created_at, MealPlan.updated_at,
)
_ENTRY_COLUMNS = (
    MealPlanEntry.position, MealPlanEntry.week, MealPlanEntry.day, MealPlanEntry.meal,
    MealPlanEntry.recipe_id, MealPlanEntry.title, MealPlanEntry.servings, MealPlanEntry.note,
)


def _plan_with_entries(condition: ColumnElement[bool]) -> Any:
    # Portable form (SQLite): the plan's columns repeat on each entry row (an outer join,
    # so a plan without entries still comes back once).
    return (
        select(*_PLAN_COLUMNS, *_ENTRY_COLUMNS)
        .select_from(MealPlan)
        .outerjoin(MealPlanEntry, MealPlanEntry.plan_id == MealPlan.id)
        .where(MealPlan.owner_id == bindparam("owner_id"), condition)
        .order_by(MealPlanEntry.position)
    )


# PostgreSQL: one row, the entries aggregated as JSON beside it (as recipes' detail read):
# 84 repeated plan columns cost more to convert than the JSON costs to parse.
def _entries_json(*conditions: Any) -> Any:
    return (
        select(func.json_agg(aggregate_order_by(func.json_build_array(*_ENTRY_COLUMNS),
                                                MealPlanEntry.position)))
        .where(MealPlanEntry.plan_id == MealPlan.id, *conditions)
        .scalar_subquery()
    )


# Only the entries that occur on a date in [window_start, window_start + window_days): a
# pre-filter, so a week of a 4-week plan reads a quarter of its entries. An entry's first
# occurrence is the Monday of start_date's week + 7 * (week - 1) + day; it recurs every
# 7 * rotation_weeks days (app/mealplans/schedule.py computes the same rotation, and a
# property test holds the two together: tests/mealplans/test_schedule_window.py).
_IN_WINDOW = text(
    "(((meal_plans.start_date - (extract(isodow FROM meal_plans.start_date)::int - 1)"
    " + 7 * (meal_plan_entries.week - 1) + meal_plan_entries.day - :window_start)"
    " % (7 * meal_plans.rotation_weeks)) + 7 * meal_plans.rotation_weeks)"
    " % (7 * meal_plans.rotation_weeks) < :window_days"
).bindparams(bindparam("window_start", type_=Date), bindparam("window_days", type_=Integer))


def _plan_with_entries_json(condition: ColumnElement[bool], *entry_conditions: Any) -> Any:
    return select(*_PLAN_COLUMNS, _entries_json(*entry_conditions)).where(
        MealPlan.owner_id == bindparam("owner_id"), condition)


# Built once with bound parameters (as app/recipes/repository.py's _DETAIL). Keys:
# (PostgreSQL?, the active plan?, only a window of dates?).
_BY_ID = MealPlan.id == bindparam("plan_id")
_IS_ACTIVE = MealPlan.is_active.is_(True)
_READS = {
    (False, False, False): _plan_with_entries(_BY_ID),
    (False, True, False): _plan_with_entries(_IS_ACTIVE),
    (True, False, False): _plan_with_entries_json(_BY_ID),
    (True, True, False): _plan_with_entries_json(_IS_ACTIVE),
    (True, False, True): _plan_with_entries_json(_BY_ID, _IN_WINDOW),
    (True, True, True): _plan_with_entries_json(_IS_ACTIVE, _IN_WINDOW),
}


def _json_entry(values: list[Any]) -> PlanEntry:
    position, week, day, meal, recipe_id, title, servings, note = values
    return PlanEntry(position, week, day, meal,
                     None if recipe_id is None else uuid.UUID(recipe_id), title, servings, note)


def read_plan(
    session: Session, owner_id: uuid.UUID, plan_id: uuid.UUID | None,
    window: tuple[datetime.date, int] | None = None,
) -> PlanRow | None:
    """The owner's plan ``plan_id`` (or, for None, their active plan) with its entries,
    in one statement. With ``window`` (first date, number of days) the entries may be
    limited to those occurring in it (on PostgreSQL; elsewhere all are returned)."""
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    windowed = on_postgresql and window is not None
    statement = _READS[(on_postgresql, plan_id is None, windowed)]
    params: dict[str, Any] = {"owner_id": owner_id, "plan_id": plan_id}
    if windowed and window is not None:
        params.update(window_start=window[0], window_days=window[1])
    rows = read_rows(session, statement, params).all()
    if not rows:
        return None
    size = len(_PLAN_COLUMNS)
    if on_postgresql:
        *plan, entries_json = rows[0]
        return PlanRow(*plan, entries=[_json_entry(e) for e in entries_json or []])
    entries = [PlanEntry(*row[size:]) for row in rows if row[size] is not None]
    return PlanRow(*rows[0][:size], entries=entries)


# --- lists ------------------------------------------------------------------------------

_ENTRY_COUNT = (
    select(func.count()).where(MealPlanEntry.plan_id == MealPlan.id)
    .correlate(MealPlan).scalar_subquery()
)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_plans(
    session: Session, owner_id: uuid.UUID, *, q: str | None,
    after: tuple[datetime.datetime, uuid.UUID] | None, limit: int,
) -> list[Any]:
    """A page of the owner's plans, newest first, each with its entry count."""
    statement = (
        select(*_PLAN_COLUMNS, _ENTRY_COUNT.label("entry_count"))
        .where(MealPlan.owner_id == owner_id)
        .order_by(MealPlan.created_at.desc(), MealPlan.id.desc())
        .limit(limit)
    )
    if q:
        statement = statement.where(
            MealPlan.name.ilike(f"%{_escape_like(q)}%", escape="\\"))
    if after is not None:
        created_at, plan_id = after
        statement = statement.where(or_(
            MealPlan.created_at < created_at,
            and_(MealPlan.created_at == created_at, MealPlan.id < plan_id),
        ))
    return list(read_rows(session, statement))


def count_plans(session: Session, owner_id: uuid.UUID) -> int:
    return session.scalar(
        select(func.count()).select_from(MealPlan).where(MealPlan.owner_id == owner_id)
    ) or 0


# --- writes -------------------------------------------------------------------------------


def insert_plan(session: Session, values: Mapping[str, Any]) -> uuid.UUID:
    plan_id = uuid.uuid4()
    session.execute(insert(MealPlan).values(id=plan_id, **values))
    return plan_id


def insert_entries(
    session: Session, plan_id: uuid.UUID, entries: Sequence[Mapping[str, Any]]
) -> None:
    if entries:
        session.execute(insert(MealPlanEntry), [
            {"plan_id": plan_id, "position": position, **entry}
            for position, entry in enumerate(entries)
        ])


def replace_entries(
    session: Session, plan_id: uuid.UUID, entries: Sequence[Mapping[str, Any]]
) -> None:
    session.execute(delete(MealPlanEntry).where(MealPlanEntry.plan_id == plan_id))
    insert_entries(session, plan_id, entries)


def _owned(owner_id: uuid.UUID, plan_id: uuid.UUID, version: int | None) -> list[Any]:
    conditions = [MealPlan.id == plan_id, MealPlan.owner_id == owner_id]
    if version is not None:
        conditions.append(MealPlan.version == version)
    return conditions


def update_plan(
    session: Session, owner_id: uuid.UUID, plan_id: uuid.UUID, values: Mapping[str, Any],
    *, expected_version: int | None,
) -> int | None:
    """Apply ``values`` and bump the version; the new version, or None if no row matched.

    Guarded like recipes' update: with ``expected_version`` only that version matches, and
    the row lock makes exactly one of concurrent writers of one version win.
    """
    statement = (
        update(MealPlan)
        .where(*_owned(owner_id, plan_id, expected_version))
        .values(**values, version=MealPlan.version + 1, updated_at=func.now())
        .returning(MealPlan.version)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none()


def delete_plan(
    session: Session, owner_id: uuid.UUID, plan_id: uuid.UUID, *, expected_version: int | None
) -> bool:
    result = session.execute(
        delete(MealPlan).where(*_owned(owner_id, plan_id, expected_version))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def activate(session: Session, owner_id: uuid.UUID, plan_id: uuid.UUID) -> bool:
    """Make ``plan_id`` the owner's only active plan, in one statement; False if the owner
    has no such plan (then nothing changes).

    The one-active constraint is checked at the statement's end, so the order in which
    the old and the new active row are updated does not matter. Concurrent switches are
    serialised by the caller's lock on the user row.
    """
    target = MealPlan.id == plan_id
    # An alias: the plain entity inside the subquery would correlate to the updated row.
    wanted = aliased(MealPlan)
    changes = MealPlan.is_active.is_distinct_from(target)
    statement = (
        update(MealPlan)
        .where(
            MealPlan.owner_id == owner_id,
            or_(MealPlan.is_active.is_(True), target),
            exists().where(wanted.id == plan_id, wanted.owner_id == owner_id),
        )
        .values(
            is_active=target,
            version=MealPlan.version + case((changes, 1), else_=0),
        )
        .returning(MealPlan.id)
        .execution_options(synchronize_session=False)
    )
    return plan_id in set(session.scalars(statement))


def deactivate(session: Session, owner_id: uuid.UUID) -> None:
    session.execute(
        update(MealPlan)
        .where(MealPlan.owner_id == owner_id, MealPlan.is_active.is_(True))
        .values(is_active=False, version=MealPlan.version + 1)
        .execution_options(synchronize_session=False)
    )


# --- a person's data (GDPR) -----------------------------------------------------------------


def plans_of(session: Session, owner_id: uuid.UUID) -> list[PlanRow]:
    """Every plan of the owner with its entries, oldest first: two statements."""
    plans = read_rows(session, select(*_PLAN_COLUMNS).where(MealPlan.owner_id == owner_id)
                      .order_by(MealPlan.created_at, MealPlan.id)).all()
    entries: dict[uuid.UUID, list[PlanEntry]] = {plan[0]: [] for plan in plans}
    rows = read_rows(session, select(MealPlanEntry.plan_id, *_ENTRY_COLUMNS)
                     .join(MealPlan, MealPlan.id == MealPlanEntry.plan_id)
                     .where(MealPlan.owner_id == owner_id)
                     .order_by(MealPlanEntry.plan_id, MealPlanEntry.position))
    for plan_id, *entry in rows:
        entries[plan_id].append(PlanEntry(*entry))
    return [PlanRow(*plan, entries=entries[plan[0]]) for plan in plans]


def delete_plans_of(session: Session, owner_id: uuid.UUID) -> None:
    # Entries go with their plan (ON DELETE CASCADE).
    session.execute(delete(MealPlan).where(MealPlan.owner_id == owner_id)
                    .execution_options(synchronize_session=False))
