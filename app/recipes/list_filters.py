"""From the list's parameters (or a smart collection's saved filter) to a ``ListQuery``.

A ``collection`` id is planned here (``plan``, ``fetch``): a hand-picked collection becomes
a membership condition of the page statement; a smart one contributes its saved filter, which the
request's own parameters narrow (tags and ingredients add up, ``q`` words add up,
``max_total_minutes`` takes the smaller, ``favorites`` either) or override (``sort``,
``cuisine``, ``owner``, ``visibility``, ``scope``: the request's choice wins).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Row
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.collections import list_parts
from app.collections.exceptions import CollectionFilterInvalid, CollectionNotFound
from app.core.cursors import decode_cursor, query_fingerprint
from app.core.errors import AppError
from app.recipes import list_pages as listing_pages
from app.recipes.exceptions import RelevanceNeedsQuery
from app.recipes.list_query import ListQuery
from app.recipes.schemas import RecipeFilter, RecipeListParams
from app.recipes.search import parse_query

#: Parameters about paging, not about which recipes.
_PAGING = frozenset({"limit", "cursor", "include_total", "collection"})


def _normalised(values: list[str]) -> tuple[str, ...]:
    return tuple(sorted({" ".join(v.split()) for v in values if v.strip()}))


def default_scope(params: RecipeFilter, member_of: uuid.UUID | None = None) -> str:
    """The caller's own recipes, unless the request names recipes chosen some other way
    (an owner, favourites, a hand-picked collection), which may be others' public ones."""
    if params.scope is not None:
        return params.scope
    return "all" if params.owner or params.favorites or member_of else "mine"


def list_query(
    user: Principal, params: RecipeFilter, limit: int, member_of: uuid.UUID | None = None
) -> ListQuery:
    terms = parse_query(params.q) if params.q else None
    if params.sort == "relevance" and terms is None:
        raise RelevanceNeedsQuery()
    owner = params.owner
    cuisine = " ".join(params.cuisine.split()) if params.cuisine else None
    return ListQuery(
        user_id=user.id, sort=params.sort, limit=limit, terms=terms,
        tags=_normalised(params.tag), ingredients=_normalised(params.ingredient),
        cuisine=cuisine or None, max_total_minutes=params.max_total_minutes,
        owner_id=user.id if owner == "me" else uuid.UUID(owner) if owner else None,
        favorites=params.favorites, visibility=params.visibility,
        scope=default_scope(params, member_of), collection_id=member_of,
        uncollected=params.collection == "none",
    )


def fingerprint(query: ListQuery, q: str | None, collection: str | None) -> str:
    # Everything that decides which rows exist and their order; not the page size.
    return query_fingerprint({
        "user": query.user_id, "sort": query.sort, "q": (q or "").strip(),
        "tags": query.tags, "ingredients": query.ingredients, "cuisine": query.cuisine,
        "max_total_minutes": query.max_total_minutes, "owner": query.owner_id,
        "favorites": query.favorites, "visibility": query.visibility,
        "scope": query.scope, "collection": collection, "uncollected": query.uncollected,
        # Hand-picked (its id) or smart (None): a cursor says which, see plan().
        "member_of": query.collection_id,
    })


def saved_filter(raw: dict[str, Any]) -> RecipeFilter:
    """A smart collection's stored filter, checked again: the rules may have tightened."""
    try:
        saved = RecipeFilter.model_validate(raw)
    except ValidationError:
        raise CollectionFilterInvalid() from None
    if saved.collection not in (None, "none"):
        raise CollectionFilterInvalid()
    return saved


def _narrowed(saved: RecipeFilter, request: RecipeListParams) -> RecipeListParams:
    values = saved.model_dump()
    for name in request.model_fields_set - _PAGING:
        mine, asked = values.get(name), getattr(request, name)
        if name in ("tag", "ingredient"):
            values[name] = [*mine, *asked]
        elif name == "q":
            values[name] = " ".join(part for part in (mine, asked) if part) or None
        elif name == "max_total_minutes":
            values[name] = min(v for v in (mine, asked) if v is not None) \
                if mine is not None or asked is not None else None
        elif name == "favorites":
            values[name] = bool(mine or asked)
        else:
            values[name] = asked
    # Both halves were validated; the merge only joins them.
    return RecipeListParams.model_construct(
        **values, limit=request.limit, cursor=request.cursor,
        include_total=request.include_total)


@dataclass(frozen=True)
class Planned:
    #: The query to run, its cursor position decoded.
    query: ListQuery
    fingerprint: str
    #: The effective parameters (a smart collection's filter narrowed by the request's).
    params: RecipeListParams


