"""validate_setup reports on every check whatever goes wrong inside one, and never prints a
password, even one that breaks URL parsing (security review, findings 7 and 8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.ops import checks, config_checks
from app.ops.checks import run_checks
from app.ops.results import CheckResult
from tests.ops.support import git_repo, only, write_env
from validate_setup import main as validate_setup_main

SECRET = "s3cr3t-tail-of-the-password"


def development_env(tmp_path: Path, pg_url: str, **values: Any) -> Path:
    repo = git_repo(tmp_path / "deploy")
    base = {"ENVIRONMENT": "development", "DATABASE_URL": pg_url, **values}
    return write_env(repo / ".env", base)


def closed_port_url(pg_url: str) -> str:
    from sqlalchemy.engine import make_url

    from tests.hardening.support import closed_port

    return make_url(pg_url).set(port=closed_port()).render_as_string(hide_password=False)


def test_an_unreachable_listen_url_is_reported_not_a_traceback(pg_url: str, tmp_path: Path):
    # raw_connection() raises the driver's OperationalError, not a SQLAlchemyError.
    env = development_env(tmp_path, pg_url, DATABASE_LISTEN_URL=closed_port_url(pg_url),
                          AUTH_CACHE_SECONDS=30)
    _, results = run_checks(env, env_file_required=True)
    feed = only(results, "auth.revocation_feed")
    assert feed.status == "WARN" and "OperationalError" in feed.reason and feed.fix
    assert only(results, "database.connect").status == "PASS"


# Every check, by where run_checks finds it, and the name its result carries.
CHECKS = [
    (config_checks, "load_settings", "settings.load"),
    (config_checks, "startup_findings", "startup.findings"),
    (config_checks, "check_required", "settings.required"),
    (config_checks, "check_secret_keys", "secret_keys.strength"),
    (checks, "check_key_uniqueness", "secret_keys.unique"),
    (checks, "check_database_urls", "database.url"),
    (config_checks, "check_database_config", "database.config"),
    (config_checks, "check_clerk_config", "clerk.config"),
    (config_checks, "check_clerk_issuer", "clerk.issuer"),
    (config_checks, "check_cors", "cors.origins"),
    (config_checks, "check_docs", "docs.disabled"),
    (config_checks, "check_rate_limit_storage", "rate_limit.storage"),
    (config_checks, "check_token_lifetime", "tokens.lifetime"),
    (config_checks, "check_other_startup_findings", "startup.other"),
    (checks, "inspect_database", "database.connect"),
    (checks, "check_database_connect", "database.connect"),
    (checks, "check_database_tls", "database.tls"),
    (checks, "check_migrations", "database.migrations"),
    (checks, "check_revocation_feed", "auth.revocation_feed"),
    (checks, "check_rate_limit_reachable", "rate_limit.reachable"),
    (checks, "check_clerk_keys", "clerk.keys"),
    (checks, "check_env_file_permissions", "env_file.permissions"),
    (checks, "check_env_file_ignored", "env_file.gitignored"),
    (checks, "check_env_file_untracked", "env_file.untracked"),
]


class Unexpected(Exception):
    pass


@pytest.mark.parametrize(("module", "function", "name"), CHECKS,
                         ids=[f"{m.__name__.rsplit('.', 1)[1]}.{f}" for m, f, _ in CHECKS])
def test_an_unexpected_exception_in_any_check_becomes_a_fail_of_that_check(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, tmp_path: Path,
    module: Any, function: str, name: str,
):
    def explode(*args: Any, **kwargs: Any) -> list[CheckResult]:
        raise Unexpected(f"boom {SECRET}")

    env = development_env(tmp_path, pg_url)
    monkeypatch.setattr(module, function, explode)
    _, results = run_checks(env, env_file_required=True)
    crashed = [r for r in results if r.name == name and "Unexpected" in r.reason]
    assert crashed and all(r.status == "FAIL" and r.fix for r in crashed)
    assert SECRET not in json.dumps([r.to_dict() for r in results])
    # The rest of the report is still there.
    assert {r.name for r in results} >= {"env_file.permissions", name}
    if function != "load_settings":
        assert len({r.name for r in results}) > 10


@pytest.mark.parametrize("variable", ["DATABASE_URL", "DATABASE_LISTEN_URL"])
@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
def test_a_password_with_an_unencoded_at_is_refused_and_never_printed(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], variable: str,
    as_json: bool,
):
    # Parsed by SQLAlchemy, "p@" + SECRET leaves "p" as the password and makes the rest
    # part of the host, which connection errors and the report used to print.
    broken = f"postgresql://postgres:p@{SECRET}@127.0.0.1:5432/homechef"
    env = development_env(tmp_path, pg_url, **{variable: broken})
    code = validate_setup_main(["--env-file", str(env), *(["--json"] if as_json else [])])
    out = capsys.readouterr()
    assert code == 1
    assert SECRET not in out.out + out.err
    assert SECRET[:6] not in out.out + out.err
    assert "URL-encode the password" in out.out
    if as_json:
        document = json.loads(out.out)
        failing = {c["name"] for c in document["checks"] if c["status"] == "FAIL"}
        assert "database.url" in failing
