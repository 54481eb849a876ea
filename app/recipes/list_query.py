"""What a recipe list request asks for (``ListQuery``, values included) and the shape of
its SQL (``Shape``, values excluded): ``listing`` builds one statement per shape and
binds ``bound_values`` to it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from app.core.cursors import Position
from app.recipes.search import SearchTerms, escape_like


@dataclass(frozen=True)
class ListQuery:
    user_id: uuid.UUID
    sort: str
    limit: int
    terms: SearchTerms | None = None
    tags: tuple[str, ...] = ()
    ingredients: tuple[str, ...] = ()
    cuisine: str | None = None
    max_total_minutes: int | None = None
    owner_id: uuid.UUID | None = None
    favorites: bool = False
    visibility: str | None = None
    #: "mine", "public" or "all": whose recipes (the API defaults to "mine").
    scope: str = "all"
    #: A hand-picked collection the recipes must be in (the caller's, checked before).
    collection_id: uuid.UUID | None = None
    #: Only recipes in none of the caller's hand-picked collections.
    uncollected: bool = False
    #: The caller's collection (hand-picked or smart) listed: its row rides along in the
    #: page statement, which proves it is the caller's (no row: 404).
    source_id: uuid.UUID | None = None
    #: A smart collection's version whose saved filter the query was built from: the
    #: page's rows come only while it is current (list_parts.with_collection_row).
    source_version: int | None = None
    after: Position | None = None
    dialect: str = field(default="postgresql", compare=False)


@dataclass(frozen=True)
class Shape:
    """What the SQL text of a list query depends on; every value is a bound parameter.

    Statements are built once per shape and reused (``page_statement``): building one
    and computing its cache key were a third of the CPU of a search request and ~15% of
    a plain list (py-spy under bench/load.py), and a reused statement object keeps its
    memoised cache key and result metadata.
    """

    dialect: str
    sort: str
    limit: int
    paged: bool
    #: PostgreSQL: whether the last word is a prefix (q itself is bound); SQLite: the
    #: parsed terms, whose words are in the SQL (a development backend, rarely searched).
    search: bool | SearchTerms | None
    tags: int
    ingredients: int
    cuisine: bool
    max_total_minutes: bool
    owner: str | None  # None, "me" or "other"
    favorites: bool
    visibility: str | None
    scope: str = "all"
    collection: str | None = None  # None, "member" or "none"
    source: str | None = None  # None, "row" or "checked" (ListQuery.source_*)


def shape_of(query: ListQuery) -> Shape:
    search: bool | SearchTerms | None = None
    if query.terms is not None:
        search = query.terms.prefix_last if query.dialect == "postgresql" else query.terms
    owner = None
    if query.owner_id is not None:
        owner = "me" if query.owner_id == query.user_id else "other"
    return Shape(
        dialect=query.dialect, sort=query.sort, limit=query.limit,
        paged=query.after is not None, search=search, tags=len(query.tags),
        ingredients=len(query.ingredients), cuisine=query.cuisine is not None,
        max_total_minutes=query.max_total_minutes is not None, owner=owner,
        favorites=query.favorites, visibility=query.visibility, scope=query.scope,
        collection="member" if query.collection_id is not None
        else "none" if query.uncollected else None,
        source=None if query.source_id is None
        else "row" if query.source_version is None else "checked",
    )


def bound_values(query: ListQuery) -> dict[str, Any]:
    """The values for the bound parameters of the query's shape."""
    values: dict[str, Any] = {"me": query.user_id}
    if query.terms is not None and query.dialect == "postgresql":
        values["q"] = query.terms.text
    for i, tag in enumerate(query.tags):
        values[f"tag_{i}"] = tag
    for i, name in enumerate(query.ingredients):
        values[f"ingredient_{i}"] = f"%{escape_like(name.lower())}%"
    if query.cuisine is not None:
        values["cuisine"] = query.cuisine.lower()
    if query.max_total_minutes is not None:
        values["max_total_minutes"] = query.max_total_minutes
    if query.owner_id is not None and query.owner_id != query.user_id:
        values["owner"] = query.owner_id
    if query.collection_id is not None:
        values["collection"] = query.collection_id
    if query.source_id is not None:
        values["collection"] = query.source_id
        if query.source_version is not None:
            values["collection_version"] = query.source_version
    if query.after is not None:
        values["after_key"] = query.after.key
        values["after_id"] = query.after.id
    return values


def count_shape(query: ListQuery) -> Shape:
    """The shape of a query's total: no order, no page, no collection row."""
    return replace(shape_of(query), sort="newest", limit=0, paged=False, source=None)
