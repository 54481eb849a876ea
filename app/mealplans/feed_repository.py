"""Every SQL query about calendar feed tokens. Nothing here commits."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.mealplans.models import CalendarFeedToken
from app.users.models import User


def save_token(
    session: Session, user_id: uuid.UUID, token_sha256: str, token_version: int,
    created_at: datetime,
) -> None:
    """Create the user's feed token, or replace the old one (which stops working)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {"token_sha256": token_sha256, "token_version": token_version,
              "created_at": created_at}
    statement = insert(CalendarFeedToken).values(user_id=user_id, **values)
    session.execute(statement.on_conflict_do_update(
        index_elements=[CalendarFeedToken.user_id], set_=values))


def delete_token(session: Session, user_id: uuid.UUID) -> None:
    session.execute(delete(CalendarFeedToken).where(CalendarFeedToken.user_id == user_id))


def find_live(session: Session, token_sha256: str) -> tuple[uuid.UUID, str] | None:
    """(user id, stored hash) of a feed token that is still alive: its user is not erased
    and has not logged out everywhere since it was made (same token_version)."""
    row = session.execute(
        select(CalendarFeedToken.user_id, CalendarFeedToken.token_sha256)
        .join(User, User.id == CalendarFeedToken.user_id)
        .where(CalendarFeedToken.token_sha256 == token_sha256,
               User.deleted_at.is_(None),
               User.token_version == CalendarFeedToken.token_version)
    ).first()
    return None if row is None else (row[0], row[1])


def token_of(session: Session, user_id: uuid.UUID) -> CalendarFeedToken | None:
    return session.get(CalendarFeedToken, user_id)
