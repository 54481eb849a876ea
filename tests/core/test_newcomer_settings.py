"""What a newcomer meets first: .env.example's empty values and placeholders, the weak-key
fix, and log lines that stay readable and quiet."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.logs import REDACTED, ConsoleFormatter, redact
from app.core.secret_key import generate_secret_key
from app.core.startup import validate_settings

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_loads_with_its_empty_optional_values(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text((ROOT / ".env.example").read_text())
    settings = Settings(_env_file=env)
    assert settings.DOCS_ENABLED is None and settings.LOG_FORMAT is None
    assert settings.DATABASE_URL is None and settings.PREVIOUS_SECRET_KEYS == []


def test_an_empty_value_means_the_default_in_env_file_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"
    env.write_text("DB_POOL_SIZE=\nLOG_LEVEL=\nRATE_LIMIT_KEY_PREFIX=\n")
    monkeypatch.setenv("DOCS_ENABLED", "")
    monkeypatch.setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "")
    settings = Settings(_env_file=env)
    defaults = Settings(_env_file=None)
    for name in ("DB_POOL_SIZE", "LOG_LEVEL", "RATE_LIMIT_KEY_PREFIX", "DOCS_ENABLED",
                 "ACCESS_TOKEN_EXPIRE_MINUTES"):
        assert getattr(settings, name) == getattr(defaults, name), name


def _placeholders(environment: str) -> list:
    settings = Settings(
        _env_file=None, ENVIRONMENT=environment, SECRET_KEY=generate_secret_key(),
        CLERK_SECRET_KEY="sk_test_replace-me", CLERK_WEBHOOK_SECRET="whsec_replace-me",
        DATABASE_URL="postgresql://USER:PASSWORD@HOST/DB?sslmode=require",
    )
    return [f for f in validate_settings(settings) if f.code == "config.placeholder"]


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_placeholders_are_refused_where_deployed(environment: str) -> None:
    findings = _placeholders(environment)
    assert {f.severity for f in findings} == {"error"}
    named = " ".join(f.message for f in findings)
    assert all(n in named for n in ("CLERK_SECRET_KEY", "CLERK_WEBHOOK_SECRET", "DATABASE_URL"))
    assert "replace-me" not in " ".join(str(f) for f in findings)


@pytest.mark.parametrize("environment", ["development", "test"])
def test_placeholders_are_warned_about_locally(environment: str) -> None:
    findings = _placeholders(environment)
    assert len(findings) == 3 and {f.severity for f in findings} == {"warning"}


def test_real_looking_values_are_not_placeholders() -> None:
    settings = Settings(_env_file=None, ENVIRONMENT="production",
                        CLERK_WEBHOOK_SECRET="whsec_" + "A" * 32,
                        DATABASE_URL="postgresql://app:s3cret@db.example.com/x?sslmode=require")
    assert [f for f in validate_settings(settings) if f.code == "config.placeholder"] == []


def _weak_key_fix() -> str:
    findings = validate_settings(Settings(_env_file=None, SECRET_KEY="changeme"))
    (weak,) = [f for f in findings if f.code == "secret_key.weak"]
    return weak.fix


def test_weak_key_fix_names_the_environment_variable_when_it_is_set_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SECRET_KEY", "changeme")
    assert "comes from the environment variable, which overrides .env" in _weak_key_fix()
    monkeypatch.delenv("SECRET_KEY")
    assert _weak_key_fix().startswith("Generate one with `python generate_secret_key.py "
                                      "--env-file .env`")


@pytest.mark.parametrize("text", [
    "Set DATABASE_URL=postgresql://USER:PASSWORD@HOST/DB?sslmode=require.",
    "CLERK_WEBHOOK_SECRET=whsec_replace-me and CLERK_SECRET_KEY=sk_test_replace-me",
    "Copy the signing secret (whsec_...) from the dashboard.",
])
def test_redaction_keeps_documented_placeholders(text: str) -> None:
    assert redact(text) == text


def test_redaction_still_masks_real_values_next_to_placeholders() -> None:
    text = "postgresql://app:hunter2hunter2@db/x whsec_replaceme123 sk_test_replace-meXYZ"
    cleaned = redact(text)
    assert "hunter2hunter2" not in cleaned and "replaceme123" not in cleaned
    assert "meXYZ" not in cleaned and cleaned.count(REDACTED) == 3


def test_console_lines_carry_no_ansi_escapes_nor_uvicorns_colour_copy() -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1,
                               "Uvicorn running on \x1b[1m%s\x1b[0m", ("http://x",), None)
    record.color_message = "Uvicorn running on \x1b[1m%s\x1b[0m"
    line = ConsoleFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert line == "INFO uvicorn.error: Uvicorn running on http://x"


def test_a_successful_ready_probe_logs_nothing_but_its_access_line(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        assert client.get("/ready").status_code == 200
        assert client.head("/ready").status_code == 200
    # (The test client's own httpx lines and the revocation feed's start are not the probe's.)
    others = [r for r in caplog.records if r.name.startswith(("alembic", "homechef.health"))]
    assert others == [], [r.getMessage() for r in others]
