"""Fixtures for the auth tests: a loopback fake Clerk, apps wired to it, a bare
ClerkVerifier for the test_clerk_*.py files, and a started app plus plain SQL for the
test_revocation_feed*.py files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg2
import pytest
from fastapi.testclient import TestClient

from app.auth.clerk import ClerkVerifier
from app.auth.dependencies import CurrentUser
from app.core.config import Settings
from tests.auth import clerk_support
from tests.auth.feed_support import PRINCIPAL_URL, Sql, cache_of, principal_probe, wait_until
from tests.auth.support import PROBE_URL
from tests.fakes.clerk import FakeClerk


class Clock:
    """A hand-moved clock for the verifier (wall time, or the monotonic time of its cache
    TTL and refetch cooldown), so no test depends on how fast the machine is."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_clerk() -> Iterator[FakeClerk]:
    # A fresh fake per test is the reset: keys, users, counters and failure switches all
    # start clean. It is cheap because the RSA keys themselves are cached per test run.
    with FakeClerk() as fake:
        yield fake


@pytest.fixture
def clerk_settings(make_settings: Callable[..., Settings], fake_clerk: FakeClerk) -> Settings:
    # An explicit CLERK_JWKS_URL (the public Frontend API one): the verifier must not send
    # the secret key there; the secret is for the Backend API's /users alone.
    assert fake_clerk.secret_key is not None
    return make_settings(
        CLERK_JWKS_URL=fake_clerk.jwks_url,
        CLERK_ISSUER=fake_clerk.issuer,
        CLERK_SECRET_KEY=fake_clerk.secret_key,
        CLERK_API_URL=fake_clerk.api_url,
        ALLOWED_ORIGINS=[fake_clerk.authorized_party],
        CLERK_HTTP_TIMEOUT=5.0,
    )


def _probe(user: CurrentUser) -> dict[str, Any]:
    return {"id": str(user.id), "token_version": user.token_version}


def add_probe_route(client: TestClient) -> TestClient:
    client.app.add_api_route(PROBE_URL, _probe, methods=["GET"])  # type: ignore[attr-defined]
    return client


@pytest.fixture
def make_auth_client(make_client: Callable[..., TestClient]) -> Callable[..., TestClient]:
    def factory(settings: Settings) -> TestClient:
        return add_probe_route(make_client(settings))

    return factory


@pytest.fixture
def auth_client(
    make_auth_client: Callable[..., TestClient], clerk_settings: Settings
) -> TestClient:
    return make_auth_client(clerk_settings)


@pytest.fixture
def clerk_clock() -> Clock:
    return Clock()


@pytest.fixture
def clocked_client(
    auth_client: TestClient, clerk_settings: Settings, clerk_clock: Clock
) -> Iterator[TestClient]:
    """``auth_client`` whose Clerk verifier runs on ``clerk_clock`` (cache TTL, cooldown).

    The app builds its verifier on first use unless one is already there, so installing
    one first is how a test controls time without sleeping.
    """
    verifier = ClerkVerifier(clerk_settings, monotonic=clerk_clock)
    auth_client.app.state.clerk_verifier = verifier  # type: ignore[attr-defined]
    yield auth_client
    verifier.close()


# --- a ClerkVerifier on its own, no app and no database (tests/auth/test_clerk_*.py) -----------


@pytest.fixture
def clerk(fake_clerk: FakeClerk) -> FakeClerk:
    return fake_clerk


@pytest.fixture
def monotonic() -> Clock:
    return Clock(1000.0)


@pytest.fixture(scope="module")
def shared_client() -> Iterator[httpx.Client]:
    # Building an httpx.Client costs ~60 ms (TLS context); one per module keeps tests quick.
    with httpx.Client() as client:
        yield client


@pytest.fixture
def make_verifier(monotonic: Clock, shared_client: httpx.Client) -> Iterator[Any]:
    made: list[ClerkVerifier] = []

    def make(settings: Settings, **kwargs: Any) -> ClerkVerifier:
        kwargs.setdefault("http_client", shared_client)
        verifier = ClerkVerifier(
            settings, clock=Clock(clerk_support.NOW), monotonic=monotonic, **kwargs
        )
        made.append(verifier)
        return verifier

    yield make
    for verifier in made:
        verifier.close()


@pytest.fixture
def verifier(clerk: FakeClerk, make_verifier: Any) -> ClerkVerifier:
    return make_verifier(
        clerk_support.make_settings(CLERK_JWKS_URL=clerk.jwks_url, CLERK_ISSUER=clerk.issuer)
    )


# --- the revocation feed tests (tests/auth/test_revocation_feed*.py) ----------------------------


@pytest.fixture
def start(make_client: Callable[..., TestClient], make_settings: Callable[..., Settings]):
    """A started app with the principal probe; by default waits for its feed to listen."""

    def factory(*, wait_active: bool = True, **overrides: Any) -> TestClient:
        client = make_client(make_settings(**overrides))
        client.app.add_api_route(  # type: ignore[attr-defined]
            PRINCIPAL_URL, principal_probe, methods=["GET"])
        if wait_active:
            wait_until(lambda: cache_of(client).active, 5.0, "the revocation feed listening")
        return client

    return factory


@pytest.fixture
def sql(pg_url: str) -> Iterator[Sql]:
    """Plain SQL on a connection of its own, autocommit: an operator at psql, or any other
    process writing to the same database."""
    conn = psycopg2.connect(pg_url, connect_timeout=5)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SET lock_timeout = '5s'")  # a mistake fails, it does not hang

    def run(statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with conn.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    yield run
    conn.close()
