"""Every query on idempotency_keys."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session

from app.db.session import read_rows
from app.idempotency.models import IdempotencyKey


def lock_id(user_id: uuid.UUID, key: str) -> int:
    """A 64-bit advisory-lock id for (user, key). A collision only costs a spurious 409."""
    digest = hashlib.sha256(f"{user_id}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def try_lock(session: Session, user_id: uuid.UUID, key: str) -> bool:
    """Take the (user, key) lock for this transaction, or say at once that it is held.

    PostgreSQL only. An INSERT that conflicts with another transaction's uncommitted row
    would wait for that transaction instead, holding a worker and a connection for as
    long as the first request runs; the lock lets a repeat answer 409 immediately. It is
    released by the commit (or rollback) that makes the first request's row visible.
    SQLite (development) runs one writer at a time and has no such lock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    statement = select(func.pg_try_advisory_xact_lock(lock_id(user_id, key)))
    return bool(read_rows(session, statement).scalar_one())


def find(session: Session, user_id: uuid.UUID, key: str) -> IdempotencyKey | None:
    return session.get(IdempotencyKey, (user_id, key))


def delete_one(session: Session, user_id: uuid.UUID, key: str) -> None:
    session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.user_id == user_id, IdempotencyKey.key == key))


def delete_expired_batch(session: Session, now: datetime, limit: int) -> int:
    """Delete up to ``limit`` expired keys; how many went.

    SKIP LOCKED: a row a request holds (replacing its own expired key) is left for the
    next run instead of making the cleanup, and whoever waits behind it, wait.
    """
    expired = (
        select(IdempotencyKey.user_id, IdempotencyKey.key)
        .where(IdempotencyKey.expires_at <= now)
        .order_by(IdempotencyKey.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = session.execute(
        delete(IdempotencyKey)
        .where(tuple_(IdempotencyKey.user_id, IdempotencyKey.key).in_(expired))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def keys_of(session: Session, user_id: uuid.UUID) -> Sequence[IdempotencyKey]:
    return session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id)
        .order_by(IdempotencyKey.created_at)
    ).all()


def delete_keys_of(session: Session, user_id: uuid.UUID) -> None:
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id))
