"""Running the list's statements (built in ``listing``): a page, a collection's page with
the collection's row, the total, and what SQLite reads beside a page (tags, collections).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from app.collections import list_parts
from app.db.session import read_rows
from app.recipes.list_query import ListQuery, bound_values, count_shape, shape_of
from app.recipes.listing import count_statement, page_statement
from app.recipes.models import RecipeTag


def fetch_page(session: Session, query: ListQuery) -> tuple[Sequence[Row[Any]], bool]:
    """Up to ``limit`` rows and whether more follow (a query without ``source_id``)."""
    statement = page_statement(shape_of(query))
    if statement is None:
        return [], False
    rows = read_rows(session, statement, bound_values(query)).all()
    return rows[: query.limit], len(rows) > query.limit


@dataclass(frozen=True)
class CollectionPage:
    rows: Sequence[Row[Any]]
    more: bool
    #: The collection's saved filter when the page was not built from it (it is smart,
    #: and the query was for a hand-picked one or for another version); None otherwise.
    stale_filter: dict[str, Any] | None
    version: int


def fetch_collection_page(session: Session, query: ListQuery) -> CollectionPage | None:
    """The page of a query with ``source_id`` and the collection's row, in one
    statement; None when the collection is not the caller's (or does not exist)."""
    statement = page_statement(shape_of(query))
    assert statement is not None  # the collection's row is always selected
    rows = read_rows(session, statement, bound_values(query)).all()
    if not rows:
        return None
    head = rows[0]
    # A collection with no page rows is one row whose page columns are NULL.
    if "id" not in head._fields or head.id is None:
        rows = []
    return CollectionPage(rows=rows[: query.limit], more=len(rows) > query.limit,
                          stale_filter=head.collection_filter,
                          version=head.collection_version)


def count(session: Session, query: ListQuery) -> int:
    statement = count_statement(count_shape(query))
    if statement is None:
        return 0
    values = bound_values(replace(query, after=None, source_id=None, source_version=None))
    return read_rows(session, statement, values).scalar() or 0


# Built once, on the table rather than the mapped class: per request, building the IN
# list's select and the ORM execution path cost several times running it (py-spy under
# bench/load.py).
_TAG_ROWS = RecipeTag.__table__
_PAGE_TAGS = (
    select(_TAG_ROWS.c.recipe_id, _TAG_ROWS.c.tag)
    .where(_TAG_ROWS.c.recipe_id.in_(bindparam("recipe_ids", expanding=True)))
    .order_by(_TAG_ROWS.c.recipe_id, _TAG_ROWS.c.tag)
)


def tags_by_recipe(session: Session, recipe_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The tags of a whole page in one statement."""
    tags: dict[uuid.UUID, list[str]] = defaultdict(list)
    if recipe_ids:
        rows = session.execute(_PAGE_TAGS, {"recipe_ids": list(recipe_ids)})
        for recipe_id, tag in rows:
            tags[recipe_id].append(tag)
    return tags


def page_tags(
    session: Session, query: ListQuery, rows: Sequence[Row[Any]]
) -> Mapping[uuid.UUID, list[str]]:
    """Each page row's tags: carried by the rows on PostgreSQL, one more statement else."""
    if query.dialect == "postgresql":
        return {row.id: row.tags or [] for row in rows}
    return tags_by_recipe(session, [row.id for row in rows])


def page_collections(
    session: Session, query: ListQuery, rows: Sequence[Row[Any]]
) -> Mapping[uuid.UUID, list[Any]]:
    """Each page row's hand-picked collections of the caller, as [id, name] pairs: carried
    by the rows on PostgreSQL, one more statement else."""
    if query.dialect == "postgresql":
        return {row.id: row.collections or [] for row in rows}
    refs = list_parts.refs_by_recipe(session, query.user_id, [row.id for row in rows])
    return {recipe_id: [list(ref) for ref in pairs] for recipe_id, pairs in refs.items()}
