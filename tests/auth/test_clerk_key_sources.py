"""Where ClerkVerifier gets its keys: the Backend API JWKS, an explicit JWKS URL or the
PEM in CLERK_JWT_KEY."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from app.auth.clerk import (
    ClerkUnavailable,
    ClerkVerifier,
)
from app.core.config import Settings
from tests.auth.clerk_support import (
    NOW,
    assert_not_logged,
    header_for,
    make_settings,
    mint,
    rejection,
)
from tests.fakes.clerk import (
    FakeClerk,
    sign_jwt,
)

# --- where the keys come from --------------------------------------------------------------------


def test_backend_api_jwks_sends_the_secret_key(clerk: FakeClerk, make_verifier: Any) -> None:
    assert clerk.secret_key is not None
    verifier = make_verifier(
        make_settings(
            CLERK_SECRET_KEY=clerk.secret_key,
            CLERK_API_URL=clerk.api_url,
            CLERK_ISSUER=clerk.issuer,
        )
    )

    verifier.verify_session_token(mint(clerk))

    (request,) = clerk.requests
    assert request.path == "/v1/jwks"
    assert request.authorization == f"Bearer {clerk.secret_key}"


def test_backend_api_jwks_refuses_a_wrong_secret(
    clerk: FakeClerk, make_verifier: Any, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "sk_test_wrong_0000000000000000"
    verifier = make_verifier(
        make_settings(
            CLERK_SECRET_KEY=wrong, CLERK_API_URL=clerk.api_url, CLERK_ISSUER=clerk.issuer
        )
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(ClerkUnavailable):
        verifier.verify_session_token(mint(clerk))
    assert any(getattr(r, "event", None) == "auth.clerk_unavailable" for r in caplog.records)
    assert_not_logged(caplog, [wrong])


def test_explicit_jwks_url_never_receives_the_secret(clerk: FakeClerk, make_verifier: Any) -> None:
    verifier = make_verifier(
        make_settings(
            CLERK_SECRET_KEY=clerk.secret_key,
            CLERK_JWKS_URL=clerk.jwks_url,
            CLERK_API_URL=clerk.api_url,
            CLERK_ISSUER=clerk.issuer,
        )
    )
    verifier.verify_session_token(mint(clerk))
    assert [(r.path, r.authorization) for r in clerk.requests] == [("/.well-known/jwks.json", None)]


def refuse_all_requests(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no network expected, got {request.url}")


@pytest.fixture
def offline_clerk() -> FakeClerk:
    return FakeClerk(issuer="https://clerk.homechef.test")  # never started


def pem_settings(pem: str, **overrides: Any) -> Settings:
    return make_settings(CLERK_JWT_KEY=pem, CLERK_ISSUER="https://clerk.homechef.test", **overrides)


def test_jwt_key_pem_verifies_without_any_network(
    offline_clerk: FakeClerk, make_verifier: Any
) -> None:
    pem = offline_clerk.current_key.public_pem().decode()
    client = httpx.Client(transport=httpx.MockTransport(refuse_all_requests))
    verifier = make_verifier(pem_settings(pem), http_client=client)

    claims = verifier.verify_session_token(mint(offline_clerk, sub="user_pem"))

    assert claims.sub == "user_pem"
    foreign = offline_clerk.unpublished_key()
    assert rejection(verifier, mint(offline_clerk, key=foreign)) == "bad_signature"
    hmac_forgery = sign_jwt(
        header_for(offline_clerk, "HS256"), offline_clerk.session_claims(now=NOW), pem.encode()
    )
    assert rejection(verifier, hmac_forgery) == "unsupported_alg"
    client.close()


def test_jwt_key_pem_on_one_line_with_escaped_newlines(
    offline_clerk: FakeClerk, make_verifier: Any
) -> None:
    pem = offline_clerk.current_key.public_pem().decode().strip().replace("\n", "\\n")
    verifier = make_verifier(pem_settings(pem))
    verifier.verify_session_token(mint(offline_clerk))


def test_jwt_key_pem_wins_over_a_jwks_url(offline_clerk: FakeClerk, make_verifier: Any) -> None:
    pem = offline_clerk.current_key.public_pem().decode()
    client = httpx.Client(transport=httpx.MockTransport(refuse_all_requests))
    settings = pem_settings(pem, CLERK_JWKS_URL="http://127.0.0.1:9/never")
    verifier = make_verifier(settings, http_client=client)
    verifier.verify_session_token(mint(offline_clerk))
    client.close()


def test_jwt_key_must_be_a_public_rsa_key(offline_clerk: FakeClerk) -> None:
    private_pem = offline_clerk.current_key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    for bad in (
        private_pem,
        "not a pem",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
    ):
        with pytest.raises(ValueError) as caught:
            ClerkVerifier(pem_settings(bad))
        assert "PRIVATE" not in str(caught.value) and "AAAA" not in str(caught.value)


def test_unconfigured_clerk_is_unavailable(clerk: FakeClerk, make_verifier: Any) -> None:
    verifier = make_verifier(make_settings(CLERK_JWKS_URL=clerk.jwks_url))  # no issuer
    with pytest.raises(ClerkUnavailable):
        verifier.verify_session_token(mint(clerk))
