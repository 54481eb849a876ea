"""The runbooks in SECURITY.md, played through with the commands they name.

Each test edits a real .env file with the documented command (generate_secret_key.py,
sed), "restarts" by building a new app from that file (Settings(_env_file=...)), and
checks real tokens of a real user against a real protected route.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.envfile import read_env_value
from app.core.secret_key import key_fingerprint
from app.ops.checks import run_checks
from tests.factories import make_user, token_for
from tests.fakes.svix_signing import new_webhook_secret, svix_headers
from tests.ops.support import ROOT, only, write_env

ME_URL = "/api/v1/users/me"
LOGOUT_URL = "/api/v1/auth/logout"
WEBHOOK_URL = "/api/v1/webhooks/clerk"
# The runbooks' command for emptying PREVIOUS_SECRET_KEYS (GNU sed keeps the file mode).
CLEAR_PREVIOUS = ["sed", "-i", "s/^PREVIOUS_SECRET_KEYS=.*/PREVIOUS_SECRET_KEYS=/"]
# The runbooks' SQL for revoking every token of one user.


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result


def generate_secret_key(env: Path, *flags: str) -> str:
    return run([sys.executable, str(ROOT / "generate_secret_key.py"), "--env-file", str(env),
                *flags], cwd=env.parent).stdout


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.fixture
def env_file(tmp_path: Path, pg_url: str) -> Path:
    """A deployment's .env: everything but the key, which the runbook generates."""
    return write_env(tmp_path / ".env", {
        "ENVIRONMENT": "test",
        "DATABASE_URL": pg_url,
        "LOG_FORMAT": "json",
        "RATE_LIMIT_ENABLED": "false",
    })


@pytest.fixture
def start(make_client: Callable[..., TestClient]) -> Callable[[Path], TestClient]:
    """(Re)start the API from the .env file, as a deploy would."""

    def from_file(env: Path) -> TestClient:
        return make_client(Settings(_env_file=env))

    return from_file


def test_key_generation(env_file: Path, start, db: Session):
    output = generate_secret_key(env_file)
    key = read_env_value(env_file, "SECRET_KEY")
    assert key and key not in output and key_fingerprint(key) in output
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600

    _, results = run_checks(env_file, env_file_required=True)
    assert only(results, "secret_keys.strength").status == "PASS"
    assert only(results, "env_file.permissions").status == "PASS"

    client = start(env_file)
    user = make_user(db)
    assert client.get(ME_URL, headers=bearer(token_for(client.app, user))).status_code == 200


def test_planned_rotation_keeps_old_tokens_working_until_the_old_key_is_dropped(
    env_file: Path, start, db: Session,
):
    generate_secret_key(env_file)
    before = start(env_file)
    user = make_user(db)
    old_token = token_for(before.app, user)

    generate_secret_key(env_file, "--rotate")
    after = start(env_file)
    assert after.app.state.key_ring.current_kid != before.app.state.key_ring.current_kid
    assert after.get(ME_URL, headers=bearer(old_token)).status_code == 200
    new_token = token_for(after.app, user)
    assert after.get(ME_URL, headers=bearer(new_token)).status_code == 200
    _, results = run_checks(env_file, env_file_required=True)
    assert only(results, "secret_keys.strength").status == "PASS"

    # Once ACCESS_TOKEN_EXPIRE_MINUTES have passed, the old key is removed.
    run([*CLEAR_PREVIOUS, str(env_file)], cwd=env_file.parent)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    final = start(env_file)
    assert_refused(final.get(ME_URL, headers=bearer(old_token)))
    assert final.get(ME_URL, headers=bearer(new_token)).status_code == 200


