"""Pool defaults that do not churn (issue 14, bench/pool.py): the request thread pool is
capped at what the pool can lend, and by default the pool keeps every one of them."""

from __future__ import annotations

import threading
from collections.abc import Callable

import anyio.to_thread
from fastapi.testclient import TestClient
from sqlalchemy import event

from app.core.config import Settings, normalize_database_url
from app.db.engine import make_engine
from app.main import create_app


def _thread_limit(client: TestClient) -> int:
    def read() -> int:
        return int(anyio.to_thread.current_default_thread_limiter().total_tokens)

    return client.portal.call(read)  # type: ignore[union-attr]


def test_request_threads_are_capped_at_pool_plus_overflow(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings]
) -> None:
    client = make_client(make_settings(DB_POOL_SIZE=5, DB_MAX_OVERFLOW=15))
    assert _thread_limit(client) == 20


def test_the_defaults_keep_every_connection_a_thread_can_use() -> None:
    defaults = Settings(_env_file=None)
    assert (defaults.DB_POOL_SIZE, defaults.DB_MAX_OVERFLOW) == (20, 0)


def test_a_burst_at_the_thread_limit_opens_no_new_connection(
    make_settings: Callable[..., Settings], pg_url: str
) -> None:
    # The defaults' shape, small: 4 kept connections, no overflow, so 4 threads.
    settings = make_settings(DB_POOL_SIZE=4, DB_MAX_OVERFLOW=0)
    engine = make_engine(settings, normalize_database_url(pg_url))
    opened: list[object] = []
    statuses: list[int] = []

    def burst(client: TestClient, size: int) -> None:
        def call() -> None:
            statuses.append(client.get("/ready").status_code)

        threads = [threading.Thread(target=call) for _ in range(size)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    try:
        with TestClient(create_app(settings, engine=engine)) as client:
            burst(client, 12)  # every connection the threads can use is now open
            event.listen(engine, "connect", lambda *_: opened.append(1))
            for _ in range(3):
                burst(client, 12)
    finally:
        engine.dispose()
    assert statuses == [200] * 48
    assert opened == []
