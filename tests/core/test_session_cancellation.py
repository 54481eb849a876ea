"""A request cancelled mid-flight (the client went away) still returns its connection."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import httpx
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.core.config import Settings
from app.db.session import SessionDep
from app.main import create_app


def test_cancelled_request_releases_its_pooled_connection(
    make_settings: Callable[..., Settings], engine
) -> None:
    app = create_app(make_settings(), engine=engine)
    reached = anyio.Event()

    @app.get("/hang")
    async def hang(session: SessionDep) -> dict:
        await anyio.to_thread.run_sync(lambda: session.execute(text("SELECT 1")))
        reached.set()
        await anyio.sleep(60)
        return {}

    async def scenario() -> int:
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://t") as client,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(client.get, "/hang")
            await reached.wait()
            assert engine.pool.checkedout() == 1
            tg.cancel_scope.cancel()
        return engine.pool.checkedout()

    with TestClient(app):  # runs the lifespan: state, engine, key ring
        assert anyio.run(scenario) == 0
