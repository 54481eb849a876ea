"""Clerk events, applied once each, in whatever order Svix delivers them.

Rules (SECURITY.md repeats them):

- The signature has already been checked (``verification``); the body is parsed here.
- A body that is not a JSON object with a string ``type`` is 400: nothing can be done
  with it. A known event whose ``data`` is unusable (not an object, no usable id) is
  acknowledged as "ignored" and logged: Clerk signed it, so retrying would change
  nothing. Either way nothing is written but the delivery record.
- The svix-id is recorded in the same transaction as the effect, so a redelivery (or a
  concurrent duplicate) is acknowledged without a second effect, and a failed effect
  leaves no record behind to block the retry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth import repository as auth_repository
from app.core.errors import BadRequest
from app.core.events import WEBHOOK_PROCESSED, WEBHOOK_REJECTED, security_event
from app.users import service as users_service
from app.users.clerk_profile import profile_from_user_object
from app.webhooks import repository
from app.webhooks.schemas import DeliveryStatus

SESSION_ID_MAX = 128  # revoked_sessions.sid
EVENT_TYPE_LOG_MAX = 100


class WebhookPayloadInvalid(BadRequest):
    code = "webhook-payload-invalid"
    detail = "The webhook body is not a JSON event object."


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    data: object


def parse_event(body: bytes) -> Event:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError and integers past Python's digit limit.
        security_event(WEBHOOK_REJECTED, reason="body_not_json")
        raise WebhookPayloadInvalid() from None
    if not isinstance(document, dict) or not isinstance(document.get("type"), str):
        security_event(WEBHOOK_REJECTED, reason="not_an_event")
        raise WebhookPayloadInvalid()
    return Event(type=document["type"], data=document.get("data"))


def process_delivery(session: Session, svix_id: str, body: bytes) -> DeliveryStatus:
    event = parse_event(body)
    log_type = event.type[:EVENT_TYPE_LOG_MAX]
    if not repository.record_delivery(session, svix_id, event.type):
        _log(svix_id, log_type, "duplicate")
        return "duplicate"
    handler = _HANDLERS.get(event.type)
    if handler is None:
        _log(svix_id, log_type, "unknown_type")
        return "ignored"
    if not isinstance(event.data, dict):
        _log(svix_id, log_type, "invalid_data")
        return "ignored"
    outcome = handler(session, event.data)
    _log(svix_id, log_type, outcome)
    return "ignored" if outcome == "invalid_data" else "processed"


def _log(svix_id: str, event_type: str, outcome: str) -> None:
    security_event(WEBHOOK_PROCESSED, svix_id=svix_id, type=event_type, outcome=outcome)


def _user_id(data: Mapping[str, Any]) -> str | None:
    value = data.get("id")
    return value if users_service.valid_clerk_user_id(value) else None


def _on_user_upsert(session: Session, data: Mapping[str, Any]) -> str:
    clerk_user_id = _user_id(data)
    if clerk_user_id is None:
        return "invalid_data"
    return users_service.sync_from_clerk(session, clerk_user_id, profile_from_user_object(data))


def _on_user_deleted(session: Session, data: Mapping[str, Any]) -> str:
    clerk_user_id = _user_id(data)
    if clerk_user_id is None:
        return "invalid_data"
    return users_service.erase_by_clerk_id(session, clerk_user_id)


def _on_session_ended(session: Session, data: Mapping[str, Any]) -> str:
    sid = data.get("id")
    if not isinstance(sid, str) or not 0 < len(sid) <= SESSION_ID_MAX or not sid.isprintable():
        return "invalid_data"
    try:
        # A savepoint: session.ended and session.revoked for one sid may race, and the
        # loser's primary-key conflict must not undo the delivery record.
        with session.begin_nested():
            auth_repository.revoke_session(session, sid)
    except IntegrityError:
        return "already_revoked"
    return "session_revoked"


_HANDLERS: dict[str, Callable[[Session, Mapping[str, Any]], str]] = {
    "user.created": _on_user_upsert,
    "user.updated": _on_user_upsert,
    "user.deleted": _on_user_deleted,
    "session.revoked": _on_session_ended,
    "session.ended": _on_session_ended,
    # A session removed from a device is as dead as a revoked one.
    "session.removed": _on_session_ended,
}
