"""A worker dies after committing a create but before answering; the retry replays.

A real uvicorn process (tests/idempotency/pausing_app.py holds the response back after
the commit), killed with SIGKILL while the client still waits; a fresh process then
answers the client's retry from the stored response.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.idempotency.models import IdempotencyKey
from tests.idempotency.factories import count_recipes, with_key
from tests.recipes.support import RECIPES, payload
from tests.serving import Uvicorn, server_env, start_uvicorn

pytestmark = pytest.mark.postgres

APP = "tests.idempotency.pausing_app:create_app"


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Uvicorn]]:
    started: list[Uvicorn] = []
    yield started
    for server in started:
        server.kill()


def wait_for_commit(db: Session, user_id, key: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.expire_all()
        if db.get(IdempotencyKey, (user_id, key)) is not None:
            return
        time.sleep(0.05)
    raise AssertionError("the create never committed")


def test_a_retry_after_the_worker_died_between_commit_and_response_replays(
    engine: Engine, db: Session, settings: Settings, alice, as_alice, servers, tmp_path: Path
) -> None:
    headers = with_key(as_alice, "phone-retry-1")
    dying = start_uvicorn(APP, server_env(settings, TEST_PAUSE_AFTER_KEY_COMMIT="60"),
                          tmp_path / "dying.log", factory=True)
    servers.append(dying)
    outcome: list[object] = []

    def first_attempt() -> None:
        try:
            outcome.append(httpx.post(dying.url + RECIPES, json=payload(), headers=headers,
                                      timeout=90))
        except httpx.TransportError as exc:
            outcome.append(exc)

    attempt = threading.Thread(target=first_attempt)
    attempt.start()
    wait_for_commit(db, alice.id, "phone-retry-1")
    dying.kill()
    attempt.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], httpx.TransportError), outcome
    assert count_recipes(db, alice) == 1  # committed, but the phone never heard

    fresh = start_uvicorn(APP, server_env(settings), tmp_path / "fresh.log", factory=True)
    servers.append(fresh)
    retry = httpx.post(fresh.url + RECIPES, json=payload(), headers=headers, timeout=30)

    assert retry.status_code == 201, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert count_recipes(db, alice) == 1
    assert retry.headers["location"].endswith(retry.json()["id"])
    fetched = httpx.get(fresh.url + retry.headers["location"], headers=as_alice, timeout=30)
    assert fetched.status_code == 200 and fetched.json()["title"] == payload()["title"]
