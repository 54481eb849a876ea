"""Each configuration check of validate_setup, passing and failing (no network needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.secret_key import generate_secret_key
from app.core.startup import Finding
from app.ops import config_checks as config
from app.ops.key_reuse_checks import check_key_uniqueness
from tests.ops.support import (
    production_values,
    publishable_key,
    settings_of,
    statuses,
    text_of,
    write_env,
)

DB = "postgresql://homechef:db-password-123@db.example.com:5432/homechef"


def prod(**overrides: object):
    return settings_of(production_values(DB, **overrides))


def run_all(settings, other_env_files=()):
    from app.ops.checks import settings_checks

    return settings_checks(settings, other_env_files)


def test_a_good_production_configuration_passes_every_settings_check():
    results = run_all(prod())
    assert [r for r in results if r.status != "PASS"] == []


# --- settings.load ----------------------------------------------------------------------


def test_settings_load_passes_and_names_the_environment(tmp_path: Path):
    env = write_env(tmp_path / ".env", production_values(DB))
    settings, result = config.load_settings(env)
    assert settings is not None and settings.ENVIRONMENT == "production"
    assert result.status == "PASS" and "production" in result.reason


def test_settings_load_fails_with_field_names_and_never_the_values(tmp_path: Path):
    env = write_env(tmp_path / ".env", {
        "ENVIRONMENT": "prod-ish-environment",
        "ACCESS_TOKEN_EXPIRE_MINUTES": "forever-and-ever",
        "WEB_CONCURRENCY": "4000",
    })
    settings, result = config.load_settings(env)
    assert settings is None and result.status == "FAIL"
    for field in ("ENVIRONMENT", "ACCESS_TOKEN_EXPIRE_MINUTES", "WEB_CONCURRENCY"):
        assert field in result.reason
    for value in ("prod-ish-environment", "forever-and-ever", "4000"):
        assert value not in result.reason + result.fix


# --- settings.required --------------------------------------------------------------------


def test_required_variables_present_pass():
    assert statuses(config.check_required(prod()), "settings.required") == ["PASS"]


def test_missing_required_variables_are_all_named_at_once():
    settings = settings_of({"ENVIRONMENT": "production", "SECRET_KEY": generate_secret_key()})
    [result] = config.check_required(settings)
    assert result.status == "FAIL"
    for name in ("DATABASE_URL", "CLERK_SECRET_KEY", "CLERK_PUBLISHABLE_KEY",
                 "CLERK_WEBHOOK_SECRET", "ALLOWED_ORIGINS"):
        assert name in result.reason


def test_staging_accepts_an_issuer_with_a_jwks_url_instead_of_keys():
    values = production_values(DB, ENVIRONMENT="staging", CLERK_SECRET_KEY=None,
                               CLERK_PUBLISHABLE_KEY=None)
    values.update(CLERK_ISSUER="https://clerk.homechef.example.com",
                  CLERK_JWKS_URL="https://clerk.homechef.example.com/.well-known/jwks.json")
    assert statuses(config.check_required(settings_of(values)), "settings.required") == ["PASS"]


def test_an_unset_environment_fails_the_gate():
    # Security review, finding 10: the development default turned every deployment
    # safeguard off and the gate still exited 0 (it was a warning).
    results = config.check_required(settings_of({"SECRET_KEY": generate_secret_key()}))
    assert statuses(results, "settings.required") == ["FAIL"]
    assert "ENVIRONMENT" in results[0].reason and "dev-token" in results[0].reason
    explicit = {"ENVIRONMENT": "development", "SECRET_KEY": generate_secret_key()}
    assert statuses(config.check_required(settings_of(explicit)), "settings.required") == ["PASS"]


# --- secret_keys.strength -----------------------------------------------------------------


def test_strong_current_and_previous_keys_pass():
    settings = prod(PREVIOUS_SECRET_KEYS=generate_secret_key())
    results = config.check_secret_keys(settings, config.startup_findings(settings))
    assert statuses(results, "secret_keys.strength") == ["PASS"]


def test_weak_current_and_previous_keys_each_fail_without_showing_the_key():
    weak_current, weak_previous = "changeme", "abcd" * 16
    settings = prod(
        SECRET_KEY=weak_current, PREVIOUS_SECRET_KEYS=f"{generate_secret_key()},{weak_previous}"
    )
    results = config.check_secret_keys(settings, config.startup_findings(settings))
    assert statuses(results, "secret_keys.strength") == ["FAIL", "FAIL"]
    assert "entry #2" in results[1].reason
    assert "generate_secret_key.py" in results[0].fix
    assert weak_current not in text_of(results) and weak_previous not in text_of(results)


# --- secret_keys.unique -------------------------------------------------------------------


def test_production_keys_absent_from_other_environments_pass(tmp_path: Path):
    staging = write_env(tmp_path / "staging.env", {"SECRET_KEY": generate_secret_key()})
    results = check_key_uniqueness(prod(), [staging])
    assert statuses(results, "secret_keys.unique") == ["PASS"]


def test_a_production_key_reused_by_another_environment_fails_without_printing_it(
    tmp_path: Path,
):
    shared = generate_secret_key()
    settings = prod(PREVIOUS_SECRET_KEYS=shared)
    staging = write_env(tmp_path / "staging.env", {
        "SECRET_KEY": generate_secret_key(), "PREVIOUS_SECRET_KEYS": f"x{'y' * 40},{shared}",
    })
    dev = write_env(tmp_path / "dev.env", {"SECRET_KEY": settings.SECRET_KEY.get_secret_value()})
    results = check_key_uniqueness(settings, [staging, dev])
    assert statuses(results, "secret_keys.unique") == ["FAIL", "FAIL"]
    reused = "PREVIOUS_SECRET_KEYS entry #1 is also PREVIOUS_SECRET_KEYS entry #2"
    assert reused in results[0].reason
    assert "SECRET_KEY is also SECRET_KEY" in results[1].reason
    assert shared not in text_of(results)
    assert settings.SECRET_KEY.get_secret_value() not in text_of(results)


def test_key_reuse_is_only_a_production_rule(tmp_path: Path):
    settings = prod(ENVIRONMENT="staging")
    dev = write_env(tmp_path / "dev.env", {"SECRET_KEY": settings.SECRET_KEY.get_secret_value()})
    assert statuses(check_key_uniqueness(settings, [dev]), "secret_keys.unique") == ["PASS"]


# --- database.config ----------------------------------------------------------------------


def test_postgresql_with_sslmode_verify_full_passes():
    settings = prod()
    results = config.check_database_config(settings, config.startup_findings(settings))
    assert statuses(results, "database.config") == ["PASS"]
    assert "sslmode=verify-full" in results[0].reason


def test_sslmode_require_fails_in_production_and_warns_in_staging():
    # Security review, finding 5: require encrypts but does not authenticate the server.
    settings = prod(DATABASE_URL=f"{DB}?sslmode=require")
    results = config.check_database_config(settings, config.startup_findings(settings))
    assert statuses(results, "database.config") == ["FAIL"]
    assert "sslmode=require" in results[0].reason and "verify-full" in results[0].fix
    assert "db-password-123" not in text_of(results)
    staging = prod(ENVIRONMENT="staging", DATABASE_URL=f"{DB}?sslmode=require")
    staged = config.check_database_config(staging, config.startup_findings(staging))
    assert statuses(staged, "database.config") == ["WARN"]
    verify_ca = prod(DATABASE_URL=f"{DB}?sslmode=verify-ca&sslrootcert=/ca.pem")
    checked = config.check_database_config(verify_ca, config.startup_findings(verify_ca))
    assert statuses(checked, "database.config") == ["PASS"]
    assert "sslmode=verify-ca" in checked[0].reason


@pytest.mark.parametrize("url", [
    "sqlite:///./prod.db",
    DB,  # no sslmode
    f"{DB}?sslmode=prefer",
])
def test_production_without_postgresql_over_ssl_fails(url: str):
    settings = prod(DATABASE_URL=url)
    results = config.check_database_config(settings, config.startup_findings(settings))
    assert statuses(results, "database.config") == ["FAIL"]
    assert "db-password-123" not in text_of(results)


# --- clerk.config -------------------------------------------------------------------------


def test_clerk_live_keys_and_a_whsec_secret_pass():
    settings = prod()
    results = config.check_clerk_config(settings, config.startup_findings(settings))
    assert statuses(results, "clerk.config") == ["PASS"]


def test_clerk_test_keys_and_a_foreign_webhook_secret_fail_in_production():
    settings = prod(CLERK_SECRET_KEY="sk_test_abcdef0123456789",
                    CLERK_PUBLISHABLE_KEY=publishable_key(live=False),
                    CLERK_WEBHOOK_SECRET="not-a-svix-secret-0123456789")
    results = config.check_clerk_config(settings, config.startup_findings(settings))
    assert statuses(results, "clerk.config") == ["FAIL", "FAIL", "FAIL"]
    joined = text_of(results)
    assert "sk_test_" in joined and "pk_test_" in joined and "whsec_" in joined
    assert "abcdef0123456789" not in joined and "not-a-svix-secret" not in joined


def test_a_clerk_secret_key_that_is_neither_test_nor_live_fails_in_production():
    settings = prod(CLERK_SECRET_KEY="some-other-key-0123456789")
    results = config.check_clerk_config(settings, config.startup_findings(settings))
    assert statuses(results, "clerk.config") == ["FAIL"]
    assert "sk_live_" in results[0].reason


# --- clerk.issuer -------------------------------------------------------------------------


def test_an_issuer_matching_the_publishable_key_passes():
    settings = prod(CLERK_ISSUER="https://clerk.homechef.example.com/")
    assert statuses(config.check_clerk_issuer(settings), "clerk.issuer") == ["PASS"]


def test_an_issuer_of_another_clerk_instance_fails():
    settings = prod(CLERK_ISSUER="https://clerk.someone-else.example.com")
    [result] = config.check_clerk_issuer(settings)
    assert result.status == "FAIL" and "clerk.homechef.example.com" in result.reason


def test_an_undecodable_publishable_key_fails():
    [result] = config.check_clerk_issuer(prod(CLERK_PUBLISHABLE_KEY="pk_live_%%%not-base64"))
    assert result.status == "FAIL" and "publishable key" in result.reason


def test_a_plain_http_issuer_fails_in_production():
    settings = prod(CLERK_PUBLISHABLE_KEY=None, CLERK_ISSUER="http://clerk.homechef.example.com")
    assert statuses(config.check_clerk_issuer(settings), "clerk.issuer") == ["FAIL"]


# --- cors.origins -------------------------------------------------------------------------


def test_https_origins_pass():
    settings = prod(ALLOWED_ORIGINS="https://app.example.com,https://www.example.com:8443")
    results = config.check_cors(settings, config.startup_findings(settings))
    assert statuses(results, "cors.origins") == ["PASS"]


@pytest.mark.parametrize("origins, expected", [
    ("*", "'*'"),
    ("https://app.example.com,http://app.example.com", "http://app.example.com"),
    ("https://app.example.com/", "trailing slash"),
])
def test_wildcard_plain_http_or_malformed_origins_fail_in_production(origins: str, expected: str):
    settings = prod(ALLOWED_ORIGINS=origins)
    results = config.check_cors(settings, config.startup_findings(settings))
    assert statuses(results, "cors.origins") == ["FAIL"]
    assert expected in results[0].reason


def test_http_localhost_is_only_a_warning_in_development():
    settings = settings_of({"SECRET_KEY": generate_secret_key(), "ENVIRONMENT": "development"})
    results = config.check_cors(settings, config.startup_findings(settings))
    assert statuses(results, "cors.origins") == ["WARN"]
    assert "http://localhost:3000" in results[0].reason


# --- docs.disabled ------------------------------------------------------------------------


def test_docs_off_by_default_in_production_pass():
    assert statuses(config.check_docs(prod()), "docs.disabled") == ["PASS"]


def test_docs_switched_on_in_production_fail():
    [result] = config.check_docs(prod(DOCS_ENABLED="true"))
    assert result.status == "FAIL" and "DOCS_ENABLED" in result.fix


# --- rate_limit.storage -------------------------------------------------------------------


def test_several_workers_sharing_redis_pass():
    settings = prod(WEB_CONCURRENCY="4", RATE_LIMIT_STORAGE_URL="redis://:redis-pass-123@cache:6379/0")
    [result] = config.check_rate_limit_storage(settings)
    assert result.status == "PASS" and "redis-pass-123" not in result.reason


def test_several_workers_with_in_memory_counters_fail():
    [result] = config.check_rate_limit_storage(
        prod(WEB_CONCURRENCY="4", RATE_LIMIT_STORAGE_URL="memory://")
    )
    assert result.status == "FAIL"
    assert "WEB_CONCURRENCY=4" in result.reason and "redis://" in result.fix


# --- tokens.lifetime ----------------------------------------------------------------------


def test_a_short_token_lifetime_passes():
    assert statuses(config.check_token_lifetime(prod()), "tokens.lifetime") == ["PASS"]


def test_a_token_lifetime_above_an_hour_is_warned_about():
    [result] = config.check_token_lifetime(prod(ACCESS_TOKEN_EXPIRE_MINUTES="240"))
    assert result.status == "WARN" and "240" in result.reason


# --- startup.other ------------------------------------------------------------------------


def test_no_startup_finding_is_lost_even_if_no_check_claims_it():
    assert config.check_other_startup_findings(config.startup_findings(prod())) == []
    stray = Finding("error", "something_new.bad", "A new startup rule fired.", "Do the thing.")
    [result] = config.check_other_startup_findings([stray])
    assert (result.name, result.status, result.fix) == ("startup.other", "FAIL", "Do the thing.")
