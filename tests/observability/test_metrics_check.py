"""validate_setup's metrics.exposure: no token is no endpoint; a weak or reused token in
production is a FAIL, and the token never appears in the report."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from app.core.config import Settings
from app.ops.checks import redact, secret_values
from app.ops.config_checks import check_metrics


def test_no_token_means_no_endpoint(make_settings: Callable[..., Settings]) -> None:
    [result] = check_metrics(make_settings(ENVIRONMENT="production"))

    assert result.status == "PASS"
    assert "404" in result.reason


def test_a_short_token_fails_in_production_and_warns_elsewhere(
    make_settings: Callable[..., Settings]
) -> None:
    production = check_metrics(make_settings(ENVIRONMENT="production", METRICS_TOKEN="letmein"))
    development = check_metrics(make_settings(ENVIRONMENT="test", METRICS_TOKEN="letmein"))

    assert [r.status for r in production] == ["FAIL"]
    assert [r.status for r in development] == ["WARN"]


def test_the_secret_key_reused_as_metrics_token_fails(
    make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(ENVIRONMENT="production")
    reused = make_settings(ENVIRONMENT="production",
                           METRICS_TOKEN=settings.SECRET_KEY.get_secret_value())  # type: ignore[union-attr]

    results = check_metrics(reused)

    assert [r.status for r in results] == ["FAIL"]
    assert "SECRET_KEY" in results[0].reason


def test_a_strong_token_passes_and_several_workers_need_the_shared_directory(
    make_settings: Callable[..., Settings]
) -> None:
    token = uuid.uuid4().hex * 2
    settings = make_settings(METRICS_TOKEN=token, WEB_CONCURRENCY=2)

    results = check_metrics(settings)

    assert [(r.name, r.status) for r in results] == [
        ("metrics.exposure", "PASS"), ("metrics.workers", "WARN")]
    secrets = secret_values(None, settings)
    assert token in secrets
    assert all(token not in str(redact(r, secrets)) for r in results)
