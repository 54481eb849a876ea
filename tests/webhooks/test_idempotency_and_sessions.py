"""Redelivery is harmless (even concurrent), and session events revoke internal tokens."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import RevokedSession
from app.users.models import User
from app.webhooks.models import WebhookEvent
from tests.factories import auth_headers, make_user
from tests.fakes.svix_signing import svix_headers
from tests.webhooks.conftest import WEBHOOK_PATH, PostEvent
from tests.webhooks.events import session_event, user_deleted, user_event


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_a_redelivered_message_has_no_second_effect(post_event: PostEvent, db: Session) -> None:
    first = post_event(user_event("created", "user_dup", first_name="First"), msg_id="msg_1")
    assert first.json() == {"status": "processed"}
    # Between deliveries our user edits a field the webhook also writes.
    db.execute(User.__table__.update().values(first_name="Edited"))
    db.commit()

    again = post_event(user_event("created", "user_dup", first_name="First"), msg_id="msg_1")

    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    db.expire_all()
    assert db.scalars(select(User.first_name)).one() == "Edited"
    assert count(db, WebhookEvent) == 1


def test_a_redelivered_deletion_does_not_bump_the_token_version_twice(
    post_event: PostEvent, db: Session
) -> None:
    make_user(db, clerk_user_id="user_del_twice")
    post_event(user_deleted("user_del_twice"), msg_id="msg_del")
    post_event(user_deleted("user_del_twice"), msg_id="msg_del")
    db.expire_all()
    assert db.scalars(select(User.token_version)).one() == 1


def test_concurrent_duplicates_both_succeed_with_one_effect(
    hook_client: TestClient, webhook_secret: str, db: Session
) -> None:
    make_user(db, clerk_user_id="user_race", clerk_updated_at=1)
    body = json.dumps(user_deleted("user_race"))
    headers = svix_headers(webhook_secret, body, msg_id="msg_race")
    senders = 8
    barrier = threading.Barrier(senders)

    def deliver(_: int) -> httpx.Response:
        barrier.wait()
        return hook_client.post(WEBHOOK_PATH, content=body, headers=headers)

    with ThreadPoolExecutor(senders) as pool:
        responses = list(pool.map(deliver, range(senders)))

    assert [r.status_code for r in responses] == [200] * senders
    statuses = sorted(r.json()["status"] for r in responses)
    assert statuses == ["duplicate"] * (senders - 1) + ["processed"]
    db.expire_all()
    assert count(db, WebhookEvent) == 1
    assert db.scalars(select(User.token_version)).one() == 1


def test_distinct_messages_for_one_user_in_parallel_all_apply(
    hook_client: TestClient, webhook_secret: str, db: Session
) -> None:
    events = [
        user_event("updated", "user_par", updated_at=t, first_name=f"v{t}") for t in range(1, 9)
    ]
    barrier = threading.Barrier(len(events))

    def deliver(event: dict[str, object]) -> httpx.Response:
        body = json.dumps(event)
        headers = svix_headers(webhook_secret, body)
        barrier.wait()
        return hook_client.post(WEBHOOK_PATH, content=body, headers=headers)

    with ThreadPoolExecutor(len(events)) as pool:
        responses = list(pool.map(deliver, events))

    assert all(r.status_code == 200 for r in responses)
    db.expire_all()
    assert db.scalars(select(User.first_name)).one() == "v8"
    assert count(db, WebhookEvent) == len(events)


def test_session_revoked_stops_tokens_with_that_sid(
    post_event: PostEvent, hook_client: TestClient, db: Session
) -> None:
    user = make_user(db)
    revoked = auth_headers(hook_client.app, user, sid="sess_revoked")  # type: ignore[arg-type]
    other = auth_headers(hook_client.app, user, sid="sess_other")  # type: ignore[arg-type]
    assert hook_client.get("/api/v1/users/me", headers=revoked).status_code == 200

    response = post_event(session_event("revoked", "sess_revoked", user.clerk_user_id))

    assert response.json() == {"status": "processed"}
    assert hook_client.get("/api/v1/users/me", headers=revoked).status_code == 401
    assert hook_client.get("/api/v1/users/me", headers=other).status_code == 200


def test_session_ended_and_removed_also_revoke(post_event: PostEvent, db: Session) -> None:
    post_event(session_event("ended", "sess_ended"))
    post_event(session_event("removed", "sess_removed"))
    db.expire_all()
    assert set(db.scalars(select(RevokedSession.sid))) == {"sess_ended", "sess_removed"}


def test_the_same_session_revoked_by_two_events_is_fine(post_event: PostEvent, db: Session) -> None:
    assert post_event(session_event("ended", "sess_twice")).status_code == 200
    assert post_event(session_event("revoked", "sess_twice")).status_code == 200
    assert count(db, RevokedSession) == 1
    assert count(db, WebhookEvent) == 2


def test_concurrent_events_revoking_one_session_both_succeed(
    hook_client: TestClient, webhook_secret: str, db: Session
) -> None:
    events = [session_event(kind, "sess_raced") for kind in ("ended", "revoked", "removed")]
    barrier = threading.Barrier(len(events))

    def deliver(event: dict[str, object]) -> httpx.Response:
        body = json.dumps(event)
        headers = svix_headers(webhook_secret, body)
        barrier.wait()
        return hook_client.post(WEBHOOK_PATH, content=body, headers=headers)

    with ThreadPoolExecutor(len(events)) as pool:
        responses = list(pool.map(deliver, events))

    assert [r.status_code for r in responses] == [200] * len(events)
    assert count(db, RevokedSession) == 1
    assert count(db, WebhookEvent) == len(events)


def test_session_event_with_unusable_id_is_ignored(post_event: PostEvent, db: Session) -> None:
    for sid in (None, 5, "", "s" * 129, "sess_\x00"):
        response = post_event({"type": "session.revoked", "data": {"id": sid}})
        assert response.json() == {"status": "ignored"}
    assert count(db, RevokedSession) == 0
