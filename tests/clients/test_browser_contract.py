"""What a browser adds to the TypeScript client's calls: CORS. The PWA runs on another
origin, so every header the client sends must pass the preflight, and every response
header it reads must be exposed, or the browser hides it (the node driver cannot see this).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from tests.clients.typescript_build import CLIENT_DIR

PWA_ORIGIN = "https://app.homechef.example"
#: Response headers a browser always lets scripts read (the CORS-safelisted ones).
SAFELISTED = {"cache-control", "content-language", "content-length", "content-type",
              "expires", "last-modified", "pragma"}
RECIPES = "/api/v1/recipes"
RECIPE = "/api/v1/recipes/00000000-0000-4000-8000-000000000000"


@pytest.fixture
def pwa_client(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings]
) -> TestClient:
    return make_client(make_settings(ALLOWED_ORIGINS=[PWA_ORIGIN]))


def _names(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",") if part.strip()}


def _client_sources() -> str:
    return "\n".join(path.read_text() for path in sorted((CLIENT_DIR / "src").glob("*.ts")))


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("POST", RECIPES, "authorization, content-type, idempotency-key"),
        ("PATCH", RECIPE, "authorization, content-type, if-match"),
        ("GET", RECIPE, "authorization, if-none-match"),
        ("PUT", f"{RECIPE}/image", "authorization"),
        ("POST", "/api/v1/auth/token", "authorization"),
    ],
)
def test_preflight_grants_every_header_the_client_sends(
    pwa_client: TestClient, method: str, path: str, headers: str
) -> None:
    response = pwa_client.options(path, headers={
        "Origin": PWA_ORIGIN,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    })

    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == PWA_ORIGIN
    assert _names(response.headers["access-control-allow-headers"]) >= _names(headers)


def test_every_response_header_the_client_reads_is_exposed(pwa_client: TestClient) -> None:
    read = {name.lower() for name in re.findall(r'headers\.get\("([^"]+)"\)', _client_sources())}
    assert read >= {"etag", "location", "x-request-id", "retry-after"}  # the scan works

    response = pwa_client.get("/health", headers={"Origin": PWA_ORIGIN})

    exposed = _names(response.headers["access-control-expose-headers"])
    assert (read - SAFELISTED) | {"idempotent-replayed"} <= exposed


def test_a_header_the_api_does_not_take_is_still_refused(pwa_client: TestClient) -> None:
    response = pwa_client.options(RECIPES, headers={
        "Origin": PWA_ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, x-debug-impersonate",
    })

    assert response.status_code == 400
