"""validate_setup's rate-limit storage check, against the real Redis at 127.0.0.1:6379."""

from __future__ import annotations

import socket

import pytest

from app.ops.ratelimit_checks import check_rate_limit_reachable
from tests.ops.support import settings_of


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settings(url: str, **extra: object):
    return settings_of({"ENVIRONMENT": "test", "RATE_LIMIT_ENABLED": True,
                        "RATE_LIMIT_STORAGE_URL": url, **extra})


def test_a_reachable_redis_passes() -> None:
    [result] = check_rate_limit_reachable(_settings("redis://127.0.0.1:6379/0"))
    assert result.status == "PASS" and "127.0.0.1:6379" in result.reason


@pytest.mark.parametrize(("fail_open", "status", "consequence"), [
    (True, "WARN", "would not be enforced"),
    (False, "FAIL", "would answer 503"),
])
def test_an_unreachable_redis_is_reported_without_its_password(
    fail_open: bool, status: str, consequence: str
) -> None:
    url = f"redis://:s3cret-pw-4711@127.0.0.1:{_closed_port()}/0"
    [result] = check_rate_limit_reachable(_settings(url, RATE_LIMIT_FAIL_OPEN=fail_open))
    assert result.status == status and consequence in result.reason
    assert "s3cret" not in result.reason + result.fix


def test_memory_storage_and_disabled_limits_pass_without_connecting() -> None:
    [memory] = check_rate_limit_reachable(_settings("memory://"))
    assert memory.status == "PASS" and "memory://" in memory.reason
    off = settings_of({"ENVIRONMENT": "test", "RATE_LIMIT_ENABLED": False,
                       "RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:1/0"})
    [disabled] = check_rate_limit_reachable(off)
    assert disabled.status == "PASS" and "disabled" in disabled.reason
