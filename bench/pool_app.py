"""The API with its request thread pool forced to BENCH_THREADS, for bench/pool.py.

It reproduces the earlier rule (threads = pool + overflow) beside the current one
(threads = DB_POOL_SIZE) in the same run; nothing else differs from app.main.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI

from app.main import create_app as create_project_app


def create_app() -> FastAPI:
    app = create_project_app()
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with inner(a) as state:
            limiter = anyio.to_thread.current_default_thread_limiter()
            limiter.total_tokens = int(os.environ["BENCH_THREADS"])
            yield state

    app.router.lifespan_context = lifespan
    return app
