"""Opaque, signed sync tokens for GET /shopping-lists/{id}/items?changed_since=.

A token is the list's server-side change counter at the time of a read (never a client
clock), the list it belongs to and when it was issued, signed with a key derived from
SECRET_KEY for this purpose alone (as the recipe list cursors are). Anything we did not
issue for this very list is a 400; nothing in it reaches SQL unchecked.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from app.core.signing import derive_key, seal, unseal
from app.shopping.exceptions import InvalidSyncToken

MAX_TOKEN_CHARS = 200
_KEY_CONTEXT = b"homechef/shopping/sync-token/v1"
_BODY = re.compile(r"^([0-9a-f]{32}):([0-9]{1,18}):([0-9]{1,12})$")


@dataclass(frozen=True, slots=True)
class SyncPoint:
    seq: int
    issued_at: int  # unix seconds


def token_key(secret: str) -> bytes:
    return derive_key(secret, _KEY_CONTEXT)


def encode_token(key: bytes, list_id: uuid.UUID, point: SyncPoint) -> str:
    return seal(key, f"{list_id.hex}:{point.seq}:{point.issued_at}".encode())


def decode_token(key: bytes, list_id: uuid.UUID, token: str) -> SyncPoint:
    body = unseal(key, token, max_chars=MAX_TOKEN_CHARS)
    if body is None:
        raise InvalidSyncToken()
    match = _BODY.match(body.decode("ascii", errors="replace"))
    if match is None or match.group(1) != list_id.hex:
        raise InvalidSyncToken()
    return SyncPoint(seq=int(match.group(2)), issued_at=int(match.group(3)))
