"""Key rotation on both sides: Clerk's signing keys (JWKS) and our own SECRET_KEY."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.secret_key import generate_secret_key, key_fingerprint
from tests.auth.conftest import Clock
from tests.auth.support import (
    access_token,
    assert_problem,
    assert_unauthorized,
    exchange,
    exchange_ok,
    jwt_header,
    whoami,
)
from tests.factories import make_user
from tests.fakes.clerk import FakeClerk

# --- Clerk rotates its signing key -------------------------------------------------------


def _cooldown(settings: Settings) -> float:
    return settings.CLERK_JWKS_REFETCH_COOLDOWN


def test_new_clerk_kid_is_accepted_after_one_refetch(
    clocked_client: TestClient, fake_clerk: FakeClerk, clerk_settings: Settings, clerk_clock: Clock
) -> None:
    old_token = fake_clerk.mint_session_token()
    exchange_ok(clocked_client, old_token)
    assert fake_clerk.jwks_fetches == 1
    clerk_clock.advance(_cooldown(clerk_settings))

    fake_clerk.rotate_key()
    exchange_ok(clocked_client, fake_clerk.mint_session_token())
    exchange_ok(clocked_client, fake_clerk.mint_session_token())
    exchange_ok(clocked_client, old_token)  # the old key is still published

    assert fake_clerk.jwks_fetches == 2


def test_exchange_keeps_working_from_cached_keys_while_the_jwks_is_down(
    clocked_client: TestClient, fake_clerk: FakeClerk, clerk_settings: Settings, clerk_clock: Clock
) -> None:
    exchange_ok(clocked_client, fake_clerk.mint_session_token())
    fake_clerk.go_down()
    # Past the cache TTL: the verifier tries to refresh, fails, and keeps the keys it has.
    clerk_clock.advance(clerk_settings.CLERK_JWKS_CACHE_TTL + _cooldown(clerk_settings))

    body = exchange_ok(clocked_client, fake_clerk.mint_session_token())

    assert whoami(clocked_client, body["access_token"]).status_code == 200
    assert fake_clerk.jwks_fetches == 2  # the refresh was attempted


def test_exchange_keeps_working_from_cached_keys_while_clerk_is_unreachable(
    clocked_client: TestClient, fake_clerk: FakeClerk, clerk_settings: Settings, clerk_clock: Clock
) -> None:
    exchange_ok(clocked_client, fake_clerk.mint_session_token())
    token = fake_clerk.mint_session_token()
    fake_clerk.stop()  # the port is closed: connection refused
    clerk_clock.advance(clerk_settings.CLERK_JWKS_CACHE_TTL + _cooldown(clerk_settings))

    exchange_ok(clocked_client, token)


def test_jwks_down_with_nothing_cached_is_a_503_problem(
    auth_client: TestClient, fake_clerk: FakeClerk
) -> None:
    fake_clerk.go_down()

    response = exchange(auth_client, fake_clerk.mint_session_token())

    body = assert_problem(response, 503)
    assert body["type"].endswith("auth-provider-unavailable")
    assert response.headers["retry-after"].isdigit()
    assert "www-authenticate" not in response.headers


def test_clerk_unreachable_with_nothing_cached_is_a_503_problem(
    auth_client: TestClient, fake_clerk: FakeClerk
) -> None:
    token = fake_clerk.mint_session_token()
    fake_clerk.stop()

    assert_problem(exchange(auth_client, token), 503)


def test_random_kids_cause_at_most_one_jwks_fetch_per_cooldown(
    clocked_client: TestClient, fake_clerk: FakeClerk, clerk_settings: Settings, clerk_clock: Clock
) -> None:
    attacker = fake_clerk.unpublished_key()

    def storm() -> None:
        for _ in range(100):
            forged = fake_clerk.mint_session_token(
                key=attacker, headers={"kid": f"ins_{secrets.token_hex(12)}"}
            )
            assert_unauthorized(exchange(clocked_client, forged))

    storm()  # nothing cached yet: the first unknown kid fetches, the other 99 may not
    assert fake_clerk.jwks_fetches == 1
    clerk_clock.advance(_cooldown(clerk_settings) / 2)
    storm()
    assert fake_clerk.jwks_fetches == 1
    clerk_clock.advance(_cooldown(clerk_settings))
    storm()
    assert fake_clerk.jwks_fetches == 2
    # The genuine key still works throughout.
    exchange_ok(clocked_client, fake_clerk.mint_session_token())


# --- we rotate SECRET_KEY ------------------------------------------------------------------


def test_planned_rotation_keeps_old_tokens_working_and_signs_with_the_new_key(
    make_auth_client: Callable[..., TestClient],
    make_settings: Callable[..., Settings],
    clerk_settings: Settings,
    fake_clerk: FakeClerk,
    db: Session,
) -> None:
    old_key, new_key = generate_secret_key(), generate_secret_key()
    clerk = clerk_settings.model_dump()
    before = make_auth_client(make_settings(**{**clerk, "SECRET_KEY": old_key}))
    user = make_user(db)
    old_token = access_token(before, user)
    assert jwt_header(old_token)["kid"] == key_fingerprint(old_key)

    after = make_auth_client(
        make_settings(**{**clerk, "SECRET_KEY": new_key, "PREVIOUS_SECRET_KEYS": [old_key]})
    )

    assert whoami(after, old_token).status_code == 200
    fake_clerk.register_user("user_rotated")
    new_token = exchange_ok(after, fake_clerk.mint_session_token(sub="user_rotated"))[
        "access_token"
    ]
    assert jwt_header(new_token)["kid"] == key_fingerprint(new_key)
    assert whoami(after, new_token).status_code == 200
    # Not yet rotated instances do not know the new key: roll them all before retiring.
    assert_unauthorized(whoami(before, new_token))


def test_emergency_rotation_refuses_every_old_token(
    make_auth_client: Callable[..., TestClient], make_settings: Callable[..., Settings], db: Session
) -> None:
    old_key, new_key = generate_secret_key(), generate_secret_key()
    before = make_auth_client(make_settings(SECRET_KEY=old_key))
    users = [make_user(db) for _ in range(3)]
    old_tokens = [access_token(before, user) for user in users]
    assert all(whoami(before, token).status_code == 200 for token in old_tokens)

    after = make_auth_client(make_settings(SECRET_KEY=new_key))

    for token in old_tokens:
        assert_unauthorized(whoami(after, token))
    assert whoami(after, access_token(after, users[0])).status_code == 200


def test_retired_previous_key_stops_working(
    make_auth_client: Callable[..., TestClient], make_settings: Callable[..., Settings], db: Session
) -> None:
    oldest, old, current = (generate_secret_key() for _ in range(3))
    user = make_user(db)
    first = make_auth_client(make_settings(SECRET_KEY=oldest))
    token = access_token(first, user)

    rotated_twice = make_auth_client(make_settings(SECRET_KEY=current, PREVIOUS_SECRET_KEYS=[old]))

    assert_unauthorized(whoami(rotated_twice, token))
