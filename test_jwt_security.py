"""JWT security checks, runnable two ways.

    python test_jwt_security.py     checks the configured SECRET_KEY (from the environment
                                    or .env) and both verifiers; prints PASS/FAIL per check
                                    and exits 1 if any failed
    pytest                          collects the same checks, against a generated key

Every forged token here is built by hand (hmac, base64), so the checks do not depend on
the library under test to produce the attack.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.auth.clerk import ClerkVerifier, InvalidClerkToken
from app.core.config import TOKEN_AUDIENCE, TOKEN_ISSUER, Settings
from app.core.secret_key import assess_secret_key, generate_secret_key, key_fingerprint
from app.core.tokens import (
    REQUIRED_CLAIMS,
    InvalidAccessToken,
    KeyRing,
    issue_access_token,
    verify_access_token,
)

FASTAPI_TUTORIAL_KEY = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7"
CLERK_ISSUER = "https://clerk.jwt-check.example"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], key: bytes, alg: str = "HS256") -> str:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    if alg == "none":
        return signing_input + "."
    signature = hmac.new(key, signing_input.encode(), digest[alg]).digest()
    return f"{signing_input}.{b64url(signature)}"


@dataclass
class Context:
    ring: KeyRing
    key: str
    clerk: ClerkVerifier
    clerk_public_pem: bytes
    clerk_public_der: bytes
    clerk_public_jwk: bytes

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        values: dict[str, Any] = {
            "iss": TOKEN_ISSUER, "aud": TOKEN_AUDIENCE, "sub": str(uuid.uuid4()),
            "iat": now, "nbf": now, "exp": now + 600, "jti": uuid.uuid4().hex,
            "typ": "access", "sid": "sess_check", "ver": 0,
        }
        values.update(overrides)
        return values

    def header(self, **overrides: Any) -> dict[str, Any]:
        return {"alg": "HS256", "typ": "JWT", "kid": self.ring.current_kid, **overrides}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return forge(self.header(**header), claims, self.key.encode())


def build_context(secret_key: str) -> Context:
    settings = Settings(_env_file=None, SECRET_KEY=secret_key)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key()
    pem = public.public_bytes(serialization.Encoding.PEM,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    der = public.public_bytes(serialization.Encoding.DER,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    numbers = public.public_numbers()
    jwk = json.dumps({
        "kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
        "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": b64url(numbers.e.to_bytes(3, "big")),
    }).encode()
    clerk = ClerkVerifier(Settings(_env_file=None, CLERK_JWT_KEY=pem.decode(),
                                   CLERK_ISSUER=CLERK_ISSUER))
    return Context(KeyRing(settings), secret_key, clerk, pem, der, jwk)


def refused(ctx: Context, token: str) -> bool:
    try:
        verify_access_token(ctx.ring, token)
    except InvalidAccessToken:
        return True
    return False


def clerk_refused(ctx: Context, token: str) -> bool:
    try:
        ctx.clerk.verify_session_token(token)
    except InvalidClerkToken:
        return True
    return False


# --- the checks: each returns True when the defence holds ------------------------------

def check_secret_key_strength(ctx: Context) -> bool:
    return assess_secret_key(ctx.key).ok


def check_round_trip(ctx: Context) -> bool:
    user_id = uuid.uuid4()
    issued = issue_access_token(ctx.ring, user_id=user_id, sid="sess_1", version=3)
    claims = verify_access_token(ctx.ring, issued.token)
    return claims.sub == str(user_id) and claims.sid == "sess_1" and claims.ver == 3


def check_tampered_payload(ctx: Context) -> bool:
    token = issue_access_token(ctx.ring, user_id=uuid.uuid4(), sid="s", version=0).token
    header, _payload, signature = token.split(".")
    evil = b64url(json.dumps(ctx.claims(ver=0, sub=str(uuid.uuid4()))).encode())
    return refused(ctx, f"{header}.{evil}.{signature}")


def check_tampered_signature(ctx: Context) -> bool:
    token = issue_access_token(ctx.ring, user_id=uuid.uuid4(), sid="s", version=0).token
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return refused(ctx, f"{head}.{payload}.{flipped}")


def check_alg_none(ctx: Context) -> bool:
    return all(refused(ctx, forge(ctx.header(alg=alg), ctx.claims(), b"", "none"))
               for alg in ("none", "None", "NONE"))


def check_alg_switched(ctx: Context) -> bool:
    hs512 = forge(ctx.header(alg="HS512"), ctx.claims(), ctx.key.encode(), "HS512")
    rs256 = ctx.sign(ctx.claims(), alg="RS256")
    return refused(ctx, hs512) and refused(ctx, rs256)


def check_expired(ctx: Context) -> bool:
    now = int(time.time())
    return refused(ctx, ctx.sign(ctx.claims(iat=now - 3600, nbf=now - 3600, exp=now - 60)))


def check_nbf_in_future(ctx: Context) -> bool:
    return refused(ctx, ctx.sign(ctx.claims(nbf=int(time.time()) + 300)))


def check_wrong_issuer(ctx: Context) -> bool:
    return refused(ctx, ctx.sign(ctx.claims(iss="https://evil.example")))


def check_wrong_audience(ctx: Context) -> bool:
    return refused(ctx, ctx.sign(ctx.claims(aud="someone-else")))


def check_wrong_key(ctx: Context) -> bool:
    other = generate_secret_key()
    return refused(ctx, forge(ctx.header(), ctx.claims(), other.encode()))


def check_unknown_kid(ctx: Context) -> bool:
    return refused(ctx, ctx.sign(ctx.claims(), kid="not-a-known-kid")) and refused(
        ctx, forge({"alg": "HS256", "typ": "JWT"}, ctx.claims(), ctx.key.encode())
    )


def check_each_required_claim(ctx: Context) -> bool:
    results = []
    for name in REQUIRED_CLAIMS:
        claims = ctx.claims()
        del claims[name]
        results.append(refused(ctx, ctx.sign(claims)))
    return all(results)


def check_fastapi_tutorial_key(ctx: Context) -> bool:
    tutorial = FASTAPI_TUTORIAL_KEY.encode()
    own_kid = forge(ctx.header(), ctx.claims(), tutorial)
    tutorial_kid = forge(ctx.header(kid=key_fingerprint(FASTAPI_TUTORIAL_KEY)), ctx.claims(),
                         tutorial)
    return refused(ctx, own_kid) and refused(ctx, tutorial_kid)


def check_clerk_public_key_as_hmac_secret(ctx: Context) -> bool:
    now = int(time.time())
    claims = {"iss": CLERK_ISSUER, "sub": "user_x", "sid": "sess_x",
              "iat": now, "nbf": now, "exp": now + 60}
    forged = [
        forge({"alg": alg, "typ": "JWT", "kid": "k1"}, claims, secret, alg)
        for secret in (ctx.clerk_public_pem, ctx.clerk_public_der, ctx.clerk_public_jwk)
        for alg in ("HS256", "HS512")
    ]
    return all(clerk_refused(ctx, token) for token in forged)


def check_internal_token_refused_by_clerk_verifier(ctx: Context) -> bool:
    token = issue_access_token(ctx.ring, user_id=uuid.uuid4(), sid="s", version=0).token
    return clerk_refused(ctx, token)


CHECKS: dict[str, Callable[[Context], bool]] = {
    name.removeprefix("check_"): fn
    for name, fn in sorted(globals().items())
    if name.startswith("check_") and callable(fn)
}


# --- pytest face ------------------------------------------------------------------------

try:
    import pytest
except ImportError:  # pragma: no cover - the script runs without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="module")
    def jwt_context() -> Context:
        return build_context(generate_secret_key())

    @pytest.mark.parametrize("name", list(CHECKS))
    def test_jwt_security(jwt_context: Context, name: str) -> None:
        assert CHECKS[name](jwt_context), f"JWT security check failed: {name}"


# --- command-line face ------------------------------------------------------------------

def main() -> int:
    import logging

    logging.disable(logging.WARNING)  # refusals are expected here; keep the report clean
    settings = Settings()
    if settings.SECRET_KEY is None:
        print("FAIL  secret key: SECRET_KEY is not set "
              "(python generate_secret_key.py --env-file .env)")
        return 1
    ctx = build_context(settings.SECRET_KEY.get_secret_value())
    failures = 0
    for name, check in CHECKS.items():
        try:
            ok = check(ctx)
        except Exception as exc:  # a crash is a failure, reported by type only
            ok = False
            name = f"{name} (raised {type(exc).__name__})"
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {name.replace('_', ' ')}")
    print(f"\n{len(CHECKS) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
