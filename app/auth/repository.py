from __future__ import annotations

import uuid

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.auth.models import RevokedSession
from app.users.models import User


def load_token_subject(session: Session, user_id: uuid.UUID, sid: str) -> tuple[User | None, bool]:
    """The token's user and whether its Clerk session was revoked, in one round trip."""
    revoked = exists().where(RevokedSession.sid == sid).correlate(None)
    row = session.execute(select(User, revoked.label("revoked")).where(User.id == user_id)).first()
    if row is None:
        return None, False
    return row[0], bool(row[1])


def revoke_session(session: Session, sid: str) -> None:
    if session.get(RevokedSession, sid) is None:
        session.add(RevokedSession(sid=sid))
        session.flush()


def is_session_revoked(session: Session, sid: str) -> bool:
    return session.scalar(select(exists().where(RevokedSession.sid == sid))) or False
