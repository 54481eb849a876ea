"""A cook who owns a recipe, a stranger, and a token for each."""

from __future__ import annotations

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
