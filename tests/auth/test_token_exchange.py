"""POST /api/v1/auth/token: a Clerk session token in, an internal access token out."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.auth.clerk import ClerkUserProfile, ClerkVerifier
from app.auth.models import RevokedSession
from app.core.config import Settings
from app.core.logs import JsonFormatter
from app.db.base import utcnow
from app.users import service as users_service
from app.users.models import User
from tests.auth.support import (
    LOGOUT_URL,
    TOKEN_URL,
    access_token,
    assert_unauthorized,
    bearer,
    comparable,
    exchange,
    exchange_ok,
    whoami,
)
from tests.factories import make_user
from tests.fakes.clerk import REMOVE, FakeClerk


def users_with_clerk_id(db: Session, clerk_id: str) -> list[User]:
    db.expire_all()
    return list(db.scalars(select(User).where(User.clerk_user_id == clerk_id)))


# --- the happy path -------------------------------------------------------------------------


def test_valid_clerk_token_is_exchanged_for_a_working_access_token(
    auth_client: TestClient, fake_clerk: FakeClerk
) -> None:
    fake_clerk.register_user("user_ada", emails=["ada@example.com"])

    body = exchange_ok(auth_client, fake_clerk.mint_session_token(sub="user_ada"))

    assert set(body) == {"access_token", "token_type", "expires_in", "user"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["user"]["email"] == "ada@example.com"
    uuid.UUID(body["user"]["id"])
    me = whoami(auth_client, body["access_token"])
    assert me.status_code == 200, me.text
    assert me.json()["id"] == body["user"]["id"]
    # A real mounted route, not just the probe.
    assert auth_client.post(LOGOUT_URL, headers=bearer(body["access_token"])).status_code == 204


def test_first_exchange_creates_the_user_from_the_backend_api_profile(
    auth_client: TestClient, fake_clerk: FakeClerk, db: Session
) -> None:
    fake_clerk.register_user(
        "user_grace",
        emails=["old@example.com", "grace@example.com"],
        primary_index=1,
        first_name="Grace",
        last_name="Hopper",
        username="amazing_grace",
        image_url="https://img.clerk.com/grace.png",
        updated_at=1_800_000_000_000,
    )

    body = exchange_ok(auth_client, fake_clerk.mint_session_token(sub="user_grace"))

    [user] = users_with_clerk_id(db, "user_grace")
    assert (user.email, user.first_name, user.last_name, user.username, user.image_url) == (
        "grace@example.com", "Grace", "Hopper", "amazing_grace", "https://img.clerk.com/grace.png"
    )
    assert user.clerk_updated_at == 1_800_000_000_000
    assert body["user"]["id"] == str(user.id)
    assert body["user"]["first_name"] == "Grace"
    # The Backend API got the secret key; the public JWKS did not.
    by_path = {r.path: r.authorization for r in fake_clerk.requests}
    assert by_path["/v1/users/user_grace"] == f"Bearer {fake_clerk.secret_key}"
    assert by_path["/.well-known/jwks.json"] is None


def test_returning_user_is_not_fetched_from_clerk_again(
    auth_client: TestClient, fake_clerk: FakeClerk, db: Session
) -> None:
    fake_clerk.register_user("user_back")
    first = exchange_ok(auth_client, fake_clerk.mint_session_token(sub="user_back"))
    second = exchange_ok(auth_client, fake_clerk.mint_session_token(sub="user_back"))

    assert first["user"]["id"] == second["user"]["id"]
    assert first["access_token"] != second["access_token"]
    assert [r.path for r in fake_clerk.requests].count("/v1/users/user_back") == 1
    assert len(users_with_clerk_id(db, "user_back")) == 1


@pytest.mark.parametrize("users_status", [500, 503, 404])
def test_backend_api_failure_creates_the_user_from_the_token_alone(
    auth_client: TestClient, fake_clerk: FakeClerk, db: Session, users_status: int
) -> None:
    fake_clerk.register_user("user_offline")
    fake_clerk.users_status = users_status
    sub = "user_offline" if users_status != 404 else "user_never_registered"

    body = exchange_ok(auth_client, fake_clerk.mint_session_token(sub=sub))

    [user] = users_with_clerk_id(db, sub)
    assert user.email is None and user.first_name is None
    assert body["user"]["id"] == str(user.id)
    assert whoami(auth_client, body["access_token"]).status_code == 200


def test_simultaneous_first_exchanges_create_exactly_one_user(
    auth_client: TestClient, fake_clerk: FakeClerk, db: Session
) -> None:
    fake_clerk.register_user("user_rush")
    tokens = [fake_clerk.mint_session_token(sub="user_rush") for _ in range(20)]
    start = threading.Barrier(len(tokens))

    def attempt(token: str) -> tuple[int, str]:
        start.wait()
        response = exchange(auth_client, token)
        return response.status_code, response.text

    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        results = list(pool.map(attempt, tokens))

    assert [status for status, _ in results] == [200] * len(tokens), results
    ids = {json.loads(text)["user"]["id"] for _, text in results}
    [user] = users_with_clerk_id(db, "user_rush")
    assert ids == {str(user.id)}


# --- refusals ----------------------------------------------------------------------------


def _erase_existing(db: Session, clerk_id: str) -> None:
    make_user(db, clerk_user_id=clerk_id)
    assert users_service.erase_by_clerk_id(db, clerk_id) == "erased"
    db.commit()


def _tombstone_unknown(db: Session, clerk_id: str) -> None:
    # user.deleted arrived before we ever met the person.
    assert users_service.erase_by_clerk_id(db, clerk_id) == "tombstoned"
    db.commit()


def _deleted_at_directly(db: Session, clerk_id: str) -> None:
    make_user(db, clerk_user_id=clerk_id, deleted_at=utcnow())


@pytest.mark.parametrize("erase", [_erase_existing, _tombstone_unknown, _deleted_at_directly])
def test_erased_user_cannot_be_recreated_by_an_exchange(
    auth_client: TestClient, fake_clerk: FakeClerk, db: Session, erase: Any
) -> None:
    fake_clerk.register_user("user_gone", emails=["gone@example.com"])
    erase(db, "user_gone")

    response = exchange(auth_client, fake_clerk.mint_session_token(sub="user_gone"))

    assert_unauthorized(response)
    [user] = users_with_clerk_id(db, "user_gone")
    assert user.is_erased and user.email != "gone@example.com"


class _ErasedMidExchange(ClerkVerifier):
    """Clerk's user.deleted lands between our lookup and our insert."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        super().__init__(settings)
        self._engine = engine

    def fetch_user(self, user_id: str) -> ClerkUserProfile | None:
        profile = super().fetch_user(user_id)
        with Session(self._engine) as other:
            users_service.erase_by_clerk_id(other, user_id)
            other.commit()
        return profile


