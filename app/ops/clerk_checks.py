"""Clerk key check: the key material session tokens will be verified with is usable.

With CLERK_JWT_KEY the verifier uses that PEM alone, so it must parse as an RSA public
key of at least 2048 bits (no network needed). Otherwise the JWKS at
``settings.clerk_jwks_url`` must answer within CLERK_HTTP_TIMEOUT and hold at least one
RS256 key. The Backend API's JWKS wants ``Authorization: Bearer CLERK_SECRET_KEY``, sent
under the same rule as the verifier's: only to the derived Backend API URL, never to an
explicit CLERK_JWKS_URL.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from app.core.config import Settings
from app.ops.results import CheckResult, failed, passed, warned

NAME = "clerk.keys"
MIN_RSA_BITS = 2048
MAX_JWKS_BYTES = 256 * 1024
JWT_KEY_FIX = (
    "Copy the PEM public key from the Clerk dashboard → API keys → JWT public key, or "
    "unset CLERK_JWT_KEY to use the JWKS."
)


def _jwt_key_problem(pem: str) -> str | None:
    data = pem.replace("\\n", "\n").strip().encode()
    try:
        key = load_pem_public_key(data)
    except (ValueError, TypeError):
        try:
            load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            return "CLERK_JWT_KEY is not a PEM-encoded public key"
        return "CLERK_JWT_KEY is a private key; the API needs Clerk's public key only"
    if not isinstance(key, rsa.RSAPublicKey):
        return "CLERK_JWT_KEY is not an RSA key (Clerk signs with RS256)"
    if key.key_size < MIN_RSA_BITS:
        return f"CLERK_JWT_KEY has {key.key_size} bits; at least {MIN_RSA_BITS} are required"
    return None


def _is_rs256_key(entry: Any) -> bool:
    if not isinstance(entry, dict) or entry.get("kty") != "RSA":
        return False
    if entry.get("use", "sig") != "sig" or entry.get("alg", "RS256") != "RS256":
        return False
    modulus = entry.get("n")
    if not isinstance(modulus, str) or not isinstance(entry.get("e"), str):
        return False
    try:
        raw = base64.urlsafe_b64decode(modulus + "=" * (-len(modulus) % 4))
    except (binascii.Error, ValueError):
        return False
    return int.from_bytes(raw, "big").bit_length() >= MIN_RSA_BITS


class _JwksError(Exception):
    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


def _fetch_jwks(settings: Settings, url: str) -> Any:
    """The JWKS document; raises _JwksError with a reason and fix fit for the report."""
    headers = {"Accept": "application/json"}
    if settings.CLERK_SECRET_KEY is not None and not settings.CLERK_JWKS_URL:
        headers["Authorization"] = f"Bearer {settings.CLERK_SECRET_KEY.get_secret_value()}"
    timeout = settings.CLERK_HTTP_TIMEOUT
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client, \
                client.stream("GET", url, headers=headers) as response:
            if response.status_code in (401, 403):
                raise _JwksError(f"{url} refused the request (HTTP {response.status_code})",
                                 "Use the CLERK_SECRET_KEY of the same Clerk instance.")
            if response.status_code != 200:
                raise _JwksError(f"{url} answered HTTP {response.status_code}",
                                 "Check CLERK_JWKS_URL / CLERK_API_URL and Clerk's status.")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise _JwksError(f"{url} sent more than {MAX_JWKS_BYTES} bytes",
                                     "Point CLERK_JWKS_URL at Clerk's JWKS.")
    except httpx.TimeoutException:
        raise _JwksError(f"{url} did not answer within {timeout}s",
                         "Allow outbound HTTPS to Clerk from here; check CLERK_HTTP_TIMEOUT.") \
            from None
    except httpx.HTTPError as exc:
        raise _JwksError(f"{url} is unreachable ({type(exc).__name__})",
                         "Check the URL and that outbound HTTPS to Clerk is allowed.") from None
    try:
        return json.loads(body)
    except ValueError:
        raise _JwksError(f"{url} did not return JSON", "Point CLERK_JWKS_URL at Clerk's JWKS.") \
            from None


def check_clerk_keys(settings: Settings) -> list[CheckResult]:
    if settings.CLERK_JWT_KEY:
        problem = _jwt_key_problem(settings.CLERK_JWT_KEY)
        if problem:
            return [failed(NAME, problem, JWT_KEY_FIX)]
        return [passed(NAME, "CLERK_JWT_KEY is an RSA public key (the JWKS is not used)")]
    url = settings.clerk_jwks_url
    if url is None:
        make = failed if settings.is_deployed else warned
        return [make(NAME, "not checked: no JWKS URL or CLERK_JWT_KEY is configured",
                     "Set CLERK_SECRET_KEY and CLERK_PUBLISHABLE_KEY (or CLERK_JWKS_URL).")]
    try:
        document = _fetch_jwks(settings, url)
    except _JwksError as exc:
        return [failed(NAME, f"the JWKS is unusable: {exc.reason}", exc.fix)]
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return [failed(NAME, f"{url} did not return a JWKS (no \"keys\" list)",
                       "Point CLERK_JWKS_URL at Clerk's JWKS.")]
    usable = sum(1 for entry in entries if _is_rs256_key(entry))
    if usable == 0:
        return [failed(NAME, f"the JWKS at {url} holds no RS256 key of {MIN_RSA_BITS}+ bits",
                       "Check that the URL is your Clerk instance's JWKS.")]
    return [passed(NAME, f"the JWKS at {url} holds {usable} RS256 key(s)")]
