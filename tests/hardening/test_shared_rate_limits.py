"""Two real uvicorn processes sharing the Redis at 127.0.0.1:6379 enforce one limit.

The same processes show what only a real server can: no Server banner on any response.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.hardening.support import ME_URL, UvicornProcess, assert_problem, serving

REDIS_URL = "redis://127.0.0.1:6379/15"

pytestmark = pytest.mark.slow


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test run's own; its keys are deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")
    prefix = f"homechef-test-{uuid.uuid4().hex}"
    yield prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def test_a_burst_split_across_two_processes_is_limited_as_one(
    pg_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": pg_url,
        "RATE_LIMIT_ENABLED": "true",
        "RATE_LIMIT_STORAGE_URL": REDIS_URL,
        "RATE_LIMIT_KEY_PREFIX": redis_prefix,
        "RATE_LIMIT_READ": "5/minute",
    }
    with serving(UvicornProcess(env, tmp_path), UvicornProcess(env, tmp_path)) as (first, second):
        # Unauthenticated reads of an /api/v1 route: one IP bucket (127.0.0.1) for both.
        remaining = []
        for server in (first, second, first, second, first):
            response = server.get(ME_URL)
            assert response.status_code == 401, response.text
            assert "server" not in response.headers
            remaining.append(int(response.headers["ratelimit-remaining"]))
        assert remaining == [4, 3, 2, 1, 0]

        for server in (second, first):
            refused = server.get(ME_URL)
            assert_problem(refused, 429, "rate-limited")
            assert int(refused.headers["retry-after"]) >= 1
            assert "server" not in refused.headers
        for path in ("/health", "/nope"):
            response = first.get(path)
            assert "server" not in response.headers, path
            assert response.headers["x-content-type-options"] == "nosniff"

    keys = redis.Redis.from_url(REDIS_URL).keys(f"{redis_prefix}*")
    assert keys, "the limit was not kept in Redis"

