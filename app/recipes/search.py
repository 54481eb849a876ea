"""Full-text search: weighted tsvector/tsquery on PostgreSQL, a word-prefix fallback on SQLite.

PostgreSQL: ``recipes.search_vector`` (GIN-indexed) is computed in SQL after every write,
title weighted A, tags B, ingredient names C, description D, so ``ts_rank`` ranks a title
hit above a description hit. ``q`` is web-search syntax (``"a phrase"``, ``or``, ``-word``)
and its last word also matches as a prefix, so type-ahead works ("tom" finds "tomato").

SQLite has no tsvector; the same column holds the recipe's words, each tagged with its
field ("a:tomato b:vegan c:basil d:simple"), and every query word must start a stored
word. On the small data sets of the tests both backends give the same answers.

User text reaches PostgreSQL only as the bound argument of websearch_to_tsquery, which
accepts any input without a syntax error; the SQLite form only ever sees letters and digits.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Double,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

from app.recipes.models import Recipe, RecipeIngredient, RecipeTag

ENGLISH = literal_column("'english'::regconfig")
# The last lexeme of a tsquery's text form, e.g. 'tom' in "'soup' & 'tom'".
_LAST_LEXEME_END = literal_column("'''$'")
_PREFIX_END = literal_column("''':*'")

#: Field markers of the SQLite fallback, in weight order (title first).
_FIELD_WEIGHTS = {"a": 8, "b": 4, "c": 2, "d": 1}
_WORD = re.compile(r"[^\W_]+")
# A quoted phrase (closed or not, maybe negated) or a run of non-space characters.
_TOKEN = re.compile(r'-?"[^"]*"?|\S+')
LIKE_ESCAPE = "\\"


def words_of(text: str) -> list[str]:
    """Lowercased runs of letters and digits: the unit both backends search by."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def escape_like(value: str) -> str:
    """Make %, _ and the escape character itself match literally in LIKE."""
    return (
        value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


@dataclass(frozen=True)
class SearchTerms:
    """A parsed ``q``: the PostgreSQL form and the SQLite form."""

    text: str  # q as given, for websearch_to_tsquery
    prefix_last: bool  # whether the last word is being typed (matched as a prefix)
    groups: tuple[tuple[str, ...], ...]  # SQLite: each group must match one of its words
    excluded: tuple[str, ...]  # SQLite: words that must not match

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(word for group in self.groups for word in group)


def parse_query(q: str) -> SearchTerms | None:
    """None when ``q`` holds no word at all (blank or only punctuation): no filter.

    Web-search syntax as PostgreSQL reads it: words are ANDed, ``"a phrase"`` (its words,
    on SQLite), ``-word`` excludes, and ``or`` between two words lets either match.
    """
    q = q.strip()
    if not words_of(q):
        return None
    groups: list[list[str]] = []
    excluded: list[str] = []
    join_next = False
    for token in _TOKEN.findall(q):
        if token.lower() == "or":
            join_next = bool(groups)
            continue
        words = words_of(token)
        if token.startswith("-"):
            excluded += words
        elif words:
            if join_next:
                groups[-1].append(words.pop(0))
            groups += [[word] for word in words]
        join_next = False
    last = q.split()[-1]
    # A negated word, a dangling operator or a phrase is not being typed ahead.
    prefix_last = bool(words_of(last)) and not (
        '"' in q or last.startswith("-") or last.lower() == "or"
    )
    return SearchTerms(
        text=q, prefix_last=prefix_last,
        groups=tuple(tuple(g) for g in groups), excluded=tuple(excluded),
    )


# --- conditions and ranking ----------------------------------------------------------


def _pg_tsquery(terms: SearchTerms) -> ColumnElement[object]:
    query = func.websearch_to_tsquery(ENGLISH, terms.text)
    if not terms.prefix_last:
        return query
    # PostgreSQL parses q itself (so "or", "-" and stemming behave as documented); the last
    # lexeme of its own output then gets the prefix flag: 'tom' -> 'tom':*. That text is
    # PostgreSQL's rendering, never the user's, so the cast back cannot be steered.
    text = func.regexp_replace(cast(query, Text), _LAST_LEXEME_END, _PREFIX_END)
    return cast(text, TSQUERY)


def _sqlite_word(word: str, field: str = "") -> ColumnElement[bool]:
    # Every stored word is preceded by " <field>:"; words hold no ':' '%' or '_'.
    marker = f" {field}:" if field else ":"
    return Recipe.search_vector.like(f"%{marker}{escape_like(word)}%", escape=LIKE_ESCAPE)


def match_condition(terms: SearchTerms, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return Recipe.search_vector.op("@@")(_pg_tsquery(terms))
    conditions = [or_(*(_sqlite_word(word) for word in group)) for group in terms.groups]
    conditions += [~_sqlite_word(word) for word in terms.excluded]
    return and_(true(), *conditions)


def rank_expression(terms: SearchTerms, dialect: str) -> ColumnElement[float]:
    """Higher is better. Double precision, so a cursor round-trips it exactly."""
    if dialect == "postgresql":
        return cast(func.ts_rank(Recipe.search_vector, _pg_tsquery(terms)), Double)
    score: ColumnElement[int] | None = None
    for word in terms.words:
        for field, weight in _FIELD_WEIGHTS.items():
            term = case((_sqlite_word(word, field), weight), else_=0)
            score = term if score is None else score + term
    return cast(score if score is not None else literal_column("0"), Double)


# --- keeping the search column current -------------------------------------------------


def refresh_search_vectors(session: Session, recipe_ids: Sequence[uuid.UUID]) -> None:
    """Recompute the search column of these recipes from their current rows.

    Call after their title, description, tags or ingredients changed (and were flushed).
    """
    if not recipe_ids:
        return
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        _refresh_postgresql(session, recipe_ids)
    else:
        _refresh_sqlite(session, recipe_ids)


def _weighted(text: ColumnElement[object], weight: str) -> ColumnElement[object]:
    return func.setweight(
        func.to_tsvector(ENGLISH, func.coalesce(text, "")), literal_column(f"'{weight}'")
    )


@functools.cache
def _postgresql_refresh() -> Update:
    """Built once (building it and the ORM's bulk-update path were a quarter of the CPU of
    creating a recipe: py-spy under bench/load.py); on the table, so it runs as Core."""
    recipes = Recipe.__table__
    tags = (
        select(func.string_agg(RecipeTag.tag, " "))
        .where(RecipeTag.recipe_id == recipes.c.id).scalar_subquery()
    )
    ingredients = (
        select(func.string_agg(RecipeIngredient.name, " "))
        .where(RecipeIngredient.recipe_id == recipes.c.id).scalar_subquery()
    )
    vector = (
        _weighted(recipes.c.title, "A").op("||")(_weighted(tags, "B"))
        .op("||")(_weighted(ingredients, "C")).op("||")(_weighted(recipes.c.description, "D"))
    )
    return (
        update(recipes).where(recipes.c.id.in_(bindparam("recipe_ids", expanding=True)))
        # updated_at is kept: recomputing an index column is not a change to the recipe.
        .values(search_vector=vector, updated_at=recipes.c.updated_at)
    )


def _refresh_postgresql(session: Session, recipe_ids: Sequence[uuid.UUID]) -> None:
    session.connection().execute(_postgresql_refresh(), {"recipe_ids": list(recipe_ids)})


def _refresh_sqlite(session: Session, recipe_ids: Sequence[uuid.UUID]) -> None:
    fields: dict[uuid.UUID, dict[str, list[str]]] = {
        rid: {"a": [], "b": [], "c": [], "d": []} for rid in recipe_ids
    }
    for rid, title, description in session.execute(
        select(Recipe.id, Recipe.title, Recipe.description).where(Recipe.id.in_(recipe_ids))
    ):
        fields[rid]["a"] = words_of(title)
        fields[rid]["d"] = words_of(description or "")
    for rid, tag in session.execute(
        select(RecipeTag.recipe_id, RecipeTag.tag).where(RecipeTag.recipe_id.in_(recipe_ids))
    ):
        fields[rid]["b"] += words_of(tag)
    for rid, name in session.execute(
        select(RecipeIngredient.recipe_id, RecipeIngredient.name)
        .where(RecipeIngredient.recipe_id.in_(recipe_ids))
    ):
        fields[rid]["c"] += words_of(name)
    for rid, by_field in fields.items():
        text = "".join(f" {f}:{w}" for f, words in by_field.items() for w in words) + " "
        session.execute(
            update(Recipe).where(Recipe.id == rid)
            .values(search_vector=text, updated_at=Recipe.updated_at)
            .execution_options(synchronize_session=False)
        )
