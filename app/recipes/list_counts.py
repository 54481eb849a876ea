"""Several list counts in one statement (the collections list counts every smart
collection at once): each count is the list's own count statement with its parameters
renamed under a prefix, built once per (shape, prefix) and reused."""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

from sqlalchemy import BindParameter, bindparam
from sqlalchemy.sql.visitors import replacement_traverse

from app.recipes import listing
from app.recipes.listing import ListQuery, Shape


@functools.lru_cache(maxsize=256)
def _prefixed_count(shape: Shape, prefix: str) -> Any:
    """``count_statement`` as a scalar subquery whose parameters are all named
    ``prefix + name``, so that several counts with different values fit one statement."""
    statement = listing.count_statement(shape)
    if statement is None:
        return None

    def rename(element: Any) -> Any:
        # Named parameters only; literals (anonymous, value carried) stay as they are.
        if isinstance(element, BindParameter) and not element.unique:
            return bindparam(prefix + element.key, type_=element.type)
        return None

    return replacement_traverse(statement, {}, rename).scalar_subquery()


def count_part(query: ListQuery, prefix: str) -> tuple[Any, dict[str, Any]]:
    """The count of ``query`` as a scalar subquery (None: no rows possible) and its
    values, to be combined with others in one statement (the collections list)."""
    values = listing.bound_values(replace(query, after=None))
    return (_prefixed_count(listing.count_shape(query), prefix),
            {prefix + key: value for key, value in values.items()})
