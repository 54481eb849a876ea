"""ClerkVerifier against algorithm confusion, foreign keys and unusable JWKS entries."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.auth.clerk import (
    ClerkVerifier,
)
from tests.auth.clerk_support import (
    NOW,
    header_for,
    mint,
    rejection,
)
from tests.fakes.clerk import (
    FakeClerk,
    b64url,
    sign_jwt,
)

# --- algorithm confusion and foreign keys ----------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
def test_alg_none_is_refused(clerk: FakeClerk, verifier: ClerkVerifier, alg: str) -> None:
    token = sign_jwt(header_for(clerk, alg), clerk.session_claims(now=NOW), None, alg="none")
    # The empty signature fails the shape check; with any signature the alg is refused.
    assert rejection(verifier, token) == "malformed"
    assert rejection(verifier, token + "AAAA") == "unsupported_alg"


def public_key_forms(clerk: FakeClerk) -> dict[str, bytes]:
    key = clerk.current_key
    return {
        "pem": key.public_pem(),
        "der": key.public_der(),
        "jwk": json.dumps(key.public_jwk()).encode(),
        "jwks": json.dumps({"keys": [key.public_jwk()]}).encode(),
    }


@pytest.mark.parametrize("form", ["pem", "der", "jwk", "jwks"])
@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_public_key_as_hmac_secret_is_refused(
    clerk: FakeClerk, verifier: ClerkVerifier, form: str, alg: str
) -> None:
    secret = public_key_forms(clerk)[form]
    claims = clerk.session_claims(now=NOW)

    assert (
        rejection(verifier, sign_jwt(header_for(clerk, alg), claims, secret)) == "unsupported_alg"
    )
    # Claiming RS256 while HMAC-signing cannot pass either.
    forged = sign_jwt(header_for(clerk, "RS256"), claims, secret, alg=alg)
    assert rejection(verifier, forged) == "bad_signature"


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256", "PS512"])
def test_other_rsa_algorithms_are_refused(
    clerk: FakeClerk, verifier: ClerkVerifier, alg: str
) -> None:
    token = sign_jwt(
        header_for(clerk, alg), clerk.session_claims(now=NOW), clerk.current_key.private_key
    )
    assert rejection(verifier, token) == "unsupported_alg"


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "rs256", 256, None])
def test_unknown_algorithms_are_refused(
    clerk: FakeClerk, verifier: ClerkVerifier, alg: Any
) -> None:
    token = sign_jwt(
        {**header_for(clerk, "RS256"), "alg": alg},
        clerk.session_claims(now=NOW),
        clerk.current_key.private_key,
        alg="RS256",
    )
    assert rejection(verifier, token) == "unsupported_alg"


@pytest.fixture
def attacker() -> Iterator[FakeClerk]:
    with FakeClerk() as fake:
        yield fake


@pytest.mark.parametrize("use_legit_kid", [True, False])
def test_key_material_in_the_token_header_is_ignored(
    clerk: FakeClerk, attacker: FakeClerk, verifier: ClerkVerifier, use_legit_kid: bool
) -> None:
    evil = clerk.unpublished_key()
    attacker.set_jwks_document({"keys": [evil.public_jwk()]})
    pem = base64.b64encode(evil.public_der()).decode()
    headers = {
        "kid": clerk.current_key.kid if use_legit_kid else evil.kid,
        "jku": attacker.jwks_url,
        "x5u": attacker.jwks_url,
        "jwk": evil.public_jwk(),
        "x5c": [pem],
    }
    token = mint(clerk, key=evil, headers=headers, iss=attacker.issuer)
    assert rejection(verifier, token) in {"bad_signature", "unknown_kid"}
    token = mint(clerk, key=evil, headers=headers)

    reason = rejection(verifier, token)

    assert reason == ("bad_signature" if use_legit_kid else "unknown_kid")
    assert attacker.requests == []


def test_tampered_payload_is_refused(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    header, _, signature = mint(clerk).split(".")
    forged_claims = b64url(json.dumps(clerk.session_claims(now=NOW, sub="user_admin")).encode())
    assert rejection(verifier, f"{header}.{forged_claims}.{signature}") == "bad_signature"


@pytest.mark.parametrize(
    "entry",
    [
        {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
        {"use": "enc"},
        {"alg": "RS512"},
        {"n": "not-a-number!"},
        {"n": 12345},
    ],
    ids=["ec", "use-enc", "alg-rs512", "bad-n", "int-n"],
)
def test_unusable_jwk_is_bad_key(
    clerk: FakeClerk, verifier: ClerkVerifier, entry: dict[str, Any]
) -> None:
    clerk.set_jwks_document({"keys": [{**clerk.current_key.public_jwk(), **entry}]})
    assert rejection(verifier, mint(clerk)) == "bad_key"


def test_short_rsa_key_is_bad_key(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    numbers = weak.public_key().public_numbers()
    jwk = {
        "kty": "RSA",
        "kid": "ins_weak",
        "n": b64url(numbers.n.to_bytes(128, "big")),
        "e": b64url(numbers.e.to_bytes(3, "big")),
    }
    clerk.set_jwks_document({"keys": [jwk]})
    token = sign_jwt(
        header_for(clerk, "RS256", kid="ins_weak"), clerk.session_claims(now=NOW), weak
    )
    assert rejection(verifier, token) == "bad_key"


def test_duplicate_kid_is_bad_key(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    other = clerk.unpublished_key()
    twin = {**other.public_jwk(), "kid": clerk.current_key.kid}
    clerk.set_jwks_document({"keys": [clerk.current_key.public_jwk(), twin]})
    assert rejection(verifier, mint(clerk)) == "bad_key"


def test_private_members_in_the_jwks_are_not_used(
    clerk: FakeClerk, verifier: ClerkVerifier
) -> None:
    numbers = clerk.current_key.private_key.private_numbers()
    leaked = {**clerk.current_key.public_jwk(), "d": b64url(numbers.d.to_bytes(256, "big"))}
    clerk.set_jwks_document({"keys": [leaked]})
    verifier.verify_session_token(mint(clerk))
