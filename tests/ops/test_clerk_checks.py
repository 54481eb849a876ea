"""Clerk key material, against the loopback fake Clerk (a real HTTP server)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.ops.clerk_checks import check_clerk_keys
from tests.fakes.clerk import FakeClerk
from tests.ops.support import production_values, settings_of, text_of

DB = "postgresql://app:pw@db.example.com/homechef"


def _settings(**overrides: object):
    return settings_of(production_values(DB, **overrides))


def test_the_backend_api_jwks_with_rs256_keys_passes_and_gets_the_secret_key(
    fake_clerk: FakeClerk,
):
    fake_clerk.rotate_key()
    settings = _settings(CLERK_SECRET_KEY=fake_clerk.secret_key, CLERK_API_URL=fake_clerk.api_url)
    [result] = check_clerk_keys(settings)
    assert result.status == "PASS" and "2 RS256 key(s)" in result.reason
    [request] = fake_clerk.requests
    assert request.path == "/v1/jwks"
    assert request.authorization == f"Bearer {fake_clerk.secret_key}"
    assert fake_clerk.secret_key not in result.reason


def test_an_explicit_jwks_url_passes_and_never_receives_the_secret_key(fake_clerk: FakeClerk):
    settings = _settings(CLERK_JWKS_URL=fake_clerk.jwks_url)
    assert check_clerk_keys(settings)[0].status == "PASS"
    assert [r.authorization for r in fake_clerk.requests] == [None]


def test_a_secret_key_of_another_instance_fails(fake_clerk: FakeClerk):
    settings = _settings(CLERK_SECRET_KEY="sk_live_someoneelse0123456789",
                         CLERK_API_URL=fake_clerk.api_url)
    [result] = check_clerk_keys(settings)
    assert result.status == "FAIL" and "HTTP 401" in result.reason
    assert "someoneelse" not in text_of([result])


def test_a_jwks_without_rs256_keys_fails(fake_clerk: FakeClerk):
    key = fake_clerk.current_key.public_jwk()
    fake_clerk.set_jwks_document({"keys": [
        {"kty": "EC", "kid": "ec1", "crv": "P-256", "x": "AA", "y": "AA"},
        {**key, "alg": "RS512"},
        {**key, "use": "enc"},
    ]})
    [result] = check_clerk_keys(_settings(CLERK_JWKS_URL=fake_clerk.jwks_url))
    assert result.status == "FAIL" and "no RS256 key" in result.reason


def test_a_jwks_that_is_down_fails(fake_clerk: FakeClerk):
    fake_clerk.go_down(503)
    [result] = check_clerk_keys(_settings(CLERK_JWKS_URL=fake_clerk.jwks_url))
    assert result.status == "FAIL" and "HTTP 503" in result.reason


def test_an_unreachable_jwks_fails():
    with FakeClerk() as fake:
        url = fake.jwks_url
    [result] = check_clerk_keys(_settings(CLERK_JWKS_URL=url))  # the port is closed now
    assert result.status == "FAIL" and "unreachable" in result.reason


def test_a_pem_rsa_public_key_in_clerk_jwt_key_passes(fake_clerk: FakeClerk):
    # As pasted into .env: on one line with literal \n.
    pem = fake_clerk.current_key.public_pem().decode().replace("\n", "\\n")
    [result] = check_clerk_keys(_settings(CLERK_JWT_KEY=pem))
    assert result.status == "PASS" and "RSA public key" in result.reason


def _pem_public(key) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def test_clerk_jwt_keys_that_are_not_usable_rsa_public_keys_fail(fake_clerk: FakeClerk):
    private_pem = fake_clerk.current_key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    cases = {
        "not-a-pem-at-all": "not a PEM-encoded public key",
        private_pem: "is a private key",
        _pem_public(ec.generate_private_key(ec.SECP256R1())): "not an RSA key",
        _pem_public(rsa.generate_private_key(public_exponent=65537, key_size=1024)): "1024 bits",
    }
    for pem, expected in cases.items():
        [result] = check_clerk_keys(_settings(CLERK_JWT_KEY=pem))
        assert result.status == "FAIL" and expected in result.reason, expected
        assert "PRIVATE KEY" not in text_of([result])
