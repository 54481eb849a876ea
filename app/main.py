"""The application factory: middleware, routers, error handlers and lifespan.

Middleware, outermost first (a request walks down this list, the response back up)::

    EdgeMiddleware          request id, security headers, CORS, problem 500 for anything
                            that escaped, and one "http.access" line (app/core/edge.py)
    RateLimitMiddleware     refuse before the body is read or the database touched
    BodyLimitMiddleware     cap the body while it streams
    HeadAsGetMiddleware     HEAD answered as the GET it shadows, without the body
    (FastAPI: exception handlers, routing, dependencies)
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import anyio.to_thread
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import Engine

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor

from app.api import API_PREFIX, CALENDAR_FEED_PREFIX, include_routers
from app.auth import validity
from app.auth.change_feed import RevocationFeed
from app.auth.validity import ValidityCache
from app.core import metrics, metrics_multiprocess, tracing
from app.core.body_limit import BodyLimitMiddleware, BodyRule
from app.core.client_ip import IPNetwork, parse_trusted_proxies
from app.core.config import Settings, get_settings
from app.core.edge import EdgeMiddleware
from app.core.errors import install_error_handlers
from app.core.head import HeadAsGetMiddleware
from app.core.logs import configure_logging
from app.core.ratelimit import RateLimiter, RateLimitMiddleware, RateLimitPolicy
from app.core.startup import StartupValidationError, run_startup_validation, validate_settings
from app.core.tokens import KeyRing
from app.db.engine import make_engine
from app.db.session import UnitOfWorkRoute, make_session_factory
from app.media.store import configure as configure_media_store

logger = logging.getLogger("homechef.app")

AUTH_TOKEN_PATH = f"{API_PREFIX}/auth/token"
WEBHOOK_PATH = f"{API_PREFIX}/webhooks/clerk"
#: The image uploads (PUT .../image, POST .../images) enforce MAX_UPLOAD_BYTES themselves
#: (app/core/upload.py).
IMAGE_UPLOAD_PATTERN = re.compile(rf"{re.escape(API_PREFIX)}/recipes/[^/]+/images?/?")
MEDIA_PREFIX = f"{API_PREFIX}/media"
#: A pasted page may be as large as a fetched one (JSON escaping can double it).
HTML_IMPORT_PATTERN = re.compile(rf"{re.escape(API_PREFIX)}/recipe-imports/html/?")


def _secret_values(settings: Settings) -> list[str | None]:
    """Every configured secret, so the log redaction can mask them literally."""
    values: list[str | None] = list(settings.all_secret_keys())
    for secret in (settings.CLERK_SECRET_KEY, settings.CLERK_WEBHOOK_SECRET,
                   settings.METRICS_TOKEN, settings.MEDIA_S3_ACCESS_KEY_ID,
                   settings.MEDIA_S3_SECRET_ACCESS_KEY):
        values.append(secret.get_secret_value() if secret else None)
    values.append(settings.database_url.password)
    values.append(settings.database_listen_url.password)
    values.append(urlsplit(settings.RATE_LIMIT_STORAGE_URL.get_secret_value()).password)
    return values


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None,
    span_processor: SpanProcessor | None = None,
) -> FastAPI:
    """Build the app. Tests pass their own settings, a shared engine, and a span
    processor (tracing on, spans kept in memory)."""
    settings = settings or get_settings()
    metrics.set_enabled(settings.METRICS_ENABLED)
    tracer_provider = None
    if span_processor is not None or settings.tracing_enabled:
        tracer_provider = tracing.make_provider(span_processor)
    owns_engine = engine is None
    try:
        trusted_proxies = parse_trusted_proxies(settings.TRUSTED_PROXIES)
        rate_limiter = _make_rate_limiter(settings, trusted_proxies)
    except ValueError:
        # Report every problem at once, as the lifespan's validation would have.
        raise StartupValidationError(validate_settings(settings)) from None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.LOG_LEVEL, settings.log_format,
                          secrets=_secret_values(settings))
        run_startup_validation(settings)
        app.state.key_ring = KeyRing(settings)
        configure_media_store(settings)
        app.state.engine = engine or make_engine(settings)
        app.state.session_factory = make_session_factory(app.state.engine)
        if settings.PROMETHEUS_MULTIPROC_DIR:
            metrics_multiprocess.prepare(settings.PROMETHEUS_MULTIPROC_DIR)
        metrics.watch_engine(app.state.engine)
        if tracer_provider is not None:
            tracing.instrument_clients(app.state.engine, tracer_provider)
        app.state.validity_cache = cache = ValidityCache(settings.AUTH_CACHE_SECONDS)
        validity.install(app.state.session_factory, cache)
        feed = _start_revocation_feed(settings, app.state.engine, cache)
        # Sync routes run in anyio's thread pool, capped at the connections the pool can
        # lend: a burst queues for a thread instead of timing out on the pool. Not fewer:
        # a request keeps its connection between a sync dependency and its sync endpoint,
        # so fewer threads than connections can leave every connection held by requests
        # that wait for a thread (tests/core/test_pool_threads.py). The defaults (20 + 0)
        # keep every connection a thread can use, so steady load opens none; overflow
        # connections are closed on return and reopened, a TLS handshake and a login each
        # on Neon (bench/pool.py).
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = settings.DB_POOL_SIZE + settings.DB_MAX_OVERFLOW
        logger.info(
            "started",
            extra={"event": "app.started", "environment": settings.ENVIRONMENT,
                   "database": app.state.engine.url.get_backend_name()},
        )
        if rate_limiter is not None:
            await rate_limiter.open()
        try:
            yield
        finally:
            if feed is not None:
                await anyio.to_thread.run_sync(feed.stop)
            if rate_limiter is not None:
                await rate_limiter.close()
            verifier = getattr(app.state, "clerk_verifier", None)
            if verifier is not None:
                verifier.close()
            if tracer_provider is not None:
                tracing.uninstrument_clients(tracer_provider)
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
        # One schema per model: an import's draft *is* a RecipeCreate the app posts back,
        # and clients (clients/typescript) name it so, not RecipeCreate-Input/-Output.
        separate_input_output_schemas=False,
    )
    app.state.settings = settings
    # Routes added to the app itself end their unit of work too (tests, bench probes).
    app.router.route_class = UnitOfWorkRoute
    app.state.rate_limiter = rate_limiter  # None when disabled; tests steer its clock
    install_error_handlers(app)
    include_routers(app)
    _add_middleware(app, settings, trusted_proxies, rate_limiter)
    if tracer_provider is not None:
        tracing.instrument_app(app, tracer_provider)
    return app


def _start_revocation_feed(
    settings: Settings, engine: Engine, cache: ValidityCache
) -> RevocationFeed | None:
    """The validity cache needs PostgreSQL's LISTEN; elsewhere it stays inactive."""
    if settings.AUTH_CACHE_SECONDS == 0 or engine.url.get_backend_name() != "postgresql":
        return None
    listen_engine = engine
    if settings.DATABASE_LISTEN_URL is not None:
        # The feed holds one connection from it, for good.
        one = settings.model_copy(update={"DB_POOL_SIZE": 1, "DB_MAX_OVERFLOW": 0})
        listen_engine = make_engine(one, settings.database_listen_url)
    feed = RevocationFeed(listen_engine, cache, owns_engine=listen_engine is not engine,
                          notify_engine=engine)
    feed.start()
    return feed


