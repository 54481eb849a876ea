"""Helpers shared by the ClerkVerifier tests (test_clerk_*.py); fixtures are in conftest."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.auth.clerk import ClerkVerifier, InvalidClerkToken
from app.core.config import Settings
from tests.fakes.clerk import DEFAULT_AUTHORIZED_PARTY, FakeClerk, b64url

NOW = 1_900_000_000.0
TTL = 3600
COOLDOWN = 60.0


def make_settings(**overrides: Any) -> Settings:
    """Settings for a verifier alone: no database, no .env, and no Clerk unless named."""
    values: dict[str, Any] = {
        "ENVIRONMENT": "test",
        "CLERK_SECRET_KEY": None,
        "CLERK_PUBLISHABLE_KEY": None,
        "CLERK_JWT_KEY": None,
        "CLERK_JWKS_URL": None,
        "CLERK_AUTHORIZED_PARTIES": [],
        "ALLOWED_ORIGINS": [DEFAULT_AUTHORIZED_PARTY],
        "CLERK_HTTP_TIMEOUT": 2.0,
        "CLERK_JWKS_CACHE_TTL": TTL,
        "CLERK_JWKS_REFETCH_COOLDOWN": COOLDOWN,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def mint(clerk: FakeClerk, **kwargs: Any) -> str:
    return clerk.mint_session_token(now=NOW, **kwargs)


def rejection(verifier: ClerkVerifier, token: Any) -> str:
    with pytest.raises(InvalidClerkToken) as caught:
        verifier.verify_session_token(token)
    return caught.value.reason


def header_for(clerk: FakeClerk, alg: str, **extra: Any) -> dict[str, Any]:
    return {"alg": alg, "kid": clerk.current_key.kid, "typ": "JWT", **extra}


def assert_not_logged(caplog: pytest.LogCaptureFixture, needles: list[str]) -> None:
    for record in caplog.records:
        text = f"{record.getMessage()} {record.__dict__!r}"
        for needle in needles:
            assert needle not in text, f"{record.name}: {record.getMessage()}"


def b64json(value: Any) -> str:
    return b64url(json.dumps(value).encode())


MALFORMED: dict[str, tuple[Any, set[str]]] = {
    "empty": ("", {"malformed"}),
    "one-segment": ("abc", {"malformed"}),
    "two-segments": ("abc.def", {"malformed"}),
    "four-segments": ("a.b.c.d", {"malformed"}),
    "empty-segment": ("abc..def", {"malformed"}),
    "not-base64": ("!!!.@@@.###", {"malformed"}),
    "padded-base64": ("eyJhbGciOiJSUzI1NiJ9==.e30.AAAA", {"malformed"}),
    "impossible-length": ("a.b.c", {"malformed"}),
    "twenty-kb": ("a" * 10_000 + "." + "b" * 10_000 + ".c", {"too_large"}),
    "just-over-8kb": ("a." + "b" * 8192 + ".c", {"too_large"}),
    "non-ascii": ("éé.éé.éé", {"malformed"}),
    "non-ascii-in-valid-shape": (b64json({"alg": "RS256"}) + ".e30.ü", {"malformed"}),
    "header-array": (b64json(["RS256"]) + ".e30.AAAA", {"bad_header"}),
    "header-null": (b64json(None) + ".e30.AAAA", {"bad_header"}),
    "header-string": (b64json("RS256") + ".e30.AAAA", {"bad_header"}),
    "header-number": (b64json(7) + ".e30.AAAA", {"bad_header"}),
    "header-not-json": (b64url(b"{alg: RS256}") + ".e30.AAAA", {"bad_header"}),
    "header-not-utf8": (b64url(b"\xff\xfe{}") + ".e30.AAAA", {"bad_header"}),
    "header-nan": (b64url(b'{"alg":"RS256","x":NaN}') + ".e30.AAAA", {"bad_header"}),
    "header-deep": (b64url(b"[" * 1000 + b"]" * 1000) + ".e30.AAAA", {"bad_header"}),
    "bytes": (b"abc.def.ghi", {"malformed"}),
    "none": (None, {"malformed"}),
    "bearer-prefix": ("Bearer abc.def.ghi", {"malformed"}),
    "whitespace": (" abc.def.ghi ", {"malformed"}),
}
