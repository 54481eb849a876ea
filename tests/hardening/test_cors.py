"""CORS: exact origins only, no credentials by default, preflights answer only what is allowed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.startup import validate_settings
from tests.hardening.support import ME_URL, assert_problem

APP_ORIGIN = "https://app.example.com"


@pytest.fixture
def cors_client(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings]
) -> TestClient:
    return make_client(make_settings(ALLOWED_ORIGINS=[APP_ORIGIN, "http://localhost:5173/"]))


def header_set(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",")}


def preflight(client: TestClient, origin: str, method: str = "GET", headers: str | None = None):
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        request_headers["Access-Control-Request-Headers"] = headers
    return client.options(ME_URL, headers=request_headers)


def test_allowed_origin_gets_its_origin_back_and_no_credentials(cors_client: TestClient) -> None:
    response = cors_client.get("/health", headers={"Origin": APP_ORIGIN})
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "access-control-allow-credentials" not in response.headers
    assert "Origin" in response.headers["vary"]
    exposed = header_set(response.headers["access-control-expose-headers"])
    assert exposed >= {"etag", "location", "x-request-id", "retry-after", "ratelimit-limit",
                       "ratelimit-remaining", "ratelimit-reset"}


def test_configured_origin_with_a_trailing_slash_still_matches(cors_client: TestClient) -> None:
    response = cors_client.get("/health", headers={"Origin": "http://localhost:5173"})
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"


@pytest.mark.parametrize(
    "origin",
    [
        "https://app.example.com.evil.example",
        "https://evil-app.example.com",
        "https://app.example.co",
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://APP.example.com.evil.example",
        "null",
        "*",
    ],
)
def test_other_origins_get_no_cors_grant(cors_client: TestClient, origin: str) -> None:
    response = cors_client.get("/health", headers={"Origin": origin})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    refused = preflight(cors_client, origin)
    body = assert_problem(refused, 400, "cors-refused")
    assert "origin" in body["detail"]
    assert "access-control-allow-origin" not in refused.headers


def test_null_is_never_allowed_even_if_configured(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(ALLOWED_ORIGINS=["null", APP_ORIGIN])
    assert "cors.null_origin" in {f.code for f in validate_settings(settings)}
    # Even a process that skipped validation does not grant it.
    from app.main import create_app

    client = TestClient(create_app(settings))
    response = client.get("/health", headers={"Origin": "null"})
    assert "access-control-allow-origin" not in response.headers


def test_preflight_answers_only_the_allowed_methods_and_headers(cors_client: TestClient) -> None:
    response = preflight(cors_client, APP_ORIGIN, "PATCH", "authorization, content-type, if-match")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert methods == {"GET", "POST", "PUT", "PATCH", "DELETE"}
    allowed = header_set(response.headers["access-control-allow-headers"])
    assert allowed == {"authorization", "content-type", "if-match", "if-none-match",
                       "x-request-id", "idempotency-key", "accept", "accept-language",
                       "content-language"}
    assert "access-control-allow-credentials" not in response.headers
    assert int(response.headers["access-control-max-age"]) > 0


@pytest.mark.parametrize(
    ("method", "headers", "failure"),
    [
        ("TRACE", None, "method"),
        ("CONNECT", None, "method"),
        ("GET", "x-api-key", "headers"),
        ("GET", "authorization, cookie", "headers"),
    ],
)
def test_preflight_for_anything_else_is_refused(
    cors_client: TestClient, method: str, headers: str | None, failure: str
) -> None:
    body = assert_problem(preflight(cors_client, APP_ORIGIN, method, headers), 400, "cors-refused")
    assert failure in body["detail"]


def test_credentials_only_when_configured(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings]
) -> None:
    client = make_client(make_settings(ALLOWED_ORIGINS=[APP_ORIGIN], CORS_ALLOW_CREDENTIALS=True))
    response = client.get("/health", headers={"Origin": APP_ORIGIN})
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN


def test_wildcard_with_credentials_never_grants_credentials(
    make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(ALLOWED_ORIGINS=["*"], CORS_ALLOW_CREDENTIALS=True)
    assert "cors.wildcard_with_credentials" in {f.code for f in validate_settings(settings)}
    from app.main import create_app

    client = TestClient(create_app(settings))  # validation skipped: no lifespan
    response = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_startup_refuses_a_wildcard_origin_when_deployed(
    make_settings: Callable[..., Settings], environment: str
) -> None:
    settings = make_settings(ENVIRONMENT=environment, ALLOWED_ORIGINS=["*"])
    assert "cors.wildcard" in {f.code for f in validate_settings(settings) if f.severity == "error"}


def test_cors_headers_are_on_error_responses_too(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings]
) -> None:
    # A browser app must be able to read a 401/413/429 body, so the grant rides on errors.
    client = make_client(make_settings(ALLOWED_ORIGINS=[APP_ORIGIN], RATE_LIMIT_ENABLED=True,
                                       RATE_LIMIT_READ="1/minute"))
    origin = {"Origin": APP_ORIGIN}
    assert client.get(ME_URL, headers=origin).headers["access-control-allow-origin"] == APP_ORIGIN
    limited = client.get(ME_URL, headers=origin)
    assert_problem(limited, 429)
    assert limited.headers["access-control-allow-origin"] == APP_ORIGIN
    too_big = client.post("/api/v1/recipes", content=b"x" * (2 * 1024 * 1024), headers=origin)
    assert_problem(too_big, 413)
    assert too_big.headers["access-control-allow-origin"] == APP_ORIGIN
