"""Idempotency keys: claim a key, replay a stored response, remember a new one, purge.

The rules (Stripe's): the first request with a key runs and, in the same transaction as
its write, stores its response; a repeat with the same request gets that response again
and writes nothing; a repeat with another request is refused (422); a repeat while the
first still runs is told to come back (409, Retry-After). Keys belong to one user and
live for ``KEY_TTL``.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Response
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.idempotency import repository
from app.idempotency.exceptions import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
)
from app.idempotency.models import IdempotencyKey

KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
#: The headers a replay repeats; the rest (request id, security headers) are the replay's own.
STORED_HEADERS = ("content-type", "location", "etag")
REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class IdempotentRequest:
    user_id: uuid.UUID
    key: str
    method: str
    path: str
    fingerprint: str


def valid_key(values: list[str]) -> str:
    """The one Idempotency-Key header, if it is 1-255 printable ASCII characters."""
    if len(values) != 1:
        raise InvalidIdempotencyKey()
    key = values[0]
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in key):
        raise InvalidIdempotencyKey()
    return key


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode()):
        digest.update(len(part).to_bytes(4, "big") + part)
    digest.update(body)
    return digest.hexdigest()


def claim(session: Session, request: IdempotentRequest) -> Response | None:
    """The stored response to replay, or None when this request is the key's first.

    Raises IdempotencyKeyInUse while another request holds the key, and
    IdempotencyKeyReused when the key came with another request. Runs first in the
    request's transaction, whose commit the lock lasts until.
    """
    if not repository.try_lock(session, request.user_id, request.key):
        raise IdempotencyKeyInUse()
    stored = repository.find(session, request.user_id, request.key)
    if stored is None:
        return None
    if stored.expires_at <= utcnow():
        # Expired but not yet purged: the key is new again.
        repository.delete_one(session, request.user_id, request.key)
        session.expunge(stored)
        return None
    if stored.request_hash != request.fingerprint:
        raise IdempotencyKeyReused()
    return replay(stored)


def replay(stored: IdempotencyKey) -> Response:
    headers = {**stored.response_headers, REPLAYED_HEADER: "true"}
    return Response(stored.response_body, status_code=stored.status_code, headers=headers)


def remember(session: Session, request: IdempotentRequest, response: Response) -> None:
    """Store the response in the transaction of the write it answers."""
    body = getattr(response, "body", None)
    if not isinstance(body, bytes):
        # A streamed body cannot be replayed; an opted-in route must not stream.
        raise TypeError(f"{request.path}: an idempotent route must not stream its response")
    now = utcnow()
    session.add(IdempotencyKey(
        user_id=request.user_id, key=request.key, request_hash=request.fingerprint,
        method=request.method, path=request.path, status_code=response.status_code,
        response_body=body,
        response_headers={name: response.headers[name] for name in STORED_HEADERS
                          if name in response.headers},
        created_at=now, expires_at=now + KEY_TTL,
    ))
    session.flush()


def purge_expired(session: Session, batch: int) -> int:
    """One batch of the cleanup (its caller commits between batches)."""
    return repository.delete_expired_batch(session, utcnow(), batch)
