"""Svix verification: only a correctly signed, fresh, bounded body gets through."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.users.models import User
from app.webhooks.models import WebhookEvent
from tests.fakes.svix_signing import new_webhook_secret, svix_headers
from tests.problems import assert_problem
from tests.webhooks.conftest import WEBHOOK_PATH
from tests.webhooks.events import user_event

EVENT = user_event("created", "user_sig")
BODY = json.dumps(EVENT)



def assert_nothing_written(db: Session) -> None:
    assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    assert db.scalar(select(func.count()).select_from(User)) == 0


def _signed(secret: str, **overrides: object) -> dict[str, str]:
    return svix_headers(secret, BODY, **overrides)  # type: ignore[arg-type]


def _without(name: str) -> Callable[[str], dict[str, str]]:
    def headers(secret: str) -> dict[str, str]:
        signed = _signed(secret)
        del signed[name]
        return signed

    return headers


def _replace(name: str, value: str) -> Callable[[str], dict[str, str]]:
    return lambda secret: {**_signed(secret), name: value}


def _at(offset: timedelta) -> Callable[[str], dict[str, str]]:
    return lambda secret: _signed(secret, timestamp=datetime.now(UTC) + offset)


BAD_HEADERS: dict[str, Callable[[str], dict[str, str]]] = {
    "no headers": lambda secret: {},
    "svix-id missing": _without("svix-id"),
    "svix-timestamp missing": _without("svix-timestamp"),
    "svix-signature missing": _without("svix-signature"),
    "signature 'v1' alone": _replace("svix-signature", "v1"),
    "signature not base64": _replace("svix-signature", "v1,@@not*base64@@"),
    "signature of another version only": _replace("svix-signature", "v2,AAAA"),
    "signature empty": _replace("svix-signature", ""),
    "timestamp not a number": _replace("svix-timestamp", "yesterday"),
    "timestamp overflowing": _replace("svix-timestamp", "1e400"),
    "timestamp 10 minutes old": _at(timedelta(minutes=-10)),
    "timestamp 10 minutes ahead": _at(timedelta(minutes=10)),
    "signed with another secret": lambda secret: _signed(new_webhook_secret()),
    "signature over a re-serialized body": lambda secret: svix_headers(
        secret, json.dumps(EVENT, indent=2)
    ),
    "svix-id not the signed one": lambda secret: {**_signed(secret), "svix-id": "msg_other"},
}


@pytest.mark.parametrize("make_headers", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
def test_bad_signature_headers_are_400_and_change_nothing(
    hook_client: TestClient,
    webhook_secret: str,
    db: Session,
    make_headers: Callable[[str], dict[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="homechef.security"):
        response = hook_client.post(
            WEBHOOK_PATH, content=BODY, headers=make_headers(webhook_secret)
        )
    problem = assert_problem(response, 400)
    assert problem["type"] == "urn:homechef:problem:webhook-signature-invalid"
    assert_nothing_written(db)
    rejected = [r for r in caplog.records if getattr(r, "event", None) == "webhook.rejected"]
    assert rejected and getattr(rejected[0], "reason", None)
    assert webhook_secret not in caplog.text
    assert BODY not in caplog.text


def test_signature_over_a_non_utf8_body_is_400(
    hook_client: TestClient, webhook_secret: str, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    body = BODY.encode() + b"\xff\xfe"
    # Signed over the latin-1 reading of the same bytes: only the UTF-8 check can refuse it.
    headers = svix_headers(webhook_secret, body.decode("latin-1"))
    with caplog.at_level(logging.WARNING, logger="homechef.security"):
        response = hook_client.post(WEBHOOK_PATH, content=body, headers=headers)
    assert_problem(response, 400)
    assert_nothing_written(db)
    reasons = [getattr(r, "reason", None) for r in caplog.records]
    assert "body_not_utf8" in reasons


def test_oversized_body_is_413(
    hook_client: TestClient, webhook_secret: str, settings: Settings, db: Session
) -> None:
    event = dict(EVENT, padding="x" * settings.MAX_WEBHOOK_BODY_BYTES)
    body = json.dumps(event)
    response = hook_client.post(
        WEBHOOK_PATH, content=body, headers=svix_headers(webhook_secret, body)
    )
    assert_problem(response, 413)
    assert_nothing_written(db)


def test_oversized_body_without_content_length_is_413(
    hook_client: TestClient, webhook_secret: str, settings: Settings, db: Session
) -> None:
    body = json.dumps(dict(EVENT, padding="x" * settings.MAX_WEBHOOK_BODY_BYTES)).encode()

    def chunks() -> object:
        for start in range(0, len(body), 16384):
            yield body[start : start + 16384]

    response = hook_client.post(
        WEBHOOK_PATH, content=chunks(), headers=svix_headers(webhook_secret, body)
    )
    assert_problem(response, 413)
    assert_nothing_written(db)


def test_body_just_under_the_cap_is_accepted(
    hook_client: TestClient, webhook_secret: str, settings: Settings
) -> None:
    event = dict(EVENT, padding="")
    room = settings.MAX_WEBHOOK_BODY_BYTES - len(json.dumps(event))
    body = json.dumps(dict(EVENT, padding="x" * room))
    assert len(body) == settings.MAX_WEBHOOK_BODY_BYTES
    response = hook_client.post(
        WEBHOOK_PATH, content=body, headers=svix_headers(webhook_secret, body)
    )
    assert response.status_code == 200, response.text


def test_without_a_webhook_secret_the_endpoint_is_503(client: TestClient, db: Session) -> None:
    headers = svix_headers(new_webhook_secret(), BODY)
    response = client.post(WEBHOOK_PATH, content=BODY, headers=headers)
    problem = assert_problem(response, 503)
    assert problem["type"] == "urn:homechef:problem:webhook-not-configured"
    assert_nothing_written(db)


def test_correctly_signed_event_is_processed(hook_client: TestClient, webhook_secret: str) -> None:
    response = hook_client.post(WEBHOOK_PATH, content=BODY, headers=_signed(webhook_secret))
    assert response.status_code == 200
    assert response.json() == {"status": "processed"}


def test_signature_list_with_one_valid_entry_is_accepted(
    hook_client: TestClient, webhook_secret: str
) -> None:
    headers = _signed(webhook_secret)
    # Svix sends several space-separated signatures while a secret is being rotated.
    headers["svix-signature"] = f"v1,AAAA {headers['svix-signature']}"
    response = hook_client.post(WEBHOOK_PATH, content=BODY, headers=headers)
    assert response.status_code == 200


def test_webhook_needs_no_bearer_token_and_ignores_one(
    hook_client: TestClient, webhook_secret: str
) -> None:
    headers = {**_signed(webhook_secret), "Authorization": "Bearer not-a-token"}
    response = hook_client.post(WEBHOOK_PATH, content=BODY, headers=headers)
    assert response.status_code == 200
