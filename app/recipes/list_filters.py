"""From the list's parameters (or a smart collection's saved filter) to a ``ListQuery``.

A ``collection`` id is resolved here: a hand-picked collection becomes a membership
condition of the page statement; a smart one contributes its saved filter, which the
request's own parameters narrow (tags and ingredients add up, ``q`` words add up,
``max_total_minutes`` takes the smaller, ``favorites`` either) or override (``sort``,
``cuisine``, ``owner``, ``visibility``, ``scope``: the request's choice wins).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.collections import list_parts
from app.collections.exceptions import CollectionFilterInvalid
from app.recipes import listing
from app.recipes.exceptions import InvalidCursor, RelevanceNeedsQuery
from app.recipes.pagination import decode_cursor, query_fingerprint
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
) -> listing.ListQuery:
    terms = parse_query(params.q) if params.q else None
    if params.sort == "relevance" and terms is None:
        raise RelevanceNeedsQuery()
    owner = params.owner
    cuisine = " ".join(params.cuisine.split()) if params.cuisine else None
    return listing.ListQuery(
        user_id=user.id, sort=params.sort, limit=limit, terms=terms,
        tags=_normalised(params.tag), ingredients=_normalised(params.ingredient),
        cuisine=cuisine or None, max_total_minutes=params.max_total_minutes,
        owner_id=user.id if owner == "me" else uuid.UUID(owner) if owner else None,
        favorites=params.favorites, visibility=params.visibility,
        scope=default_scope(params, member_of), collection_id=member_of,
        uncollected=params.collection == "none",
    )


def fingerprint(query: listing.ListQuery, q: str | None, collection: str | None) -> str:
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


def resolve(
    session: Session, user: Principal, params: RecipeListParams
) -> tuple[RecipeListParams, uuid.UUID | None]:
    """The effective parameters and the hand-picked collection to list, if any (404 for a
    collection that is not the caller's)."""
    if params.collection is None or params.collection == "none":
        return params, None
    source = list_parts.resolve(session, user.id, uuid.UUID(params.collection))
    if source.filter is None:
        return params, source.id
    return _narrowed(saved_filter(source.filter), params), None


def plan(
    session: Session, user: Principal, params: RecipeListParams, key: bytes,
    key_types: dict[str, type],
) -> tuple[listing.ListQuery, str, RecipeListParams]:
    """The query to run (its cursor position decoded), its fingerprint, and the effective
    parameters.

    A next page of a hand-picked collection is ONE statement: its cursor, signed for this
    caller and this collection as hand-picked, proves the collection was the caller's when
    the first page was served (ownership never changes, and a deleted collection has no
    members left), so the collection's row is not read again. Any other cursor, and every
    first page, reads the collection's row first (``resolve``).
    """
    asked = params.collection
    if params.cursor and asked is not None and asked != "none":
        hand = list_query(user, params, params.limit, uuid.UUID(asked))
        hand_print = fingerprint(hand, params.q, asked)
        try:
            after = decode_cursor(key, params.cursor, hand_print, key_types[hand.sort])
            return replace(hand, after=after), hand_print, params
        except InvalidCursor:
            pass  # a smart collection's cursor, or not one of ours: decided below
    effective, member_of = resolve(session, user, params)
    query = list_query(user, effective, effective.limit, member_of)
    printed = fingerprint(query, effective.q, asked)
    if effective.cursor:
        after = decode_cursor(key, effective.cursor, printed, key_types[query.sort])
        query = replace(query, after=after)
    return query, printed, effective
