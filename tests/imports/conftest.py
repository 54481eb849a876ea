"""Two cooks and loopback servers for the import API tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.users.models import User
from tests.factories import auth_headers, make_user
from tests.imports.servers import LoopbackServer


@pytest.fixture
def alice(db: Session) -> User:
    return make_user(db, first_name="Alice")


@pytest.fixture
def bob(db: Session) -> User:
    return make_user(db, first_name="Bob")


@pytest.fixture
def as_alice(app: FastAPI, alice: User) -> dict[str, str]:
    return auth_headers(app, alice)


@pytest.fixture
def as_bob(app: FastAPI, bob: User) -> dict[str, str]:
    return auth_headers(app, bob)


@pytest.fixture
def canary() -> Iterator[LoopbackServer]:
    server = LoopbackServer(ipv6=True)
    yield server
    server.close()


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    yield server
    server.close()
