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
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
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
    # One statement whatever the number of entries: the plan's columns repeat on each
    # entry row (an outer join, so a plan without entries still comes back once).
    return (
        select(*_PLAN_COLUMNS, *_ENTRY_COLUMNS)
        .select_from(MealPlan)
        .outerjoin(MealPlanEntry, MealPlanEntry.plan_id == MealPlan.id)
        .where(MealPlan.owner_id == bindparam("owner_id"), condition)
        .order_by(MealPlanEntry.position)
    )


# Built once with bound parameters (as app/recipes/repository.py's _DETAIL).
_BY_ID = _plan_with_entries(MealPlan.id == bindparam("plan_id"))
_ACTIVE = _plan_with_entries(MealPlan.is_active.is_(True))


def read_plan(
    session: Session, owner_id: uuid.UUID, plan_id: uuid.UUID | None
) -> PlanRow | None:
    """The owner's plan ``plan_id`` (or, for None, their active plan), entries included."""
    if plan_id is None:
        rows = read_rows(session, _ACTIVE, {"owner_id": owner_id}).all()
    else:
        rows = read_rows(session, _BY_ID, {"owner_id": owner_id, "plan_id": plan_id}).all()
    if not rows:
        return None
    plan = rows[0][: len(_PLAN_COLUMNS)]
    entries = [PlanEntry(*row[len(_PLAN_COLUMNS):]) for row in rows
               if row[len(_PLAN_COLUMNS)] is not None]
    return PlanRow(*plan, entries=entries)


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