def _after(query: ListQuery, printed: str, cursor: str | None, key: bytes,
           key_types: dict[str, type]) -> ListQuery:
    if not cursor:
        return query
    return replace(query, after=decode_cursor(key, cursor, printed, key_types[query.sort]))


def _hand_picked(user: Principal, params: RecipeListParams, collection_id: uuid.UUID,
                 key: bytes, key_types: dict[str, type]) -> Planned:
    query = list_query(user, params, params.limit, collection_id)
    printed = fingerprint(query, params.q, params.collection)
    query = _after(query, printed, params.cursor, key, key_types)
    return Planned(replace(query, source_id=collection_id), printed, params)


def _smart(user: Principal, params: RecipeListParams, collection_id: uuid.UUID,
           saved: RecipeFilter, version: int | None, key: bytes,
           key_types: dict[str, type]) -> Planned:
    """``version``: the page's rows come only while it is current (None: unchecked)."""
    effective = _narrowed(saved, params)
    query = list_query(user, effective, effective.limit)
    printed = fingerprint(query, effective.q, params.collection)
    query = _after(query, printed, effective.cursor, key, key_types)
    return Planned(replace(query, source_id=collection_id, source_version=version),
                   printed, effective)


def _looked_up(session: Session, user: Principal, params: RecipeListParams,
               collection_id: uuid.UUID, key: bytes, key_types: dict[str, type]) -> Planned:
    """The collection's row read first (one statement more): 404 before anything else."""
    source = list_parts.resolve(session, user.id, collection_id)
    if source.filter is None:
        return _hand_picked(user, params, collection_id, key, key_types)
    saved = _remembered(user, collection_id, source.version, source.filter)
    return _smart(user, params, collection_id, saved, source.version, key, key_types)


def _remembered(user: Principal, collection_id: uuid.UUID, version: int,
                raw: dict[str, Any]) -> RecipeFilter:
    list_parts.SAVED_FILTERS.forget(user.id, collection_id)
    saved = saved_filter(raw)
    list_parts.SAVED_FILTERS.put(user.id, collection_id, version, saved)
    return saved


def plan(
    session: Session, user: Principal, params: RecipeListParams, key: bytes,
    key_types: dict[str, type],
) -> Planned:
    """The query to run (its cursor position decoded), its fingerprint, and the effective
    parameters.

    A collection's page carries the collection's row (``ListQuery.source_id``), so no
    statement reads it first. Which SQL to build is a guess checked by that statement:
    a smart collection's filter as this process last saw it (``SAVED_FILTERS``), whose
    version the statement checks, or else a hand-picked collection (the statement says
    if it is smart after all: ``fetch``). Anything the guess cannot plan (a cursor of
    another kind or filter, relevance without q) reads the collection's row first,
    so that a collection that is not the caller's is a 404 whatever else is wrong.
    """
    asked = params.collection
    if asked is None or asked == "none":
        query = list_query(user, params, params.limit)
        printed = fingerprint(query, params.q, asked)
        return Planned(_after(query, printed, params.cursor, key, key_types), printed, params)
    collection_id = uuid.UUID(asked)
    known = list_parts.SAVED_FILTERS.get(user.id, collection_id)
    try:
        if known is not None:
            version, saved = known
            return _smart(user, params, collection_id, saved, version, key, key_types)
        return _hand_picked(user, params, collection_id, key, key_types)
    except AppError:
        return _looked_up(session, user, params, collection_id, key, key_types)


def fetch(
    session: Session, user: Principal, params: RecipeListParams, key: bytes,
    key_types: dict[str, type],
) -> tuple[Planned, Sequence[Row[Any]], bool]:
    """The plan, up to ``limit`` rows and whether more follow: ONE statement for any page
    of a collection whose kind and filter the plan guessed right (PostgreSQL; SQLite adds
    its tags and collections statements), two when the guess was wrong (the first page
    of a smart collection this process has not seen, or whose filter changed)."""
    planned = plan(session, user, params, key, key_types)
    dialect = session.get_bind().dialect.name
    query = replace(planned.query, dialect=dialect)
    if query.source_id is None:
        rows, more = listing_pages.fetch_page(session, query)
        return planned, rows, more
    page = listing_pages.fetch_collection_page(session, query)
    if page is not None and page.stale_filter is not None:
        # Smart, and not the filter (or the kind) the SQL was built for: once more with
        # the filter just read, as current as the row of a separate lookup would be.
        saved = _remembered(user, query.source_id, page.version, page.stale_filter)
        planned = _smart(user, params, query.source_id, saved, None, key, key_types)
        page = listing_pages.fetch_collection_page(
            session, replace(planned.query, dialect=dialect))
    if page is None:
        list_parts.SAVED_FILTERS.forget(user.id, query.source_id)
        raise CollectionNotFound()
    return planned, page.rows, page.more
