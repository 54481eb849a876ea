"""ClerkVerifier's claim checks, the HTTP status of its errors, and what its refusals log."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from app.auth.clerk import (
    LEEWAY_SECONDS,
    ClerkUnavailable,
    ClerkVerifier,
    InvalidClerkToken,
)
from tests.auth.clerk_support import (
    MALFORMED,
    NOW,
    assert_not_logged,
    header_for,
    make_settings,
    mint,
    rejection,
)
from tests.fakes.clerk import (
    REMOVE,
    FakeClerk,
    sign_jwt,
)

# --- claims ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iss": "https://evil.example"}, "bad_issuer"),
        ({"iss": REMOVE}, "bad_issuer"),
        ({"azp": "https://evil.example"}, "bad_azp"),
        ({"azp": None}, "bad_azp"),
        ({"sid": REMOVE}, "missing_sid"),
        ({"sid": ""}, "missing_sid"),
        ({"sid": 42}, "missing_sid"),
        ({"sub": REMOVE}, "missing_sub"),
        ({"sub": ""}, "missing_sub"),
        ({"sts": "pending"}, "pending_session"),
        ({"sts": "something-new"}, "pending_session"),
        ({"exp": NOW - LEEWAY_SECONDS - 1}, "expired"),
        ({"exp": NOW - 3600}, "expired"),
        ({"nbf": NOW + 60}, "not_yet_valid"),
        ({"iat": NOW + 60, "nbf": NOW}, "issued_in_future"),
        ({"exp": REMOVE}, "malformed"),
        ({"iat": REMOVE}, "malformed"),
        ({"exp": "tomorrow"}, "malformed"),
        ({"exp": True}, "malformed"),
        ({"nbf": None}, "malformed"),
    ],
    ids=lambda value: json.dumps(value, default=repr) if isinstance(value, dict) else value,
)
def test_bad_claims_are_refused(
    clerk: FakeClerk, verifier: ClerkVerifier, claims: dict[str, Any], reason: str
) -> None:
    assert rejection(verifier, mint(clerk, **claims)) == reason


def test_issuer_with_trailing_slash_is_refused(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    assert rejection(verifier, mint(clerk, iss=clerk.issuer + "/")) == "bad_issuer"


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": NOW - LEEWAY_SECONDS + 1},
        {"nbf": NOW + LEEWAY_SECONDS - 1},
        {"iat": NOW + LEEWAY_SECONDS - 1, "nbf": NOW},
        {"azp": REMOVE},
        {"nbf": REMOVE},
        {"sts": "active"},
    ],
    ids=lambda value: json.dumps(value, default=repr),
)
def test_tolerated_claims_are_accepted(
    clerk: FakeClerk, verifier: ClerkVerifier, claims: dict[str, Any]
) -> None:
    verifier.verify_session_token(mint(clerk, **claims))


def test_authorized_parties_setting_overrides_allowed_origins(
    clerk: FakeClerk, make_verifier: Any
) -> None:
    verifier = make_verifier(
        make_settings(
            CLERK_JWKS_URL=clerk.jwks_url,
            CLERK_ISSUER=clerk.issuer,
            CLERK_AUTHORIZED_PARTIES=["https://app.homechef.example"],
        )
    )
    assert rejection(verifier, mint(clerk)) == "bad_azp"
    verifier.verify_session_token(mint(clerk, azp="https://app.homechef.example"))


# --- errors and logs -----------------------------------------------------------------------------


def test_errors_carry_their_http_status() -> None:
    invalid = InvalidClerkToken("bad_azp")
    assert invalid.status_code == 401
    assert invalid.headers["WWW-Authenticate"] == "Bearer"
    # The client gets one generic reason whatever the cause.
    assert invalid.detail == InvalidClerkToken("bad_signature").detail
    assert "azp" not in invalid.detail
    assert ClerkUnavailable().status_code == 503


def test_refusals_are_logged_without_token_content(
    clerk: FakeClerk, verifier: ClerkVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    evil = clerk.unpublished_key()
    tokens = {
        "bad_signature": mint(clerk, key=evil, headers={"kid": clerk.current_key.kid}),
        "expired": mint(clerk, exp=NOW - 60),
        "bad_issuer": mint(clerk, iss="https://evil.example"),
        "unsupported_alg": sign_jwt(
            header_for(clerk, "HS256"),
            clerk.session_claims(now=NOW),
            clerk.current_key.public_pem(),
        ),
        "bad_header": MALFORMED["header-array"][0],
    }
    with caplog.at_level(logging.DEBUG):
        for reason, token in tokens.items():
            assert rejection(verifier, token) == reason

    events = [r for r in caplog.records if getattr(r, "event", None) == "auth.token_rejected"]
    assert [r.reason for r in events] == list(tokens)  # type: ignore[attr-defined]
    assert {r.name for r in events} == {"homechef.security"}
    assert {r.token_kind for r in events} == {"clerk"}  # type: ignore[attr-defined]
    assert all(r.levelno == logging.WARNING for r in events)
    needles = [part for token in tokens.values() for part in token.split(".") if len(part) > 8]
    assert_not_logged(caplog, needles)
