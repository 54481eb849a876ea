"""The private calendar feed: a secret URL per user, served without a bearer token.

The token is 256 bits from ``secrets``; only its SHA-256 is stored (a fast hash is enough
for a random secret that long: there is nothing to guess from a digest). A request's
digest is looked up by index, then compared with ``hmac.compare_digest``; an index lookup
can only leak timing about digests, which say nothing about any token. The feed row keeps
the user's token_version, so a logout everywhere (which bumps it), an erasure (which
deletes the row and marks the user) or a revoke ends the feed on the next request.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets
import uuid

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.events import CALENDAR_FEED_REJECTED, security_event
from app.db.base import utcnow
from app.mealplans import feed_repository, repository, service
from app.mealplans.exceptions import FeedNotFound
from app.mealplans.ics import build_calendar
from app.users import service as users_service

TOKEN_BYTES = 32
#: What secrets.token_urlsafe(TOKEN_BYTES) produces; anything else is refused unread.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
#: The feed covers yesterday (UTC) and the next 8 weeks: the server does not know the
#: subscriber's time zone, and their "today" may still be our yesterday.
FEED_DAYS = 1 + 8 * 7


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def create_feed_token(session: Session, user: Principal) -> tuple[str, datetime.datetime]:
    """A new secret feed token for the caller, replacing any earlier one (shown once)."""
    users_service.guard_active_for_write(session, user.id)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    created_at = utcnow()
    feed_repository.save_token(session, user.id, token_digest(token), user.token_version,
                               created_at)
    return token, created_at


def revoke_feed_token(session: Session, user: Principal) -> None:
    """Idempotent: revoking when there is no feed succeeds."""
    feed_repository.delete_token(session, user.id)


def _reject(reason: str) -> FeedNotFound:
    # A guess at someone's feed. The token is not logged (nor its digest); the request id
    # ties the event to the access line with the client's address.
    security_event(CALENDAR_FEED_REJECTED, reason=reason)
    return FeedNotFound()


def feed_owner(session: Session, token: str) -> uuid.UUID:
    """Whose live feed ``token`` opens; FeedNotFound (404) for anything else."""
    if not _TOKEN_SHAPE.fullmatch(token):
        raise _reject("malformed")
    digest = token_digest(token)
    found = feed_repository.find_live(session, digest)
    if found is None or not hmac.compare_digest(found[1], digest):
        raise _reject("unknown")
    return found[0]


def calendar_feed(session: Session, token: str, today: datetime.date) -> bytes:
    """The owner's active plan from yesterday for 8 weeks, as iCalendar: three statements
    (the token, the plan with its entries, the recipe cards)."""
    owner_id = feed_owner(session, token)
    stamp = utcnow().replace(microsecond=0)
    start = today - datetime.timedelta(days=1)
    plan = repository.read_plan(session, owner_id, None, (start, FEED_DAYS))
    if plan is None:
        return build_calendar(None, [], {}, stamp)
    days = service.scheduled_days(plan, start, FEED_DAYS)
    cards = service.recipe_cards(session, owner_id, (e for day in days for e in day.entries))
    return build_calendar(plan, days, cards, stamp)  # type: ignore[arg-type]
