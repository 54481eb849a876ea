"""A client hammering a limit cannot flood the log: one ``ratelimit.exceeded`` line per
client key and window, the next one counting what went unlogged."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.ratelimit import RefusalLog
from tests.hardening.support import ME_URL


def _exceeded(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == "ratelimit.exceeded"]


def test_a_hammering_client_gets_one_line_per_window(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(make_settings(RATE_LIMIT_ENABLED=True, RATE_LIMIT_READ="2/minute"))
    limiter = client.app.state.rate_limiter  # type: ignore[attr-defined]
    now = [1000.0]
    limiter.refusals = RefusalLog(lambda: now[0])
    caplog.set_level(logging.INFO)

    statuses = [client.get(ME_URL).status_code for _ in range(52)]
    assert statuses.count(429) == 50  # every refusal is still refused
    [line] = _exceeded(caplog)
    assert line.suppressed == 0

    now[0] += 61  # the next window: one more line, counting the 49 left out
    assert client.get(ME_URL).status_code == 429
    _first, second = _exceeded(caplog)
    assert second.suppressed == 49


def test_the_refusal_log_stays_bounded_under_a_flood_of_keys() -> None:
    log = RefusalLog(lambda: 0.0, max_keys=100)
    assert all(log.admit(f"ip:10.0.{i // 256}.{i % 256}", 60) == 0 for i in range(1000))
    assert len(log._quiet_until) <= 100
    assert log.admit("ip:10.0.3.231", 60) is None  # a recent key is still quiet
