"""The import domain's one query: the caller's recipes that may share a source URL."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.session import read_rows
from app.recipes.models import Recipe

MAX_CANDIDATES = 200


def own_recipes_from_host(
    session: Session, owner_id: uuid.UUID, host: str
) -> list[tuple[uuid.UUID, str, str]]:
    """(id, title, source_url) of the owner's recipes whose source URL names ``host``.

    Only the owner's own rows (owner_id equality; no visibility rule is involved). The
    exact match on the canonical URL is made by the caller; this narrows the rows.
    """
    statement = (
        select(Recipe.id, Recipe.title, Recipe.source_url)
        .where(Recipe.owner_id == owner_id, Recipe.source_url.is_not(None),
               func.lower(Recipe.source_url).contains(host.lower(), autoescape=True))
        .order_by(Recipe.created_at.desc())
        .limit(MAX_CANDIDATES)
    )
    return [(row[0], row[1], row[2]) for row in read_rows(session, statement)]
