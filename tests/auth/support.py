"""Helpers shared by the HTTP-level auth tests."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.users.models import User
from tests.factories import token_for
from tests.problems import assert_problem

TOKEN_URL = "/api/v1/auth/token"
LOGOUT_URL = "/api/v1/auth/logout"
ME_URL = "/api/v1/users/me"
#: A read-only protected route the auth fixtures add to their apps (see conftest), so a
#: token can be checked without the side effect of logout. It stands on the same
#: CurrentUser dependency as every real route.
PROBE_URL = "/api/v1/_auth_probe"



def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}



def assert_unauthorized(response: httpx.Response) -> dict[str, Any]:
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    return body


def comparable(body: dict[str, Any]) -> dict[str, Any]:
    """A problem body without its per-request id, to compare refusals with each other."""
    return {k: v for k, v in body.items() if k != "request_id"}


def exchange(client: TestClient, clerk_token: str) -> httpx.Response:
    return client.post(TOKEN_URL, headers=bearer(clerk_token))


def exchange_ok(client: TestClient, clerk_token: str) -> dict[str, Any]:
    response = exchange(client, clerk_token)
    assert response.status_code == 200, response.text
    return response.json()


def whoami(client: TestClient, token: str) -> httpx.Response:
    """A read-only protected call: GET /users/me once it is mounted, else the probe."""
    return client.get(ME_URL if has_route(client, ME_URL) else PROBE_URL, headers=bearer(token))


def has_route(client: TestClient, path: str) -> bool:
    from fastapi.routing import iter_route_contexts

    return any(ctx.path == path for ctx in iter_route_contexts(client.app.routes))


def jwt_header(token: str) -> dict[str, Any]:
    segment = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def access_token(client: TestClient, user: User, *, sid: str | None = None) -> str:
    """An internal token signed by this client's app, as the exchange would issue it."""
    app: FastAPI = client.app  # type: ignore[assignment]
    return token_for(app, user, sid=sid)
