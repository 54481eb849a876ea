"""Building configurations for the ops tests: values, .env files, git repositories."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from app.core.config import Settings
from app.core.secret_key import generate_secret_key
from app.ops.results import CheckResult

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_DSN = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
CLERK_HOST = "clerk.homechef.example.com"
#: The local CA that .ci/postgres-tls issues the test server's certificate from.
CI_CA = Path(os.environ.get("HOMECHEF_CI_CA_DIR", "/etc/ssl/homechef-ci")) / "ca.crt"


def publishable_key(host: str = CLERK_HOST, *, live: bool = True) -> str:
    encoded = base64.b64encode(f"{host}$".encode()).decode().rstrip("=")
    return f"pk_{'live' if live else 'test'}_{encoded}"


def live_secret_key() -> str:
    return f"sk_live_{secrets.token_hex(20)}"


def webhook_secret() -> str:
    return f"whsec_{base64.b64encode(secrets.token_bytes(24)).decode()}"


def with_query(url: str, **params: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def production_values(database_url: str, **overrides: Any) -> dict[str, Any]:
    """A production configuration every settings check passes."""
    values: dict[str, Any] = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": generate_secret_key(),
        "DATABASE_URL": with_query(database_url, sslmode="verify-full", sslrootcert=str(CI_CA)),
        "CLERK_SECRET_KEY": live_secret_key(),
        "CLERK_PUBLISHABLE_KEY": publishable_key(),
        "CLERK_WEBHOOK_SECRET": webhook_secret(),
        "ALLOWED_ORIGINS": "https://app.homechef.example.com",
        "RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0",
        "WEB_CONCURRENCY": "2",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def settings_of(values: dict[str, Any]) -> Settings:
    return Settings(_env_file=None, **values)


def write_env(path: Path, values: dict[str, Any], mode: int = 0o600) -> Path:
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    path.chmod(mode)
    return path


def git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


def git_repo(path: Path, ignore: str | None = ".env\n") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet")
    if ignore is not None:
        (path / ".gitignore").write_text(ignore)
    return path


def statuses(results: list[CheckResult], name: str) -> list[str]:
    return [r.status for r in results if r.name == name]


def only(results: list[CheckResult], name: str) -> CheckResult:
    matching = [r for r in results if r.name == name]
    assert len(matching) == 1, matching
    return matching[0]


def text_of(results: list[CheckResult]) -> str:
    return "\n".join(f"{r.reason} {r.fix}" for r in results)
