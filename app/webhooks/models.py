from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UUIDPrimaryKey, utcnow


class WebhookEvent(UUIDPrimaryKey, Base):
    """One processed Svix delivery; the unique svix_id makes redelivery a no-op."""

    __tablename__ = "webhook_events"

    svix_id: Mapped[str] = mapped_column(String(255), unique=True)
    event_type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
