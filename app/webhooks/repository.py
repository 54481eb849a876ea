"""Queries on ``webhook_events``."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.webhooks.models import WebhookEvent

EVENT_TYPE_MAX = 100


def record_delivery(session: Session, svix_id: str, event_type: str) -> bool:
    """Claim this delivery; False if it was already processed.

    A concurrent delivery of the same message blocks on the first one's uncommitted
    unique-index entry, then sees the conflict once that commits: no second effect and
    no unique-violation error. If the first rolls back, the second proceeds instead.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(WebhookEvent)
        .values(
            id=uuid.uuid4(),
            svix_id=svix_id,
            event_type=event_type[:EVENT_TYPE_MAX],
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=[WebhookEvent.svix_id])
        .returning(WebhookEvent.id)
    )
    return session.execute(statement).scalar_one_or_none() is not None
