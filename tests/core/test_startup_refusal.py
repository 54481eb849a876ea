"""The app refuses to start with a weak key or an unsafe deployed configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.secret_key import generate_secret_key
from app.core.startup import validate_settings

ROOT = Path(__file__).resolve().parents[2]


def _env_example_values() -> list[str]:
    values = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            value = line.split("=", 1)[1].strip()
            if value:
                values.append(value)
    return values


def _start_uvicorn(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    clean.update(env)
    clean["PYTHONPATH"] = str(ROOT)
    # cwd is an empty directory, so no .env is read and SQLite lands in tmp_path.
    return subprocess.run(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--port", "0"],
        cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=60,
    )


WEAK_KEYS = ["changeme", "a" * 64, "abcd" * 16, *sorted(set(_env_example_values()))]


@pytest.mark.parametrize("weak_key", WEAK_KEYS, ids=lambda k: k[:24])
def test_weak_secret_key_is_refused_by_the_validator(weak_key: str) -> None:
    findings = validate_settings(Settings(_env_file=None, SECRET_KEY=weak_key))
    errors = [f for f in findings if f.severity == "error"]
    assert [f.code for f in errors] == ["secret_key.weak"], weak_key
    if len(weak_key) >= 12:  # short values ("1", "homechef") are naturally part of any text
        assert all(weak_key not in str(f) for f in findings)
    assert "generate_secret_key.py" in errors[0].fix


@pytest.mark.slow
@pytest.mark.parametrize("weak_key", ["changeme", "a" * 64, "abcd" * 16,
                                      "replace-with-output-of-generate-secret-key"])
def test_app_process_refuses_to_start_with_weak_key(tmp_path: Path, weak_key: str) -> None:
    result = _start_uvicorn(tmp_path, SECRET_KEY=weak_key, ENVIRONMENT="development")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "secret_key.weak" in output and "generate_secret_key.py" in output
    assert weak_key not in output


def test_startup_script_standalone_exit_status(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    script = ROOT / "app" / "core" / "startup.py"
    weak = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={**clean, "SECRET_KEY": "changeme"})
    assert weak.returncode == 1
    assert "changeme" not in weak.stdout + weak.stderr
    strong = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60,
                            env={**clean, "SECRET_KEY": generate_secret_key()})
    assert strong.returncode == 0, strong.stderr


@pytest.mark.slow
def test_production_without_sslmode_refuses_to_start(tmp_path: Path) -> None:
    result = _start_uvicorn(
        tmp_path,
        ENVIRONMENT="production",
        SECRET_KEY=generate_secret_key(),
        DATABASE_URL="postgresql://app:hunter2pass@db.example.com/homechef",
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "database.ssl_required" in output and "sslmode=require" in output
    assert "hunter2pass" not in output


def _production(**overrides: str) -> Settings:
    values = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": generate_secret_key(),
        "DATABASE_URL": "postgresql://app:pw@db.example.com/homechef?sslmode=verify-full"
                        "&sslrootcert=system",
        "CLERK_SECRET_KEY": "sk_live_" + "x" * 40,
        "CLERK_PUBLISHABLE_KEY": "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k",
        "CLERK_WEBHOOK_SECRET": "whsec_" + "A" * 32,
        "ALLOWED_ORIGINS": "https://app.example.com",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def test_good_production_config_passes() -> None:
    assert [f for f in validate_settings(_production()) if f.severity == "error"] == []


def test_bad_production_config_lists_every_problem_at_once() -> None:
    settings = _production(
        SECRET_KEY="changeme",
        DATABASE_URL="sqlite:///./prod.db",
        ALLOWED_ORIGINS="*",
        CLERK_SECRET_KEY="sk_test_" + "x" * 40,
        CLERK_PUBLISHABLE_KEY="pk_test_Y2xlcmsuZXhhbXBsZS5jb20k",
        CLERK_WEBHOOK_SECRET="",
    )
    codes = {f.code for f in validate_settings(settings) if f.severity == "error"}
    assert codes >= {
        "secret_key.weak", "database.not_postgresql", "cors.wildcard",
        "clerk.test_secret_key", "clerk.test_publishable_key", "clerk.webhook_secret_missing",
    }


@pytest.mark.parametrize("url,ok", [
    ("postgresql://a:b@h/db", False),
    ("postgresql://a:b@h/db?sslmode=prefer", False),
    ("postgresql://a:b@h/db?sslmode=disable", False),
    ("postgresql://a:b@h/db?sslmode=require", True),
    ("postgresql://a:b@h/db?sslmode=verify-full&sslrootcert=/etc/neon.pem", True),
    ("postgres://a:b@h/db?sslmode=verify-ca", True),
])
def test_staging_requires_ssl(url: str, ok: bool) -> None:
    settings = _production(ENVIRONMENT="staging", DATABASE_URL=url)
    codes = {f.code for f in validate_settings(settings)}
    assert ("database.ssl_required" not in codes) is ok


def test_database_url_is_normalised_to_psycopg2_keeping_ssl_params() -> None:
    settings = _production(
        DATABASE_URL="postgresql://u:p@ep-x.neon.tech/db?sslmode=verify-full&sslrootcert=/ca.pem"
    )
    url = settings.database_url
    assert url.drivername == "postgresql+psycopg2"
    assert url.query == {"sslmode": "verify-full", "sslrootcert": "/ca.pem"}


def test_secrets_never_appear_in_settings_repr() -> None:
    settings = _production()
    text = repr(settings) + str(settings)
    assert settings.SECRET_KEY.get_secret_value() not in text
    assert "sk_live_" not in text and "whsec_" not in text and ":pw@" not in text


def test_malformed_limits_proxies_and_storage_are_startup_errors() -> None:
    from app.core.startup import StartupValidationError
    from app.main import create_app

    settings = Settings(
        _env_file=None, SECRET_KEY=generate_secret_key(), RATE_LIMIT_READ="lots",
        TRUSTED_PROXIES="10.0.0.1,not-an-ip", RATE_LIMIT_STORAGE_URL="mongodb://x",
    )
    codes = {f.code for f in validate_settings(settings) if f.severity == "error"}
    assert codes == {"rate_limit.invalid", "trusted_proxies.invalid", "rate_limit.storage_invalid"}
    with pytest.raises(StartupValidationError) as raised:
        create_app(settings)
    message = str(raised.value)
    assert "rate_limit.invalid" in message and "trusted_proxies.invalid" in message


def test_production_refuses_sslmode_require_and_staging_warns() -> None:
    # Security review, finding 5: require encrypts but does not authenticate the server.
    url = "postgresql://app:pw@db.example.com/homechef?sslmode=require"
    production = [f for f in validate_settings(_production(DATABASE_URL=url))
                  if f.code == "database.ssl_unverified"]
    assert [f.severity for f in production] == ["error"]
    assert "sslmode=require" in production[0].message and "pw" not in production[0].message
    assert "sslrootcert=system" in production[0].fix
    staging = [f for f in validate_settings(_production(ENVIRONMENT="staging", DATABASE_URL=url))
               if f.code == "database.ssl_unverified"]
    assert [f.severity for f in staging] == ["warning"]
    for verified in ("verify-full&sslrootcert=system", "verify-ca&sslrootcert=/ca.pem"):
        settings = _production(DATABASE_URL=url.replace("require", verified))
        assert not [f for f in validate_settings(settings) if f.severity == "error"]


def test_a_password_with_an_unencoded_at_refuses_to_start_without_echoing_it() -> None:
    url = "postgresql://app:hunter@2secret@db.example.com/homechef?sslmode=verify-full"
    findings = [f for f in validate_settings(_production(DATABASE_URL=url))
                if f.code == "database.url_unencoded"]
    assert [f.severity for f in findings] == ["error"]
    assert "URL-encode" in findings[0].fix
    assert "2secret" not in str(findings[0]) and "hunter" not in str(findings[0])