def test_user_erased_while_their_first_exchange_is_in_flight_stays_erased(
    auth_client: TestClient, fake_clerk: FakeClerk, clerk_settings: Settings, engine: Engine,
    db: Session,
) -> None:
    fake_clerk.register_user("user_racing", emails=["racing@example.com"])
    verifier = _ErasedMidExchange(clerk_settings, engine)
    auth_client.app.state.clerk_verifier = verifier  # type: ignore[attr-defined]
    try:
        response = exchange(auth_client, fake_clerk.mint_session_token(sub="user_racing"))
    finally:
        verifier.close()

    assert_unauthorized(response)
    [user] = users_with_clerk_id(db, "user_racing")
    assert user.is_erased and user.email is None


def test_token_of_a_revoked_clerk_session_is_refused(
    auth_client: TestClient, fake_clerk: FakeClerk, db: Session
) -> None:
    db.add(RevokedSession(sid="sess_revoked"))
    db.commit()

    response = exchange(auth_client, fake_clerk.mint_session_token(sid="sess_revoked"))

    assert_unauthorized(response)
    assert db.scalar(select(func.count()).select_from(User)) == 0


REFUSED_CLAIMS: dict[str, Any] = {
    "wrong_issuer": lambda fake: {"iss": "https://evil.clerk.accounts.dev"},
    "issuer_with_trailing_slash": lambda fake: {"iss": fake.issuer + "/"},
    "foreign_azp": lambda fake: {"azp": "https://evil.example"},
    "missing_sid": lambda fake: {"sid": REMOVE},
    "missing_sub": lambda fake: {"sub": REMOVE},
    "pending_session": lambda fake: {"sts": "pending"},
    "expired": lambda fake: {"now": _now() - 3600},
    "not_yet_valid": lambda fake: {"nbf": int(_now()) + 600},
    "issued_in_the_future": lambda fake: {"now": _now() + 600},
}


def _now() -> float:
    return time.time()


def test_every_bad_clerk_token_gets_the_same_generic_401(
    auth_client: TestClient, fake_clerk: FakeClerk, db: Session
) -> None:
    bodies = {}
    for name, overrides in REFUSED_CLAIMS.items():
        response = exchange(auth_client, fake_clerk.mint_session_token(**overrides(fake_clerk)))
        bodies[name] = comparable(assert_unauthorized(response))
    # A token signed by a key Clerk never published, under a published kid.
    forged = fake_clerk.mint_session_token(
        key=fake_clerk.unpublished_key(), headers={"kid": fake_clerk.current_key.kid}
    )
    bodies["forged_signature"] = comparable(assert_unauthorized(exchange(auth_client, forged)))

    reference = bodies["wrong_issuer"]
    assert all(body == reference for body in bodies.values()), bodies
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_internal_access_token_is_refused_by_the_exchange(
    auth_client: TestClient, db: Session
) -> None:
    user = make_user(db)
    response = exchange(auth_client, access_token(auth_client, user))
    assert_unauthorized(response)


def test_exchange_without_any_token_is_401(auth_client: TestClient) -> None:
    assert_unauthorized(auth_client.post(TOKEN_URL))


# --- security log ------------------------------------------------------------------------


def _formatted(records: list[logging.LogRecord]) -> list[str]:
    formatter = JsonFormatter()
    return [formatter.format(record) for record in records] + [r.getMessage() for r in records]


