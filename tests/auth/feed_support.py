"""Helpers for the revocation feed tests (test_revocation_feed.py and
test_revocation_feed_outages.py): probing an app through the principal-only route and
counting its SQL, finding and killing the feed's backend, hand-signed internal tokens,
and a feed run on its own (with a relay to PostgreSQL that can go silent). Their
fixtures, ``start`` (an app with the probe route) and ``sql`` (plain SQL on a connection
of its own), are in conftest.py."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from app.auth.change_feed import RevocationFeed
from app.auth.dependencies import CurrentPrincipal
from app.auth.validity import ValidityCache
from app.core.config import TOKEN_AUDIENCE, TOKEN_ISSUER, Settings
from app.core.secret_key import key_fingerprint
from app.users.models import User
from tests.auth.support import assert_unauthorized, bearer
from tests.fakes.clerk import sign_jwt
from tests.sql_counting import counting

#: A route that needs only the principal (as every recipe route does): when the cache
#: vouches for the token, it runs no SQL at all.
PRINCIPAL_URL = "/api/v1/_principal_probe"
#: How fast another instance must hear of a revocation.
PROPAGATION_SECONDS = 1.0


async def principal_probe(principal: CurrentPrincipal) -> dict[str, str]:
    return {"id": str(principal.id), "sid": principal.sid}


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``predicate``; the seconds it took, or fail after ``timeout``."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.005)
    return time.monotonic() - start


def cache_of(client: TestClient) -> ValidityCache:
    return client.app.state.validity_cache  # type: ignore[attr-defined]


def probe(client: TestClient, token: str) -> httpx.Response:
    return client.get(PRINCIPAL_URL, headers=bearer(token))




def probe_counted(client: TestClient, engine: Engine, token: str) -> tuple[httpx.Response, int]:
    """The response and how many SQL statements the request ran."""
    with counting(engine) as statements:
        response = probe(client, token)
    return response, len(statements)


def warm(client: TestClient, engine: Engine, token: str) -> None:
    """Make ``client`` vouch for ``token``: checked once, then served from the cache."""
    response, first = probe_counted(client, engine, token)
    assert response.status_code == 200, response.text
    response, second = probe_counted(client, engine, token)
    assert response.status_code == 200, response.text
    assert (first, second) == (1, 0)


def refused_within(client: TestClient, token: str, timeout: float = 5.0) -> float:
    """Poll ``client`` until it refuses ``token``; the seconds that took."""
    last: list[httpx.Response] = []

    def refused() -> bool:
        last[:] = [probe(client, token)]
        assert last[0].status_code in (200, 401), last[0].text
        return last[0].status_code == 401

    elapsed = wait_until(refused, timeout, "the revocation reaching this instance")
    assert_unauthorized(last[0])
    return elapsed


Sql = Callable[..., list[tuple[Any, ...]]]


def listening_backends(sql: Sql) -> list[int]:
    """The feed's backends on this database (the test databases are private to this
    pytest process), found by the application_name the feed sets for itself."""
    rows = sql("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
               "AND pid <> pg_backend_pid() "
               "AND application_name = 'homechef-api-revocation-feed'")
    return [pid for (pid,) in rows]


def kill_feed_backend(sql: Sql) -> list[int]:
    pids = listening_backends(sql)
    assert pids, "no LISTEN backend to kill"
    for pid in pids:
        sql("SELECT pg_terminate_backend(%s)", (pid,))
    return pids


def feed_down_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == "auth.revocation_feed_down"]


def secret_key(settings: Settings) -> str:
    return settings.SECRET_KEY.get_secret_value()  # type: ignore[union-attr]


def sign_internal(
    user: User, *, sid: str, key: str, kid_key: str | None = None, **claims: Any
) -> str:
    """An internal token built by hand, signed with ``key`` (kid: ``kid_key``'s)."""
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": TOKEN_ISSUER, "aud": TOKEN_AUDIENCE, "sub": str(user.id),
        "iat": now, "nbf": now, "exp": now + 600, "jti": uuid.uuid4().hex,
        "typ": "access", "sid": sid, "ver": user.token_version,
    }
    values.update(claims)
    header = {"alg": "HS256", "typ": "JWT", "kid": key_fingerprint(kid_key or key)}
    return sign_jwt(header, values, key.encode())


# --- the feed on its own -------------------------------------------------------------------------


@contextmanager
def feed_cannot_reconnect(engine: Engine) -> Iterator[None]:
    """Refuse the feed thread's connection checkouts, so an outage lasts until we end it.

    PostgreSQL itself stays up for the request path: this is the feed's connection lost
    (a killed backend, a network cut) while the pool still works. A real refusal (e.g.
    ALLOW_CONNECTIONS false) would not do: the feed reconnects through the engine's pool,
    which hands it one of its idle, still-open connections.
    """

    def refuse(_dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if threading.current_thread().name == "revocation-feed":
            raise ConnectionRefusedError("test: the feed cannot reach PostgreSQL")

    event.listen(engine, "checkout", refuse)
    try:
        yield
    finally:
        event.remove(engine, "checkout", refuse)


@contextmanager
def running_feed(engine: Engine, **timing: float) -> Iterator[tuple[RevocationFeed, ValidityCache]]:
    cache = ValidityCache(60)
    feed = RevocationFeed(engine, cache, **timing)
    feed.start()
    try:
        wait_until(lambda: cache.active, 5.0, "the feed listening")
        yield feed, cache
    finally:
        feed.stop()


class FrozenLink:
    """A loopback TCP relay to PostgreSQL that can go silent: ``freeze()`` keeps every
    connection open and acknowledged but forwards nothing more, either way (a stalled
    proxy or middlebox; to the client, a peer that never answers)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = False
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        """Deliver what was held, and carry on."""
        self._flowing.set()

    def close(self) -> None:
        self._closed = True
        self._flowing.set()
        for sock in list(self._sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target, timeout=5)
            upstream.settimeout(None)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                self._flowing.wait()
                if self._closed:
                    return
                sink.sendall(data)

