"""Optimistic concurrency for versioned rows (``id`` and ``version`` columns): the
conditions of a write that must hit one version (If-Match), and the guarded delete.

The guard lives in the statement's WHERE, not in a read before it: the UPDATE or DELETE
takes the row lock, so of concurrent writers holding the same version exactly one
matches; the others wait, re-check against the committed row and match nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, delete
from sqlalchemy.orm import Session


def at_version(
    model: Any, row_id: uuid.UUID, expected_version: int | None, *more: ColumnElement[bool]
) -> list[ColumnElement[bool]]:
    """The row ``row_id`` (and ``more``), at ``expected_version`` when one is given."""
    conditions = [model.id == row_id, *more]
    if expected_version is not None:
        conditions.append(model.version == expected_version)
    return conditions


def delete_at_version(
    session: Session, model: Any, row_id: uuid.UUID, expected_version: int | None,
    *more: ColumnElement[bool],
) -> bool:
    """Whether a row was deleted (False: gone, not the caller's, or another version)."""
    result = session.execute(
        delete(model).where(*at_version(model, row_id, expected_version, *more))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)
