"""Every SQL query of the collections domain; nothing here commits."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Row,
    Uuid,
    bindparam,
    delete,
    func,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.collections.models import Collection, CollectionRecipe
from app.db.session import read_rows
from app.db.versioning import at_version, delete_at_version
from app.recipes.models import Recipe
from app.recipes.repository import visible_to


def lock_collections_of(session: Session, owner_id: uuid.UUID) -> None:
    """Serialise the creates of one owner (the per-user limit is checked under it).

    A transaction-scoped advisory lock on PostgreSQL; SQLite serialises writers anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = func.hashtextextended(f"homechef.collections:{owner_id}", 0)
        session.execute(select(func.pg_advisory_xact_lock(key)))


def stats_of(session: Session, owner_id: uuid.UUID) -> tuple[int, int | None]:
    """How many collections the owner has, and the highest position."""
    row = session.execute(
        select(func.count(), func.max(Collection.position))
        .where(Collection.owner_id == owner_id)
    ).one()
    return row[0], row[1]


def insert_collection(session: Session, values: Mapping[str, Any]) -> Collection | None:
    """The new collection, or None when the owner already has one of that name."""
    collection = Collection(**values)
    try:
        with session.begin_nested():
            session.add(collection)
    except IntegrityError:
        return None
    return collection


def find_owned(
    session: Session, collection_id: uuid.UUID, owner_id: uuid.UUID
) -> Collection | None:
    return session.scalar(
        select(Collection)
        .where(Collection.id == collection_id, Collection.owner_id == owner_id)
        .execution_options(populate_existing=True)
    )


# Built once: building the select and its cache key per request, and loading ORM
# objects, were a third of the collections list's Python time (py-spy, bench/inprocess.py).
_COLLECTIONS_OF = (
    select(*Collection.__table__.c)
    .where(Collection.__table__.c.owner_id == bindparam("owner", type_=Uuid()))
    .order_by(Collection.__table__.c.position, Collection.__table__.c.name,
              Collection.__table__.c.id)
)


def collections_of(session: Session, owner_id: uuid.UUID) -> Sequence[Row[Any]]:
    """The owner's collections as rows (the attributes of a Collection), in list order."""
    return read_rows(session, _COLLECTIONS_OF, {"owner": owner_id}).all()


def update_collection(
    session: Session, collection_id: uuid.UUID, values: Mapping[str, Any],
    *, expected_version: int | None,
) -> int | None:
    """Apply ``values`` and bump the version: the new version, or None if no row matched
    (gone, or another version). IntegrityError (a name clash) is left to the caller."""
    statement = (
        update(Collection).where(*at_version(Collection, collection_id, expected_version))
        .values(**values, version=Collection.version + 1, updated_at=func.now())
        .returning(Collection.version)
        .execution_options(synchronize_session=False)
    )
    with session.begin_nested():
        return session.execute(statement).scalar_one_or_none()


def delete_collection(
    session: Session, collection_id: uuid.UUID, *, expected_version: int | None
) -> bool:
    return delete_at_version(session, Collection, collection_id, expected_version)


# --- membership ------------------------------------------------------------------------


def lock_collection(
    session: Session, collection_id: uuid.UUID, recipe_id: uuid.UUID
) -> tuple[int, bool]:
    """Lock the collection row (serialising its membership writes, so the size limit
    holds under concurrent adds) and return its size and whether ``recipe_id`` is in it."""
    session.execute(
        select(Collection.id).where(Collection.id == collection_id).with_for_update()
    )
    size, present = session.execute(
        select(func.count(), func.count().filter(CollectionRecipe.recipe_id == recipe_id))
        .where(CollectionRecipe.collection_id == collection_id)
    ).one()
    return size, bool(present)


def add_member(session: Session, collection_id: uuid.UUID, recipe_id: uuid.UUID) -> bool:
    """Idempotent; False if the recipe vanished meanwhile (deleted by its owner)."""
    values = {"collection_id": collection_id, "recipe_id": recipe_id}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    statement = insert(CollectionRecipe).values(**values).on_conflict_do_nothing()
    try:
        # A savepoint, so a lost race with a DELETE of the recipe leaves the session usable.
        with session.begin_nested():
            session.execute(statement)
    except IntegrityError:
        return False
    return True


def remove_member(session: Session, collection_id: uuid.UUID, recipe_id: uuid.UUID) -> bool:
    result = session.execute(
        delete(CollectionRecipe).where(CollectionRecipe.collection_id == collection_id,
                                       CollectionRecipe.recipe_id == recipe_id)
    )
    return bool(result.rowcount)


# --- counts ----------------------------------------------------------------------------


_OWNER = bindparam("owner", type_=Uuid())
_ONLY = bindparam("only", type_=Uuid())


@functools.lru_cache(maxsize=256)
def _counts_statement(smart: tuple[tuple[str, bool, Any], ...], single: bool) -> Any:
    """Built once per structure (which smart shapes, in which order) and reused: with a
    dozen arms, building the statement and its cache key was a good part of the request.

    ``smart``: (parameter prefix, own, element) per smart collection (list_counts): the
    counts over the owner's own recipes (``own``: element is a condition) are counted
    together, ``count(*) FILTER (WHERE ...)`` each, in ONE pass over the owner's recipes
    (a CTE that their arms read); any other element is a scalar subquery of its own.
    """
    hand_picked = (
        select(CollectionRecipe.collection_id, func.count().label("n"))
        .join(Collection, Collection.id == CollectionRecipe.collection_id)
        .join(Recipe, Recipe.id == CollectionRecipe.recipe_id)
        .where(Collection.owner_id == _OWNER, visible_to(_OWNER),  # type: ignore[arg-type]
               *([Collection.id == _ONLY] if single else []))
        .group_by(CollectionRecipe.collection_id)
    )
    own = [(prefix, condition) for prefix, is_own, condition in smart if is_own]
    scan = select(*(func.count().filter(condition).label(f"{prefix}n")
                    for prefix, condition in own)
                  ).where(Recipe.owner_id == _OWNER).cte("own_counts") if own else None
    arms: list[Any] = [hand_picked]
    for prefix, is_own, element in smart:
        count = element if not is_own else \
            select(scan.c[f"{prefix}n"]).scalar_subquery()  # type: ignore[union-attr]
        arms.append(select(bindparam(f"{prefix}collection_id", type_=Uuid()), count))
    return arms[0] if len(arms) == 1 else union_all(*arms)


def counts(
    session: Session,
    owner_id: uuid.UUID,
    smart: Sequence[tuple[uuid.UUID, str, tuple[bool, Any] | None]],
    values: Mapping[str, Any],
    only: uuid.UUID | None = None,
) -> dict[uuid.UUID, int]:
    """Recipe counts of the owner's collections in ONE statement.

    Hand-picked: members the owner may still see, grouped by collection. Smart: one arm
    per collection, its count (``smart``: collection id, parameter prefix, and the list's
    count as a part, list_counts, or None when nothing can match) with ``values`` bound.
    """
    arms = tuple((prefix, *part) for _id, prefix, part in smart if part is not None)
    params = {**values, "owner": owner_id, "only": only}
    params.update({f"{prefix}collection_id": collection_id
                   for collection_id, prefix, part in smart if part is not None})
    statement = _counts_statement(arms, only is not None)
    return {collection_id: n for collection_id, n in read_rows(session, statement, params)}
