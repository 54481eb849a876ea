"""The list and search queries of GET /recipes: keyset pages in a constant number of statements.

On PostgreSQL a page is one SELECT of summary columns, each row carrying its tags (SQLite:
one more SELECT for the page's tags); the total, when asked for, is one more. Nothing is
loaded per row.

"Mine or public" is an OR that no single index serves in sort order, so the query is split
into two branches, each walking its own index in sort order from the cursor position:

- mine: ``owner_id = me`` (ix_recipes_owner_created);
- others' public: ``visibility = 'public' AND owner_id <> me`` (ix_recipes_visibility_created).

``scope`` decides which branches exist: "mine" (the default of the API), "public" (others'
public recipes) or "all" (both). Each branch stops after limit + 1 rows and the two short
lists' keys are merged before the summary columns are read, once, for the page's rows
(``_keys_first``), so page 500 costs what page 1 costs. The keyset condition is a row
comparison on (sort key, id), the same pair the indexes and ORDER BY use; there is no
OFFSET.

A page of a collection (``collection={id}``) carries the collection's row in the same
statement (list_parts.with_collection_row): no row is a 404, and a smart collection's
page is built from its saved filter as cached per process, checked against its version
in that statement.

A statement is built once per ``Shape`` (sort, page size, which filters are present)
with every value bound, and reused; ``list_query.bound_values`` supplies the values.
They run in ``list_pages``.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    Text,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from app.collections import list_parts
from app.media.models import MediaImage
from app.recipes.list_query import Shape
from app.recipes.models import Favorite, Recipe, RecipeIngredient, RecipeTag
from app.recipes.search import (
    LIKE_ESCAPE,
    SearchTerms,
    match_condition,
    rank_expression,
)

EXCERPT_CHARS = 280

#: sort name -> descending?
DESCENDING = {"newest": True, "oldest": False, "title": False, "quickest": False,
              "relevance": True}


_ME = bindparam("me", type_=Recipe.owner_id.type)


def _terms(shape: Shape) -> SearchTerms | None:
    if isinstance(shape.search, SearchTerms) or shape.search is None:
        return shape.search
    # PostgreSQL reads only the text and the prefix flag (search.match_condition).
    return SearchTerms(text=bindparam("q", type_=Text()), prefix_last=shape.search,  # type: ignore[arg-type]
                       groups=(), excluded=())


def _sort_expression(shape: Shape) -> ColumnElement[Any]:
    if shape.sort == "relevance":
        terms = _terms(shape)
        assert terms is not None  # the service refuses relevance without q
        return rank_expression(terms, shape.dialect)
    return {"newest": Recipe.created_at, "oldest": Recipe.created_at,
            "title": Recipe.title, "quickest": Recipe.total_minutes}[shape.sort]


def _branches(shape: Shape) -> list[list[ColumnElement[bool]]]:
    return [branch for branch in _branch_pair(shape) if branch is not None]


def _branch_pair(
    shape: Shape,
) -> tuple[list[ColumnElement[bool]] | None, list[ColumnElement[bool]] | None]:
    """The conditions of the mine and the others' public branch; None: no such branch."""
    mine: list[ColumnElement[bool]] | None = None
    others: list[ColumnElement[bool]] | None = None
    if shape.scope in ("mine", "all"):
        mine = [Recipe.owner_id == _ME]
    if shape.scope in ("public", "all"):
        others = [Recipe.visibility == "public", Recipe.owner_id != _ME]
    if shape.owner == "me":
        others = None
    elif shape.owner == "other":
        mine = None
        if others is not None:
            others.append(Recipe.owner_id == bindparam("owner", type_=Recipe.owner_id.type))
    if shape.visibility is not None:
        if shape.visibility == "private":
            others = None
        if mine is not None:
            mine.append(Recipe.visibility == shape.visibility)
    return mine, others


