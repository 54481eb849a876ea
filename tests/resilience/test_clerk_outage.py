"""Clerk goes away: people already signed in keep cooking.

Internal access tokens are verified with our own keys, so every protected route keeps
working however Clerk fails (answering 500, or not listening at all). The token exchange
keeps working for keys already cached, and a key it has never seen is a 503 (retry), not
a 401 (which would send a signed-in user back to the sign-in screen) and never a 500.

The Clerk verifier runs on a hand-moved clock, so cache TTLs and refetch cooldowns pass
without sleeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from app.auth.clerk import ClerkVerifier
from app.core.config import Settings
from tests.auth.conftest import Clock
from tests.fakes.clerk import FakeClerk
from tests.hardening.support import assert_problem

pytestmark = pytest.mark.postgres

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/users/me"
RECIPES = "/api/v1/recipes"


@pytest.fixture
def clerk() -> Iterator[FakeClerk]:
    with FakeClerk() as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def clerk_settings(make_settings: Callable[..., Settings], clerk: FakeClerk) -> Settings:
    return make_settings(
        CLERK_JWKS_URL=clerk.jwks_url,
        CLERK_ISSUER=clerk.issuer,
        CLERK_SECRET_KEY=clerk.secret_key,
        CLERK_API_URL=clerk.api_url,
        ALLOWED_ORIGINS=[clerk.authorized_party],
    )


@pytest.fixture
def api(
    make_client: Callable[..., TestClient], clerk_settings: Settings, clock: Clock
) -> Iterator[TestClient]:
    client = make_client(clerk_settings)
    # Installed before first use, the app keeps this verifier (and so this clock).
    verifier = ClerkVerifier(clerk_settings, monotonic=clock)
    client.app.state.clerk_verifier = verifier  # type: ignore[attr-defined]
    yield client
    verifier.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def exchange(api: TestClient, clerk_token: str) -> httpx.Response:
    return api.post(TOKEN, headers=bearer(clerk_token))


def signed_in_with(api: TestClient, clerk_token: str) -> str:
    """The internal access token the exchange answers for ``clerk_token``."""
    response = exchange(api, clerk_token)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def signed_in(api: TestClient, clerk: FakeClerk, clerk_user_id: str) -> str:
    return signed_in_with(api, clerk.mint_session_token(sub=clerk_user_id))


def assert_cooking_works(api: TestClient, token: str, title: str) -> None:
    """Read the profile, create a recipe, find it in the list: all on the internal token."""
    me = api.get(ME, headers=bearer(token))
    assert me.status_code == 200, me.text
    created = api.post(RECIPES, headers=bearer(token), json={"title": title, "servings": 2})
    assert created.status_code == 201, created.text
    listed = api.get(RECIPES, headers=bearer(token), params={"owner": "me", "limit": 100})
    assert listed.status_code == 200, listed.text
    assert title in {item["title"] for item in listed.json()["items"]}


def take_down(clerk: FakeClerk, how: str) -> None:
    if how == "erroring":
        clerk.go_down(500)
        clerk.users_status = 500
    else:
        clerk.stop()  # the port is closed: connections are refused


def past_ttl_and_cooldown(settings: Settings) -> float:
    return settings.CLERK_JWKS_CACHE_TTL + settings.CLERK_JWKS_REFETCH_COOLDOWN + 1


@pytest.mark.parametrize("how", ["erroring", "unreachable"])
def test_internal_tokens_keep_working_throughout_a_clerk_outage(
    api: TestClient, clerk: FakeClerk, clerk_settings: Settings, clock: Clock, how: str
) -> None:
    clerk.register_user("user_ada", emails=["ada@example.com"])
    token = signed_in(api, clerk, "user_ada")
    assert_cooking_works(api, token, "Before the outage")
    calls_to_clerk = len(clerk.requests)

    take_down(clerk, how)
    assert_cooking_works(api, token, "Clerk just went down")

    # However long it lasts (the JWKS cache expired long ago), our tokens need no Clerk.
    clock.advance(past_ttl_and_cooldown(clerk_settings))
    assert_cooking_works(api, token, "Hours into the outage")

    # A key Clerk rotated in meanwhile cannot be fetched: retry later, not "sign in again".
    clerk.rotate_key()
    refused = exchange(api, clerk.mint_session_token(sub="user_ada"))
    body = assert_problem(refused, 503, "auth-provider-unavailable")
    assert refused.headers["retry-after"].isdigit()
    assert "www-authenticate" not in refused.headers
    assert body["detail"] == "The sign-in service cannot be reached; retry shortly."
    assert_cooking_works(api, token, "After a refused sign-in")

    # Protected routes never called Clerk; only the exchange tried to.
    assert all(r.path.endswith("jwks.json") for r in clerk.requests[calls_to_clerk:])


@pytest.mark.parametrize("how", ["erroring", "unreachable"])
def test_sign_in_with_a_cached_key_works_while_clerk_is_down(
    api: TestClient, clerk: FakeClerk, clerk_settings: Settings, clock: Clock, how: str
) -> None:
    clerk.register_user("user_ada")
    signed_in(api, clerk, "user_ada")  # the JWKS is now cached
    grace_token = clerk.mint_session_token(sub="user_grace")  # never seen here before
    ada_again = clerk.mint_session_token(sub="user_ada")

    take_down(clerk, how)
    clock.advance(past_ttl_and_cooldown(clerk_settings))  # stale keys are still keys

    assert_cooking_works(api, signed_in_with(api, ada_again), "Ada, second device")
    # A first sign-in makes do without the Backend API profile.
    grace = signed_in_with(api, grace_token)
    assert_cooking_works(api, grace, "Grace's first recipe")
    assert api.get(ME, headers=bearer(grace)).json()["email"] is None


def test_a_new_key_works_once_clerk_is_back(
    api: TestClient, clerk: FakeClerk, clerk_settings: Settings, clock: Clock
) -> None:
    clerk.register_user("user_ada")
    token = signed_in(api, clerk, "user_ada")
    clerk.go_down()
    clerk.rotate_key()
    clock.advance(clerk_settings.CLERK_JWKS_REFETCH_COOLDOWN + 1)
    assert_problem(exchange(api, clerk.mint_session_token(sub="user_ada")), 503)

    clerk.come_up()
    clock.advance(clerk_settings.CLERK_JWKS_REFETCH_COOLDOWN + 1)
    fresh = signed_in(api, clerk, "user_ada")
    assert_cooking_works(api, fresh, "Back to normal")
    assert_cooking_works(api, token, "The old token too")
