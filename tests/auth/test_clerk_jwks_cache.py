"""ClerkVerifier's JWKS cache against a loopback fake Clerk: caching, rotation, TTL,
refetch cooldown, Clerk unreachable and fetch storms."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from app.auth.clerk import (
    ClerkUnavailable,
    ClerkVerifier,
)
from tests.auth.clerk_support import (
    COOLDOWN,
    NOW,
    TTL,
    make_settings,
    mint,
    rejection,
)
from tests.auth.conftest import Clock
from tests.fakes.clerk import (
    DEFAULT_AUTHORIZED_PARTY,
    FakeClerk,
)

# --- the happy path and key rotation ---------------------------------------------------------


def test_valid_token_is_accepted(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    token = mint(clerk, sub="user_abc", sid="sess_xyz")

    claims = verifier.verify_session_token(token)

    assert (claims.sub, claims.sid, claims.azp, claims.iss) == (
        "user_abc",
        "sess_xyz",
        DEFAULT_AUTHORIZED_PARTY,
        clerk.issuer,
    )
    assert claims.exp == int(NOW) + 60 and claims.iat == int(NOW)
    assert claims.claims["v"] == 2
    assert clerk.jwks_fetches == 1


def test_verifier_with_its_own_http_client(clerk: FakeClerk) -> None:
    settings = make_settings(CLERK_JWKS_URL=clerk.jwks_url, CLERK_ISSUER=clerk.issuer)
    verifier = ClerkVerifier(settings)
    try:
        verifier.verify_session_token(clerk.mint_session_token())  # real clocks
    finally:
        verifier.close()


def test_keys_are_cached_between_tokens(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    for _ in range(5):
        verifier.verify_session_token(mint(clerk))
    assert clerk.jwks_fetches == 1


def test_rotated_key_is_accepted_after_exactly_one_refetch(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    old_token = mint(clerk)
    verifier.verify_session_token(old_token)
    monotonic.advance(COOLDOWN)

    clerk.rotate_key()
    verifier.verify_session_token(mint(clerk))
    verifier.verify_session_token(mint(clerk))
    verifier.verify_session_token(old_token)

    assert clerk.jwks_fetches == 2


def test_new_kid_within_the_cooldown_is_refused_without_fetching(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    verifier.verify_session_token(mint(clerk))
    clerk.rotate_key()

    assert rejection(verifier, mint(clerk)) == "unknown_kid"
    assert clerk.jwks_fetches == 1

    monotonic.advance(COOLDOWN)
    verifier.verify_session_token(mint(clerk))
    assert clerk.jwks_fetches == 2


def test_expired_cache_is_refreshed_after_the_ttl(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    verifier.verify_session_token(mint(clerk))
    monotonic.advance(TTL)
    verifier.verify_session_token(mint(clerk))
    assert clerk.jwks_fetches == 2


def test_removed_key_stops_working_once_the_cache_expires(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    old = clerk.current_key
    verifier.verify_session_token(mint(clerk))
    clerk.rotate_key()
    clerk.remove_key(old.kid)
    monotonic.advance(TTL)

    assert rejection(verifier, mint(clerk, key=old)) == "unknown_kid"
    verifier.verify_session_token(mint(clerk))


# --- Clerk unreachable ---------------------------------------------------------------------


def test_jwks_down_with_cached_keys_still_verifies(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    verifier.verify_session_token(mint(clerk))
    clerk.go_down()
    monotonic.advance(TTL + 1)

    verifier.verify_session_token(mint(clerk))

    assert clerk.jwks_fetches == 2  # it did try, and kept the stale keys


def test_jwks_stopped_with_cached_keys_still_verifies(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    token = mint(clerk)
    verifier.verify_session_token(token)
    clerk.stop()
    monotonic.advance(TTL + 1)

    verifier.verify_session_token(token)


def test_jwks_down_without_cache_is_unavailable(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    clerk.go_down()
    with pytest.raises(ClerkUnavailable) as caught:
        verifier.verify_session_token(mint(clerk))
    assert caught.value.status_code == 503


def test_jwks_unreachable_without_cache_is_unavailable(
    clerk: FakeClerk, verifier: ClerkVerifier
) -> None:
    token = mint(clerk)
    clerk.stop()
    with pytest.raises(ClerkUnavailable):
        verifier.verify_session_token(token)


@pytest.mark.parametrize("document", ["not a key set", [], {"keys": "none"}, {"no": "keys"}])
def test_garbage_jwks_without_cache_is_unavailable(
    clerk: FakeClerk, verifier: ClerkVerifier, document: Any
) -> None:
    clerk.set_jwks_document(document)
    with pytest.raises(ClerkUnavailable):
        verifier.verify_session_token(mint(clerk))


def test_rotation_while_clerk_is_down_is_unavailable_not_unauthorized(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    # A real user with a brand-new key must be told to retry, not to sign in again.
    verifier.verify_session_token(mint(clerk))
    clerk.rotate_key()
    clerk.go_down()
    monotonic.advance(COOLDOWN)
    with pytest.raises(ClerkUnavailable):
        verifier.verify_session_token(mint(clerk))


def test_slow_jwks_times_out_as_unavailable(clerk: FakeClerk, make_verifier: Any) -> None:
    verifier = make_verifier(
        make_settings(
            CLERK_JWKS_URL=clerk.jwks_url, CLERK_ISSUER=clerk.issuer, CLERK_HTTP_TIMEOUT=0.2
        )
    )
    clerk.latency = 5
    with pytest.raises(ClerkUnavailable):
        verifier.verify_session_token(mint(clerk))


def test_clerk_down_is_not_hammered(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    clerk.go_down()
    for _ in range(20):
        with pytest.raises(ClerkUnavailable):
            verifier.verify_session_token(mint(clerk))
    assert clerk.jwks_fetches == 1


# --- fetch storms --------------------------------------------------------------------------


def random_kid_tokens(clerk: FakeClerk, count: int) -> list[str]:
    return [mint(clerk, headers={"kid": f"ins_{secrets.token_hex(8)}"}) for _ in range(count)]


def test_hundred_random_kids_cause_at_most_one_refetch(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    verifier.verify_session_token(mint(clerk))
    monotonic.advance(COOLDOWN)
    tokens = random_kid_tokens(clerk, 100)

    with ThreadPoolExecutor(max_workers=10) as pool:
        reasons = list(pool.map(lambda t: rejection(verifier, t), tokens))

    assert set(reasons) == {"unknown_kid"}
    assert clerk.jwks_fetches == 2
    verifier.verify_session_token(mint(clerk))
    assert clerk.jwks_fetches == 2


def test_concurrent_first_use_fetches_once(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    tokens = [mint(clerk) for _ in range(30)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(verifier.verify_session_token, tokens))
    assert len(results) == 30
    assert clerk.jwks_fetches == 1
