"""Rate limits in one process: categories, keys, the 429 shape and storage failures."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.ratelimit import STORAGE_RETRY_INTERVAL
from tests.factories import auth_headers, make_user
from tests.hardening.support import ME_URL, assert_problem, closed_port

TOKEN_URL = "/api/v1/auth/token"
WEBHOOK_URL = "/api/v1/webhooks/clerk"
PROXY = ("10.0.0.2", 40000)


@pytest.fixture
def limited(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def factory(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "RATE_LIMIT_ENABLED": True,
            "RATE_LIMIT_READ": "3/minute",
            "RATE_LIMIT_WRITE": "2/minute",
            "RATE_LIMIT_AUTH": "2/minute",
            "RATE_LIMIT_WEBHOOK": "2/minute",
        }
        values.update(overrides)
        return make_settings(**values)

    return factory


def security_events(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == name]


def test_over_the_limit_is_429_problem_with_retry_after_and_ratelimit_headers(
    make_client: Callable[..., TestClient], limited: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(limited())
    remaining = []
    for _ in range(3):
        response = client.get(ME_URL)
        assert response.status_code == 401  # counted even though refused later
        assert response.headers["ratelimit-limit"] == "3"
        remaining.append(int(response.headers["ratelimit-remaining"]))
        assert 0 < int(response.headers["ratelimit-reset"]) <= 60
    assert remaining == [2, 1, 0]

    refused = client.get(ME_URL)

    body = assert_problem(refused, 429, "rate-limited")
    assert body["title"] == "Too many requests"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-limit"] == "3"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert refused.headers["ratelimit-reset"] == refused.headers["retry-after"]
    # The refusal is a normal API response: security headers, request id.
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert refused.headers["cache-control"] == "no-store"
    [event] = security_events(caplog, "ratelimit.exceeded")
    assert event.name == "homechef.security"
    assert event.category == "read" and event.key_kind == "ip"


def test_probes_docs_and_preflights_are_never_limited(
    make_client: Callable[..., TestClient], limited: Callable[..., Settings]
) -> None:
    client = make_client(limited(RATE_LIMIT_READ="1/minute", RATE_LIMIT_WRITE="1/minute"))
    for _ in range(5):
        for path in ("/health", "/ready", "/openapi.json"):
            response = client.get(path)
            assert response.status_code == 200, path
            assert "ratelimit-limit" not in response.headers
        preflight = client.options(ME_URL, headers={
            "Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"})
        assert preflight.status_code == 200


def test_each_user_has_an_own_bucket_and_anonymous_requests_share_the_ip_one(
    make_client: Callable[..., TestClient], limited: Callable[..., Settings], db: Session
) -> None:
    client = make_client(limited())
    alice, bob = make_user(db), make_user(db)
    as_alice, as_bob = auth_headers(client.app, alice), auth_headers(client.app, bob)

    for _ in range(3):
        assert client.get(ME_URL, headers=as_alice).status_code == 200
    assert_problem(client.get(ME_URL, headers=as_alice), 429)
    # A second token of the same user is the same user.
    assert_problem(client.get(ME_URL, headers=auth_headers(client.app, alice)), 429)

    assert client.get(ME_URL, headers=as_bob).status_code == 200
    anonymous = client.get(ME_URL)
    assert anonymous.status_code == 401
    assert anonymous.headers["ratelimit-remaining"] == "2"


def test_a_forged_token_is_keyed_by_ip_and_cannot_drain_a_users_bucket(
    make_client: Callable[..., TestClient], limited: Callable[..., Settings], db: Session
) -> None:
    client = make_client(limited())
    alice = make_user(db)
    token = auth_headers(client.app, alice)["Authorization"]
    forged = {"Authorization": token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")}
    for _ in range(3):
        assert client.get(ME_URL, headers=forged).status_code == 401
    assert_problem(client.get(ME_URL, headers=forged), 429)
    assert_problem(client.get(ME_URL), 429)  # same IP bucket
    assert client.get(ME_URL, headers=auth_headers(client.app, alice)).status_code == 200


def test_reads_and_writes_are_counted_separately(
    make_client: Callable[..., TestClient], limited: Callable[..., Settings], db: Session
) -> None:
    client = make_client(limited())
    headers = auth_headers(client.app, make_user(db))
    for _ in range(2):
        # Any status counts: the limit is checked before routing (405 here).
        write = client.put(ME_URL, headers=headers)
        assert write.status_code != 429
        assert write.headers["ratelimit-limit"] == "2"
    assert_problem(client.delete(ME_URL, headers=headers), 429)
    read = client.get(ME_URL, headers=headers)
    assert read.status_code == 200
    assert read.headers["ratelimit-limit"] == "3"


def test_token_exchange_is_limited_per_client_ip_behind_a_trusted_proxy(
    make_client: Callable[..., TestClient], limited: Callable[..., Settings]
) -> None:
    client = make_client(limited(TRUSTED_PROXIES=["10.0.0.0/24"]), client=PROXY)
    first = {"X-Forwarded-For": "198.51.100.1"}
    second = {"X-Forwarded-For": "198.51.100.2"}
    for _ in range(2):
        response = client.post(TOKEN_URL, headers=first)
        assert response.status_code != 429
        assert response.headers["ratelimit-limit"] == "2"
    assert_problem(client.post(TOKEN_URL, headers=first), 429)
    # A spoofed left-most entry does not make a new client: the proxy appended the real one.
    assert_problem(client.post(TOKEN_URL, headers={"X-Forwarded-For": "7.7.7.7, 198.51.100.1"}),
                   429)
    assert client.post(TOKEN_URL, headers=second).status_code != 429


def test_spoofed_forwarded_headers_from_an_untrusted_peer_share_one_bucket(
    make_client: Callable[..., TestClient], limited: Callable[..., Settings]
) -> None:
    client = make_client(limited(TRUSTED_PROXIES=["10.9.0.0/16"]), client=("203.0.113.50", 1))
    for n in range(2):
        spoof = {"X-Forwarded-For": f"198.51.100.{n}", "X-Real-IP": f"192.0.2.{n}"}
        assert client.post(TOKEN_URL, headers=spoof).status_code != 429
    assert_problem(client.post(TOKEN_URL, headers={"X-Forwarded-For": "198.51.100.99"}), 429)


def test_webhook_deliveries_have_their_own_per_ip_limit(
    make_client: Callable[..., TestClient], limited: Callable[..., Settings]
) -> None:
    client = make_client(limited())
    for _ in range(2):
        response = client.post(WEBHOOK_URL, content=b"{}")
        assert response.status_code != 429
        assert response.headers["ratelimit-limit"] == "2"
    assert_problem(client.post(WEBHOOK_URL, content=b"{}"), 429)
    assert client.post("/api/v1/auth/logout").status_code == 401  # write bucket untouched


def test_unreachable_storage_fails_open_with_an_error_event(
    make_client: Callable[..., TestClient], limited: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = limited(RATE_LIMIT_STORAGE_URL=f"redis://127.0.0.1:{closed_port()}/0",
                       RATE_LIMIT_FAIL_OPEN=True, RATE_LIMIT_READ="1/minute")
    client = make_client(settings)
    client.app.state.rate_limiter.clock = lambda: 1000.0  # a stopped clock: no retry yet
    for _ in range(4):
        response = client.get(ME_URL)
        assert response.status_code == 401  # served, not limited
        assert "ratelimit-limit" not in response.headers
    events = security_events(caplog, "ratelimit.storage_unavailable")
    # Logged once per retry interval, not once per request.
    assert len(events) == 1
    assert events[0].levelno == logging.ERROR
    assert events[0].fail_open is True

    client.app.state.rate_limiter.clock = lambda: 1000.0 + STORAGE_RETRY_INTERVAL
    assert client.get(ME_URL).status_code == 401
    assert len(security_events(caplog, "ratelimit.storage_unavailable")) == 2  # tried again


def test_unreachable_storage_fails_closed_with_503_when_configured(
    make_client: Callable[..., TestClient], limited: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = limited(RATE_LIMIT_STORAGE_URL=f"redis://127.0.0.1:{closed_port()}/0",
                       RATE_LIMIT_FAIL_OPEN=False)
    client = make_client(settings)
    for _ in range(2):
        response = client.get(ME_URL)
        assert_problem(response, 503, "rate-limit-unavailable")
        assert int(response.headers["retry-after"]) >= 1
    assert client.get("/health").status_code == 200  # probes do not depend on Redis
    assert security_events(caplog, "ratelimit.storage_unavailable")


def test_a_malformed_limit_is_refused_when_the_app_is_built(
    limited: Callable[..., Settings],
) -> None:
    from app.core.startup import StartupValidationError
    from app.main import create_app

    with pytest.raises(StartupValidationError, match="RATE_LIMIT_WRITE"):
        create_app(limited(RATE_LIMIT_WRITE="lots"))
