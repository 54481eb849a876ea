"""Factories shared by every domain's tests."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.core.tokens import issue_access_token
from app.users.models import User


def make_user(session: Session, **fields: Any) -> User:
    suffix = uuid.uuid4().hex[:12]
    values: dict[str, Any] = {
        "clerk_user_id": f"user_{suffix}",
        "email": f"cook-{suffix}@example.com",
        "first_name": "Test",
        "last_name": "Cook",
    }
    values.update(fields)
    user = User(**values)
    session.add(user)
    session.commit()
    return user


def token_for(app: FastAPI, user: User, *, sid: str | None = None) -> str:
    """A real internal token, signed by the app's own key ring."""
    issued = issue_access_token(
        app.state.key_ring, user_id=user.id, sid=sid or f"sess_{uuid.uuid4().hex[:16]}",
        version=user.token_version,
    )
    return issued.token


def auth_headers(app: FastAPI, user: User, *, sid: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(app, user, sid=sid)}"}
