"""Idempotency-Key on POST /api/v1/recipes: replay, refusals, per-user scope, expiry."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.idempotency.models import IdempotencyKey
from tests.idempotency.factories import count_keys, count_recipes, make_idempotency_key, with_key
from tests.problems import assert_problem
from tests.recipes.support import RECIPES, payload
from tests.sql_counting import counting

pytestmark = pytest.mark.postgres


def test_a_retry_with_the_same_key_replays_the_first_response_and_writes_nothing(
    client, db: Session, alice, as_alice
) -> None:
    first = client.post(RECIPES, json=payload(), headers=with_key(as_alice, "create-1"))
    again = client.post(RECIPES, json=payload(), headers=with_key(as_alice, "create-1"))

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    for header in ("location", "etag", "content-type"):
        assert again.headers[header] == first.headers[header]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert count_recipes(db, alice) == 1


def test_without_a_key_every_post_creates(client, db: Session, alice, as_alice) -> None:
    for _ in range(2):
        assert client.post(RECIPES, json=payload(), headers=as_alice).status_code == 201
    assert count_recipes(db, alice) == 2
    assert count_keys(db) == 0


def test_twenty_parallel_requests_with_one_key_write_once(
    client, db: Session, alice, as_alice
) -> None:
    start = threading.Barrier(20)  # release them together, so they really overlap

    def create(_: int):
        start.wait(timeout=30)
        return client.post(RECIPES, json=payload(), headers=with_key(as_alice, "burst"))

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(create, range(20)))

    created = [r for r in responses if r.status_code == 201]
    in_use = [r for r in responses if r.status_code == 409]
    assert len(created) + len(in_use) == 20, [r.status_code for r in responses]
    originals = [r for r in created if "idempotent-replayed" not in r.headers]
    assert len(originals) == 1
    assert {r.content for r in created} == {originals[0].content}
    for refused in in_use:
        assert_problem(refused, 409, "idempotency-key-in-use")
        assert refused.headers["retry-after"] == "1"
    assert count_recipes(db, alice) == 1
    assert count_keys(db) == 1
    # Once the first has committed, a late retry gets the stored answer.
    late = client.post(RECIPES, json=payload(), headers=with_key(as_alice, "burst"))
    assert late.status_code == 201 and late.content == originals[0].content


def test_the_same_key_from_another_user_is_another_key(
    client, db: Session, alice, bob, as_alice, as_bob
) -> None:
    mine = client.post(RECIPES, json=payload(), headers=with_key(as_alice, "shared"))
    theirs = client.post(RECIPES, json=payload(), headers=with_key(as_bob, "shared"))

    assert mine.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert count_recipes(db, alice) == count_recipes(db, bob) == 1


def test_reusing_a_key_with_another_body_is_a_422_and_writes_nothing(
    client, db: Session, alice, as_alice
) -> None:
    client.post(RECIPES, json=payload(), headers=with_key(as_alice, "once"))
    other = client.post(RECIPES, json=payload(title="Another soup"),
                        headers=with_key(as_alice, "once"))
    assert_problem(other, 422, "idempotency-key-reused")
    assert count_recipes(db, alice) == 1


def test_reusing_a_key_on_another_path_is_a_422(client, db: Session, alice, as_alice) -> None:
    client.post(RECIPES, json=payload(), headers=with_key(as_alice, "once"))
    other = client.post(f"{RECIPES}?x=1", json=payload(), headers=with_key(as_alice, "once"))
    assert_problem(other, 422, "idempotency-key-reused")


def test_an_expired_key_is_new_again(client, db: Session, alice, as_alice) -> None:
    make_idempotency_key(db, alice, "old", age=timedelta(hours=25))

    response = client.post(RECIPES, json=payload(), headers=with_key(as_alice, "old"))

    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers
    assert count_recipes(db, alice) == 1
    db.expire_all()
    stored = db.get(IdempotencyKey, (alice.id, "old"))
    assert stored is not None and stored.response_body == response.content


def test_a_failed_create_stores_no_key_so_its_retry_runs(
    client, db: Session, alice, as_alice
) -> None:
    refused = client.post(RECIPES, json=payload(servings=0), headers=with_key(as_alice, "k"))
    assert refused.status_code == 422
    assert count_keys(db) == 0
    retried = client.post(RECIPES, json=payload(), headers=with_key(as_alice, "k"))
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there", "line\x7f"])
def test_a_malformed_key_is_a_400_problem(client, db: Session, alice, as_alice, key) -> None:
    response = client.post(RECIPES, json=payload(),
                           headers={**as_alice, "Idempotency-Key": key.encode("latin-1")})
    assert_problem(response, 400, "invalid-idempotency-key")
    assert count_recipes(db, alice) == 0


def test_two_key_headers_are_a_400_problem(client, db: Session, alice, as_alice) -> None:
    headers = [*as_alice.items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    response = client.post(RECIPES, json=payload(), headers=headers)
    assert_problem(response, 400, "invalid-idempotency-key")


def test_the_longest_printable_key_is_accepted(client, as_alice) -> None:
    key = "".join(chr(32 + i % 95) for i in range(255))
    first = client.post(RECIPES, json=payload(), headers=with_key(as_alice, key))
    again = client.post(RECIPES, json=payload(), headers=with_key(as_alice, key))
    assert first.status_code == 201 and again.headers["idempotent-replayed"] == "true"


def test_a_replay_runs_two_statements(client, engine: Engine, as_alice) -> None:
    client.post(RECIPES, json=payload(), headers=with_key(as_alice, "counted"))
    with counting(engine) as statements:
        again = client.post(RECIPES, json=payload(), headers=with_key(as_alice, "counted"))
    assert again.headers["idempotent-replayed"] == "true"
    route = [s for s in statements if "revoked_sessions" not in s]
    # The (user, key) lock tried, the stored row read; then a rollback, no write.
    assert len(route) == 2, route
    assert "pg_try_advisory_xact_lock" in route[0]
    assert not any(s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for s in route)
