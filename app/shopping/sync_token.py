"""Opaque, signed sync tokens for GET /shopping-lists/{id}/items?changed_since=.

A token is the list's server-side change counter at the time of a read (never a client
clock), the list it belongs to and when it was issued, signed with a key derived from
SECRET_KEY for this purpose alone (as the recipe list cursors are). Anything we did not
issue for this very list is a 400; nothing in it reaches SQL unchecked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass

from app.shopping.exceptions import InvalidSyncToken

MAX_TOKEN_CHARS = 200
_KEY_CONTEXT = b"homechef/shopping/sync-token/v1"
_BODY = re.compile(r"^([0-9a-f]{32}):([0-9]{1,18}):([0-9]{1,12})$")
_MAC_BYTES = 32


@dataclass(frozen=True, slots=True)
class SyncPoint:
    seq: int
    issued_at: int  # unix seconds


def token_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _KEY_CONTEXT, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidSyncToken() from None


def encode_token(key: bytes, list_id: uuid.UUID, point: SyncPoint) -> str:
    body = f"{list_id.hex}:{point.seq}:{point.issued_at}".encode()
    return f"{_b64(body)}.{_b64(hmac.new(key, body, hashlib.sha256).digest())}"


def decode_token(key: bytes, list_id: uuid.UUID, token: str) -> SyncPoint:
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1 or not token.isascii():
        raise InvalidSyncToken()
    body_text, mac_text = token.split(".")
    body, mac = _unb64(body_text), _unb64(mac_text)
    expected = hmac.new(key, body, hashlib.sha256).digest()
    if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, expected):
        raise InvalidSyncToken()
    match = _BODY.match(body.decode("ascii", errors="replace"))
    if match is None or match.group(1) != list_id.hex:
        raise InvalidSyncToken()
    return SyncPoint(seq=int(match.group(2)), issued_at=int(match.group(3)))
