"""RSA keys and hand-made JWTs for the fake Clerk and for hostile-token tests.

``sign_jwt`` signs exactly what it is told, with no checks, so a test can build tokens a
real library would refuse to make (alg none, HS256 keyed with a public key, RS512, ...).
RSA keys are generated once per test run and shared: generation is the slow part.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


class _Remove:
    def __repr__(self) -> str:
        return "REMOVE"


#: Pass as a claim or header value to leave that member out of the token.
REMOVE: Any = _Remove()

_pool: list[rsa.RSAPrivateKey] = []
_pool_lock = threading.Lock()


def rsa_private_key(slot: int) -> rsa.RSAPrivateKey:
    """The ``slot``-th RSA key of this test run (generated on first use, then cached)."""
    with _pool_lock:
        while len(_pool) <= slot:
            _pool.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return _pool[slot]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    def public_jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "use": "sig",
            "kty": "RSA",
            "kid": self.kid,
            "alg": "RS256",
            "n": _uint_b64(numbers.n),
            "e": _uint_b64(numbers.e),
        }

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def public_der(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )


_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def sign_jwt(
    header: Mapping[str, Any],
    claims: Mapping[str, Any] | bytes,
    key: rsa.RSAPrivateKey | bytes | None,
    *,
    alg: str | None = None,
) -> str:
    """Sign a compact JWS exactly as told, with no checks: the tool for hostile tokens.

    ``alg`` (default: the header's) picks the signing algorithm: RS*/PS* with an RSA private
    key, HS* with bytes as the HMAC secret, "none" for an empty signature.
    """
    alg = alg or header["alg"]
    encoded_header = b64url(json.dumps(dict(header), separators=(",", ":")).encode())
    raw_claims = claims if isinstance(claims, bytes) else json.dumps(dict(claims)).encode()
    signing_input = f"{encoded_header}.{b64url(raw_claims)}".encode("ascii")
    if alg == "none":
        signature = b""
    elif alg.startswith("HS"):
        assert isinstance(key, bytes)
        signature = hmac.new(key, signing_input, getattr(hashlib, f"sha{alg[2:]}")).digest()
    else:
        assert isinstance(key, rsa.RSAPrivateKey)
        digest = _HASHES[alg[2:]]()
        pad = (
            padding.PKCS1v15()
            if alg.startswith("RS")
            else padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
        )
        signature = key.sign(signing_input, pad, digest)
    return f"{signing_input.decode('ascii')}.{b64url(signature)}"


def _without_removed(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not REMOVE}
