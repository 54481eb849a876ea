"""The same webhook and users flow on the embedded SQLite default (local development)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.secret_key import generate_secret_key
from app.db.engine import make_engine
from app.db.migrations import upgrade_to_head
from app.main import create_app
from app.users import service as users_service
from app.users.models import User
from tests.factories import auth_headers
from tests.fakes.svix_signing import new_webhook_secret, svix_headers
from tests.recipes.factories import make_recipe
from tests.webhooks.conftest import WEBHOOK_PATH
from tests.webhooks.events import session_event, user_deleted, user_event


def test_webhooks_users_and_erasure_work_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    secret = new_webhook_secret()
    settings = Settings(
        _env_file=None,
        ENVIRONMENT="development",
        SECRET_KEY=generate_secret_key(),
        CLERK_WEBHOOK_SECRET=secret,
        RATE_LIMIT_ENABLED=False,
    )
    engine = make_engine(settings)
    upgrade_to_head(engine)

    def post(event: dict[str, object], msg_id: str | None = None) -> str:
        body = json.dumps(event)
        response = client.post(
            WEBHOOK_PATH, content=body, headers=svix_headers(secret, body, msg_id=msg_id)
        )
        assert response.status_code == 200, response.text
        return str(response.json()["status"])

    with TestClient(create_app(settings, engine=engine)) as client:
        assert post(user_event("created", "user_lite", updated_at=1), msg_id="m1") == "processed"
        assert post(user_event("created", "user_lite", updated_at=1), msg_id="m1") == "duplicate"
        assert post(session_event("ended", "sess_lite")) == "processed"
        assert post(session_event("revoked", "sess_lite")) == "processed"
        with Session(engine, expire_on_commit=False) as db:
            user = db.scalars(select(User)).one()
            assert users_service.get_or_create_from_clerk(db, "user_lite", None).id == user.id
            make_recipe(db, user, tags=["x"], ingredients=["salt"], steps=["stir"])
        headers = auth_headers(client.app, user)  # type: ignore[arg-type]
        export = client.get("/api/v1/users/me/export", headers=headers)
        assert export.status_code == 200 and len(export.json()["recipes"]) == 1
        assert post(user_deleted("user_lite")) == "processed"
        assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    with Session(engine) as db:
        assert db.scalars(select(User.deleted_at)).one() is not None
    engine.dispose()
