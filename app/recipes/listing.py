"""The list and search queries of GET /recipes: keyset pages in a constant number of statements.

On PostgreSQL a page is one SELECT of summary columns, each row carrying its tags (SQLite:
one more SELECT for the page's tags); the total, when asked for, is one more. Nothing is
loaded per row.

"Mine or public" is an OR that no single index serves in sort order, so the query is split
into two branches, each walking its own index in sort order from the cursor position:

- mine: ``owner_id = me`` (ix_recipes_owner_created);
- others' public: ``visibility = 'public' AND owner_id <> me`` (ix_recipes_visibility_created).

Each branch stops after limit + 1 rows and the two short lists are merged, so page 500
costs what page 1 costs. The keyset condition is a row comparison on (sort key, id), the
same pair the indexes and ORDER BY use; there is no OFFSET.
"""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Row,
    Select,
    bindparam,
    exists,
    func,
    literal_column,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from app.recipes.models import Favorite, Recipe, RecipeIngredient, RecipeTag
from app.recipes.pagination import Position
from app.recipes.search import (
    LIKE_ESCAPE,
    SearchTerms,
    escape_like,
    match_condition,
    rank_expression,
)

EXCERPT_CHARS = 280

#: sort name -> descending?
DESCENDING = {"newest": True, "oldest": False, "title": False, "quickest": False,
              "relevance": True}


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
    after: Position | None = None
    dialect: str = field(default="postgresql", compare=False)


def _sort_expression(query: ListQuery) -> ColumnElement[Any]:
    if query.sort == "relevance":
        assert query.terms is not None  # the service refuses relevance without q
        return rank_expression(query.terms, query.dialect)
    return {"newest": Recipe.created_at, "oldest": Recipe.created_at,
            "title": Recipe.title, "quickest": Recipe.total_minutes}[query.sort]


def _branches(query: ListQuery) -> list[list[ColumnElement[bool]]]:
    me = query.user_id
    mine: list[ColumnElement[bool]] | None = [Recipe.owner_id == me]
    others: list[ColumnElement[bool]] | None = [
        Recipe.visibility == "public", Recipe.owner_id != me,
    ]
    if query.owner_id is not None:
        if query.owner_id == me:
            others = None
        else:
            mine = None
            others = [*others, Recipe.owner_id == query.owner_id]  # type: ignore[misc]
    if query.visibility is not None:
        if query.visibility == "private":
            others = None
        if mine is not None:
            mine.append(Recipe.visibility == query.visibility)
    return [branch for branch in (mine, others) if branch is not None]


