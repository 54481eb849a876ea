"""Every SQL statement about shopping lists and their items. Nothing here commits.

Writers to a list's items first call ``lock_and_bump``: one UPDATE that takes the list's
row lock and hands out the next change number, so item writes to one list are serialised
and change numbers become visible in the order they were handed out. Hot statements run
as Core through ``read_rows`` (UPDATE ... RETURNING too), without the ORM's bookkeeping.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Numeric,
    String,
    Uuid,
    and_,
    bindparam,
    column,
    delete,
    func,
    insert,
    select,
    update,
    values,
)
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.session import read_rows
from app.db.versioning import at_version, delete_at_version
from app.shopping.merging import Line, Share
from app.shopping.models import ShoppingItemSource, ShoppingList, ShoppingListItem
from app.users.models import User

Item = ShoppingListItem
Source = ShoppingItemSource

#: Item columns a response shows, in ItemRead order (see service.item_read).
ITEM_COLUMNS = (
    Item.id, Item.position, Item.name, Item.quantity, Item.unit, Item.note, Item.category,
    Item.checked, Item.checked_at, Item.edited, Item.change_seq, Item.updated_at,
    Item.deleted_at,
)


#: List columns a read shows, in ListRead order, then the sync counters.
LIST_COLUMNS = (
    ShoppingList.id, ShoppingList.name, ShoppingList.version, ShoppingList.created_at,
    ShoppingList.updated_at, ShoppingList.change_seq, ShoppingList.purged_seq,
)


@dataclass(frozen=True, slots=True)
class Bumped:
    """The list after ``lock_and_bump``: locked until the transaction ends."""

    seq: int
    measurement_system: str


# --- lists -----------------------------------------------------------------------------


def count_lists(session: Session, owner_id: uuid.UUID) -> int:
    return session.scalar(
        select(func.count()).select_from(ShoppingList).where(ShoppingList.owner_id == owner_id)
    ) or 0


def insert_list(session: Session, owner_id: uuid.UUID, name: str) -> ShoppingList:
    shopping_list = ShoppingList(owner_id=owner_id, name=name)
    session.add(shopping_list)
    session.flush()
    return shopping_list


def lists_of(session: Session, owner_id: uuid.UUID) -> Sequence[ShoppingList]:
    return session.scalars(
        select(ShoppingList).where(ShoppingList.owner_id == owner_id)
        .order_by(ShoppingList.created_at, ShoppingList.id)
    ).all()


def find_owned(session: Session, list_id: uuid.UUID, owner_id: uuid.UUID) -> ShoppingList | None:
    return session.scalar(
        select(ShoppingList).where(ShoppingList.id == list_id, ShoppingList.owner_id == owner_id)
    )


def rename_list(
    session: Session, list_id: uuid.UUID, owner_id: uuid.UUID, name: str,
    expected_version: int | None,
) -> ShoppingList | None:
    conditions = at_version(ShoppingList, list_id, expected_version,
                            ShoppingList.owner_id == owner_id)
    return session.scalar(
        update(ShoppingList).where(*conditions)
        .values(name=name, version=ShoppingList.version + 1, updated_at=utcnow())
        .returning(ShoppingList)
        .execution_options(populate_existing=True)
    )


def delete_list(
    session: Session, list_id: uuid.UUID, owner_id: uuid.UUID, expected_version: int | None
) -> bool:
    return delete_at_version(session, ShoppingList, list_id, expected_version,
                             ShoppingList.owner_id == owner_id)


def lock_and_bump(session: Session, list_id: uuid.UUID, owner_id: uuid.UUID) -> Bumped | None:
    """The list's next change number (row-locked), and its owner's measurement system;
    None if the caller has no such list."""
    # Core, not Session.execute: the ORM would look for loaded lists to synchronise.
    row = read_rows(
        session,
        update(ShoppingList)
        .where(ShoppingList.id == list_id, ShoppingList.owner_id == owner_id,
               User.id == ShoppingList.owner_id)
        .values(change_seq=ShoppingList.change_seq + 1, updated_at=utcnow())
        .returning(ShoppingList.change_seq, User.measurement_system),
    ).first()
    return None if row is None else Bumped(seq=row[0], measurement_system=row[1])


# --- reading items ---------------------------------------------------------------------


def _sync_statement(*join_on: Any) -> Any:
    return (
        select(*LIST_COLUMNS, *ITEM_COLUMNS)
        .select_from(ShoppingList)
        .outerjoin(Item, and_(Item.list_id == ShoppingList.id, *join_on))
        .where(ShoppingList.id == bindparam("list_id"),
               ShoppingList.owner_id == bindparam("owner_id"))
        .order_by(Item.position, Item.id)
    )


# Built once, every value bound (as the recipes' hot reads are): building and hashing a
# 20-column SELECT per request is a measurable share of a sync call with no changes.
_FULL_READ = _sync_statement(Item.deleted_at.is_(None))
_CHANGES_SINCE = _sync_statement(Item.change_seq > bindparam("since", type_=BigInteger))


def sync_rows(
    session: Session, list_id: uuid.UUID, owner_id: uuid.UUID, since: int | None
) -> list[Any]:
    """The list's counters and its items changed after ``since`` (every live item when
    None), in one statement so both come from one snapshot. Empty if no such list.

    Each row: (*LIST_COLUMNS, *ITEM_COLUMNS), item columns NULL when nothing changed.
    """
    params: dict[str, Any] = {"list_id": list_id, "owner_id": owner_id}
    if since is None:
        return list(read_rows(session, _FULL_READ, params).all())
    return list(read_rows(session, _CHANGES_SINCE, {**params, "since": since}).all())


def live_items(session: Session, list_id: uuid.UUID) -> list[Any]:
    """Every live item of a list (rows of ITEM_COLUMNS plus name_key)."""
    return list(read_rows(
        session,
        select(*ITEM_COLUMNS, Item.name_key)
        .where(Item.list_id == list_id, Item.deleted_at.is_(None))
        .order_by(Item.position, Item.id),
    ).all())


def count_and_last_position(session: Session, list_id: uuid.UUID) -> tuple[int, int]:
    row = read_rows(
        session,
        select(func.count(), func.coalesce(func.max(Item.position), -1))
        .where(Item.list_id == list_id, Item.deleted_at.is_(None)),
    ).one()
    return int(row[0]), int(row[1])


def shares_of(session: Session, item_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Share]]:
    """Every item's shares, oldest first."""
    ids = list(item_ids)
    found: dict[uuid.UUID, list[Share]] = {item_id: [] for item_id in ids}
    if not ids:
        return found
    rows = read_rows(
        session,
        select(Source.item_id, Source.id, Source.recipe_id, Source.servings,
               Source.recipe_servings, Source.quantity, Source.unit)
        .where(Source.item_id.in_(ids)),
    )
    for item_id, source_id, recipe_id, servings, recipe_servings, quantity, unit in rows:
        found[item_id].append(Share(recipe_id=recipe_id, servings=servings,
                                    recipe_servings=recipe_servings, quantity=quantity,
                                    unit=unit, id=source_id))
    return found


