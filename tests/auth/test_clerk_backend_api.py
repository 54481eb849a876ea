"""ClerkVerifier.fetch_user against the fake Clerk Backend API."""

from __future__ import annotations

from typing import Any

import pytest

from app.auth.clerk import (
    ClerkVerifier,
)
from tests.auth.clerk_support import (
    make_settings,
)
from tests.fakes.clerk import (
    FakeClerk,
)

# --- Backend API users --------------------------------------------------------------------------


@pytest.fixture
def api_verifier(clerk: FakeClerk, make_verifier: Any) -> ClerkVerifier:
    return make_verifier(
        make_settings(
            CLERK_SECRET_KEY=clerk.secret_key,
            CLERK_API_URL=clerk.api_url,
            CLERK_ISSUER=clerk.issuer,
            CLERK_HTTP_TIMEOUT=0.3,
        )
    )


def test_fetch_user_picks_the_primary_email(clerk: FakeClerk, api_verifier: ClerkVerifier) -> None:
    user = clerk.register_user(
        emails=["old@example.com", "primary@example.com", "other@example.com"],
        primary_index=1,
        first_name="Julia",
        last_name="Child",
        username="julia",
        updated_at=1_700_000_000_123,
    )

    profile = api_verifier.fetch_user(user["id"])

    assert profile is not None
    assert profile.id == user["id"]
    assert profile.email == "primary@example.com"
    assert profile.email_verified is True
    assert (profile.first_name, profile.last_name, profile.username) == ("Julia", "Child", "julia")
    assert profile.image_url == user["image_url"]
    assert profile.updated_at == 1_700_000_000_123
    assert clerk.requests[-1].authorization == f"Bearer {clerk.secret_key}"
    assert "primary@example.com" not in repr(profile)


def test_fetch_user_without_primary_email(clerk: FakeClerk, api_verifier: ClerkVerifier) -> None:
    user = clerk.register_user(emails=[], first_name=None, image_url=None)
    profile = api_verifier.fetch_user(user["id"])
    assert profile is not None
    assert (profile.email, profile.email_verified, profile.first_name) == (None, False, None)


def test_fetch_user_unverified_primary_email(clerk: FakeClerk, api_verifier: ClerkVerifier) -> None:
    user = clerk.register_user(emails=["new@example.com"])
    user["email_addresses"][0]["verification"]["status"] = "unverified"
    profile = api_verifier.fetch_user(user["id"])
    assert profile is not None and profile.email == "new@example.com"
    assert profile.email_verified is False


def test_fetch_user_returns_none_when_clerk_fails(
    clerk: FakeClerk, api_verifier: ClerkVerifier
) -> None:
    user = clerk.register_user()
    clerk.users_status = 500
    assert api_verifier.fetch_user(user["id"]) is None


def test_fetch_user_returns_none_on_timeout(clerk: FakeClerk, api_verifier: ClerkVerifier) -> None:
    user = clerk.register_user()
    clerk.latency = 5
    assert api_verifier.fetch_user(user["id"]) is None


def test_fetch_user_returns_none_when_clerk_is_gone(
    clerk: FakeClerk, api_verifier: ClerkVerifier
) -> None:
    user = clerk.register_user()
    clerk.stop()
    assert api_verifier.fetch_user(user["id"]) is None


def test_fetch_user_returns_none_for_unknown_user(
    clerk: FakeClerk, api_verifier: ClerkVerifier
) -> None:
    assert api_verifier.fetch_user("user_doesnotexist") is None


def test_fetch_user_returns_none_for_a_mismatched_id(
    clerk: FakeClerk, api_verifier: ClerkVerifier
) -> None:
    user = clerk.register_user()
    clerk.users["user_alias"] = user
    assert api_verifier.fetch_user("user_alias") is None


@pytest.mark.parametrize("user_id", ["../jwks", "user_1/../../jwks", "", "sess_123", "user_é", 42])
def test_fetch_user_refuses_odd_ids_without_calling_clerk(
    clerk: FakeClerk, api_verifier: ClerkVerifier, user_id: Any
) -> None:
    assert api_verifier.fetch_user(user_id) is None
    assert clerk.requests == []


def test_fetch_user_needs_the_secret_key(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    user = clerk.register_user()
    assert verifier.fetch_user(user["id"]) is None
    assert clerk.requests == []
