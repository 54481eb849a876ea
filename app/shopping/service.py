"""Shopping-list rules: ownership, limits, items, bulk changes and sync.

Adding and removing recipes is in ``contributions``. Every write to a list's items starts
with ``repository.lock_and_bump``: it proves the caller owns the list (404 otherwise,
as for a missing one), takes the list's row lock and hands out the change number that
the written items carry. This module never commits.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.errors import Unprocessable
from app.db.base import utcnow
from app.recipes.scaling import format_quantity, round_for_display
from app.recipes.service import etag_matches
from app.shopping import repository
from app.shopping.exceptions import (
    InvalidSyncToken,
    ShoppingItemNotFound,
    ShoppingListChanged,
    ShoppingListNotFound,
    SyncTokenExpired,
    TooManyShoppingItems,
    TooManyShoppingLists,
)
from app.shopping.merging import Line, Share, name_key
from app.shopping.models import ShoppingList
from app.shopping.repository import Bumped
from app.shopping.schemas import (
    EDITING_FIELDS,
    MAX_ITEMS_PER_LIST,
    MAX_LISTS_PER_USER,
    NON_NULL_FIELDS,
    BulkItems,
    BulkResult,
    ItemCreate,
    ItemRead,
    ItemUpdate,
    ListCreate,
    ListDetail,
    ListPage,
    ListRead,
    ListUpdate,
    SyncPage,
    Tombstone,
)
from app.shopping.sync_token import SyncPoint, decode_token, encode_token
from app.users import service as users_service


@dataclass(frozen=True, slots=True)
class SyncConfig:
    """What signing and checking sync tokens needs (from the app's settings)."""

    key: bytes
    retention: timedelta


# --- shapes --------------------------------------------------------------------------------


def _quantities(quantity: Decimal | None) -> tuple[str | None, str | None]:
    if quantity is None:
        return None, None
    return format_quantity(quantity), format_quantity(round_for_display(quantity))


def item_read(row: Any) -> ItemRead:
    """An ItemRead from a row of repository.ITEM_COLUMNS (by position: hot path)."""
    (item_id, position, name, quantity, unit, note, category, checked, checked_at, edited,
     change_seq, updated_at, *_deleted) = row
    exact, shown = _quantities(quantity)
    return ItemRead(
        id=item_id, position=position, name=name, quantity=exact, display_quantity=shown,
        unit=unit, note=note, category=category, checked=checked, checked_at=checked_at,
        edited=edited, change_seq=change_seq, updated_at=updated_at,
    )


def list_read(shopping_list: ShoppingList | Any) -> ListRead:
    return ListRead(id=shopping_list.id, name=shopping_list.name, version=shopping_list.version,
                    created_at=shopping_list.created_at, updated_at=shopping_list.updated_at)


def list_etag(list_id: uuid.UUID, version: int) -> str:
    return '"' + hashlib.sha256(f"list:{list_id}:{version}".encode()).hexdigest()[:32] + '"'


def _expected_version(
    session: Session, user: Principal, list_id: uuid.UUID, if_match: str | None
) -> int | None:
    if if_match is None:
        return None
    current = repository.find_owned(session, list_id, user.id)
    if current is None:
        raise ShoppingListNotFound()
    if not etag_matches(if_match, list_etag(current.id, current.version)):
        raise ShoppingListChanged()
    return current.version


# --- lists ---------------------------------------------------------------------------------


def create_list(session: Session, user: Principal, body: ListCreate) -> ShoppingList:
    # The user-row lock serialises this person's creators, so the limit holds under races.
    users_service.lock_active_for_write(session, user.id)
    if repository.count_lists(session, user.id) >= MAX_LISTS_PER_USER:
        raise TooManyShoppingLists()
    return repository.insert_list(session, user.id, body.name)


def list_lists(session: Session, user: Principal) -> ListPage:
    return ListPage(items=[list_read(item) for item in repository.lists_of(session, user.id)])


def rename_list(
    session: Session, user: Principal, list_id: uuid.UUID, body: ListUpdate, if_match: str | None
) -> ShoppingList:
    expected = _expected_version(session, user, list_id, if_match)
    renamed = repository.rename_list(session, list_id, user.id, body.name, expected)
    if renamed is None:
        raise ShoppingListChanged() if expected is not None else ShoppingListNotFound()
    return renamed


def delete_list(
    session: Session, user: Principal, list_id: uuid.UUID, if_match: str | None
) -> None:
    expected = _expected_version(session, user, list_id, if_match)
    if not repository.delete_list(session, list_id, user.id, expected):
        raise ShoppingListChanged() if expected is not None else ShoppingListNotFound()


# --- reads and sync ------------------------------------------------------------------------


def _token(config: SyncConfig, list_id: uuid.UUID, seq: int) -> str:
    return encode_token(config.key, list_id, SyncPoint(seq=seq, issued_at=int(time.time())))


def read_list(
    session: Session, user: Principal, list_id: uuid.UUID, config: SyncConfig
) -> ListDetail:
    """The list with every live item and a sync token, from one snapshot (one statement)."""
    rows = repository.sync_rows(session, list_id, user.id, None)
    if not rows:
        raise ShoppingListNotFound()
    list_id, name, version, created_at, updated_at, change_seq, _purged = rows[0][:7]
    return ListDetail(
        id=list_id, name=name, version=version, created_at=created_at, updated_at=updated_at,
        items=[item_read(row[7:]) for row in rows if row[7] is not None],
        sync_token=_token(config, list_id, change_seq),
    )


def _since(config: SyncConfig, list_id: uuid.UUID, token: str) -> int:
    point = decode_token(config.key, list_id, token)
    if time.time() - point.issued_at > config.retention.total_seconds():
        raise SyncTokenExpired()
    return point.seq


def sync(
    session: Session, user: Principal, list_id: uuid.UUID, changed_since: str | None,
    config: SyncConfig,
) -> SyncPage:
    """Items changed after the token (tombstones included), or every live item without
    one; and the token to use next time."""
    since = None if changed_since is None else _since(config, list_id, changed_since)
    rows = repository.sync_rows(session, list_id, user.id, since)
    if not rows:
        raise ShoppingListNotFound()
    change_seq, purged_seq = rows[0][5], rows[0][6]
    if since is not None and since > change_seq:
        raise InvalidSyncToken()  # signed by us, so only a list replaced under the same id
    if since is not None and since < purged_seq:
        raise SyncTokenExpired()  # a deletion after the token was forgotten since
    items: list[ItemRead] = []
    deleted: list[Tombstone] = []
    for row in rows:
        item = row[7:]
        if item[0] is None:
            continue
        if item[-1] is not None:
            deleted.append(Tombstone(id=item[0], deleted_at=item[-1], change_seq=item[10]))
        else:
            items.append(item_read(item))
    return SyncPage(items=items, deleted=deleted,
                    sync_token=_token(config, list_id, change_seq))


# --- items ---------------------------------------------------------------------------------


def lock_list(session: Session, user: Principal, list_id: uuid.UUID) -> Bumped:
    """The caller's list, row-locked, with the change number this write's items carry."""
    bumped = repository.lock_and_bump(session, list_id, user.id)
    if bumped is None:
        raise ShoppingListNotFound()
    return bumped


def add_item(
    session: Session, user: Principal, list_id: uuid.UUID, body: ItemCreate
) -> ItemRead:
    """A typed line, as typed: it is not merged into others (recipes may merge into it)."""
    users_service.guard_active_for_write(session, user.id)
    bumped = lock_list(session, user, list_id)
    count, last_position = repository.count_and_last_position(session, list_id)
    if count >= MAX_ITEMS_PER_LIST:
        raise TooManyShoppingItems()
    share = Share(recipe_id=None, servings=None, recipe_servings=None,
                  quantity=body.quantity, unit=body.unit)
    line = Line(id=uuid.uuid4(), name=body.name, name_key=name_key(body.name),
                quantity=body.quantity, unit=body.unit, edited=False,
                position=last_position + 1, shares=[share], note=body.note,
                category=body.category, new=True)
    now = utcnow()
    repository.insert_lines(session, list_id, [line], bumped.seq, now)
    repository.insert_shares(session, [(line.id, share)])
    return ItemRead(
        id=line.id, position=line.position, name=line.name,
        quantity=_quantities(line.quantity)[0], display_quantity=_quantities(line.quantity)[1],
        unit=line.unit, note=line.note, category=line.category, checked=False,
        checked_at=None, edited=False, change_seq=bumped.seq, updated_at=now,
    )


def _item_changes(body: ItemUpdate) -> dict[str, Any]:
    given = body.model_fields_set
    for name in given & NON_NULL_FIELDS:
        if getattr(body, name) is None:
            raise Unprocessable(f"{name} may not be null.")
    changes = {name: getattr(body, name) for name in given}
    if "name" in changes:
        changes["name_key"] = name_key(changes["name"])
    if "checked" in changes:
        changes["checked_at"] = utcnow() if changes["checked"] else None
    if given & EDITING_FIELDS:
        changes["edited"] = True
    return changes


def update_item(
    session: Session, user: Principal, list_id: uuid.UUID, item_id: uuid.UUID,
    body: ItemUpdate,
) -> ItemRead:
    """Only the fields given change: a tick from one phone and an edit of the quantity
    from another both land, field by field; on one field the last write wins."""
    changes = _item_changes(body)
    bumped = lock_list(session, user, list_id)
    row = repository.update_item(session, list_id, item_id, changes, bumped.seq)
    if row is None:
        raise ShoppingItemNotFound()
    return item_read(row)


def _purge(session: Session, list_id: uuid.UUID, config: SyncConfig) -> None:
    repository.purge_tombstones(session, list_id, utcnow() - config.retention)


def delete_item(
    session: Session, user: Principal, list_id: uuid.UUID, item_id: uuid.UUID,
    config: SyncConfig,
) -> None:
    bumped = lock_list(session, user, list_id)
    if not repository.tombstone(session, list_id, [item_id], bumped.seq):
        raise ShoppingItemNotFound()
    _purge(session, list_id, config)


def bulk(
    session: Session, user: Principal, list_id: uuid.UUID, body: BulkItems, config: SyncConfig
) -> BulkResult:
    """All or nothing: if any id is not a live item of this list (someone else's, or
    gone), the whole call is refused with a 404 and nothing changes."""
    ids = list(dict.fromkeys(body.ids))
    bumped = lock_list(session, user, list_id)
    if len(repository.existing_item_ids(session, list_id, ids)) != len(ids):
        raise ShoppingItemNotFound()
    if body.action == "delete":
        count = repository.tombstone(session, list_id, ids, bumped.seq)
        _purge(session, list_id, config)
    else:
        count = repository.set_checked(session, list_id, ids, body.action == "check", bumped.seq)
    return BulkResult(action=body.action, count=count)