def items_with_recipe(
    session: Session, list_id: uuid.UUID, recipe_id: uuid.UUID
) -> list[Any]:
    """Live items of the list that ``recipe_id`` contributed to: (ITEM_COLUMNS, name_key)."""
    contributed = select(Source.item_id).where(Source.recipe_id == recipe_id)
    return list(read_rows(
        session,
        select(*ITEM_COLUMNS, Item.name_key)
        .where(Item.list_id == list_id, Item.deleted_at.is_(None), Item.id.in_(contributed)),
    ).all())


def existing_item_ids(
    session: Session, list_id: uuid.UUID, item_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``item_ids`` are live items of this list (anyone else's ids: none)."""
    return set(session.scalars(
        select(Item.id).where(Item.list_id == list_id, Item.deleted_at.is_(None),
                              Item.id.in_(set(item_ids)))
    ))


# --- writing items ---------------------------------------------------------------------


def insert_lines(
    session: Session, list_id: uuid.UUID, lines: Sequence[Line], seq: int, now: datetime
) -> None:
    if not lines:
        return
    # Core (the table, not the class): one multi-row INSERT, where the ORM's bulk insert
    # would group rows by which values are None and send several.
    session.execute(insert(Item.__table__), [
        {"id": line.id, "list_id": list_id, "position": line.position, "name": line.name,
         "name_key": line.name_key, "quantity": line.quantity, "unit": line.unit,
         "note": line.note, "category": line.category, "edited": line.edited,
         "change_seq": seq, "created_at": now, "updated_at": now}
        for line in lines
    ])


def update_lines(session: Session, lines: Sequence[Line], seq: int) -> None:
    """New quantity and unit of each line, in one statement (a VALUES list joined)."""
    if not lines:
        return
    changed = values(
        column("id", Uuid()), column("quantity", Numeric()), column("unit", String()),
        name="changed",
    ).data([(line.id, line.quantity, line.unit) for line in lines])
    session.execute(
        update(Item).where(Item.id == changed.c.id)
        .values(quantity=changed.c.quantity, unit=changed.c.unit, change_seq=seq,
                updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def insert_shares(session: Session, pairs: Sequence[tuple[uuid.UUID, Share]]) -> None:
    if not pairs:
        return
    session.execute(insert(Source.__table__), [
        {"id": share.id, "item_id": item_id, "recipe_id": share.recipe_id,
         "servings": share.servings, "recipe_servings": share.recipe_servings,
         "quantity": share.quantity, "unit": share.unit}
        for item_id, share in pairs
    ])


def delete_recipe_shares(
    session: Session, item_ids: Sequence[uuid.UUID], recipe_id: uuid.UUID
) -> None:
    if item_ids:
        session.execute(
            delete(Source).where(Source.item_id.in_(item_ids), Source.recipe_id == recipe_id)
            .execution_options(synchronize_session=False)
        )


def update_item(
    session: Session, list_id: uuid.UUID, item_id: uuid.UUID, changes: dict[str, Any], seq: int
) -> Any | None:
    """Set only the given columns (others keep what concurrent writers left there)."""
    return read_rows(
        session,
        update(Item)
        .where(Item.id == item_id, Item.list_id == list_id, Item.deleted_at.is_(None))
        .values(**changes, change_seq=seq, updated_at=utcnow())
        .returning(*ITEM_COLUMNS),
    ).first()


def set_checked(
    session: Session, list_id: uuid.UUID, item_ids: Sequence[uuid.UUID], checked: bool, seq: int
) -> int:
    now = utcnow()
    result = session.execute(
        update(Item)
        .where(Item.list_id == list_id, Item.id.in_(item_ids), Item.deleted_at.is_(None))
        .values(checked=checked, checked_at=now if checked else None, change_seq=seq,
                updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def tombstone(
    session: Session, list_id: uuid.UUID, item_ids: Sequence[uuid.UUID], seq: int
) -> int:
    """Mark items deleted (kept for the retention so phones learn of it); their shares go."""
    if not item_ids:
        return 0
    now = utcnow()
    session.execute(
        delete(Source).where(Source.item_id.in_(item_ids))
        .execution_options(synchronize_session=False)
    )
    result = session.execute(
        update(Item)
        .where(Item.list_id == list_id, Item.id.in_(item_ids), Item.deleted_at.is_(None))
        .values(deleted_at=now, change_seq=seq, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def purge_tombstones(session: Session, list_id: uuid.UUID, before: datetime) -> None:
    """Forget deletions older than the retention, remembering the newest one forgotten."""
    purged = (
        delete(Item)
        .where(Item.list_id == list_id, Item.deleted_at < before)
        .returning(Item.change_seq)
        .cte("purged")
    )
    # One statement: the DELETE runs as a top-level data-modifying CTE of the UPDATE.
    session.execute(
        update(ShoppingList)
        .add_cte(purged)
        .where(ShoppingList.id == list_id)
        .values(purged_seq=func.greatest(
            ShoppingList.purged_seq,
            select(func.coalesce(func.max(purged.c.change_seq), 0)).scalar_subquery(),
        ))
    )
