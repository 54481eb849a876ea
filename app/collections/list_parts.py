"""What the recipe list (app/recipes/listing.py) needs from collections, in one place.

SQL fragments correlated with ``recipes`` for the list's one statement per page, the
collection's row that rides along with a page of it, the per-process cache of smart
collections' saved filters, and the lookup that tells a hand-picked collection from a
smart one. Only the caller's own collections are ever named: another person's
collections of a recipe are theirs alone.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Uuid,
    bindparam,
    case,
    exists,
    func,
    null,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from app.collections.exceptions import CollectionNotFound
from app.collections.models import Collection, CollectionRecipe
from app.recipes.models import Recipe

_COLLECTION = bindparam("collection", type_=Uuid())
_VERSION = bindparam("collection_version", type_=Integer())


def member_of_collection() -> ColumnElement[bool]:
    """The recipe is in the hand-picked collection bound as ``collection`` (the service
    has checked that it is the caller's)."""
    return exists().where(CollectionRecipe.collection_id == _COLLECTION,
                          CollectionRecipe.recipe_id == Recipe.id)


def in_no_collection_of(me: BindParameter[Any]) -> ColumnElement[bool]:
    """The recipe is in none of the caller's hand-picked collections."""
    return ~exists().where(
        CollectionRecipe.recipe_id == Recipe.id,
        Collection.id == CollectionRecipe.collection_id,
        Collection.owner_id == me,
    )


def collection_refs_column(me: BindParameter[Any]) -> Any:
    """PostgreSQL: the caller's collections of the row's recipe as a JSON array of
    [id, name], in the collections list's order (index on collection_recipes.recipe_id)."""
    return (
        select(func.json_agg(aggregate_order_by(
            func.json_build_array(Collection.id, Collection.name),
            Collection.position, Collection.name)))
        .select_from(CollectionRecipe)
        .join(Collection, Collection.id == CollectionRecipe.collection_id)
        .where(CollectionRecipe.recipe_id == Recipe.id, Collection.owner_id == me)
        .scalar_subquery()
        .label("collections")
    )


def refs_by_recipe(
    session: Session, owner_id: uuid.UUID, recipe_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, str]]]:
    """The same, for a whole page in one statement (SQLite, and single-recipe reads)."""
    refs: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = defaultdict(list)
    if recipe_ids:
        rows = session.execute(
            select(CollectionRecipe.recipe_id, Collection.id, Collection.name)
            .join(Collection, Collection.id == CollectionRecipe.collection_id)
            .where(CollectionRecipe.recipe_id.in_(list(recipe_ids)),
                   Collection.owner_id == owner_id)
            .order_by(Collection.position, Collection.name)
        )
        for recipe_id, collection_id, name in rows:
            refs[recipe_id].append((collection_id, name))
    return refs


def with_collection_row(
    page: Select[Any] | CompoundSelect[Any] | None, me: BindParameter[Any],
    descending: bool, *, checked: bool,
) -> Select[Any]:
    """``page`` beside the row of the collection bound as ``collection``, in ONE statement:

        SELECT page.*, c.version, <c.filter> FROM collections c
        LEFT JOIN (<page>) page ON <true | c.version = :collection_version>
        WHERE c.id = :collection AND c.owner_id = :me ORDER BY <page's sort keys>

    No row: not the caller's collection (or none), a 404. One row with NULL page
    columns: an empty page. ``checked`` (a page built from a smart collection's saved
    filter of version ``collection_version``): the page's rows come only while that
    version is current, and the filter column is NULL unless it is stale; otherwise the
    filter column is the collection's filter (NULL for a hand-picked one).
    """
    table = Collection.__table__
    current = table.c.version == _VERSION
    saved = case((current, null()), else_=table.c.filter) if checked else table.c.filter
    row = [table.c.version.label("collection_version"), saved.label("collection_filter")]
    owned = [table.c.id == _COLLECTION, table.c.owner_id == me]
    if page is None:
        return select(*row).where(*owned)
    rows = page.subquery("page")
    keys = (rows.c.sort_key, rows.c.id)
    return (
        select(*rows.c, *row)
        .select_from(table.outerjoin(rows, current if checked else true()))
        .where(*owned)
        .order_by(*(key.desc() if descending else key.asc() for key in keys))
    )


class SavedFilters:
    """Per process: smart collections' saved filters (validated), by (owner, collection),
    with the version they were read at. An entry is only a guess: the page statement
    checks the version (``with_collection_row(checked=True)``), so a filter changed
    through another worker is seen at once; bounded, least recently used out first."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[uuid.UUID, uuid.UUID], tuple[int, Any]] = \
            OrderedDict()
        self._lock = threading.Lock()

    def get(self, owner_id: uuid.UUID, collection_id: uuid.UUID,
            version: int | None = None) -> tuple[int, Any] | None:
        """(version, filter), or None; with ``version``, only an entry of that version."""
        key = (owner_id, collection_id)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        return entry if entry is not None and version in (None, entry[0]) else None

    def put(self, owner_id: uuid.UUID, collection_id: uuid.UUID, version: int,
            saved: Any) -> None:
        key = (owner_id, collection_id)
        with self._lock:
            self._entries[key] = (version, saved)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def forget(self, owner_id: uuid.UUID, collection_id: uuid.UUID) -> None:
        with self._lock:
            self._entries.pop((owner_id, collection_id), None)


SAVED_FILTERS = SavedFilters()


@dataclass(frozen=True)
class ListSource:
    id: uuid.UUID
    #: The saved filter of a smart collection; None for a hand-picked one.
    filter: dict[str, Any] | None
    version: int


def resolve(session: Session, owner_id: uuid.UUID, collection_id: uuid.UUID) -> ListSource:
    """The caller's collection, for ``GET /recipes?collection=``; 404 for anyone else's."""
    row = session.execute(
        select(Collection.id, Collection.filter, Collection.version)
        .where(Collection.id == collection_id, Collection.owner_id == owner_id)
    ).first()
    if row is None:
        raise CollectionNotFound()
    return ListSource(id=row[0], filter=row[1], version=row[2])
