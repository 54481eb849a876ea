"""Several list counts in one statement (the collections list counts every smart
collection at once): each count is the list's own count statement, or for a count over
the caller's own recipes only its condition (counted in one shared pass), with its
parameters renamed under a prefix, built once per (shape, prefix) and reused."""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

from sqlalchemy import BindParameter, bindparam
from sqlalchemy.sql.visitors import replacement_traverse

from app.recipes import listing
from app.recipes.list_query import ListQuery, Shape, bound_values, count_shape


def _renamed(element: Any, prefix: str) -> Any:
    """``element`` with all its named parameters renamed ``prefix + name``, so that
    several counts with different values fit one statement."""

    def rename(found: Any) -> Any:
        # Named parameters only; literals (anonymous, value carried) stay as they are.
        if isinstance(found, BindParameter) and not found.unique:
            return bindparam(prefix + found.key, type_=found.type)
        return None

    return replacement_traverse(element, {}, rename)


@functools.lru_cache(maxsize=256)
def _prefixed_count(shape: Shape, prefix: str) -> tuple[bool, Any] | None:
    """(True, the condition a recipe of the caller's own must meet: a count over their
    own recipes only, ``listing.own_count_condition``) or (False, the count as a scalar
    subquery); None when no row can match."""
    condition = listing.own_count_condition(shape)
    if condition is not None:
        return True, _renamed(condition, prefix)
    statement = listing.count_statement(shape)
    if statement is None:
        return None
    return False, _renamed(statement, prefix).scalar_subquery()


def count_part(query: ListQuery, prefix: str) -> tuple[tuple[bool, Any] | None, dict[str, Any]]:
    """The count of ``query`` as a part (see ``_prefixed_count``) and its values, to be
    combined with others in one statement (the collections list)."""
    values = bound_values(replace(query, after=None))
    return (_prefixed_count(count_shape(query), prefix),
            {prefix + key: value for key, value in values.items()})
