"""A client whose app has a webhook secret, and helpers to post signed Clerk events."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from tests.fakes.svix_signing import new_webhook_secret, svix_headers

WEBHOOK_PATH = "/api/v1/webhooks/clerk"


@pytest.fixture
def webhook_secret() -> str:
    return new_webhook_secret()


@pytest.fixture
def hook_client(
    make_client: Callable[..., TestClient],
    make_settings: Callable[..., Settings],
    webhook_secret: str,
) -> TestClient:
    return make_client(make_settings(CLERK_WEBHOOK_SECRET=webhook_secret, RATE_LIMIT_ENABLED=False))


PostEvent = Callable[..., httpx.Response]


@pytest.fixture
def post_event(hook_client: TestClient, webhook_secret: str) -> PostEvent:
    """Post ``event`` (a dict) signed as Svix would; ``msg_id`` fixes the svix-id."""

    def post(event: dict[str, Any], *, msg_id: str | None = None) -> httpx.Response:
        body = json.dumps(event)
        headers = svix_headers(webhook_secret, body, msg_id=msg_id)
        headers["content-type"] = "application/json"
        return hook_client.post(WEBHOOK_PATH, content=body, headers=headers)

    return post
