"""A loopback stand-in for Clerk: a real HTTP server on 127.0.0.1 inside the test process.

It serves what the API reads from Clerk, in Clerk's shapes:

- ``GET /.well-known/jwks.json`` (Frontend API, public) and ``GET /v1/jwks`` (Backend API,
  ``Authorization: Bearer <secret key>`` required);
- ``GET /v1/users/{id}`` (Backend API, same Bearer).

Tests steer it: rotate or remove keys, go down (500) or stop, add latency, count JWKS
fetches, register users, make /users fail. ``mint_session_token`` signs Clerk-like RS256
session tokens with the current key; ``sign_jwt`` crafts anything else (alg none, HS256
with a public key as the secret, RS512, ...).

RSA keys are generated per test run, once, and shared by every fake in the run:
generation is the slow part.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.jwt_keys import (
    REMOVE,
    SigningKey,
    _without_removed,
    b64url,
    rsa_private_key,
    sign_jwt,
)

# Tests import the token tools from here as well as from jwt_keys.
__all__ = ["REMOVE", "FakeClerk", "SigningKey", "b64url", "rsa_private_key", "sign_jwt"]

DEFAULT_SECRET_KEY = "sk_test_fakeclerk_0123456789abcdef"
DEFAULT_AUTHORIZED_PARTY = "http://localhost:3000"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    authorization: str | None


_USER_PATH = re.compile(r"/v1/users/([^/?#]+)")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # the test output stays quiet
        pass

    def do_GET(self) -> None:
        fake = self.server.fake
        path = self.path.split("?", 1)[0]
        fake._record(RecordedRequest("GET", path, self.headers.get("Authorization")))
        if fake.latency:
            fake._stopping.wait(fake.latency)
        if path in ("/.well-known/jwks.json", "/v1/jwks"):
            fake._count_jwks_fetch()
            if path == "/v1/jwks" and not fake._authorized(self.headers.get("Authorization")):
                return self._send(401, _clerk_error("authentication_invalid", "Unauthorized"))
            if fake.jwks_status != 200:
                return self._send(fake.jwks_status, _clerk_error("internal", "Down"))
            return self._send(200, fake.jwks_document())
        match = _USER_PATH.fullmatch(path)
        if match:
            if not fake._authorized(self.headers.get("Authorization")):
                return self._send(401, _clerk_error("authentication_invalid", "Unauthorized"))
            if fake.users_status != 200:
                return self._send(fake.users_status, _clerk_error("internal", "Down"))
            user = fake.users.get(match.group(1))
            if user is None:
                return self._send(404, _clerk_error("resource_not_found", "Not found"))
            return self._send(200, user)
        self._send(404, _clerk_error("resource_not_found", "Not found"))

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _clerk_error(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "long_message": message}]}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeClerk

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is what latency tests are for; say nothing.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class FakeClerk:
    """Clerk's Frontend and Backend API, as far as the API uses them.

    Use as a context manager, or ``start()``/``stop()``. ``issuer`` defaults to the server's
    own URL, as Clerk's issuer is its Frontend API origin.
    """

    def __init__(
        self,
        *,
        secret_key: str | None = DEFAULT_SECRET_KEY,
        issuer: str | None = None,
        authorized_party: str = DEFAULT_AUTHORIZED_PARTY,
    ) -> None:
        self.secret_key = secret_key
        self.authorized_party = authorized_party
        self._issuer = issuer
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._next_slot = 0
        self._keys: list[SigningKey] = []
        self._current: SigningKey | None = None
        self._jwks_override: Any = None
        self._jwks_fetches = 0
        self._requests: list[RecordedRequest] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        #: Status the JWKS endpoints answer with (200 = up).
        self.jwks_status = 200
        #: Status GET /v1/users/{id} answers with for known users (200 = up).
        self.users_status = 200
        #: Seconds every response waits before being sent.
        self.latency = 0.0
        self.users: dict[str, dict[str, Any]] = {}
        self.add_key()

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> FakeClerk:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        # serve_forever notices shutdown() only between polls; a short poll keeps stop() fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="fake-clerk", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port: from now on connections are refused."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeClerk:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def issuer(self) -> str:
        return self._issuer or self.url

    @property
    def jwks_url(self) -> str:
        """The Frontend API JWKS (public)."""
        return f"{self.url}/.well-known/jwks.json"

    @property
    def api_url(self) -> str:
        """The Backend API base, as CLERK_API_URL: its JWKS is ``{api_url}/jwks``."""
        return f"{self.url}/v1"

    # --- keys -----------------------------------------------------------------------------

    def _new_key(self) -> SigningKey:
        with self._lock:
            slot = self._next_slot
            self._next_slot += 1
        return SigningKey(kid=f"ins_{secrets.token_hex(12)}", private_key=rsa_private_key(slot))

    def add_key(self, *, make_current: bool = True) -> SigningKey:
        """Publish a new key (new kid); by default it signs the tokens minted from now on."""
        key = self._new_key()
        with self._lock:
            self._keys.append(key)
            if make_current or self._current is None:
                self._current = key
        return key

    def rotate_key(self) -> SigningKey:
        """Clerk's rotation: a new key appears and signs; the old one stays published."""
        return self.add_key(make_current=True)

    def remove_key(self, kid: str) -> None:
        with self._lock:
            self._keys = [k for k in self._keys if k.kid != kid]

    def unpublished_key(self) -> SigningKey:
        """A real RSA key this Clerk never published: the attacker's."""
        return self._new_key()

    @property
    def current_key(self) -> SigningKey:
        assert self._current is not None
        return self._current

    @property
    def published_keys(self) -> list[SigningKey]:
        with self._lock:
            return list(self._keys)

    def jwks_document(self) -> Any:
        with self._lock:
            if self._jwks_override is not None:
                return self._jwks_override
            return {"keys": [k.public_jwk() for k in self._keys]}

    def set_jwks_document(self, document: Any) -> None:
        """Serve this JSON instead of the real key set (None restores it)."""
        with self._lock:
            self._jwks_override = document

    # --- failures and counters -------------------------------------------------------------

    def go_down(self, status: int = 500) -> None:
        self.jwks_status = status

    def come_up(self) -> None:
        self.jwks_status = 200

    @property
    def jwks_fetches(self) -> int:
        with self._lock:
            return self._jwks_fetches

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def _count_jwks_fetch(self) -> None:
        with self._lock:
            self._jwks_fetches += 1

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _authorized(self, header: str | None) -> bool:
        if self.secret_key is None:
            return True
        expected = f"Bearer {self.secret_key}"
        return header is not None and hmac.compare_digest(header.encode(), expected.encode())

    # --- users ------------------------------------------------------------------------------

    def register_user(
        self,
        user_id: str | None = None,
        *,
        emails: Sequence[str] = ("cook@example.com",),
        primary_index: int = 0,
        first_name: str | None = "Ada",
        last_name: str | None = "Lovelace",
        username: str | None = None,
        image_url: str | None = "https://img.clerk.com/avatar.png",
        updated_at: int | None = None,
    ) -> dict[str, Any]:
        """Store a Clerk-shaped user; the returned dict is the stored one (edit it freely)."""
        user_id = user_id or f"user_{secrets.token_hex(12)}"
        addresses = [
            {
                "id": f"idn_{secrets.token_hex(12)}",
                "object": "email_address",
                "email_address": email,
                "verification": {"status": "verified", "strategy": "email_code"},
                "linked_to": [],
            }
            for email in emails
        ]
        now_ms = int(time.time() * 1000)
        user = {
            "id": user_id,
            "object": "user",
            "username": username,
            "first_name": first_name,
            "last_name": last_name,
            "image_url": image_url,
            "has_image": image_url is not None,
            "primary_email_address_id": addresses[primary_index]["id"] if addresses else None,
            "email_addresses": addresses,
            "created_at": now_ms,
            "updated_at": updated_at if updated_at is not None else now_ms,
        }
        self.users[user_id] = user
        return user

    # --- tokens -----------------------------------------------------------------------------

    def session_claims(self, *, now: float | None = None, **overrides: Any) -> dict[str, Any]:
        """A Clerk v2 session token's claims; any claim can be overridden or REMOVEd."""
        issued = int(now if now is not None else time.time())
        claims: dict[str, Any] = {
            "azp": self.authorized_party,
            "exp": issued + 60,
            "fva": [0, -1],
            "iat": issued,
            "iss": self.issuer,
            "nbf": issued - 10,
            "sid": f"sess_{secrets.token_hex(12)}",
            "sub": f"user_{secrets.token_hex(12)}",
            "v": 2,
        }
        claims.update(overrides)
        return _without_removed(claims)

    def mint_session_token(
        self,
        *,
        key: SigningKey | None = None,
        headers: Mapping[str, Any] | None = None,
        now: float | None = None,
        **claims: Any,
    ) -> str:
        """An RS256 session token signed by ``key`` (default: the current key), whose header
        names that key's kid. ``headers`` overrides or REMOVEs header members."""
        key = key or self.current_key
        header: dict[str, Any] = {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
        header.update(headers or {})
        return sign_jwt(
            _without_removed(header),
            self.session_claims(now=now, **claims),
            key.private_key,
            alg="RS256",
        )
