"""Internal access tokens: the only module that signs or verifies them.

HS256 with SECRET_KEY. The header's kid is a fingerprint of the signing key, so that
after a planned rotation tokens signed with a key in PREVIOUS_SECRET_KEYS still verify,
and after an emergency rotation (no previous keys) every old token is refused.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from jose import jwt
from jose.exceptions import JOSEError

from app.core.config import TOKEN_AUDIENCE, TOKEN_ISSUER, Settings
from app.core.secret_key import key_fingerprint

logger = logging.getLogger("homechef.security")

ALGORITHM = "HS256"
LEEWAY_SECONDS = 10
MAX_TOKEN_BYTES = 4096
REQUIRED_CLAIMS = ("iss", "aud", "sub", "iat", "nbf", "exp", "jti", "typ", "sid", "ver")
#: Tokens remembered as verified, per key ring (a few hundred bytes each).
VERIFIED_CACHE_SIZE = 8192


class InvalidAccessToken(Exception):
    """Refused internal token; ``reason`` is a stable code for the security log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AccessClaims:
    sub: str
    sid: str
    ver: int
    jti: str
    iat: int
    exp: int
    kid: str


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int
    claims: AccessClaims


class KeyRing:
    """SECRET_KEY plus the previous keys, addressable by fingerprint.

    Built once per settings object: fingerprints are hashes and not free to recompute
    on every request.
    """

    def __init__(self, settings: Settings):
        keys = settings.all_secret_keys()
        if not keys:
            raise RuntimeError("SECRET_KEY is not configured")
        self.current_kid = key_fingerprint(keys[0])
        self.current_key = keys[0]
        self._by_kid = {key_fingerprint(k): k for k in reversed(keys)}
        self.lifetime_seconds = settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60
        # The same token arrives with every request of a session. Its signature and claims
        # cannot change, and the ring's keys are fixed for the ring's life, so a token that
        # verified once verifies again until it expires (checked on every call). Only
        # successes are cached (lru_cache does not keep exceptions); a forged or altered
        # token is a different string and is verified in full.
        self.verified = functools.lru_cache(maxsize=VERIFIED_CACHE_SIZE)(
            functools.partial(_verify_uncached, self))

    def key_for(self, kid: str) -> str | None:
        return self._by_kid.get(kid)


def issue_access_token(
    ring: KeyRing, *, user_id: uuid.UUID | str, sid: str, version: int
) -> IssuedToken:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        "sub": str(user_id),
        "iat": now,
        "nbf": now,
        "exp": now + ring.lifetime_seconds,
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "sid": sid,
        "ver": version,
    }
    token = jwt.encode(claims, ring.current_key, algorithm=ALGORITHM,
                       headers={"kid": ring.current_kid})
    parsed = AccessClaims(
        sub=claims["sub"], sid=sid, ver=version, jti=claims["jti"], iat=now,
        exp=claims["exp"], kid=ring.current_kid,
    )
    return IssuedToken(token=token, expires_in=ring.lifetime_seconds, claims=parsed)


def verify_access_token(ring: KeyRing, token: str) -> AccessClaims:
    """Verify signature and claims; raise InvalidAccessToken with a reason code."""
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidAccessToken("too_large")
    claims = ring.verified(token)
    # What python-jose checks for exp, repeated because the verification may be cached.
    if claims.exp < int(time.time()) - LEEWAY_SECONDS:
        raise InvalidAccessToken("expired")
    return claims


def _verify_uncached(ring: KeyRing, token: str) -> AccessClaims:
    try:
        header = jwt.get_unverified_header(token)
    except (JOSEError, ValueError, TypeError, UnicodeError) as exc:
        raise InvalidAccessToken("malformed") from exc
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
        raise InvalidAccessToken("unsupported_alg")
    kid = header.get("kid")
    key = ring.key_for(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidAccessToken("unknown_kid")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=TOKEN_AUDIENCE,
            issuer=TOKEN_ISSUER,
            options={
                "leeway": LEEWAY_SECONDS,
                "require_iat": True,
                "require_exp": True,
                "require_nbf": True,
                "require_iss": True,
                "require_aud": True,
                "require_sub": True,
                "require_jti": True,
            },
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidAccessToken("expired") from exc
    except jwt.JWTClaimsError as exc:
        raise InvalidAccessToken("bad_claims") from exc
    except (JOSEError, ValueError, TypeError, UnicodeError) as exc:
        raise InvalidAccessToken("bad_signature") from exc
    return _parse_claims(claims, kid)


def _parse_claims(claims: dict[str, Any], kid: str) -> AccessClaims:
    missing = [name for name in REQUIRED_CLAIMS if name not in claims]
    if missing:
        raise InvalidAccessToken("missing_claim")
    if claims["typ"] != "access":
        raise InvalidAccessToken("wrong_type")
    # jose accepts an aud list that merely contains ours; ours is always a single string.
    if claims["aud"] != TOKEN_AUDIENCE or claims["iss"] != TOKEN_ISSUER:
        raise InvalidAccessToken("bad_claims")
    sub, sid, ver, jti = claims["sub"], claims["sid"], claims["ver"], claims["jti"]
    iat, exp = claims["iat"], claims["exp"]
    if not (isinstance(sub, str) and isinstance(sid, str) and sid and isinstance(jti, str)):
        raise InvalidAccessToken("bad_claims")
    if not isinstance(ver, int) or isinstance(ver, bool) or ver < 0:
        raise InvalidAccessToken("bad_claims")
    if not isinstance(iat, int) or iat > time.time() + LEEWAY_SECONDS:
        raise InvalidAccessToken("issued_in_future")
    try:
        uuid.UUID(sub)
    except ValueError as exc:
        raise InvalidAccessToken("bad_claims") from exc
    return AccessClaims(sub=sub, sid=sid, ver=ver, jti=jti, iat=iat, exp=int(exp), kid=kid)
