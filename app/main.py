"""The application factory: middleware, routers, error handlers and lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy import Engine

from app.api import include_routers
from app.core.config import Settings, get_settings
from app.core.errors import install_error_handlers
from app.core.logs import configure_logging
from app.core.middleware import RequestIdMiddleware, UnhandledErrorMiddleware
from app.core.startup import run_startup_validation
from app.core.tokens import KeyRing
from app.db.engine import make_engine
from app.db.session import make_session_factory

logger = logging.getLogger("homechef.app")


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the app. Tests pass their own settings and a shared engine."""
    settings = settings or get_settings()
    owns_engine = engine is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.LOG_LEVEL, settings.log_format)
        run_startup_validation(settings)
        app.state.key_ring = KeyRing(settings)
        app.state.engine = engine or make_engine(settings)
        app.state.session_factory = make_session_factory(app.state.engine)
        # Sync routes run in anyio's thread pool. With no more threads than pooled
        # connections, a burst queues for a thread instead of timing out on the pool.
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = settings.DB_POOL_SIZE + settings.DB_MAX_OVERFLOW
        logger.info(
            "started",
            extra={"event": "app.started", "environment": settings.ENVIRONMENT,
                   "database": app.state.engine.url.get_backend_name()},
        )
        try:
            yield
        finally:
            if owns_engine:
                app.state.engine.dispose()

    docs = settings.docs_enabled
    app = FastAPI(
        title="HomeChef Companion API",
        version="0.1.0",
        summary="Recipes for home cooks: the backend of the HomeChef app.",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    include_routers(app)
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(RequestIdMiddleware)  # outermost: added last
    return app


def __getattr__(name: str) -> FastAPI:
    # `uvicorn app.main:app` builds the app lazily, so importing this module (tests,
    # scripts) never reads the environment as a side effect.
    if name == "app":
        return create_app()
    raise AttributeError(name)
