"""Every query on ``users``."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.auth import validity
from app.users.models import User


def insert_if_absent(session: Session, values: dict[str, Any]) -> uuid.UUID | None:
    """Insert a user unless one with this clerk_user_id exists; the new id, or None.

    ON CONFLICT DO NOTHING makes two simultaneous first sign-ins (or a sign-in racing a
    webhook) create exactly one row: the loser waits on the winner's unique-index entry
    and then inserts nothing, without a unique-violation error.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {"id": uuid.uuid4(), **values}
    statement = (
        insert(User)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[User.clerk_user_id])
        .returning(User.id)
    )
    return session.execute(statement).scalar_one_or_none()


def find_by_clerk_id(session: Session, clerk_user_id: str, *, lock: bool = False) -> User | None:
    statement = select(User).where(User.clerk_user_id == clerk_user_id)
    if lock:
        # Serialises concurrent events for one person; populate_existing so the row we
        # decide on is the locked one, not a copy the session loaded earlier.
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return session.scalars(statement).one_or_none()


def find_by_id(session: Session, user_id: uuid.UUID) -> User | None:
    return session.get(User, user_id)


def lock(session: Session, user: User) -> User:
    """Re-read ``user`` under a row lock."""
    statement = (
        select(User).where(User.id == user.id).with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(statement).one()


def bump_token_version(session: Session, user: User) -> None:
    # Incremented in SQL so two concurrent bumps both count.
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(token_version=User.token_version + 1)
        .execution_options(synchronize_session=False)
    )
    session.refresh(user, ["token_version"])
    validity.note_revoked(session, user_id=user.id)


def is_erased_share_locked(session: Session, user_id: uuid.UUID) -> bool:
    """Whether the user is erased, holding a share lock until the transaction ends.

    Writers that attach rows to a user take it, so an erasure (which locks the row for
    update) either waits for them and then deletes what they wrote, or finishes first
    and is seen here.
    """
    statement = select(User.deleted_at).where(User.id == user_id).with_for_update(read=True)
    row = session.execute(statement).first()
    return row is None or row[0] is not None


def is_erased_update_locked(session: Session, user_id: uuid.UUID) -> bool:
    """Like ``is_erased_share_locked``, but the lock excludes every other writer of this
    user too (FOR NO KEY UPDATE: it still lets rows referencing the user be inserted).

    For rules across a user's rows ("at most N", "exactly one active") that concurrent
    writers must not both pass.
    """
    statement = (select(User.deleted_at).where(User.id == user_id)
                 .with_for_update(key_share=True))
    row = session.execute(statement).first()
    return row is None or row[0] is not None