def _events(records: list[logging.LogRecord], name: str) -> list[logging.LogRecord]:
    return [r for r in records if getattr(r, "event", None) == name]


def test_refusals_are_logged_with_a_reason_and_no_token_content(
    auth_client: TestClient, fake_clerk: FakeClerk, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    db.add(RevokedSession(sid="sess_logged"))
    db.commit()
    _tombstone_unknown(db, "user_erased_logged")
    tokens = {
        "bad_issuer": fake_clerk.mint_session_token(iss="https://evil.example"),
        "expired": fake_clerk.mint_session_token(now=_now() - 3600),
        "revoked_session": fake_clerk.mint_session_token(sid="sess_logged"),
        "user_erased": fake_clerk.mint_session_token(sub="user_erased_logged"),
        "unknown_kid": fake_clerk.mint_session_token(
            key=fake_clerk.unpublished_key(), headers={"kid": "ins_unknown"}
        ),
    }
    caplog.set_level(logging.INFO, logger="homechef")

    for token in tokens.values():
        assert_unauthorized(exchange(auth_client, token))

    rejected = _events(caplog.records, "auth.token_rejected")
    assert [r.reason for r in rejected] == list(tokens)  # type: ignore[attr-defined]
    assert all(r.token_kind == "clerk" for r in rejected)  # type: ignore[attr-defined]
    lines = _formatted(caplog.records)
    for token in tokens.values():
        signature = token.rsplit(".", 1)[1]
        assert not any(token in line or signature in line for line in lines)


def test_successful_exchange_logs_token_issued_without_the_tokens(
    auth_client: TestClient, fake_clerk: FakeClerk, caplog: pytest.LogCaptureFixture
) -> None:
    fake_clerk.register_user("user_logged", emails=["logged@example.com"])
    clerk_token = fake_clerk.mint_session_token(sub="user_logged")
    caplog.set_level(logging.INFO, logger="homechef")

    body = exchange_ok(auth_client, clerk_token)

    [issued] = _events(caplog.records, "auth.token_issued")
    assert issued.user_id == body["user"]["id"]  # type: ignore[attr-defined]
    lines = _formatted(caplog.records)
    for secret in (clerk_token, body["access_token"], "logged@example.com"):
        assert not any(secret in line for line in lines)


# --- tokens made for someone else (security review, finding 2) -------------------------------

THIRTY_DAYS = 30 * 24 * 3600


def test_jwt_template_token_for_a_partner_is_not_exchanged(
    auth_client: TestClient, fake_clerk: FakeClerk, db: Session
) -> None:
    # What Clerk mints from a JWT template: same key, same default claims, an audience,
    # a long life, and no session-token marker.
    now = int(time.time())
    template = fake_clerk.mint_session_token(
        sub="user_partnered", aud="partner", exp=now + THIRTY_DAYS, iat=now, v=REMOVE, fva=REMOVE
    )
    assert_unauthorized(exchange(auth_client, template))
    assert users_with_clerk_id(db, "user_partnered") == []


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "partner"},
        {"aud": ["partner", "other"]},
        {"aud": ""},
        {"v": REMOVE},
        {"v": 1},
        {"v": "2"},
        {"v": True},
        {"exp_after_iat": 3600},
        {"exp_after_iat": THIRTY_DAYS},
    ],
    ids=["aud", "aud-list", "aud-empty", "no-v", "v1", "v-string", "v-bool", "one-hour",
         "thirty-days"],
)
def test_each_template_trait_alone_is_refused(
    auth_client: TestClient, fake_clerk: FakeClerk, claims: dict[str, Any]
) -> None:
    now = int(time.time())
    if "exp_after_iat" in claims:
        claims = {"iat": now, "exp": now + claims["exp_after_iat"]}
    token = fake_clerk.mint_session_token(now=now, **claims)
    assert_unauthorized(exchange(auth_client, token))


def test_a_five_minute_session_token_is_still_accepted(
    auth_client: TestClient, fake_clerk: FakeClerk
) -> None:
    now = int(time.time())
    exchange_ok(auth_client, fake_clerk.mint_session_token(now=now, iat=now, exp=now + 300))


def test_configured_audience_is_required_and_must_match(
    make_auth_client: Any, clerk_settings: Settings, fake_clerk: FakeClerk
) -> None:
    settings = clerk_settings.model_copy(update={"CLERK_AUDIENCE": "homechef-api"})
    client = make_auth_client(settings)
    exchange_ok(client, fake_clerk.mint_session_token(aud="homechef-api"))
    exchange_ok(client, fake_clerk.mint_session_token(aud=["homechef-api", "other"]))
    assert_unauthorized(exchange(client, fake_clerk.mint_session_token()))
    assert_unauthorized(exchange(client, fake_clerk.mint_session_token(aud="partner")))
    # The audience does not stand in for the session-token marker.
    no_marker = fake_clerk.mint_session_token(aud="homechef-api", v=REMOVE)
    assert_unauthorized(exchange(client, no_marker))
