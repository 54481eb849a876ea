from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utcnow


class RevokedSession(Base):
    """A Clerk session (sid) whose internal tokens must stop working.

    Rows older than the longest token lifetime (24 h) can be pruned.
    """

    __tablename__ = "revoked_sessions"

    sid: Mapped[str] = mapped_column(String(128), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
