"""Security headers on every response; the docs' own policy; docs and HSTS by environment."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable

import httpx
import pytest
from fastapi import Response
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.security_headers import API_CSP, HSTS
from app.main import create_app
from tests.conftest import make_test_settings
from tests.hardening.support import ME_URL, assert_problem

ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
}


def assert_api_headers(response: httpx.Response) -> None:
    for name, value in ALWAYS.items():
        assert response.headers.get(name) == value, (name, response.headers)
    assert response.headers["content-security-policy"] == API_CSP
    assert "server" not in response.headers
    assert response.headers["x-request-id"]


def unstarted(settings: Settings) -> TestClient:
    """A client without the lifespan: enough for routes that touch no state (/health, docs).

    It lets a test use production settings without a production database and Clerk.
    """
    return TestClient(create_app(settings), raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/health", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/nope", 404),
        ("GET", "/api/v1/recipes/not-a-uuid", 401),
        ("GET", ME_URL, 401),
        ("DELETE", "/health", 405),
        ("POST", "/api/v1/auth/token", 503),  # Clerk not configured in tests
    ],
)
def test_every_api_response_carries_the_security_headers(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)
    assert response.status_code == status, response.text
    assert_api_headers(response)
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers  # ENVIRONMENT=test


def test_headers_are_on_an_unhandled_500_too(client: TestClient) -> None:
    def explode() -> None:
        raise RuntimeError("boom")

    client.app.add_api_route("/explode", explode)  # type: ignore[attr-defined]
    response = client.get("/explode")
    assert_problem(response, 500)
    assert_api_headers(response)
    assert response.headers["cache-control"] == "no-store"


def test_a_route_keeps_its_own_caching_resource_policy_and_csp(client: TestClient) -> None:
    def public_image() -> Response:
        return Response(b"\x89PNG...", media_type="image/png", headers={
            "Cache-Control": "public, max-age=86400",
            "Cross-Origin-Resource-Policy": "cross-origin",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        })

    def own_json_cache() -> Response:
        return Response(b"{}", media_type="application/json",
                        headers={"Cache-Control": "private, no-cache"})

    client.app.add_api_route("/image-like", public_image)  # type: ignore[attr-defined]
    client.app.add_api_route("/json-cache", own_json_cache)  # type: ignore[attr-defined]
    image = client.get("/image-like")
    assert image.headers["cache-control"] == "public, max-age=86400"
    assert image.headers["cross-origin-resource-policy"] == "cross-origin"
    assert image.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert client.get("/json-cache").headers["cache-control"] == "private, no-cache"


def test_a_server_header_set_by_the_app_is_removed(client: TestClient) -> None:
    def banner() -> Response:
        return Response(b"{}", media_type="application/json", headers={"Server": "leaky/1.0"})

    client.app.add_api_route("/banner", banner)  # type: ignore[attr-defined]
    assert "server" not in client.get("/banner").headers


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def directives(csp: str) -> dict[str, set[str]]:
    parsed: dict[str, set[str]] = {}
    for part in csp.split(";"):
        name, *values = part.split()
        parsed[name] = set(values)
    return parsed


def test_swagger_ui_gets_a_policy_that_lets_exactly_it_run(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    policy = directives(page.headers["content-security-policy"])
    inline = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    assert len(inline) == 1  # the SwaggerUIBundle(...) bootstrap
    assert policy["script-src"] == {"https://cdn.jsdelivr.net", _sha256(inline[0])}
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert "https://cdn.jsdelivr.net" in policy["style-src"]
    assert policy["connect-src"] == {"'self'"}
    assert policy["default-src"] == {"'none'"}
    assert policy["frame-ancestors"] == {"'none'"}
    # Everything the page loads is covered by the policy.
    for url in re.findall(r'(?:src|href)="(https://[^"/]+)', page.text):
        assert any(url in values for values in policy.values()), url
    assert page.headers["x-frame-options"] == "DENY"


def test_redoc_gets_its_own_policy(client: TestClient) -> None:
    page = client.get("/redoc")
    policy = directives(page.headers["content-security-policy"])
    assert "https://cdn.jsdelivr.net" in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert policy["font-src"] == {"https://fonts.gstatic.com"}
    assert "https://fonts.googleapis.com" in policy["style-src"]
    assert policy["worker-src"] == {"blob:"}
    for url in re.findall(r'(?:src|href)="(https://[^"/]+)', page.text):
        assert any(url in values for values in policy.values()), url


def test_the_openapi_document_is_api_json(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.headers["content-security-policy"] == API_CSP


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_docs_are_off_in_production_unless_enabled(path: str) -> None:
    production = make_test_settings(None, ENVIRONMENT="production")
    response = unstarted(production).get(path)
    assert_problem(response, 404)
    assert_api_headers(response)
    enabled = make_test_settings(None, ENVIRONMENT="production", DOCS_ENABLED=True)
    assert unstarted(enabled).get(path).status_code == 200


def test_docs_can_be_switched_off_anywhere(make_settings: Callable[..., Settings]) -> None:
    assert unstarted(make_settings(DOCS_ENABLED=False)).get("/docs").status_code == 404


def test_hsts_value_is_two_years_with_subdomains() -> None:
    assert HSTS == "max-age=63072000; includeSubDomains"


@pytest.mark.parametrize(
    ("environment", "hsts"),
    [("development", False), ("test", False), ("staging", True), ("production", True)],
)
def test_hsts_only_in_staging_and_production(environment: str, hsts: bool) -> None:
    response = unstarted(make_test_settings(None, ENVIRONMENT=environment)).get("/health")
    if hsts:
        assert response.headers["strict-transport-security"] == HSTS
    else:
        assert "strict-transport-security" not in response.headers
    assert_api_headers(response)
