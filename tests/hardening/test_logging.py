"""Request ids, the access line, security events, and redaction under an attack sequence."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core import events
from app.core.config import Settings
from app.core.logs import JsonFormatter, RedactingFilter, redact
from tests.factories import auth_headers, make_user
from tests.fakes.clerk import FakeClerk
from tests.fakes.svix_signing import new_webhook_secret, svix_headers
from tests.hardening.support import ME_URL, assert_problem

TOKEN_URL = "/api/v1/auth/token"
LOGOUT_URL = "/api/v1/auth/logout"
WEBHOOK_URL = "/api/v1/webhooks/clerk"


def access_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == "http.access"]


# --- request ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "incoming", ["abc-123-DEF_456", "trace:0af7651916cd43dd.8448eb2", "x" * 128]
)
def test_a_sane_incoming_request_id_is_kept_and_echoed(client: TestClient, incoming: str) -> None:
    response = client.get("/nope", headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"] == incoming
    assert response.json()["request_id"] == incoming


@pytest.mark.parametrize(
    "incoming",
    ["short", "x" * 129, "has space in it", "new\nline-injected", "quote\"inside1", "ünïcödé-id-1"],
)
def test_an_insane_request_id_is_replaced(client: TestClient, incoming: str) -> None:
    response = client.get("/health", headers={"X-Request-ID": incoming.encode("utf-8")})
    generated = response.headers["x-request-id"]
    assert generated != incoming and len(generated) == 32


def test_every_line_of_a_request_carries_its_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = client.get(ME_URL, headers={"X-Request-ID": "req-0001-abcdef"})
    assert response.status_code == 401
    # The revocation feed's thread logs on its own schedule, outside any request.
    mine = [r for r in caplog.records
            if r.name.startswith("homechef") and r.threadName != "revocation-feed"]
    assert {getattr(r, "event", None) for r in mine} >= {"auth.token_rejected", "http.access"}
    for record in mine:
        assert json.loads(JsonFormatter().format(record))["request_id"] == "req-0001-abcdef"


# --- the access line --------------------------------------------------------------------------


def test_access_line_has_method_route_template_status_duration_user_and_ip(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings],
    db: Session, caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(make_settings(TRUSTED_PROXIES=["10.0.0.0/8"]), client=("10.0.0.9", 1))
    user = make_user(db)
    caplog.set_level(logging.INFO)
    response = client.get(f"{ME_URL}?access_token=leaky-query-value",
                          headers={**auth_headers(client.app, user),
                                   "X-Forwarded-For": "198.51.100.23"})
    assert response.status_code == 200
    [line] = access_lines(caplog)
    assert line.name == "homechef.access"
    assert (line.method, line.route, line.status) == ("GET", ME_URL, 200)
    assert isinstance(line.duration_ms, float) and line.duration_ms >= 0
    assert line.user_id == str(user.id)
    assert line.client_ip == "198.51.100.23"
    assert line.request_id == response.headers["x-request-id"]
    assert "leaky-query-value" not in JsonFormatter().format(line)


def test_access_line_fields_a_client_chooses_are_redacted(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    # The access line skips the general redaction pass (its fields are made or checked
    # by the app), so the two values a client picks freely are redacted where it is built.
    jwt_shaped = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZWNyZXQifQ.c2lnbmF0dXJlLXNlY3JldA"
    caplog.set_level(logging.INFO)
    client.get("/health", headers={"X-Request-ID": jwt_shaped})
    client.request("EYJHBGCIOIJIUZI1NIJ9.EYJZDWIIOIJZZWNYZXQIFQ.C2LNBMF0DXJLLXNLY3JLDA", "/health")
    lines = access_lines(caplog)
    assert len(lines) == 2
    for line in lines:
        text = JsonFormatter().format(line)
        assert "eyJhbGciOiJIUzI1NiJ9" not in text
        assert "C2LNBMF0DXJLLXNLY3JLDA" not in text
    assert lines[0].request_id == "[REDACTED]"
    assert lines[1].method == "[REDACTED]"


def test_access_line_uses_the_template_not_the_path(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client.get("/api/v1/users/3f9c1c0e-0000-4000-8000-000000000000")
    client.get("/no/such/thing")
    routes = [(line.route, line.status, line.user_id) for line in access_lines(caplog)]
    assert routes == [("/api/v1/users/{user_id}", 401, None), ("<unmatched>", 404, None)]


def test_access_line_for_an_unhandled_error_is_500(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    def explode() -> None:
        raise RuntimeError("boom")

    client.app.add_api_route("/explode", explode)  # type: ignore[attr-defined]
    caplog.set_level(logging.INFO)
    assert_problem(client.get("/explode"), 500)
    [line] = access_lines(caplog)
    assert (line.route, line.status) == ("/explode", 500)


# --- events -----------------------------------------------------------------------------------


def test_security_event_helper_uses_the_security_logger_and_stable_names(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    events.security_event(events.WEBHOOK_REJECTED, reason="bad_signature", name="shadowed")
    [record] = caplog.records
    assert record.name == "homechef.security"
    assert record.levelno == logging.WARNING
    assert (record.event, record.reason, record.name_) == ("webhook.rejected", "bad_signature",
                                                         "shadowed")
    names = {
        "auth.token_issued", "auth.token_rejected", "auth.clerk_unavailable", "auth.logout",
        "webhook.rejected", "webhook.processed", "ratelimit.exceeded", "startup.validation",
        "db.unavailable", "config.warning",
    }
    assert names <= set(events.DEFAULT_LEVELS)


# --- redaction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "leaked"),
    [
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("bearer opaque_token_value", "opaque_token_value"),
        ("tok=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl end", "eyJzdWIiOiIxIn0"),
        ("half eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0", "eyJzdWIiOiIxIn0"),
        ("key sk_live_4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjtT1zdp7dc"),
        ("key sk_test_4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjtT1zdp7dc"),
        ("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ("from ada.lovelace+cook@example.co.uk!", "ada.lovelace"),
        ("dsn postgresql://app:hunter2secret@db.example.com/x", "hunter2secret"),
        ("redis rediss://:p4ssw0rd-redis@cache:6380/0", "p4ssw0rd-redis"),
    ],
)
def test_redaction_masks_secrets_in_any_text(raw: str, leaked: str) -> None:
    cleaned = redact(raw)
    assert leaked not in cleaned
    assert redact(cleaned) == cleaned  # idempotent: the filter and the formatter both run


def test_redaction_keeps_ordinary_text() -> None:
    for text in ("GET /api/v1/recipes/{recipe_id} 200", "app.core.ratelimit", "user_2abc",
                 "3f9c1c0e-0000-4000-8000-000000000000", "sslmode=require", "example.com"):
        assert redact(text) == text


def test_redacting_filter_cleans_args_extras_and_tracebacks() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    try:
        raise ValueError(f"bad token {token}")
    except ValueError:
        import sys

        record = logging.LogRecord("homechef.x", logging.ERROR, __file__, 1, "got %s from %s",
                                   (token, "cook@example.com"), sys.exc_info())
    record.headers = {"authorization": f"Bearer {token}"}
    record.emails = ["cook@example.com"]
    assert RedactingFilter().filter(record)
    line = JsonFormatter().format(record)
    assert token not in line and "cook@example.com" not in line and "eyJzdWIi" not in line
    assert "***@example.com" in line and "ValueError" in line


# --- the attack sequence ----------------------------------------------------------------------


@pytest.fixture
def fake_clerk() -> Iterator[FakeClerk]:
    with FakeClerk() as fake:
        yield fake


def test_attack_sequence_leaves_no_token_key_secret_or_email_in_any_log_line(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings],
    fake_clerk: FakeClerk, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    webhook_secret = new_webhook_secret()
    settings = make_settings(
        CLERK_JWKS_URL=fake_clerk.jwks_url, CLERK_ISSUER=fake_clerk.issuer,
        CLERK_SECRET_KEY=fake_clerk.secret_key, CLERK_API_URL=fake_clerk.api_url,
        ALLOWED_ORIGINS=[fake_clerk.authorized_party], CLERK_WEBHOOK_SECRET=webhook_secret,
        RATE_LIMIT_ENABLED=True, RATE_LIMIT_AUTH="5/minute", LOG_LEVEL="DEBUG",
    )
    caplog.set_level(logging.DEBUG)
    client = make_client(settings)

    def boom() -> None:
        raise RuntimeError(f"cannot use {clerk_token} for {email}")

    client.app.add_api_route("/api/v1/_boom", boom)  # type: ignore[attr-defined]

    email = "ada.lovelace@example.com"
    fake_clerk.register_user("user_ada", emails=[email])
    clerk_token = fake_clerk.mint_session_token(sub="user_ada")
    exchanged = client.post(TOKEN_URL, headers={"Authorization": f"Bearer {clerk_token}"})
    assert exchanged.status_code == 200, exchanged.text
    access_token = exchanged.json()["access_token"]
    good = {"Authorization": f"Bearer {access_token}"}

    assert client.get(ME_URL, headers=good).json()["email"] == email
    tampered = access_token[:-6] + ("A" * 6 if not access_token.endswith("A" * 6) else "B" * 6)
    assert client.get(ME_URL, headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    client.get(f"{ME_URL}?token={access_token}&email={email}")
    client.get(ME_URL, headers={"X-Request-ID": "sk_live_abcdefgh12345678", **good})
    client.get(ME_URL, headers={"Authorization": f"Basic {fake_clerk.secret_key}"})
    for forged in ("garbage", clerk_token + "x", fake_clerk.secret_key, webhook_secret):
        refused = client.post(TOKEN_URL, headers={"Authorization": f"Bearer {forged}"})
        assert refused.status_code == 401
    again = client.post(TOKEN_URL, headers={"Authorization": f"Bearer {clerk_token}"})
    assert again.status_code == 429  # the auth limit, per IP
    fake_clerk.go_down(503)

    payload = json.dumps({"type": "user.updated", "data": {
        "id": "user_ada", "email_addresses": [{"id": "idn_1", "email_address": email}],
        "primary_email_address_id": "idn_1", "first_name": "Ada", "updated_at": 1,
    }})
    bad_signature = svix_headers(new_webhook_secret(), payload)
    rejected = client.post(WEBHOOK_URL, content=payload, headers=bad_signature)
    assert rejected.status_code in (400, 401)
    signed = svix_headers(webhook_secret, payload)
    assert client.post(WEBHOOK_URL, content=payload, headers=signed).status_code == 200
    assert_problem(client.get("/api/v1/_boom", headers=good), 500)
    assert client.post(LOGOUT_URL, headers=good).status_code == 204

    secrets = {
        "access token": access_token, "tampered token": tampered, "clerk token": clerk_token,
        "clerk secret key": fake_clerk.secret_key, "webhook secret": webhook_secret,
        "webhook secret body": webhook_secret.removeprefix("whsec_"),
        "SECRET_KEY": settings.SECRET_KEY.get_secret_value(), "email": email,
        "email local part": "ada.lovelace", "live-looking request id": "abcdefgh12345678",
    }
    lines = [JsonFormatter().format(record) for record in caplog.records]
    written = [line for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert len(written) >= 10
    for line in lines + written:
        for what, value in secrets.items():
            assert value not in line, f"{what} leaked into: {line[:300]}"
        # No fragment of a token either: a JWT's payload segment alone identifies it.
        for token in (access_token, clerk_token):
            assert token.split(".")[1] not in line

    seen = {getattr(record, "event", None) for record in caplog.records}
    assert seen >= {
        "auth.token_issued", "auth.token_rejected", "auth.logout", "webhook.rejected",
        "webhook.processed", "ratelimit.exceeded", "http.access", "error.unhandled",
        "startup.validation",
    }
