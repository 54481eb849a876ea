"""Smart collections' saved filters, seen from the recipe list: validated by the list's
own rules, and counted (the collections list counts them all in one statement).

Reached by the collections domain through ``app.recipes.service``, which re-exports these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.collections.exceptions import CollectionFilterInvalid
from app.core.errors import AppError
from app.recipes import list_counts, list_filters
from app.recipes.schemas import RecipeFilter


def saved_filter(raw: dict[str, Any]) -> RecipeFilter:
    """A smart collection's stored filter, validated by the list's current rules
    (CollectionFilterInvalid when they refuse it)."""
    return list_filters.saved_filter(raw)


def saved_filter_counts(
    session: Session, user: Principal, saved: Sequence[tuple[str, RecipeFilter | None]]
) -> tuple[list[tuple[str, Any]], dict[str, Any]]:
    """For the collections list: each saved filter's count as a part (list_counts: a
    condition on the caller's own recipes, or a scalar subquery; None when it can match
    nothing) and the values of all of them, to be run as ONE statement.

    ``saved`` pairs a unique parameter prefix with a smart collection's filter, validated
    by ``saved_filter`` (None: one the rules no longer accept, which counts nothing
    here; listing its recipes says why, CollectionFilterInvalid).
    """
    dialect = session.get_bind().dialect.name
    parts: list[tuple[str, Any]] = []
    values: dict[str, Any] = {}
    for prefix, params in saved:
        try:
            if params is None:
                raise CollectionFilterInvalid()
            query = replace(list_filters.list_query(user, params, limit=1), dialect=dialect)
        except AppError:
            parts.append((prefix, None))
            continue
        part, bound = list_counts.count_part(query, prefix)
        parts.append((prefix, part))
        values.update(bound)
    return parts, values


def validate_saved_filter(user: Principal, params: RecipeFilter) -> None:
    """The list's own rules on a filter about to be saved (relevance needs q, ...)."""
    list_filters.list_query(user, params, limit=1)
