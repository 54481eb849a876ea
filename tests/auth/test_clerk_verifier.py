"""app.auth.clerk against a real loopback fake Clerk (no database)."""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.auth.clerk import (
    LEEWAY_SECONDS,
    ClerkUnavailable,
    ClerkVerifier,
    InvalidClerkToken,
)
from app.core.config import Settings
from tests.fakes.clerk import (
    DEFAULT_AUTHORIZED_PARTY,
    REMOVE,
    FakeClerk,
    b64url,
    sign_jwt,
)

NOW = 1_900_000_000.0
TTL = 3600
COOLDOWN = 60.0


class Clock:
    """A hand-moved clock, so no test depends on how fast the machine is."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_settings(**overrides: Any) -> Settings:
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


@pytest.fixture
def clerk() -> Iterator[FakeClerk]:
    with FakeClerk() as fake:
        yield fake


@pytest.fixture
def monotonic() -> Clock:
    return Clock(1000.0)


@pytest.fixture(scope="module")
def shared_client() -> Iterator[httpx.Client]:
    # Building an httpx.Client costs ~60 ms (TLS context); one per module keeps tests quick.
    with httpx.Client() as client:
        yield client


@pytest.fixture
def make_verifier(monotonic: Clock, shared_client: httpx.Client) -> Iterator[Any]:
    made: list[ClerkVerifier] = []

    def make(settings: Settings, **kwargs: Any) -> ClerkVerifier:
        kwargs.setdefault("http_client", shared_client)
        verifier = ClerkVerifier(settings, clock=Clock(NOW), monotonic=monotonic, **kwargs)
        made.append(verifier)
        return verifier

    yield make
    for verifier in made:
        verifier.close()


@pytest.fixture
def verifier(clerk: FakeClerk, make_verifier: Any) -> ClerkVerifier:
    return make_verifier(make_settings(CLERK_JWKS_URL=clerk.jwks_url, CLERK_ISSUER=clerk.issuer))


def mint(clerk: FakeClerk, **kwargs: Any) -> str:
    return clerk.mint_session_token(now=NOW, **kwargs)


def rejection(verifier: ClerkVerifier, token: Any) -> str:
    with pytest.raises(InvalidClerkToken) as caught:
        verifier.verify_session_token(token)
    return caught.value.reason


# --- the happy path and key rotation ---------------------------------------------------------


def test_valid_token_is_accepted(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    token = mint(clerk, sub="user_abc", sid="sess_xyz")

    claims = verifier.verify_session_token(token)

    assert (claims.sub, claims.sid, claims.azp, claims.iss) == (
        "user_abc",
        "sess_xyz",
        DEFAULT_AUTHORIZED_PARTY,
        clerk.issuer,
    )
    assert claims.exp == int(NOW) + 60 and claims.iat == int(NOW)
    assert claims.claims["v"] == 2
    assert clerk.jwks_fetches == 1


def test_verifier_with_its_own_http_client(clerk: FakeClerk) -> None:
    settings = make_settings(CLERK_JWKS_URL=clerk.jwks_url, CLERK_ISSUER=clerk.issuer)
    verifier = ClerkVerifier(settings)
    try:
        verifier.verify_session_token(clerk.mint_session_token())  # real clocks
    finally:
        verifier.close()


def test_keys_are_cached_between_tokens(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    for _ in range(5):
        verifier.verify_session_token(mint(clerk))
    assert clerk.jwks_fetches == 1


def test_rotated_key_is_accepted_after_exactly_one_refetch(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    old_token = mint(clerk)
    verifier.verify_session_token(old_token)
    monotonic.advance(COOLDOWN)

    clerk.rotate_key()
    verifier.verify_session_token(mint(clerk))
    verifier.verify_session_token(mint(clerk))
    verifier.verify_session_token(old_token)

    assert clerk.jwks_fetches == 2


def test_new_kid_within_the_cooldown_is_refused_without_fetching(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    verifier.verify_session_token(mint(clerk))
    clerk.rotate_key()

    assert rejection(verifier, mint(clerk)) == "unknown_kid"
    assert clerk.jwks_fetches == 1

    monotonic.advance(COOLDOWN)
    verifier.verify_session_token(mint(clerk))
    assert clerk.jwks_fetches == 2


def test_expired_cache_is_refreshed_after_the_ttl(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    verifier.verify_session_token(mint(clerk))
    monotonic.advance(TTL)
    verifier.verify_session_token(mint(clerk))
    assert clerk.jwks_fetches == 2


def test_removed_key_stops_working_once_the_cache_expires(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    old = clerk.current_key
    verifier.verify_session_token(mint(clerk))
    clerk.rotate_key()
    clerk.remove_key(old.kid)
    monotonic.advance(TTL)

    assert rejection(verifier, mint(clerk, key=old)) == "unknown_kid"
    verifier.verify_session_token(mint(clerk))


# --- Clerk unreachable ---------------------------------------------------------------------


def test_jwks_down_with_cached_keys_still_verifies(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    verifier.verify_session_token(mint(clerk))
    clerk.go_down()
    monotonic.advance(TTL + 1)

    verifier.verify_session_token(mint(clerk))

    assert clerk.jwks_fetches == 2  # it did try, and kept the stale keys


def test_jwks_stopped_with_cached_keys_still_verifies(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    token = mint(clerk)
    verifier.verify_session_token(token)
    clerk.stop()
    monotonic.advance(TTL + 1)

    verifier.verify_session_token(token)


def test_jwks_down_without_cache_is_unavailable(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    clerk.go_down()
    with pytest.raises(ClerkUnavailable) as caught:
        verifier.verify_session_token(mint(clerk))
    assert caught.value.status_code == 503


def test_jwks_unreachable_without_cache_is_unavailable(
    clerk: FakeClerk, verifier: ClerkVerifier
) -> None:
    token = mint(clerk)
    clerk.stop()
    with pytest.raises(ClerkUnavailable):
        verifier.verify_session_token(token)


@pytest.mark.parametrize("document", ["not a key set", [], {"keys": "none"}, {"no": "keys"}])
def test_garbage_jwks_without_cache_is_unavailable(
    clerk: FakeClerk, verifier: ClerkVerifier, document: Any
) -> None:
    clerk.set_jwks_document(document)
    with pytest.raises(ClerkUnavailable):
        verifier.verify_session_token(mint(clerk))


def test_rotation_while_clerk_is_down_is_unavailable_not_unauthorized(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    # A real user with a brand-new key must be told to retry, not to sign in again.
    verifier.verify_session_token(mint(clerk))
    clerk.rotate_key()
    clerk.go_down()
    monotonic.advance(COOLDOWN)
    with pytest.raises(ClerkUnavailable):
        verifier.verify_session_token(mint(clerk))


def test_slow_jwks_times_out_as_unavailable(clerk: FakeClerk, make_verifier: Any) -> None:
    verifier = make_verifier(
        make_settings(
            CLERK_JWKS_URL=clerk.jwks_url, CLERK_ISSUER=clerk.issuer, CLERK_HTTP_TIMEOUT=0.2
        )
    )
    clerk.latency = 5
    with pytest.raises(ClerkUnavailable):
        verifier.verify_session_token(mint(clerk))


def test_clerk_down_is_not_hammered(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    clerk.go_down()
    for _ in range(20):
        with pytest.raises(ClerkUnavailable):
            verifier.verify_session_token(mint(clerk))
    assert clerk.jwks_fetches == 1


# --- fetch storms --------------------------------------------------------------------------


def random_kid_tokens(clerk: FakeClerk, count: int) -> list[str]:
    return [mint(clerk, headers={"kid": f"ins_{secrets.token_hex(8)}"}) for _ in range(count)]


def test_hundred_random_kids_cause_at_most_one_refetch(
    clerk: FakeClerk, verifier: ClerkVerifier, monotonic: Clock
) -> None:
    verifier.verify_session_token(mint(clerk))
    monotonic.advance(COOLDOWN)
    tokens = random_kid_tokens(clerk, 100)

    with ThreadPoolExecutor(max_workers=10) as pool:
        reasons = list(pool.map(lambda t: rejection(verifier, t), tokens))

    assert set(reasons) == {"unknown_kid"}
    assert clerk.jwks_fetches == 2
    verifier.verify_session_token(mint(clerk))
    assert clerk.jwks_fetches == 2


def test_concurrent_first_use_fetches_once(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    tokens = [mint(clerk) for _ in range(30)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(verifier.verify_session_token, tokens))
    assert len(results) == 30
    assert clerk.jwks_fetches == 1


# --- claims ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"iss": "https://evil.example"}, "bad_issuer"),
        ({"iss": REMOVE}, "bad_issuer"),
        ({"azp": "https://evil.example"}, "bad_azp"),
        ({"azp": None}, "bad_azp"),
        ({"sid": REMOVE}, "missing_sid"),
        ({"sid": ""}, "missing_sid"),
        ({"sid": 42}, "missing_sid"),
        ({"sub": REMOVE}, "missing_sub"),
        ({"sub": ""}, "missing_sub"),
        ({"sts": "pending"}, "pending_session"),
        ({"sts": "something-new"}, "pending_session"),
        ({"exp": NOW - LEEWAY_SECONDS - 1}, "expired"),
        ({"exp": NOW - 3600}, "expired"),
        ({"nbf": NOW + 60}, "not_yet_valid"),
        ({"iat": NOW + 60, "nbf": NOW}, "issued_in_future"),
        ({"exp": REMOVE}, "malformed"),
        ({"iat": REMOVE}, "malformed"),
        ({"exp": "tomorrow"}, "malformed"),
        ({"exp": True}, "malformed"),
        ({"nbf": None}, "malformed"),
    ],
    ids=lambda value: json.dumps(value, default=repr) if isinstance(value, dict) else value,
)
def test_bad_claims_are_refused(
    clerk: FakeClerk, verifier: ClerkVerifier, claims: dict[str, Any], reason: str
) -> None:
    assert rejection(verifier, mint(clerk, **claims)) == reason


def test_issuer_with_trailing_slash_is_refused(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    assert rejection(verifier, mint(clerk, iss=clerk.issuer + "/")) == "bad_issuer"


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": NOW - LEEWAY_SECONDS + 1},
        {"nbf": NOW + LEEWAY_SECONDS - 1},
        {"iat": NOW + LEEWAY_SECONDS - 1, "nbf": NOW},
        {"azp": REMOVE},
        {"nbf": REMOVE},
        {"sts": "active"},
    ],
    ids=lambda value: json.dumps(value, default=repr),
)
def test_tolerated_claims_are_accepted(
    clerk: FakeClerk, verifier: ClerkVerifier, claims: dict[str, Any]
) -> None:
    verifier.verify_session_token(mint(clerk, **claims))


def test_authorized_parties_setting_overrides_allowed_origins(
    clerk: FakeClerk, make_verifier: Any
) -> None:
    verifier = make_verifier(
        make_settings(
            CLERK_JWKS_URL=clerk.jwks_url,
            CLERK_ISSUER=clerk.issuer,
            CLERK_AUTHORIZED_PARTIES=["https://app.homechef.example"],
        )
    )
    assert rejection(verifier, mint(clerk)) == "bad_azp"
    verifier.verify_session_token(mint(clerk, azp="https://app.homechef.example"))


# --- algorithm confusion and foreign keys ----------------------------------------------------


def header_for(clerk: FakeClerk, alg: str, **extra: Any) -> dict[str, Any]:
    return {"alg": alg, "kid": clerk.current_key.kid, "typ": "JWT", **extra}


@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
def test_alg_none_is_refused(clerk: FakeClerk, verifier: ClerkVerifier, alg: str) -> None:
    token = sign_jwt(header_for(clerk, alg), clerk.session_claims(now=NOW), None, alg="none")
    # The empty signature fails the shape check; with any signature the alg is refused.
    assert rejection(verifier, token) == "malformed"
    assert rejection(verifier, token + "AAAA") == "unsupported_alg"


def public_key_forms(clerk: FakeClerk) -> dict[str, bytes]:
    key = clerk.current_key
    return {
        "pem": key.public_pem(),
        "der": key.public_der(),
        "jwk": json.dumps(key.public_jwk()).encode(),
        "jwks": json.dumps({"keys": [key.public_jwk()]}).encode(),
    }


@pytest.mark.parametrize("form", ["pem", "der", "jwk", "jwks"])
@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_public_key_as_hmac_secret_is_refused(
    clerk: FakeClerk, verifier: ClerkVerifier, form: str, alg: str
) -> None:
    secret = public_key_forms(clerk)[form]
    claims = clerk.session_claims(now=NOW)

    assert (
        rejection(verifier, sign_jwt(header_for(clerk, alg), claims, secret)) == "unsupported_alg"
    )
    # Claiming RS256 while HMAC-signing cannot pass either.
    forged = sign_jwt(header_for(clerk, "RS256"), claims, secret, alg=alg)
    assert rejection(verifier, forged) == "bad_signature"


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256", "PS512"])
def test_other_rsa_algorithms_are_refused(
    clerk: FakeClerk, verifier: ClerkVerifier, alg: str
) -> None:
    token = sign_jwt(
        header_for(clerk, alg), clerk.session_claims(now=NOW), clerk.current_key.private_key
    )
    assert rejection(verifier, token) == "unsupported_alg"


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "rs256", 256, None])
def test_unknown_algorithms_are_refused(
    clerk: FakeClerk, verifier: ClerkVerifier, alg: Any
) -> None:
    token = sign_jwt(
        {**header_for(clerk, "RS256"), "alg": alg},
        clerk.session_claims(now=NOW),
        clerk.current_key.private_key,
        alg="RS256",
    )
    assert rejection(verifier, token) == "unsupported_alg"


@pytest.fixture
def attacker() -> Iterator[FakeClerk]:
    with FakeClerk() as fake:
        yield fake


@pytest.mark.parametrize("use_legit_kid", [True, False])
def test_key_material_in_the_token_header_is_ignored(
    clerk: FakeClerk, attacker: FakeClerk, verifier: ClerkVerifier, use_legit_kid: bool
) -> None:
    evil = clerk.unpublished_key()
    attacker.set_jwks_document({"keys": [evil.public_jwk()]})
    pem = base64.b64encode(evil.public_der()).decode()
    headers = {
        "kid": clerk.current_key.kid if use_legit_kid else evil.kid,
        "jku": attacker.jwks_url,
        "x5u": attacker.jwks_url,
        "jwk": evil.public_jwk(),
        "x5c": [pem],
    }
    token = mint(clerk, key=evil, headers=headers, iss=attacker.issuer)
    assert rejection(verifier, token) in {"bad_signature", "unknown_kid"}
    token = mint(clerk, key=evil, headers=headers)

    reason = rejection(verifier, token)

    assert reason == ("bad_signature" if use_legit_kid else "unknown_kid")
    assert attacker.requests == []


def test_tampered_payload_is_refused(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    header, _, signature = mint(clerk).split(".")
    forged_claims = b64url(json.dumps(clerk.session_claims(now=NOW, sub="user_admin")).encode())
    assert rejection(verifier, f"{header}.{forged_claims}.{signature}") == "bad_signature"


@pytest.mark.parametrize(
    "entry",
    [
        {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
        {"use": "enc"},
        {"alg": "RS512"},
        {"n": "not-a-number!"},
        {"n": 12345},
    ],
    ids=["ec", "use-enc", "alg-rs512", "bad-n", "int-n"],
)
def test_unusable_jwk_is_bad_key(
    clerk: FakeClerk, verifier: ClerkVerifier, entry: dict[str, Any]
) -> None:
    clerk.set_jwks_document({"keys": [{**clerk.current_key.public_jwk(), **entry}]})
    assert rejection(verifier, mint(clerk)) == "bad_key"


def test_short_rsa_key_is_bad_key(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    numbers = weak.public_key().public_numbers()
    jwk = {
        "kty": "RSA",
        "kid": "ins_weak",
        "n": b64url(numbers.n.to_bytes(128, "big")),
        "e": b64url(numbers.e.to_bytes(3, "big")),
    }
    clerk.set_jwks_document({"keys": [jwk]})
    token = sign_jwt(
        header_for(clerk, "RS256", kid="ins_weak"), clerk.session_claims(now=NOW), weak
    )
    assert rejection(verifier, token) == "bad_key"


def test_duplicate_kid_is_bad_key(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    other = clerk.unpublished_key()
    twin = {**other.public_jwk(), "kid": clerk.current_key.kid}
    clerk.set_jwks_document({"keys": [clerk.current_key.public_jwk(), twin]})
    assert rejection(verifier, mint(clerk)) == "bad_key"


def test_private_members_in_the_jwks_are_not_used(
    clerk: FakeClerk, verifier: ClerkVerifier
) -> None:
    numbers = clerk.current_key.private_key.private_numbers()
    leaked = {**clerk.current_key.public_jwk(), "d": b64url(numbers.d.to_bytes(256, "big"))}
    clerk.set_jwks_document({"keys": [leaked]})
    verifier.verify_session_token(mint(clerk))


# --- malformed input ---------------------------------------------------------------------------


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


# --- where the keys come from --------------------------------------------------------------------


def test_backend_api_jwks_sends_the_secret_key(clerk: FakeClerk, make_verifier: Any) -> None:
    assert clerk.secret_key is not None
    verifier = make_verifier(
        make_settings(
            CLERK_SECRET_KEY=clerk.secret_key,
            CLERK_API_URL=clerk.api_url,
            CLERK_ISSUER=clerk.issuer,
        )
    )

    verifier.verify_session_token(mint(clerk))

    (request,) = clerk.requests
    assert request.path == "/v1/jwks"
    assert request.authorization == f"Bearer {clerk.secret_key}"


def test_backend_api_jwks_refuses_a_wrong_secret(
    clerk: FakeClerk, make_verifier: Any, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "sk_test_wrong_0000000000000000"
    verifier = make_verifier(
        make_settings(
            CLERK_SECRET_KEY=wrong, CLERK_API_URL=clerk.api_url, CLERK_ISSUER=clerk.issuer
        )
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(ClerkUnavailable):
        verifier.verify_session_token(mint(clerk))
    assert any(getattr(r, "event", None) == "auth.clerk_unavailable" for r in caplog.records)
    assert_not_logged(caplog, [wrong])


def test_explicit_jwks_url_never_receives_the_secret(clerk: FakeClerk, make_verifier: Any) -> None:
    verifier = make_verifier(
        make_settings(
            CLERK_SECRET_KEY=clerk.secret_key,
            CLERK_JWKS_URL=clerk.jwks_url,
            CLERK_API_URL=clerk.api_url,
            CLERK_ISSUER=clerk.issuer,
        )
    )
    verifier.verify_session_token(mint(clerk))
    assert [(r.path, r.authorization) for r in clerk.requests] == [("/.well-known/jwks.json", None)]


def refuse_all_requests(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no network expected, got {request.url}")


@pytest.fixture
def offline_clerk() -> FakeClerk:
    return FakeClerk(issuer="https://clerk.homechef.test")  # never started


def pem_settings(pem: str, **overrides: Any) -> Settings:
    return make_settings(CLERK_JWT_KEY=pem, CLERK_ISSUER="https://clerk.homechef.test", **overrides)


def test_jwt_key_pem_verifies_without_any_network(
    offline_clerk: FakeClerk, make_verifier: Any
) -> None:
    pem = offline_clerk.current_key.public_pem().decode()
    client = httpx.Client(transport=httpx.MockTransport(refuse_all_requests))
    verifier = make_verifier(pem_settings(pem), http_client=client)

    claims = verifier.verify_session_token(mint(offline_clerk, sub="user_pem"))

    assert claims.sub == "user_pem"
    foreign = offline_clerk.unpublished_key()
    assert rejection(verifier, mint(offline_clerk, key=foreign)) == "bad_signature"
    hmac_forgery = sign_jwt(
        header_for(offline_clerk, "HS256"), offline_clerk.session_claims(now=NOW), pem.encode()
    )
    assert rejection(verifier, hmac_forgery) == "unsupported_alg"
    client.close()


def test_jwt_key_pem_on_one_line_with_escaped_newlines(
    offline_clerk: FakeClerk, make_verifier: Any
) -> None:
    pem = offline_clerk.current_key.public_pem().decode().strip().replace("\n", "\\n")
    verifier = make_verifier(pem_settings(pem))
    verifier.verify_session_token(mint(offline_clerk))


def test_jwt_key_pem_wins_over_a_jwks_url(offline_clerk: FakeClerk, make_verifier: Any) -> None:
    pem = offline_clerk.current_key.public_pem().decode()
    client = httpx.Client(transport=httpx.MockTransport(refuse_all_requests))
    settings = pem_settings(pem, CLERK_JWKS_URL="http://127.0.0.1:9/never")
    verifier = make_verifier(settings, http_client=client)
    verifier.verify_session_token(mint(offline_clerk))
    client.close()


def test_jwt_key_must_be_a_public_rsa_key(offline_clerk: FakeClerk) -> None:
    private_pem = offline_clerk.current_key.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    for bad in (
        private_pem,
        "not a pem",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
    ):
        with pytest.raises(ValueError) as caught:
            ClerkVerifier(pem_settings(bad))
        assert "PRIVATE" not in str(caught.value) and "AAAA" not in str(caught.value)


def test_unconfigured_clerk_is_unavailable(clerk: FakeClerk, make_verifier: Any) -> None:
    verifier = make_verifier(make_settings(CLERK_JWKS_URL=clerk.jwks_url))  # no issuer
    with pytest.raises(ClerkUnavailable):
        verifier.verify_session_token(mint(clerk))


# --- Backend API users --------------------------------------------------------------------------


@pytest.fixture
def api_verifier(clerk: FakeClerk, make_verifier: Any) -> ClerkVerifier:
    return make_verifier(
        make_settings(
            CLERK_SECRET_KEY=clerk.secret_key,
            CLERK_API_URL=clerk.api_url,
            CLERK_ISSUER=clerk.issuer,
            CLERK_HTTP_TIMEOUT=0.3,
        )
    )


def test_fetch_user_picks_the_primary_email(clerk: FakeClerk, api_verifier: ClerkVerifier) -> None:
    user = clerk.register_user(
        emails=["old@example.com", "primary@example.com", "other@example.com"],
        primary_index=1,
        first_name="Julia",
        last_name="Child",
        username="julia",
        updated_at=1_700_000_000_123,
    )

    profile = api_verifier.fetch_user(user["id"])

    assert profile is not None
    assert profile.id == user["id"]
    assert profile.email == "primary@example.com"
    assert profile.email_verified is True
    assert (profile.first_name, profile.last_name, profile.username) == ("Julia", "Child", "julia")
    assert profile.image_url == user["image_url"]
    assert profile.updated_at == 1_700_000_000_123
    assert clerk.requests[-1].authorization == f"Bearer {clerk.secret_key}"
    assert "primary@example.com" not in repr(profile)


def test_fetch_user_without_primary_email(clerk: FakeClerk, api_verifier: ClerkVerifier) -> None:
    user = clerk.register_user(emails=[], first_name=None, image_url=None)
    profile = api_verifier.fetch_user(user["id"])
    assert profile is not None
    assert (profile.email, profile.email_verified, profile.first_name) == (None, False, None)


def test_fetch_user_unverified_primary_email(clerk: FakeClerk, api_verifier: ClerkVerifier) -> None:
    user = clerk.register_user(emails=["new@example.com"])
    user["email_addresses"][0]["verification"]["status"] = "unverified"
    profile = api_verifier.fetch_user(user["id"])
    assert profile is not None and profile.email == "new@example.com"
    assert profile.email_verified is False


def test_fetch_user_returns_none_when_clerk_fails(
    clerk: FakeClerk, api_verifier: ClerkVerifier
) -> None:
    user = clerk.register_user()
    clerk.users_status = 500
    assert api_verifier.fetch_user(user["id"]) is None


def test_fetch_user_returns_none_on_timeout(clerk: FakeClerk, api_verifier: ClerkVerifier) -> None:
    user = clerk.register_user()
    clerk.latency = 5
    assert api_verifier.fetch_user(user["id"]) is None


def test_fetch_user_returns_none_when_clerk_is_gone(
    clerk: FakeClerk, api_verifier: ClerkVerifier
) -> None:
    user = clerk.register_user()
    clerk.stop()
    assert api_verifier.fetch_user(user["id"]) is None


def test_fetch_user_returns_none_for_unknown_user(
    clerk: FakeClerk, api_verifier: ClerkVerifier
) -> None:
    assert api_verifier.fetch_user("user_doesnotexist") is None


def test_fetch_user_returns_none_for_a_mismatched_id(
    clerk: FakeClerk, api_verifier: ClerkVerifier
) -> None:
    user = clerk.register_user()
    clerk.users["user_alias"] = user
    assert api_verifier.fetch_user("user_alias") is None


@pytest.mark.parametrize("user_id", ["../jwks", "user_1/../../jwks", "", "sess_123", "user_é", 42])
def test_fetch_user_refuses_odd_ids_without_calling_clerk(
    clerk: FakeClerk, api_verifier: ClerkVerifier, user_id: Any
) -> None:
    assert api_verifier.fetch_user(user_id) is None
    assert clerk.requests == []


def test_fetch_user_needs_the_secret_key(clerk: FakeClerk, verifier: ClerkVerifier) -> None:
    user = clerk.register_user()
    assert verifier.fetch_user(user["id"]) is None
    assert clerk.requests == []


# --- errors and logs -----------------------------------------------------------------------------


def test_errors_carry_their_http_status() -> None:
    invalid = InvalidClerkToken("bad_azp")
    assert invalid.status_code == 401
    assert invalid.headers["WWW-Authenticate"] == "Bearer"
    # The client gets one generic reason whatever the cause.
    assert invalid.detail == InvalidClerkToken("bad_signature").detail
    assert "azp" not in invalid.detail
    assert ClerkUnavailable().status_code == 503


def assert_not_logged(caplog: pytest.LogCaptureFixture, needles: list[str]) -> None:
    for record in caplog.records:
        text = f"{record.getMessage()} {record.__dict__!r}"
        for needle in needles:
            assert needle not in text, f"{record.name}: {record.getMessage()}"


def test_refusals_are_logged_without_token_content(
    clerk: FakeClerk, verifier: ClerkVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    evil = clerk.unpublished_key()
    tokens = {
        "bad_signature": mint(clerk, key=evil, headers={"kid": clerk.current_key.kid}),
        "expired": mint(clerk, exp=NOW - 60),
        "bad_issuer": mint(clerk, iss="https://evil.example"),
        "unsupported_alg": sign_jwt(
            header_for(clerk, "HS256"),
            clerk.session_claims(now=NOW),
            clerk.current_key.public_pem(),
        ),
        "bad_header": MALFORMED["header-array"][0],
    }
    with caplog.at_level(logging.DEBUG):
        for reason, token in tokens.items():
            assert rejection(verifier, token) == reason

    events = [r for r in caplog.records if getattr(r, "event", None) == "auth.token_rejected"]
    assert [r.reason for r in events] == list(tokens)  # type: ignore[attr-defined]
    assert {r.name for r in events} == {"homechef.security"}
    assert {r.token_kind for r in events} == {"clerk"}  # type: ignore[attr-defined]
    assert all(r.levelno == logging.WARNING for r in events)
    needles = [part for token in tokens.values() for part in token.split(".") if len(part) > 8]
    assert_not_logged(caplog, needles)