def _filters(query: ListQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    # Each tag and ingredient is its own EXISTS: a recipe must have all of them.
    for tag in query.tags:
        conditions.append(
            exists().where(RecipeTag.recipe_id == Recipe.id, RecipeTag.tag == tag)
        )
    for name in query.ingredients:
        pattern = f"%{escape_like(name.lower())}%"
        conditions.append(exists().where(
            RecipeIngredient.recipe_id == Recipe.id,
            func.lower(RecipeIngredient.name).like(pattern, escape=LIKE_ESCAPE),
        ))
    if query.cuisine is not None:
        conditions.append(func.lower(Recipe.cuisine) == query.cuisine.lower())
    if query.max_total_minutes is not None:
        conditions.append(Recipe.total_minutes <= query.max_total_minutes)
    if query.favorites:
        conditions.append(_is_favorite(query.user_id))
    if query.terms is not None:
        conditions.append(match_condition(query.terms, query.dialect))
    return conditions


def _is_favorite(user_id: uuid.UUID) -> ColumnElement[bool]:
    return exists().where(Favorite.user_id == user_id, Favorite.recipe_id == Recipe.id)


def _keyset(query: ListQuery, sort_expr: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    if query.after is None:
        return []
    pair = tuple_(sort_expr, Recipe.id)
    key, after_id = query.after.key, query.after.id
    # A cached statement's cursor is two bound parameters (_plain_page); as a plain tuple
    # they would be taken for values.
    bound = tuple_(key, after_id) if isinstance(key, BindParameter) else (key, after_id)
    return [pair < bound if DESCENDING[query.sort] else pair > bound]


# PostgreSQL: each page row carries its sorted tags, so a page is one statement (a second
# statement for a page's tags, its rows and their UUIDs, cost ~10% of a list request's
# CPU: py-spy under bench/load.py). SQLite reads them with tags_by_recipe().
_PAGE_ROW_TAGS = (
    select(func.array_agg(aggregate_order_by(RecipeTag.tag, RecipeTag.tag)))
    .where(RecipeTag.recipe_id == Recipe.id)
    .scalar_subquery()
    .label("tags")
)


def _summary_columns(query: ListQuery, sort_expr: ColumnElement[Any]) -> list[Any]:
    return [
        Recipe.id, Recipe.owner_id, Recipe.title,
        # One character more than shown, to know whether to add an ellipsis.
        func.substr(Recipe.description, 1, EXCERPT_CHARS + 1).label("excerpt"),
        Recipe.servings, Recipe.prep_minutes, Recipe.cook_minutes, Recipe.total_minutes,
        Recipe.cuisine, Recipe.visibility,
        Recipe.image_sha256.is_not(None).label("has_image"),
        _is_favorite(query.user_id).label("is_favorite"),
        Recipe.created_at, Recipe.updated_at,
        sort_expr.label("sort_key"),
        *([_PAGE_ROW_TAGS] if query.dialect == "postgresql" else []),
    ]


def _ordered(descending: bool, *columns: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    return [c.desc() if descending else c.asc() for c in columns]


def page_statement(query: ListQuery) -> Select[Any] | CompoundSelect[Any] | None:
    """None when the filters exclude both branches (another user's private recipes)."""
    sort_expr = _sort_expression(query)
    descending = DESCENDING[query.sort]
    filters = _filters(query) + _keyset(query, sort_expr)
    # Built once and shared by both arms (SQL expressions are immutable): building them
    # is a good part of the CPU of a list request.
    columns = _summary_columns(query, sort_expr)
    order = _ordered(descending, sort_expr, Recipe.id)
    branches = [
        select(*columns).where(*branch, *filters).order_by(*order).limit(query.limit + 1)
        for branch in _branches(query)
    ]
    if not branches:
        return None
    if len(branches) == 1:
        return branches[0]
    if query.dialect == "postgresql":
        # Parenthesised arms, merged by output column name. Wrapping each arm in a subquery
        # (as SQLite needs) makes SQLAlchemy build column proxies on every request, which
        # cost more CPU than PostgreSQL spends running the query (bench/load.py, costs.py).
        return (
            union_all(*branches)
            .order_by(*_ordered(descending, literal_column("sort_key"), literal_column("id")))
            .limit(query.limit + 1)
        )
    # Each branch is wrapped as a subquery: SQLite refuses ORDER BY/LIMIT inside UNION arms.
    merged = union_all(*(select(b.subquery()) for b in branches)).subquery()
    return (
        select(merged)
        .order_by(*_ordered(descending, merged.c.sort_key, merged.c.id))
        .limit(query.limit + 1)
    )


def _is_plain(query: ListQuery) -> bool:
    """The home list: mine and public, no filter, no search (most requests)."""
    return (query.dialect == "postgresql" and query.terms is None and not query.tags
            and not query.ingredients and query.cuisine is None
            and query.max_total_minutes is None and query.owner_id is None
            and not query.favorites and query.visibility is None)


@functools.lru_cache(maxsize=512)
def _plain_page(sort: str, limit: int, paged: bool) -> Select[Any] | CompoundSelect[Any]:
    """The plain list's statement, built once per (sort, page size, cursor or not) with
    the caller and the cursor as bound parameters. Building it and its cache key cost
    ~15% of a list request's CPU (py-spy under bench/load.py); a reused statement object
    keeps its memoised cache key too."""
    template = ListQuery(user_id=bindparam("me"), sort=sort, limit=limit)  # type: ignore[arg-type]
    if paged:
        key_type = _sort_expression(template).type
        template = replace(template, after=Position(
            bindparam("after_key", type_=key_type),  # type: ignore[arg-type]
            bindparam("after_id", type_=Recipe.id.type)))  # type: ignore[arg-type]
    statement = page_statement(template)
    assert statement is not None  # both branches exist without owner/visibility filters
    return statement


def fetch_page(session: Session, query: ListQuery) -> tuple[Sequence[Row[Any]], bool]:
    """Up to ``limit`` rows and whether more follow."""
    if _is_plain(query):
        statement: Select[Any] | CompoundSelect[Any] | None = _plain_page(
            query.sort, query.limit, query.after is not None)
        params: dict[str, Any] = {"me": query.user_id}
        if query.after is not None:
            params.update(after_key=query.after.key, after_id=query.after.id)
    else:
        statement, params = page_statement(query), {}
    if statement is None:
        return [], False
    rows = session.execute(statement, params).all()
    return rows[: query.limit], len(rows) > query.limit


def count(session: Session, query: ListQuery) -> int:
    filters = _filters(query)
    arms = [select(Recipe.id).where(*branch, *filters) for branch in _branches(query)]
    if not arms:
        return 0
    merged = arms[0] if len(arms) == 1 else union_all(*arms)
    return session.scalar(select(func.count()).select_from(merged.subquery())) or 0


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