def _filters(shape: Shape) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    # Each tag and ingredient is its own EXISTS: a recipe must have all of them.
    for i in range(shape.tags):
        conditions.append(exists().where(
            RecipeTag.recipe_id == Recipe.id,
            RecipeTag.tag == bindparam(f"tag_{i}", type_=RecipeTag.tag.type)))
    for i in range(shape.ingredients):
        conditions.append(exists().where(
            RecipeIngredient.recipe_id == Recipe.id,
            func.lower(RecipeIngredient.name).like(
                bindparam(f"ingredient_{i}", type_=Text()), escape=LIKE_ESCAPE),
        ))
    if shape.cuisine:
        conditions.append(func.lower(Recipe.cuisine) == bindparam("cuisine", type_=Text()))
    if shape.max_total_minutes:
        conditions.append(Recipe.total_minutes <= bindparam(
            "max_total_minutes", type_=Recipe.total_minutes.type))
    if shape.favorites:
        conditions.append(_is_favorite())
    if shape.collection == "member":
        conditions.append(list_parts.member_of_collection())
    elif shape.collection == "none":
        conditions.append(list_parts.in_no_collection_of(_ME))
    terms = _terms(shape)
    if terms is not None:
        conditions.append(match_condition(terms, shape.dialect))
    return conditions


def _is_favorite() -> ColumnElement[bool]:
    return exists().where(Favorite.user_id == _ME, Favorite.recipe_id == Recipe.id)


