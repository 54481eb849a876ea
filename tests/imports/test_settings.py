"""The loopback switch: a warning in development, refused at startup in staging and
production, a FAIL in validate_setup whatever the environment."""

from __future__ import annotations

import pytest

from app.core.startup import StartupValidationError, run_startup_validation, validate_settings
from app.ops import config_checks as config
from tests.ops.support import production_values, settings_of, statuses

DB = "postgresql://app:pw@db.example.com:5432/homechef?sslmode=require"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_startup_refuses_private_networks_when_deployed(environment: str) -> None:
    settings = settings_of(production_values(DB, ENVIRONMENT=environment,
                                             IMPORT_ALLOW_PRIVATE_NETWORKS="true"))
    with pytest.raises(StartupValidationError) as refused:
        run_startup_validation(settings)
    assert "imports.private_networks_allowed" in {f.code for f in refused.value.findings}


def test_startup_only_warns_in_development() -> None:
    settings = settings_of(production_values(DB, ENVIRONMENT="development",
                                             IMPORT_ALLOW_PRIVATE_NETWORKS="true"))
    [finding] = [f for f in validate_settings(settings)
                 if f.code == "imports.private_networks_allowed"]
    assert finding.severity == "warning"


@pytest.mark.parametrize("environment", ["development", "test", "staging", "production"])
def test_validate_setup_fails_on_the_switch(environment: str) -> None:
    on = settings_of(production_values(DB, ENVIRONMENT=environment,
                                       IMPORT_ALLOW_PRIVATE_NETWORKS="true"))
    assert statuses(config.check_import_fetcher(on), "imports.fetcher") == ["FAIL"]
    off = settings_of(production_values(DB, ENVIRONMENT=environment))
    assert statuses(config.check_import_fetcher(off), "imports.fetcher") == ["PASS"]


def test_the_import_rate_limit_must_parse() -> None:
    settings = settings_of(production_values(DB, RATE_LIMIT_IMPORT="lots"))
    assert "rate_limit.invalid" in {f.code for f in validate_settings(settings)}
