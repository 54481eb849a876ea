"""What the recipe list (app/recipes/listing.py) needs from collections, in one place.

SQL fragments correlated with ``recipes`` for the list's one statement per page, and the
lookup that tells a hand-picked collection from a smart one. Only the caller's own
collections are ever named: another person's collections of a recipe are theirs alone.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Uuid, bindparam, exists, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from app.collections.exceptions import CollectionNotFound
from app.collections.models import Collection, CollectionRecipe
from app.recipes.models import Recipe

_COLLECTION = bindparam("collection", type_=Uuid())


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


@dataclass(frozen=True)
class ListSource:
    id: uuid.UUID
    #: The saved filter of a smart collection; None for a hand-picked one.
    filter: dict[str, Any] | None


def resolve(session: Session, owner_id: uuid.UUID, collection_id: uuid.UUID) -> ListSource:
    """The caller's collection, for ``GET /recipes?collection=``; 404 for anyone else's."""
    row = session.execute(
        select(Collection.id, Collection.filter)
        .where(Collection.id == collection_id, Collection.owner_id == owner_id)
    ).first()
    if row is None:
        raise CollectionNotFound()
    return ListSource(id=row[0], filter=row[1])