def _keyset(shape: Shape, sort_expr: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    if not shape.paged:
        return []
    pair = tuple_(sort_expr, Recipe.id)
    bound = tuple_(bindparam("after_key", type_=sort_expr.type),
                   bindparam("after_id", type_=Recipe.id.type))
    return [pair < bound if DESCENDING[shape.sort] else pair > bound]


# PostgreSQL: each page row carries its sorted tags, so a page is one statement (a second
# statement for a page's tags, its rows and their UUIDs, cost ~10% of a list request's
# CPU: py-spy under bench/load.py). SQLite reads them with tags_by_recipe().
_PAGE_ROW_TAGS = (
    select(func.array_agg(aggregate_order_by(RecipeTag.tag, RecipeTag.tag)))
    .where(RecipeTag.recipe_id == Recipe.id)
    .scalar_subquery()
    .label("tags")
)

# The caller's hand-picked collections of each row, beside the row (one statement a page).
_PAGE_ROW_COLLECTIONS = list_parts.collection_refs_column(_ME)


#: A page row's columns, in order (the service reads them by position); PostgreSQL rows
#: also carry "tags" and "collections" (PG_EXTRA_FIELDS).
SUMMARY_FIELDS = (
    "id", "owner_id", "title", "excerpt", "servings", "prep_minutes", "cook_minutes",
    "total_minutes", "cuisine", "visibility", "has_image", "cover_id", "cover_width",
    "cover_height", "is_favorite", "created_at", "updated_at", "sort_key",
)

# The cover photo rides along on each page row (a LEFT JOIN probing the one-cover unique
# index), so a card's signed thumbnail link costs no statement of its own.
_WITH_COVER = Recipe.__table__.outerjoin(
    MediaImage.__table__, and_(MediaImage.recipe_id == Recipe.id, MediaImage.is_cover)
)
PG_EXTRA_FIELDS = ("tags", "collections")


def _summary_columns(shape: Shape, sort_expr: ColumnElement[Any]) -> list[Any]:
    return [
        Recipe.id, Recipe.owner_id, Recipe.title,
        # One character more than shown, to know whether to add an ellipsis.
        func.substr(Recipe.description, 1, EXCERPT_CHARS + 1).label("excerpt"),
        Recipe.servings, Recipe.prep_minutes, Recipe.cook_minutes, Recipe.total_minutes,
        Recipe.cuisine, Recipe.visibility,
        Recipe.image_sha256.is_not(None).label("has_image"),
        MediaImage.id.label("cover_id"), MediaImage.width.label("cover_width"),
        MediaImage.height.label("cover_height"),
        _is_favorite().label("is_favorite"),
        Recipe.created_at, Recipe.updated_at,
        sort_expr.label("sort_key"),
        *([_PAGE_ROW_TAGS, _PAGE_ROW_COLLECTIONS] if shape.dialect == "postgresql" else []),
    ]


def _ordered(descending: bool, *columns: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    return [c.desc() if descending else c.asc() for c in columns]


@functools.lru_cache(maxsize=512)
def page_statement(shape: Shape) -> Select[Any] | CompoundSelect[Any] | None:
    """None when the filters exclude both branches (another user's private recipes).

    Built once per shape (bounded: page size, tag and ingredient counts are capped by
    the request schema, and the cache by maxsize), executed with ``bound_values``. With
    a ``source``, the collection's row and the page come in one statement.
    """
    if shape.source is None:
        return _page(shape)
    return list_parts.with_collection_row(
        _page(replace(shape, source=None)), _ME, DESCENDING[shape.sort],
        checked=shape.source == "checked")


def _keys_first(
    shape: Shape, sort_expr: ColumnElement[Any], descending: bool,
    filters: list[ColumnElement[bool]], order: list[ColumnElement[Any]],
) -> Select[Any]:
    """Two arms (mine, others' public) pick the page's keys; the summary columns (tags,
    collections, favourite, cover) are then read once, for those rows only. Building
    them into each arm cost twice their planning and up to twice their evaluation: a
    fifth of a two-arm page's time in PostgreSQL (bench/README.md)."""
    arms = [
        select(Recipe.id, sort_expr.label("sort_key")).where(*branch, *filters)
        .order_by(*order).limit(shape.limit + 1)
        for branch in _branches(shape)
    ]
    # Parenthesised arms, merged by output column name.
    keys = (
        union_all(*arms)
        .order_by(*_ordered(descending, literal_column("sort_key"), literal_column("id")))
        .limit(shape.limit + 1)
        .subquery("page_keys")
    )
    # The same columns in the same order, the sort key taken from the arms.
    columns = [keys.c.sort_key if getattr(column, "name", None) == "sort_key" else column
               for column in _summary_columns(shape, sort_expr)]
    return (
        select(*columns)
        .select_from(keys.join(_WITH_COVER, Recipe.id == keys.c.id))
        .order_by(*_ordered(descending, keys.c.sort_key, keys.c.id))
    )


def _page(shape: Shape) -> Select[Any] | CompoundSelect[Any] | None:
    sort_expr = _sort_expression(shape)
    descending = DESCENDING[shape.sort]
    filters = _filters(shape) + _keyset(shape, sort_expr)
    # Built once and shared by both arms (SQL expressions are immutable).
    columns = _summary_columns(shape, sort_expr)
    order = _ordered(descending, sort_expr, Recipe.id)
    branches = [
        select(*columns).select_from(_WITH_COVER).where(*branch, *filters)
        .order_by(*order).limit(shape.limit + 1)
        for branch in _branches(shape)
    ]
    if not branches:
        return None
    if len(branches) == 1:
        return branches[0]
    if shape.dialect == "postgresql":
        return _keys_first(shape, sort_expr, descending, filters, order)
    # Each branch is wrapped as a subquery: SQLite refuses ORDER BY/LIMIT inside UNION arms.
    merged = union_all(*(select(b.subquery()) for b in branches)).subquery()
    return (
        select(merged)
        .order_by(*_ordered(descending, merged.c.sort_key, merged.c.id))
        .limit(shape.limit + 1)
    )


@functools.lru_cache(maxsize=256)
def count_statement(shape: Shape) -> Select[Any] | None:
    """Pass a shape normalised by ``count_shape``: the count ignores order and paging."""
    filters = _filters(shape)
    arms = [select(Recipe.id).where(*branch, *filters) for branch in _branches(shape)]
    if not arms:
        return None
    merged = arms[0] if len(arms) == 1 else union_all(*arms)
    return select(func.count()).select_from(merged.subquery())


@functools.lru_cache(maxsize=256)
def own_count_condition(shape: Shape) -> ColumnElement[bool] | None:
    """For a count over the caller's own recipes only (the default scope): the condition
    a recipe of theirs must meet, so that the collections list counts all such filters
    in ONE pass over the caller's recipes (``count(*) FILTER (WHERE ...)``). None for a
    shape that reaches other people's recipes (or none): count it with count_statement."""
    mine, others = _branch_pair(shape)
    if mine is None or others is not None:
        return None
    return and_(*mine, *_filters(shape))

