"""validate_setup.py as operators and pipelines run it: a subprocess, exit status, output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.config import Settings
from tests.fakes.clerk import FakeClerk
from tests.ops.support import (
    ROOT,
    git,
    git_repo,
    production_values,
    publishable_key,
    write_env,
)
from validate_setup import main as validate_setup_main

BROKEN_SECRETS = {
    "SECRET_KEY": "changeme-changeme-changeme-changeme",
    "PREVIOUS_SECRET_KEYS": "a" * 64,
    "CLERK_SECRET_KEY": "sk_test_brokenbroken0123456789",
    "CLERK_WEBHOOK_SECRET": "plain-webhook-secret-0123456789",
}
BROKEN_PRODUCTION = {
    "ENVIRONMENT": "production",
    **BROKEN_SECRETS,
    "DATABASE_URL": "sqlite:///./prod.db",
    "CLERK_PUBLISHABLE_KEY": publishable_key(live=False),
    "CLERK_ISSUER": "https://clerk.someone-else.example.com",
    "CLERK_JWT_KEY": "not-a-pem-key",
    "ALLOWED_ORIGINS": "*",
    "DOCS_ENABLED": "true",
    "WEB_CONCURRENCY": "4",
    "RATE_LIMIT_STORAGE_URL": "memory://",
    "ACCESS_TOKEN_EXPIRE_MINUTES": "240",
}
EXPECTED_FAILURES = {
    "secret_keys.strength",
    "secret_keys.unique",
    "database.config",
    "clerk.config",
    "clerk.issuer",
    "clerk.keys",
    "cors.origins",
    "docs.disabled",
    "rate_limit.storage",
    "env_file.permissions",
    "env_file.gitignored",
    "env_file.untracked",
}


def validate_setup(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The developer's shell must not leak configuration into the run.
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    return subprocess.run(
        [sys.executable, str(ROOT / "validate_setup.py"), *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.fixture(scope="module")
def broken_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """The table and the JSON run against one broken production deployment."""
    root = tmp_path_factory.mktemp("broken")
    repo = git_repo(root / "deploy", ignore="__pycache__/\n")
    env = write_env(repo / ".env", BROKEN_PRODUCTION, mode=0o644)
    git(repo, "add", ".env")
    staging = write_env(root / "staging.env", {"SECRET_KEY": BROKEN_SECRETS["SECRET_KEY"]})
    args = ("--env-file", str(env), "--other-env-file", str(staging))
    return validate_setup(*args, cwd=repo), validate_setup(*args, "--json", cwd=repo)


def test_a_broken_production_env_lists_every_problem_at_once_with_its_fix(broken_runs):
    run, _ = broken_runs
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    failing = {line.split()[1] for line in lines if line.startswith("FAIL ")}
    assert failing == EXPECTED_FAILURES
    assert run.stdout.count("fix: ") >= len(EXPECTED_FAILURES)
    for expected in ("chmod 600", "git rm --cached .env", "generate_secret_key.py",
                     "redis://", "DOCS_ENABLED", "sk_live_", "pk_live_", "whsec_"):
        assert expected in run.stdout, expected
    assert run.stdout.rstrip().splitlines()[-1].startswith("FAILED:")


def test_no_secret_value_reaches_the_output(broken_runs):
    for run in broken_runs:
        for name, value in BROKEN_SECRETS.items():
            assert value not in run.stdout + run.stderr, name


def test_json_output_has_the_same_results(broken_runs):
    table, as_json = broken_runs
    assert as_json.returncode == 1
    document = json.loads(as_json.stdout)
    assert document["ok"] is False and document["environment"] == "production"
    checks = document["checks"]
    assert {c["name"] for c in checks if c["status"] == "FAIL"} == EXPECTED_FAILURES
    assert document["summary"]["fail"] == sum(c["status"] == "FAIL" for c in checks)
    assert all(c["fix"] for c in checks if c["status"] != "PASS")
    for check in checks:
        assert f"{check['status']:<5} {check['name']}" in table.stdout


def test_every_check_is_documented_in_the_deployment_guide(broken_runs):
    guide = (ROOT / "docs" / "DEPLOYMENT.md").read_text()
    guide = guide.split("| check | FAIL when |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", guide, re.MULTILINE))
    emitted = {c["name"] for c in json.loads(broken_runs[1].stdout)["checks"]}
    assert emitted == documented


def test_an_explicit_env_file_that_does_not_exist_fails(tmp_path: Path, capsys):
    assert validate_setup_main(["--env-file", str(tmp_path / "nope.env"), "--json"]) == 1
    [check] = json.loads(capsys.readouterr().out)["checks"]
    assert check["name"] == "settings.load" and check["status"] == "FAIL"


def test_invalid_settings_fail_naming_the_fields_only(tmp_path: Path, capsys):
    env = write_env(tmp_path / ".env", {"ENVIRONMENT": "prod", "WEB_CONCURRENCY": "lots-of-them"})
    assert validate_setup_main(["--env-file", str(env)]) == 1
    out = capsys.readouterr().out
    assert "ENVIRONMENT" in out and "WEB_CONCURRENCY" in out
    assert "lots-of-them" not in out


@pytest.mark.usefixtures("postgres_tls")
def test_a_sound_production_deployment_exits_zero(pg_url: str, tmp_path: Path):
    repo = git_repo(tmp_path / "deploy")
    with FakeClerk() as clerk:
        env = write_env(repo / ".env", production_values(pg_url, CLERK_JWKS_URL=clerk.jwks_url))
        staging = write_env(tmp_path / "staging.env", production_values(pg_url))
        run = validate_setup("--env-file", str(env), "--other-env-file", str(staging),
                             cwd=repo)
        as_json = validate_setup("--json", cwd=repo)  # ./.env by default
    assert run.returncode == 0, run.stdout
    assert "FAIL " not in run.stdout and run.stdout.rstrip().splitlines()[-1].startswith("OK:")
    document = json.loads(as_json.stdout)
    assert as_json.returncode == 0 and document["ok"] is True
    assert {c["name"] for c in document["checks"]} >= {
        "database.connect", "database.tls", "database.migrations", "clerk.keys",
        "env_file.permissions", "env_file.gitignored", "env_file.untracked",
    }