def test_emergency_rotation_makes_every_token_fail(env_file: Path, start, db: Session):
    # A deployment mid-way through a planned rotation: SECRET_KEY plus one previous key.
    generate_secret_key(env_file)
    oldest = start(env_file)
    user = make_user(db)
    token_from_previous_key = token_for(oldest.app, user)
    generate_secret_key(env_file, "--rotate")
    current = start(env_file)
    token_from_current_key = token_for(current.app, user)
    leaked = [token_from_previous_key, token_from_current_key]

    # Why --emergency: a plain replacement keeps PREVIOUS_SECRET_KEYS, which still verify.
    generate_secret_key(env_file)
    half_done = start(env_file)
    assert half_done.get(ME_URL, headers=bearer(token_from_previous_key)).status_code == 200

    # Step 1 of the runbook, then restart every worker.
    output = generate_secret_key(env_file, "--emergency")
    assert "PREVIOUS_SECRET_KEYS emptied" in output
    assert read_env_value(env_file, "PREVIOUS_SECRET_KEYS") == ""
    rotated = start(env_file)
    for token in leaked:
        assert_refused(rotated.get(ME_URL, headers=bearer(token)))
    assert rotated.get(ME_URL, headers=bearer(token_for(rotated.app, user))).status_code == 200


def test_logout_revokes_every_token_of_that_user_only(env_file: Path, start, db: Session):
    generate_secret_key(env_file)
    client = start(env_file)
    user, bystander = make_user(db), make_user(db)
    phone, laptop = token_for(client.app, user), token_for(client.app, user)
    other = token_for(client.app, bystander)

    response = client.post(LOGOUT_URL, headers=bearer(phone))
    assert response.status_code == 204, response.text
    for token in (phone, laptop):
        assert_refused(client.get(ME_URL, headers=bearer(token)))
    assert client.get(ME_URL, headers=bearer(other)).status_code == 200


def test_an_operator_revokes_one_user_with_the_runbook_command(
    env_file: Path, start, db: Session,
):
    generate_secret_key(env_file)
    client = start(env_file)
    user, bystander = make_user(db), make_user(db)
    token, other = token_for(client.app, user), token_for(client.app, bystander)

    result = run([sys.executable, "-m", "app.cli", "revoke-user", "--clerk-id",
                  user.clerk_user_id], cwd=env_file.parent)
    assert str(user.id) in result.stdout

    assert_refused(client.get(ME_URL, headers=bearer(token)))
    assert client.get(ME_URL, headers=bearer(other)).status_code == 200


def _post_event(client: TestClient, *secrets: str) -> int:
    body = json.dumps({"object": "event", "type": "email.created", "data": {"id": "ema_1"}})
    msg_id = f"msg_{uuid.uuid4().hex}"
    signatures = [svix_headers(s, body, msg_id=msg_id) for s in secrets]
    headers = {**signatures[0], "content-type": "application/json"}
    # During Clerk's rotation window Svix signs with the old and the new secret.
    headers["svix-signature"] = " ".join(h["svix-signature"] for h in signatures)
    return client.post(WEBHOOK_URL, content=body, headers=headers).status_code


def test_a_leaked_webhook_secret_stops_working_once_the_new_one_is_deployed(
    env_file: Path, start,
):
    leaked, fresh = new_webhook_secret(), new_webhook_secret()
    generate_secret_key(env_file)
    write_env(env_file, {**_values(env_file), "CLERK_WEBHOOK_SECRET": leaked})
    assert _post_event(start(env_file), leaked) == 200

    write_env(env_file, {**_values(env_file), "CLERK_WEBHOOK_SECRET": fresh})
    client = start(env_file)
    assert _post_event(client, leaked) == 400  # forged with the leaked secret
    assert _post_event(client, leaked, fresh) == 200  # Clerk's deliveries during rotation


def _values(env: Path) -> dict[str, str]:
    names = ("ENVIRONMENT", "DATABASE_URL", "LOG_FORMAT", "RATE_LIMIT_ENABLED", "SECRET_KEY")
    return {name: read_env_value(env, name) or "" for name in names}


def test_the_runbooks_name_these_tests_and_the_commands_they_run():
    text = (ROOT / "SECURITY.md").read_text()
    named = set(re.findall(r"`(test_[a-z_]+)`", text))
    defined = {name for name in globals() if name.startswith("test_")}
    assert len(named) >= 6 and named <= defined
    assert "generate_secret_key.py --env-file .env --emergency" in text
    assert f"sed -i '{CLEAR_PREVIOUS[2]}' .env" in text
    assert "homechef revoke-user --clerk-id" in text
    for command in ("generate_secret_key.py --env-file .env --rotate",
                    "generate_secret_key.py --env-file .env`", "validate_setup.py --env-file .env",
                    "POST /api/v1/auth/logout"):
        assert command in text, command
