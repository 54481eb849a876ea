"""`homechef dev-token`: a real internal token for local work, and only in development."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.auth.dev import DevTokenRefused, issue_dev_token
from app.core.config import Settings
from app.core.secret_key import generate_secret_key
from app.users.models import User
from tests.auth.support import whoami


def run_dev_token(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # Start from a clean environment: no setting may leak in from the developer's shell.
    base = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "dev-token", "--email", "you@example.com"],
        cwd=cwd,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_dev_token_prints_a_token_that_the_api_accepts(
    tmp_path: Path,
    pg_url: str,
    engine: Engine,
    db: Session,
    make_auth_client: Callable[..., TestClient],
    make_settings: Callable[..., Settings],
) -> None:
    secret = generate_secret_key()

    result = run_dev_token(tmp_path, ENVIRONMENT="development", SECRET_KEY=secret,
                           DATABASE_URL=pg_url)

    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert token.count(".") == 2 and "\n" not in token
    assert secret not in result.stdout + result.stderr
    user = db.scalars(select(User).where(User.email == "you@example.com")).one()
    client = make_auth_client(make_settings(SECRET_KEY=secret))
    me = whoami(client, token)
    assert me.status_code == 200, me.text
    assert me.json()["id"] == str(user.id)
    logout = client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert logout.status_code == 204, logout.text


def test_dev_token_refuses_in_production_and_prints_no_token(
    tmp_path: Path, pg_url: str, engine: Engine, db: Session
) -> None:
    result = run_dev_token(tmp_path, ENVIRONMENT="production", SECRET_KEY=generate_secret_key(),
                           DATABASE_URL=pg_url)

    assert result.returncode == 2
    assert result.stdout == ""
    assert "development" in result.stderr
    assert db.scalars(select(User)).all() == []


# The command is a thin face over issue_dev_token; the rules are checked in-process, where
# they cost milliseconds instead of a Python start-up each.


@pytest.mark.parametrize("environment", ["staging", "test", "production"])
def test_issue_dev_token_refuses_every_environment_but_development(
    db: Session, make_settings: Callable[..., Settings], environment: str
) -> None:
    with pytest.raises(DevTokenRefused):
        issue_dev_token(db, make_settings(ENVIRONMENT=environment), "you@example.com")
    assert db.scalars(select(User)).all() == []


def test_dev_token_twice_is_the_same_user(
    db: Session, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(ENVIRONMENT="development")
    first = issue_dev_token(db, settings, "You@Example.com")
    second = issue_dev_token(db, settings, " you@example.com ")
    db.commit()

    assert first.claims.sub == second.claims.sub
    assert first.token != second.token
    assert len(db.scalars(select(User)).all()) == 1


def test_issue_dev_token_without_a_secret_key_is_refused_before_writing(
    db: Session, make_settings: Callable[..., Settings]
) -> None:
    with pytest.raises(DevTokenRefused, match="SECRET_KEY"):
        issue_dev_token(db, make_settings(ENVIRONMENT="development", SECRET_KEY=None),
                        "you@example.com")
    assert db.scalars(select(User)).all() == []


@pytest.mark.parametrize("email", ["notanemail", "you@", "@example.com", "a b@example.com",
                                   "you@example..com", "you@exa\nmple.com", ""])
def test_issue_dev_token_refuses_what_is_not_an_email_address(
    db: Session, make_settings: Callable[..., Settings], email: str
) -> None:
    with pytest.raises(DevTokenRefused, match="not an email address"):
        issue_dev_token(db, make_settings(ENVIRONMENT="development"), email)
    assert db.scalars(select(User)).all() == []