def _make_rate_limiter(
    settings: Settings, trusted_proxies: tuple[IPNetwork, ...]
) -> RateLimiter | None:
    if not settings.RATE_LIMIT_ENABLED:
        return None
    policy = RateLimitPolicy.from_settings(
        settings, api_prefix=API_PREFIX, auth_path=AUTH_TOKEN_PATH, webhook_path=WEBHOOK_PATH,
        feed_prefix=CALENDAR_FEED_PREFIX,
        media_prefix=MEDIA_PREFIX,
    )
    return RateLimiter(settings, policy, trusted_proxies)


def _add_middleware(
    app: FastAPI,
    settings: Settings,
    trusted_proxies: tuple[IPNetwork, ...],
    rate_limiter: RateLimiter | None,
) -> None:
    """In the order of the module docstring, innermost first (Starlette wraps outward)."""
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=settings.MAX_JSON_BODY_BYTES,
        rules=[
            BodyRule(re.compile(re.escape(WEBHOOK_PATH) + "/?"), settings.MAX_WEBHOOK_BODY_BYTES),
            BodyRule(IMAGE_UPLOAD_PATTERN, None),
            BodyRule(HTML_IMPORT_PATTERN, 2 * settings.IMPORT_MAX_PAGE_BYTES),
        ],
    )
    if rate_limiter is not None:
        app.add_middleware(RateLimitMiddleware, limiter=rate_limiter)
    docs = [app.docs_url, app.swagger_ui_oauth2_redirect_url] if app.docs_url else []
    app.add_middleware(
        EdgeMiddleware,
        settings=settings,
        trusted_proxies=trusted_proxies,
        swagger_paths=[path for path in docs if path],
        redoc_paths=[app.redoc_url] if app.redoc_url else [],
    )  # outermost: added last


#: uvicorn's "failed before serving" exit status: its worker supervisor stops instead of
#: restarting a worker that would fail the same way (uvicorn.server.STARTUP_FAILURE).
STARTUP_FAILURE = 3


def app_for_server() -> FastAPI:
    """The app `uvicorn app.main:app` serves, or a short refusal and exit status 3.

    A configuration that cannot start is refused here, before uvicorn's lifespan, whose
    failure would print the reasons twice and a long traceback: each finding is logged
    once (with its fix, in the configured log format), then one summary line.
    """
    try:
        settings = get_settings()
    except ValidationError as exc:
        # Field names and messages only: the settings hide input values.
        print(f"Refusing to start: the settings could not be loaded.\n{exc}", file=sys.stderr)
        raise SystemExit(STARTUP_FAILURE) from None
    if any(f.severity == "error" for f in validate_settings(settings)):
        configure_logging(settings.LOG_LEVEL, settings.log_format,
                          secrets=_secret_values(settings))
        try:
            run_startup_validation(settings)
        except StartupValidationError as exc:
            errors = sum(f.severity == "error" for f in exc.findings)
            logger.critical("refusing to start: %d configuration problem(s) above", errors,
                            extra={"event": "startup.refused"})
            raise SystemExit(STARTUP_FAILURE) from None
    return create_app(settings)


def __getattr__(name: str) -> FastAPI:
    # `uvicorn app.main:app` builds the app lazily, so importing this module (tests,
    # scripts) never reads the environment as a side effect.
    if name == "app":
        return app_for_server()
    raise AttributeError(name)
