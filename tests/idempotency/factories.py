"""Idempotency keys made directly in the database, and the requests that carry them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.idempotency.models import IdempotencyKey
from app.recipes.models import Recipe
from app.users.models import User


def make_idempotency_key(db: Session, user: User, key: str | None = None, *,
                         age: timedelta = timedelta(0), **fields: Any) -> IdempotencyKey:
    created = utcnow() - age
    values: dict[str, Any] = {
        "user_id": user.id, "key": key or f"key-{uuid.uuid4()}", "request_hash": "0" * 64,
        "method": "POST", "path": "/api/v1/recipes", "status_code": 201,
        "response_body": b'{"id": "stored"}',
        "response_headers": {"content-type": "application/json"},
        "created_at": created, "expires_at": created + timedelta(hours=24),
    }
    values.update(fields)
    row = IdempotencyKey(**values)
    db.add(row)
    db.commit()
    return row


def with_key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def count_recipes(db: Session, owner: User) -> int:
    db.expire_all()
    owned = select(func.count()).select_from(Recipe).where(Recipe.owner_id == owner.id)
    return db.scalar(owned) or 0


def count_keys(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(IdempotencyKey)) or 0
