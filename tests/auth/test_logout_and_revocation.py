"""Logout and every way an internal token stops working: version, erasure, revoked
session, wrong key, wrong claims."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth.models import RevokedSession
from app.core.config import TOKEN_AUDIENCE, TOKEN_ISSUER, Settings
from app.core.logs import JsonFormatter
from app.core.secret_key import generate_secret_key, key_fingerprint
from app.db.base import utcnow
from app.users import service as users_service
from app.users.models import User
from tests.auth.support import (
    LOGOUT_URL,
    access_token,
    assert_unauthorized,
    bearer,
    comparable,
    exchange_ok,
    whoami,
)
from tests.factories import make_user
from tests.fakes.clerk import REMOVE, FakeClerk, sign_jwt

# --- logout ----------------------------------------------------------------------------------


def test_logout_revokes_every_outstanding_token_of_the_user_only(
    auth_client: TestClient, fake_clerk: FakeClerk, db: Session
) -> None:
    fake_clerk.register_user("user_leaving")
    fake_clerk.register_user("user_staying")
    first = exchange_ok(auth_client, fake_clerk.mint_session_token(sub="user_leaving"))
    second = exchange_ok(auth_client, fake_clerk.mint_session_token(sub="user_leaving"))
    other = exchange_ok(auth_client, fake_clerk.mint_session_token(sub="user_staying"))
    tokens = [first["access_token"], second["access_token"]]
    assert all(whoami(auth_client, token).status_code == 200 for token in tokens)

    response = auth_client.post(LOGOUT_URL, headers=bearer(first["access_token"]))

    assert response.status_code == 204
    assert response.content == b""
    for token in tokens:
        assert_unauthorized(whoami(auth_client, token))
        assert_unauthorized(auth_client.post(LOGOUT_URL, headers=bearer(token)))
    assert whoami(auth_client, other["access_token"]).status_code == 200
    # Signing in again after logout gives a token that works.
    again = exchange_ok(auth_client, fake_clerk.mint_session_token(sub="user_leaving"))
    assert whoami(auth_client, again["access_token"]).status_code == 200


def test_logout_bumps_the_token_version(auth_client: TestClient, db: Session) -> None:
    user = make_user(db)
    response = auth_client.post(LOGOUT_URL, headers=bearer(access_token(auth_client, user)))
    assert response.status_code == 204
    db.expire_all()
    assert db.get(User, user.id).token_version == 1  # type: ignore[union-attr]


def test_logout_without_a_token_is_401(auth_client: TestClient) -> None:
    assert_unauthorized(auth_client.post(LOGOUT_URL))


# --- internal token verification -------------------------------------------------------------


def _claims(user: User, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        "sub": str(user.id),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "sid": "sess_forged",
        "ver": user.token_version,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not REMOVE}


def _sign(settings: Settings, claims: dict[str, Any], *, key: str | None = None,
          **header: Any) -> str:
    secret = key or settings.SECRET_KEY.get_secret_value()  # type: ignore[union-attr]
    values = {"alg": "HS256", "typ": "JWT", "kid": key_fingerprint(secret), **header}
    return sign_jwt({k: v for k, v in values.items() if v is not REMOVE}, claims, secret.encode())


def test_a_correctly_built_token_is_accepted(
    auth_client: TestClient, settings: Settings, db: Session
) -> None:
    # The control for the refusals below: the same construction, nothing changed.
    user = make_user(db)
    assert whoami(auth_client, _sign(settings, _claims(user))).status_code == 200


BAD_TOKENS: dict[str, Any] = {
    "unknown_kid": lambda s, u: _sign(s, _claims(u), kid="0123456789abcdef"),
    "no_kid": lambda s, u: _sign(s, _claims(u), kid=REMOVE),
    "other_key_own_kid": lambda s, u: _sign(s, _claims(u), key=generate_secret_key()),
    "other_key_our_kid": lambda s, u: _sign(
        s, _claims(u), key=generate_secret_key(),
        kid=key_fingerprint(s.SECRET_KEY.get_secret_value()),
    ),
    "wrong_iss": lambda s, u: _sign(s, _claims(u, iss="https://clerk.example")),
    "wrong_aud": lambda s, u: _sign(s, _claims(u, aud="another-app")),
    "audience_list": lambda s, u: _sign(s, _claims(u, aud=[TOKEN_AUDIENCE, "another-app"])),
    "expired": lambda s, u: _sign(s, _claims(u, exp=int(time.time()) - 60)),
    "not_yet_valid": lambda s, u: _sign(s, _claims(u, nbf=int(time.time()) + 600)),
    "wrong_typ": lambda s, u: _sign(s, _claims(u, typ="refresh")),
    "ver_ahead": lambda s, u: _sign(s, _claims(u, ver=u.token_version + 1)),
    "ver_as_string": lambda s, u: _sign(s, _claims(u, ver="0")),
    "sub_unknown_user": lambda s, u: _sign(s, _claims(u, sub=str(uuid.uuid4()))),
    "sub_not_uuid": lambda s, u: _sign(s, _claims(u, sub=u.clerk_user_id)),
    "hs512": lambda s, u: _sign(s, _claims(u), alg="HS512"),
    **{
        f"missing_{name}": (lambda name: lambda s, u: _sign(s, _claims(u, **{name: REMOVE})))(name)
        for name in ("iss", "aud", "sub", "iat", "nbf", "exp", "jti", "typ", "sid", "ver")
    },
}


def test_every_bad_internal_token_gets_the_same_generic_401(
    auth_client: TestClient, settings: Settings, db: Session
) -> None:
    user = make_user(db)
    bodies = {}
    for name, build in BAD_TOKENS.items():
        response = whoami(auth_client, build(settings, user))
        bodies[name] = comparable(assert_unauthorized(response))
    reference = bodies["unknown_kid"]
    assert all(body == reference for body in bodies.values()), bodies


def test_token_from_before_a_logout_is_refused(auth_client: TestClient, db: Session) -> None:
    user = make_user(db)
    stale = access_token(auth_client, user)
    users_service.bump_token_version(db, user)
    db.commit()

    assert_unauthorized(whoami(auth_client, stale))
    assert whoami(auth_client, access_token(auth_client, user)).status_code == 200


@pytest.mark.parametrize("how", ["service", "deleted_at"])
def test_token_of_an_erased_user_is_refused(auth_client: TestClient, db: Session, how: str) -> None:
    user = make_user(db)
    token = access_token(auth_client, user)
    assert whoami(auth_client, token).status_code == 200
    if how == "service":
        users_service.erase_user(db, user)
    else:
        # Even with the token version untouched, an erased user has no access.
        user.deleted_at = utcnow()
    db.commit()

    assert_unauthorized(whoami(auth_client, token))


def test_token_of_a_revoked_clerk_session_is_refused(auth_client: TestClient, db: Session) -> None:
    user = make_user(db)
    revoked = access_token(auth_client, user, sid="sess_revoked")
    live = access_token(auth_client, user, sid="sess_live")
    db.add(RevokedSession(sid="sess_revoked"))
    db.commit()

    assert_unauthorized(whoami(auth_client, revoked))
    assert whoami(auth_client, live).status_code == 200


def test_internal_refusals_are_logged_with_a_reason_and_no_token_content(
    auth_client: TestClient, settings: Settings, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    user = make_user(db)
    tokens = {
        "unknown_kid": BAD_TOKENS["unknown_kid"](settings, user),
        "expired": BAD_TOKENS["expired"](settings, user),
        "bad_claims": BAD_TOKENS["wrong_aud"](settings, user),
        "revoked_version": BAD_TOKENS["ver_ahead"](settings, user),
    }
    caplog.set_level(logging.INFO, logger="homechef")

    for token in tokens.values():
        assert_unauthorized(whoami(auth_client, token))

    rejected = [r for r in caplog.records if getattr(r, "event", None) == "auth.token_rejected"]
    assert [r.reason for r in rejected] == list(tokens)  # type: ignore[attr-defined]
    assert all(r.token_kind == "internal" for r in rejected)  # type: ignore[attr-defined]
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    for token in tokens.values():
        signature = token.rsplit(".", 1)[1]
        assert not any(token in line or signature in line for line in lines)
