"""A cook who owns a recipe, a stranger, and a token for each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.recipes.models import Recipe
from app.users.models import User
from tests.factories import auth_headers, make_user
from tests.recipes.factories import make_recipe


@pytest.fixture
def owner(db: Session) -> User:
    return make_user(db)


@pytest.fixture
def stranger(db: Session) -> User:
    return make_user(db)


@pytest.fixture
def as_owner(app: FastAPI, owner: User) -> dict[str, str]:
    return auth_headers(app, owner)


@pytest.fixture
def as_stranger(app: FastAPI, stranger: User) -> dict[str, str]:
    return auth_headers(app, stranger)


@pytest.fixture
def recipe(db: Session, owner: User) -> Recipe:
    return make_recipe(db, owner)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from tests.media.s3_support import moto_server

    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_settings(make_settings, s3_endpoint: str):
    from tests.media.s3_support import bucket_name, s3_overrides

    def factory(**more: object):
        return make_settings(**s3_overrides(s3_endpoint, bucket_name(), **more))

    return factory


@pytest.fixture(autouse=True)
def _postgres_store_after_each_test() -> Iterator[None]:
    """An app built with MEDIA_STORE=s3 configures the process's store; put it back."""
    yield
    from app.media import store

    store._current = store.PostgresStore()
