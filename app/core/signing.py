"""Opaque signed tokens: a body and its HMAC-SHA256, each base64url, joined by a dot.

Every purpose (list cursors, shopping sync tokens, media links) derives a key of its own
from SECRET_KEY, so a token made for one purpose never verifies as another. Verification
compares in constant time and refuses anything oversized, non-ASCII or misshapen before
any decoding work.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

_MAC_BYTES = 32


def derive_key(secret: str, purpose: bytes) -> bytes:
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def seal(key: bytes, body: bytes) -> str:
    return f"{b64encode(body)}.{b64encode(hmac.new(key, body, hashlib.sha256).digest())}"


def unseal(key: bytes, token: str, *, max_chars: int) -> bytes | None:
    """The body of a token sealed with ``key``, or None for anything else."""
    if len(token) > max_chars or token.count(".") != 1 or not token.isascii():
        return None
    body_text, mac_text = token.split(".")
    body, mac = b64decode(body_text), b64decode(mac_text)
    if body is None or mac is None or len(mac) != _MAC_BYTES:
        return None
    if not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).digest()):
        return None
    return body
