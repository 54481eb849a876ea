"""Clerk's signing keys: the JWKS cache and the conversion of JWK/PEM into RS256 keys.

Part of the Clerk verifier (``app.auth.clerk``), kept apart so that the locking and
refetch rules can be read on their own. Only this module and ``app.auth.clerk`` turn key
material into ``jose`` keys.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from jose import jwk
from jose.backends.base import Key
from jose.exceptions import JOSEError

ALGORITHM = "RS256"
MIN_RSA_BITS = 2048
MAX_KID_LENGTH = 256

security_log = logging.getLogger("homechef.security")


class FetchFailed(Exception):
    """A download from Clerk failed; ``reason`` is a short code for the logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeyRefused(Exception):
    """The token names no usable key; ``reason`` is the token's refusal code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeysUnavailable(Exception):
    """The kid is unknown and the last fetch failed, so a rotated key cannot be told from a
    forged kid: the caller answers "retry" rather than "sign in again"."""


class JwksCache:
    """The kid → key map of one JWKS, fetched on demand.

    Keys are refetched when the TTL has passed or an unknown kid arrives, but at most once
    per cooldown across all threads, so a stream of forged kids cannot make us hammer Clerk.
    ``fetch_document`` returns the parsed JWKS document or raises ``FetchFailed``.
    """

    def __init__(
        self,
        fetch_document: Callable[[], Mapping[str, Any]],
        *,
        ttl: float,
        cooldown: float,
        monotonic: Callable[[], float],
    ) -> None:
        self._fetch_document = fetch_document
        self._ttl = ttl
        self._cooldown = cooldown
        self._monotonic = monotonic

        self._state_lock = threading.Lock()
        self._fetch_lock = threading.Lock()
        self._keys: dict[str, Key | None] = {}  # None: listed, but not a usable RS256 key
        self._fetched_at: float | None = None
        self._last_attempt: float | None = None
        self._last_fetch_ok = False

    def key_for(self, kid: object) -> Key:
        if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH:
            raise KeyRefused("bad_header")
        with self._state_lock:
            known = kid in self._keys
            fetched_at = self._fetched_at
            fresh = fetched_at is not None and self._monotonic() - fetched_at < self._ttl
        if not (known and fresh):
            # A known kid with expired keys need not wait for another thread's fetch:
            # the cached key is still the best answer we have.
            self._refresh(wait=not known)
        with self._state_lock:
            if kid in self._keys:
                key = self._keys[kid]
                if key is None:
                    raise KeyRefused("bad_key")
                return key
            last_fetch_ok = self._last_fetch_ok
        if not last_fetch_ok:
            raise KeysUnavailable()
        raise KeyRefused("unknown_kid")

    def _refresh(self, *, wait: bool) -> None:
        """Fetch the JWKS unless one was attempted within the cooldown (by any thread)."""
        if not self._fetch_lock.acquire(blocking=wait):
            return
        try:
            with self._state_lock:
                now = self._monotonic()
                if self._last_attempt is not None and now - self._last_attempt < self._cooldown:
                    return
                self._last_attempt = now
            try:
                keys = self._download()
            except FetchFailed as exc:
                with self._state_lock:
                    self._last_fetch_ok = False
                security_log.warning(
                    "auth.clerk_unavailable",
                    extra={"event": "auth.clerk_unavailable", "reason": exc.reason},
                )
                return
            with self._state_lock:
                self._keys = keys
                self._fetched_at = self._monotonic()
                self._last_fetch_ok = True
        finally:
            self._fetch_lock.release()

    def _download(self) -> dict[str, Key | None]:
        entries = self._fetch_document().get("keys")
        if not isinstance(entries, list):
            raise FetchFailed("invalid_jwks")
        keys: dict[str, Key | None] = {}
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
                continue
            kid = entry["kid"]
            # Two different keys under one kid is ambiguous: use neither.
            keys[kid] = None if kid in keys else key_from_jwk(entry)
        return keys


def b64url_decode(segment: str) -> bytes:
    """Unpadded base64url, as JOSE writes it; raises ValueError (binascii.Error) if invalid."""
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def key_from_jwk(entry: Mapping[str, Any]) -> Key | None:
    """The RS256 verification key of one JWKS entry, or None if it is not one."""
    if entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig":
        return None
    if entry.get("alg", ALGORITHM) != ALGORITHM:
        return None
    n, e = entry.get("n"), entry.get("e")
    if not isinstance(n, str) or not isinstance(e, str):
        return None
    try:
        if int.from_bytes(b64url_decode(n), "big").bit_length() < MIN_RSA_BITS:
            return None
        # Only the public members: a JWKS that leaked "d" must not give us a private key.
        return jwk.construct({"kty": "RSA", "n": n, "e": e}, algorithm=ALGORITHM)
    except (JOSEError, ValueError, TypeError):
        return None


def key_from_pem(pem: str) -> Key:
    # .env files often carry the PEM on one line with literal "\n".
    text = pem.replace("\\n", "\n").strip()
    try:
        key = jwk.construct(text, algorithm=ALGORITHM)
    except (JOSEError, ValueError, TypeError):
        raise ValueError("CLERK_JWT_KEY is not a PEM-encoded RSA public key") from None
    if not key.is_public():
        raise ValueError("CLERK_JWT_KEY must be Clerk's public key, not a private key")
    n = key.to_dict()["n"]
    if int.from_bytes(b64url_decode(n), "big").bit_length() < MIN_RSA_BITS:
        raise ValueError(f"CLERK_JWT_KEY is shorter than {MIN_RSA_BITS} bits")
    return key
