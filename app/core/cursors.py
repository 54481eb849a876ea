"""Opaque, signed keyset cursors for the list routes (recipes, collections, meal plans).

A cursor carries the position after the last item of a page: its sort key and id. It is
signed with a key derived from SECRET_KEY (a key of its own, so a cursor can never be
mistaken for anything else signed with SECRET_KEY) and bound to a fingerprint of the query
it came from (caller, filters and sort). A flipped byte, garbage, an oversized blob or a
cursor of another query or user is refused with a 400; nothing in it reaches SQL unchecked.

Cursors signed before a SECRET_KEY rotation stop working: the client starts again from
page one, which is harmless.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core.errors import BadRequest
from app.core.signing import derive_key, seal, unseal

MAX_CURSOR_CHARS = 4096
# The context predates this module's move from app/recipes: changing it would void every
# cursor clients hold.
_KEY_CONTEXT = b"homechef/recipes/list-cursor/v1"


class InvalidCursor(BadRequest):
    code = "invalid-cursor"
    detail = "The cursor is invalid, expired or belongs to another query."


SortKey = datetime | str | int | float


@dataclass(frozen=True)
class Position:
    """Where the next page starts: strictly after (key, id) in the sort order."""

    key: SortKey
    id: uuid.UUID


def cursor_key(secret: str) -> bytes:
    return derive_key(secret, _KEY_CONTEXT)


def query_fingerprint(parts: dict[str, Any]) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def encode_cursor(key: bytes, fingerprint: str, position: Position) -> str:
    sort_key: Any = position.key
    if isinstance(sort_key, datetime):
        sort_key = sort_key.isoformat()
    body = json.dumps(
        {"f": fingerprint, "k": sort_key, "i": position.id.hex},
        separators=(",", ":"), ensure_ascii=False,
    ).encode()
    return seal(key, body)


def decode_cursor(key: bytes, token: str, fingerprint: str, key_type: type) -> Position:
    """The position in ``token``, or InvalidCursor (400) for anything we did not issue
    for this very query."""
    body = unseal(key, token, max_chars=MAX_CURSOR_CHARS)
    if body is None:
        raise InvalidCursor()
    try:
        payload = json.loads(body)
        if payload["f"] != fingerprint:
            raise InvalidCursor()
        return Position(key=_sort_key(payload["k"], key_type), id=uuid.UUID(hex=payload["i"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidCursor() from None


def _sort_key(raw: Any, key_type: type) -> SortKey:
    # Signed by us, but checked anyway: a key of the wrong type must never reach SQL.
    if key_type is datetime:
        value = datetime.fromisoformat(raw)
        if value.tzinfo is None:
            raise ValueError("naive timestamp")
        return value
    if key_type is str and isinstance(raw, str):
        return raw
    if key_type is int and type(raw) is int:
        return raw
    if key_type is float and type(raw) in (int, float) and math.isfinite(raw):
        return float(raw)
    raise ValueError("sort key of the wrong type")
