"""Two cooks, Alice (metric) and Bob, each with a token for the test app."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.users.models import User
from tests.factories import auth_headers, make_user


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
