"""Clerk session tokens and Clerk's Backend API.

The only module that verifies Clerk tokens or talks to Clerk (its key cache lives in
``app.auth.jwks``). Key material comes from configuration alone: the JWKS at
``settings.clerk_jwks_url`` or the PEM in CLERK_JWT_KEY. Nothing in a token (jku, x5u,
jwk, x5c, iss) is ever followed.

Each refusal raises ``InvalidClerkToken`` with a stable reason code and is logged as a
security event without any token content. When no usable key can be had because Clerk is
unreachable, ``ClerkUnavailable`` is raised instead, so the client sees 503 (retry) rather
than 401 (sign in again).
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import httpx
from jose import jws
from jose.backends.base import Key
from jose.exceptions import JOSEError

from app.auth.jwks import (
    ALGORITHM,
    FetchFailed,
    JwksCache,
    KeyRefused,
    KeysUnavailable,
    b64url_decode,
    key_from_pem,
)
from app.core.config import Settings
from app.core.errors import ServiceUnavailable, Unauthorized

LEEWAY_SECONDS = 5
#: Clerk session tokens live 60 s. A JWT-template token (minted for another service with
#: the same instance key and the same default claims) can live for days; the cap keeps
#: one of those from passing as a session token even if it lacks an ``aud``.
MAX_TOKEN_LIFETIME_SECONDS = 300
#: The ``v`` claim Clerk puts in every current (v2) session token and in no JWT-template
#: token: the marker that this is a session token, not a token made for someone else.
SESSION_TOKEN_VERSIONS = frozenset({2})
MAX_TOKEN_BYTES = 8 * 1024
# Clerk's JWKS and user objects are a few KB; the caps only stop a broken or hostile
# endpoint from filling memory.
MAX_JWKS_BYTES = 256 * 1024
MAX_USER_BYTES = 512 * 1024

_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_USER_ID = re.compile(r"user_[A-Za-z0-9]{1,64}")

security_log = logging.getLogger("homechef.security")
log = logging.getLogger("homechef.clerk")


class InvalidClerkToken(Unauthorized):
    """The token is not an acceptable Clerk session token; ``reason`` says why (for logs)."""

    code = "invalid-token"
    detail = "The session token is invalid or expired."

    def __init__(self, reason: str) -> None:
        # The client always gets the same generic detail; the reason is for our logs only.
        super().__init__()
        self.reason = reason

    def __repr__(self) -> str:
        return f"InvalidClerkToken(reason={self.reason!r})"


class ClerkUnavailable(ServiceUnavailable):
    """No usable key: the JWKS could not be fetched (or Clerk is not configured)."""

    code = "auth-provider-unavailable"
    detail = "The sign-in service cannot be reached; retry shortly."

    def __init__(self, reason: str = "jwks_unavailable") -> None:
        super().__init__(headers={"Retry-After": "5"})
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ClerkClaims:
    sub: str
    sid: str
    iss: str
    exp: int
    iat: int
    azp: str | None
    nbf: int | None
    claims: Mapping[str, Any] = field(repr=False, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class ClerkUserProfile:
    id: str
    email: str | None = field(repr=False)
    email_verified: bool
    first_name: str | None
    last_name: str | None
    username: str | None
    image_url: str | None
    updated_at: int | None  # milliseconds since the epoch, as Clerk sends it


class ClerkVerifier:
    """Verifies Clerk session tokens and reads users from the Backend API.

    Thread-safe: one instance serves every request. ``clock`` (wall time, for exp/nbf/iat)
    and ``monotonic`` (for the cache TTL and refetch cooldown) exist for tests.
    """

    def __init__(
        self,
        settings: Settings,
        http_client: httpx.Client | None = None,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuer = settings.clerk_issuer
        self._parties = frozenset(settings.authorized_parties)
        self._audience = settings.CLERK_AUDIENCE
        self._jwks_url = settings.clerk_jwks_url
        self._secret = settings.CLERK_SECRET_KEY
        # The Backend API JWKS wants the secret key; a Frontend API or explicit URL must
        # never receive it.
        self._jwks_needs_secret = bool(settings.CLERK_SECRET_KEY) and not settings.CLERK_JWKS_URL
        self._api_url = settings.CLERK_API_URL.rstrip("/")
        self._timeout = settings.CLERK_HTTP_TIMEOUT
        self._static_key = key_from_pem(settings.CLERK_JWT_KEY) if settings.CLERK_JWT_KEY else None
        self._owns_client = http_client is None
        self._client = http_client or httpx.Client(timeout=self._timeout, follow_redirects=False)
        self._clock = clock
        self._jwks = JwksCache(
            self._fetch_jwks,
            ttl=settings.CLERK_JWKS_CACHE_TTL,
            cooldown=settings.CLERK_JWKS_REFETCH_COOLDOWN,
            monotonic=monotonic,
        )

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    # --- session tokens ----------------------------------------------------------------

    def verify_session_token(self, token: str) -> ClerkClaims:
        try:
            return self._verify(token)
        except InvalidClerkToken as exc:
            security_log.warning(
                "auth.token_rejected",
                extra={"event": "auth.token_rejected", "reason": exc.reason, "token_kind": "clerk"},
            )
            raise

    def _verify(self, token: str) -> ClerkClaims:
        if self._issuer is None or (self._static_key is None and self._jwks_url is None):
            raise _unavailable("not_configured")
        if not isinstance(token, str) or not token:
            raise InvalidClerkToken("malformed")
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidClerkToken("too_large")
        if not token.isascii():
            raise InvalidClerkToken("malformed")
        segments = token.split(".")
        if len(segments) != 3 or not all(_SEGMENT.fullmatch(s) for s in segments):
            raise InvalidClerkToken("malformed")

        header = _json_object(_b64url(segments[0]), reason="bad_header")
        if header.get("alg") != ALGORITHM:
            raise InvalidClerkToken("unsupported_alg")
        if "crit" in header:
            # We understand no extension, and RFC 7515 says to refuse what we don't understand.
            raise InvalidClerkToken("bad_header")

        key = self._static_key if self._static_key is not None else self._key_for(header.get("kid"))
        try:
            payload = jws.verify(token, key, algorithms=[ALGORITHM])
        except JOSEError:
            raise InvalidClerkToken("bad_signature") from None
        except (ValueError, TypeError):
            raise InvalidClerkToken("malformed") from None
        return self._check_claims(_json_object(payload, reason="malformed"))

    def _check_claims(self, claims: dict[str, Any]) -> ClerkClaims:
        iss = claims.get("iss")
        if not isinstance(iss, str) or iss != self._issuer:
            raise InvalidClerkToken("bad_issuer")

        now = self._clock()
        exp, iat = _timestamp(claims.get("exp")), _timestamp(claims.get("iat"))
        nbf = _timestamp(claims["nbf"]) if "nbf" in claims else None
        if exp is None or iat is None or ("nbf" in claims and nbf is None):
            raise InvalidClerkToken("malformed")
        if now >= exp + LEEWAY_SECONDS:
            raise InvalidClerkToken("expired")
        if nbf is not None and nbf > now + LEEWAY_SECONDS:
            raise InvalidClerkToken("not_yet_valid")
        if iat > now + LEEWAY_SECONDS:
            raise InvalidClerkToken("issued_in_future")
        if exp - iat > MAX_TOKEN_LIFETIME_SECONDS:
            raise InvalidClerkToken("lifetime_too_long")
        self._check_session_marker(claims)

        azp = claims.get("azp")
        if "azp" in claims and (not isinstance(azp, str) or azp not in self._parties):
            raise InvalidClerkToken("bad_azp")
        sub, sid = claims.get("sub"), claims.get("sid")
        if not isinstance(sub, str) or not sub:
            raise InvalidClerkToken("missing_sub")
        if not isinstance(sid, str) or not sid:
            raise InvalidClerkToken("missing_sid")
        # Clerk marks sessions that still owe a step (e.g. choosing an org) "pending". Anything
        # but "active" is refused, so an unknown future status fails closed.
        if "sts" in claims and claims["sts"] != "active":
            raise InvalidClerkToken("pending_session")

        return ClerkClaims(
            sub=sub,
            sid=sid,
            iss=iss,
            exp=int(exp),
            iat=int(iat),
            azp=azp,
            nbf=None if nbf is None else int(nbf),
            claims=MappingProxyType(claims),
        )

    def _check_session_marker(self, claims: dict[str, Any]) -> None:
        """Only a session token for this API: Clerk's session-token version marker, and no
        audience unless one is configured and named."""
        version = claims.get("v")
        if isinstance(version, bool) or version not in SESSION_TOKEN_VERSIONS:
            raise InvalidClerkToken("not_a_session_token")
        if "aud" not in claims:
            if self._audience is not None:
                raise InvalidClerkToken("bad_audience")
            return
        aud = claims["aud"]
        named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if self._audience is None or self._audience not in named:
            raise InvalidClerkToken("bad_audience")

    # --- signing keys ------------------------------------------------------------------

    def _key_for(self, kid: object) -> Key:
        try:
            return self._jwks.key_for(kid)
        except KeyRefused as exc:
            raise InvalidClerkToken(exc.reason) from None
        except KeysUnavailable:
            raise _unavailable("no_usable_key") from None

    def _fetch_jwks(self) -> dict[str, Any]:
        assert self._jwks_url is not None
        return self._get_json(
            self._jwks_url, with_secret=self._jwks_needs_secret, max_bytes=MAX_JWKS_BYTES
        )

    # --- Backend API -------------------------------------------------------------------

    def fetch_user(self, user_id: str) -> ClerkUserProfile | None:
        """The user's profile from Clerk, or None on any failure (the caller then makes do
        with the token alone)."""
        if self._secret is None or not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
            return None
        try:
            document = self._get_json(
                f"{self._api_url}/users/{user_id}", with_secret=True, max_bytes=MAX_USER_BYTES
            )
        except FetchFailed as exc:
            log.warning(
                "clerk.user_fetch_failed",
                extra={"event": "clerk.user_fetch_failed", "reason": exc.reason},
            )
            return None
        if document.get("id") != user_id:
            log.warning(
                "clerk.user_fetch_failed",
                extra={"event": "clerk.user_fetch_failed", "reason": "id_mismatch"},
            )
            return None
        return _profile_from(document, user_id)

    def _get_json(self, url: str, *, with_secret: bool, max_bytes: int) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if with_secret and self._secret is not None:
            headers["Authorization"] = f"Bearer {self._secret.get_secret_value()}"
        # httpx's timeout bounds each read, not the whole body; the deadline bounds the
        # total, so a server dripping bytes cannot hold a worker thread.
        deadline = time.monotonic() + self._timeout
        try:
            with self._client.stream("GET", url, headers=headers, timeout=self._timeout) as resp:
                if resp.status_code != 200:
                    raise FetchFailed(f"http_{resp.status_code}")
                body = bytearray()
                for chunk in resp.iter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise FetchFailed("too_large")
                    if time.monotonic() > deadline:
                        raise FetchFailed("timeout")
        except httpx.TimeoutException:
            raise FetchFailed("timeout") from None
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            raise FetchFailed(type(exc).__name__) from None
        try:
            document = json.loads(body, parse_constant=_refuse_constant)
        except ValueError:
            raise FetchFailed("invalid_json") from None
        if not isinstance(document, dict):
            raise FetchFailed("invalid_json")
        return document


# --- helpers ------------------------------------------------------------------------------


def _unavailable(reason: str) -> ClerkUnavailable:
    security_log.warning(
        "auth.clerk_unavailable", extra={"event": "auth.clerk_unavailable", "reason": reason}
    )
    return ClerkUnavailable(reason)


def _b64url(segment: str) -> bytes:
    try:
        return b64url_decode(segment)
    except ValueError:
        raise InvalidClerkToken("malformed") from None


def _refuse_constant(name: str) -> Any:
    # json accepts NaN and Infinity by default; an exp of Infinity would never expire.
    raise ValueError(f"non-finite number {name}")


def _json_object(data: bytes, *, reason: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidClerkToken(reason) from None
    if not isinstance(value, dict):
        raise InvalidClerkToken(reason)
    return value


def _timestamp(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _profile_from(document: Mapping[str, Any], user_id: str) -> ClerkUserProfile:
    primary_id = document.get("primary_email_address_id")
    email: str | None = None
    verified = False
    addresses = document.get("email_addresses")
    for address in addresses if isinstance(addresses, list) else []:
        if isinstance(address, dict) and primary_id is not None and address.get("id") == primary_id:
            email = _str_or_none(address.get("email_address"))
            verification = address.get("verification")
            verified = isinstance(verification, dict) and verification.get("status") == "verified"
            break
    updated_at = document.get("updated_at")
    if isinstance(updated_at, bool) or not isinstance(updated_at, int):
        updated_at = None
    return ClerkUserProfile(
        id=user_id,
        email=email,
        email_verified=verified and email is not None,
        first_name=_str_or_none(document.get("first_name")),
        last_name=_str_or_none(document.get("last_name")),
        username=_str_or_none(document.get("username")),
        image_url=_str_or_none(document.get("image_url")),
        updated_at=updated_at,
    )
