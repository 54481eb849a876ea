"""The embedded default: development with no DATABASE_URL runs on a SQLite file."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.secret_key import generate_secret_key
from app.db.engine import make_engine
from app.db.migrations import upgrade_to_head
from app.main import create_app


def test_sqlite_default_migrates_and_is_ready(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(_env_file=None, ENVIRONMENT="development", SECRET_KEY=generate_secret_key())
    assert settings.database_is_default
    assert settings.database_url.get_backend_name() == "sqlite"
    engine = make_engine(settings)
    upgrade_to_head(engine)
    engine.dispose()
    assert (tmp_path / "homechef.db").exists()
    with TestClient(create_app(settings)) as client:
        assert client.get("/ready").status_code == 200
        assert client.get("/docs").status_code == 200
