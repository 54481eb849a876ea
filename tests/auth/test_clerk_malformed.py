"""ClerkVerifier on malformed tokens, headers, payloads and signatures: each a clean 401."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.auth.clerk import (
    ClerkVerifier,
)
from tests.auth.clerk_support import (
    MALFORMED,
    header_for,
    mint,
    rejection,
)
from tests.fakes.clerk import (
    REMOVE,
    FakeClerk,
    sign_jwt,
)

# --- malformed input ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_tokens_are_invalid_not_errors(
    clerk: FakeClerk, verifier: ClerkVerifier, name: str
) -> None:
    token, reasons = MALFORMED[name]
    assert rejection(verifier, token) in reasons
    assert clerk.jwks_fetches == 0


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"kid": REMOVE}, "bad_header"),
        ({"kid": ""}, "bad_header"),
        ({"kid": 17}, "bad_header"),
        ({"kid": ["a"]}, "bad_header"),
        ({"kid": "k" * 1000}, "bad_header"),
        ({"crit": ["exp"]}, "bad_header"),
        ({"alg": REMOVE}, "unsupported_alg"),
    ],
    ids=lambda value: json.dumps(value, default=repr) if isinstance(value, dict) else value,
)
def test_bad_headers_are_refused(
    clerk: FakeClerk, verifier: ClerkVerifier, headers: dict[str, Any], reason: str
) -> None:
    assert rejection(verifier, mint(clerk, headers=headers)) == reason


@pytest.mark.parametrize(
    "payload", [b"not json", b"[1,2]", b"null", b'{"exp": Infinity}', b"\xff\xfe"]
)
def test_signed_but_malformed_payload_is_refused(
    clerk: FakeClerk, verifier: ClerkVerifier, payload: bytes
) -> None:
    token = sign_jwt(header_for(clerk, "RS256"), payload, clerk.current_key.private_key)
    assert rejection(verifier, token) == "malformed"


def test_corrupted_signature_is_refused(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    header, payload, signature = mint(clerk).split(".")
    for bad in ("AAAA", signature[:-8], signature[::-1]):
        assert rejection(verifier, f"{header}.{payload}.{bad}") in {"bad_signature", "malformed"}
