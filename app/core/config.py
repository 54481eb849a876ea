"""The one place that reads the environment.

Every setting the service understands is declared here, with its default. Policy
checks that depend on the environment (SSL in production, live Clerk keys, ...) live
in ``app.core.startup`` so that all problems can be reported at once instead of the
first one raising.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

Environment = Literal["development", "test", "staging", "production"]

#: The embedded default used when DATABASE_URL is unset in development or test.
SQLITE_DEFAULT_URL = "sqlite:///./homechef.db"

#: Tokens this service issues name themselves with these; they are not configurable
#: because nothing else should ever accept them.
TOKEN_ISSUER = "homechef-api"  # noqa: S105 - a name, not a secret
TOKEN_AUDIENCE = "homechef-app"  # noqa: S105 - a name, not a secret

CommaList = Annotated[list[str], NoDecode]


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=True,
        hide_input_in_errors=True,
        # `LOG_FORMAT=` (as .env.example writes every optional setting) means "default",
        # in .env and in the environment alike, instead of failing validation.
        env_ignore_empty=True,
    )

    ENVIRONMENT: Environment = "development"

    # --- internal tokens -------------------------------------------------------
    SECRET_KEY: SecretStr | None = None
    PREVIOUS_SECRET_KEYS: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=15, ge=1, le=24 * 60)
    # How long a checked (user, session, version) stays trusted in memory; the revocation
    # feed forgets entries sooner, the moment they are revoked. 0 checks the database on
    # every request. PostgreSQL only (app/auth/validity.py).
    AUTH_CACHE_SECONDS: int = Field(default=300, ge=0, le=3600)

    # --- database ----------------------------------------------------------------
    DATABASE_URL: SecretStr | None = None
    # Where the revocation feed LISTENs. Unset: DATABASE_URL. A transaction-mode pooler
    # (Neon's "-pooler" host) does not deliver notifications; give the direct host here.
    DATABASE_LISTEN_URL: SecretStr | None = None
    # Request threads = pool + overflow (app/main.py). No overflow by default: an overflow
    # connection is closed on return and reopened under steady load (bench/pool.py).
    DB_POOL_SIZE: int = Field(default=20, ge=1, le=100)
    DB_MAX_OVERFLOW: int = Field(default=0, ge=0, le=200)
    DB_POOL_TIMEOUT: float = Field(default=10.0, gt=0, le=120)
    # Neon drops idle connections after 5 minutes; recycle well before that.
    DB_POOL_RECYCLE: int = Field(default=240, ge=10, le=3600)
    DB_CONNECT_TIMEOUT: int = Field(default=5, ge=1, le=60)
    DB_STATEMENT_TIMEOUT_MS: int = Field(default=15000, ge=0, le=600000)
    # A pooled connection idle for longer is pinged before use (0 = ping every checkout).
    DB_PING_IDLE_SECONDS: float = Field(default=2.0, ge=0, le=300)

    # --- Clerk ---------------------------------------------------------------------
    CLERK_SECRET_KEY: SecretStr | None = None
    CLERK_PUBLISHABLE_KEY: str | None = None
    CLERK_WEBHOOK_SECRET: SecretStr | None = None
    CLERK_ISSUER: str | None = None
    CLERK_JWKS_URL: str | None = None
    CLERK_API_URL: str = "https://api.clerk.com/v1"
    CLERK_JWT_KEY: str | None = None
    CLERK_AUTHORIZED_PARTIES: CommaList = Field(default_factory=list)
    # Unset: a Clerk token carrying any `aud` is refused. Set: `aud` is required and must name it.
    CLERK_AUDIENCE: str | None = Field(default=None, min_length=1, max_length=256)
    CLERK_HTTP_TIMEOUT: float = Field(default=5.0, gt=0, le=30)
    CLERK_JWKS_CACHE_TTL: int = Field(default=3600, ge=0)
    CLERK_JWKS_REFETCH_COOLDOWN: float = Field(default=60.0, ge=0)

    # --- HTTP surface ---------------------------------------------------------------
    ALLOWED_ORIGINS: CommaList = Field(
        default_factory=lambda: ["http://localhost:3000", "http://localhost:5173"]
    )
    CORS_ALLOW_CREDENTIALS: bool = False
    TRUSTED_PROXIES: CommaList = Field(default_factory=list)
    DOCS_ENABLED: bool | None = None
    MAX_UPLOAD_BYTES: int = Field(default=5 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    MAX_JSON_BODY_BYTES: int = Field(default=1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    MAX_WEBHOOK_BODY_BYTES: int = Field(default=256 * 1024, ge=1024, le=10 * 1024 * 1024)
    MAX_IMAGE_PIXELS: int = Field(default=40_000_000, ge=10_000)
    IMAGE_MAX_SCANS: int = Field(default=100, ge=1, le=100_000)
    IMAGE_CPU_SECONDS: int = Field(default=10, ge=1, le=300)
    # Signed image links live this long, rounded up to the hour (so 1-2 h by default).
    # Links handed out before a recipe turns private work until then: keep it short.
    MEDIA_LINK_SECONDS: int = Field(default=3600, ge=60, le=12 * 3600)
    # Where photo bytes live: "postgresql" (default, in media_blobs) or "s3" (any
    # S3-compatible object store: AWS S3, Cloudflare R2, MinIO). The bucket must be private.
    MEDIA_STORE: Literal["postgresql", "s3"] = "postgresql"
    MEDIA_S3_BUCKET: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    MEDIA_S3_ENDPOINT_URL: str | None = None  # unset: AWS S3 itself
    MEDIA_S3_REGION: str = "us-east-1"
    MEDIA_S3_ACCESS_KEY_ID: SecretStr | None = None
    MEDIA_S3_SECRET_ACCESS_KEY: SecretStr | None = None
    MEDIA_S3_PREFIX: str = Field(default="media/", pattern=r"^[A-Za-z0-9/_.-]{0,100}$")
    # "stream": the API reads the object and sends it; "redirect": 307 to a presigned GET
    # URL of MEDIA_S3_PRESIGN_SECONDS (the bytes skip the API's workers).
    MEDIA_S3_DELIVERY: Literal["stream", "redirect"] = "stream"
    MEDIA_S3_PRESIGN_SECONDS: int = Field(default=300, ge=10, le=3600)
    MEDIA_S3_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0, le=60)

    # --- rate limiting --------------------------------------------------------------
    RATE_LIMIT_ENABLED: bool = True
    RATE_LIMIT_STORAGE_URL: SecretStr = SecretStr("memory://")
    RATE_LIMIT_FAIL_OPEN: bool = True
    # Namespaces the keys in a shared Redis (e.g. staging and production on one server).
    RATE_LIMIT_KEY_PREFIX: str = Field(default="homechef", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    RATE_LIMIT_AUTH: str = "10/minute"
    RATE_LIMIT_WRITE: str = "60/minute"
    RATE_LIMIT_READ: str = "600/minute"
    RATE_LIMIT_WEBHOOK: str = "600/minute"
    # Signed image links (no token): per client IP; a gallery page loads dozens at once.
    RATE_LIMIT_MEDIA: str = "1200/minute"
    # IPv6 clients share one bucket per network of this size (every host has a /64).
    RATE_LIMIT_IPV6_PREFIX: int = Field(default=64, ge=32, le=128)
    # The public calendar feed (GET /api/v1/calendar/{token}.ics): per client IP, and per
    # token. Calendar services fetch many people's feeds from a few addresses, so the
    # per-IP limit is generous; one subscription polls a few times an hour at most.
    RATE_LIMIT_FEED: str = "120/minute"
    RATE_LIMIT_FEED_URL: str = "10/minute"

    # --- shopping lists -------------------------------------------------------------
    # How long a deleted item is remembered for syncing phones; a sync token older than
    # this gets a 410 (do a full reload).
    SHOPPING_TOMBSTONE_RETENTION_DAYS: int = Field(default=30, ge=1, le=365)
    # Per user, on top of RATE_LIMIT_WRITE: URL imports and image-by-URL (server fetches).
    RATE_LIMIT_IMPORT: str = "10/minute"

    # --- recipe import (app/imports) ---------------------------------------------------
    # Lets the fetcher reach loopback and private addresses (any port on them): for tests
    # and local development only. Refused at startup in staging and production.
    IMPORT_ALLOW_PRIVATE_NETWORKS: bool = False
    IMPORT_MAX_PAGE_BYTES: int = Field(default=5 * 1024 * 1024, ge=64 * 1024,
                                       le=20 * 1024 * 1024)
    IMPORT_CONNECT_TIMEOUT: float = Field(default=5.0, gt=0, le=30)
    IMPORT_READ_TIMEOUT: float = Field(default=10.0, gt=0, le=60)
    IMPORT_TOTAL_TIMEOUT: float = Field(default=15.0, gt=0, le=120)
    # Fetches at once per process; one more is refused with 503 and Retry-After.
    IMPORT_MAX_CONCURRENT_FETCHES: int = Field(default=8, ge=1, le=256)

    # --- operations -----------------------------------------------------------------
    WEB_CONCURRENCY: int = Field(default=1, ge=1, le=64)
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    LOG_FORMAT: Literal["json", "console"] | None = None

    # --- metrics and traces (app/core/metrics.py, app/core/tracing.py) ----------------
    METRICS_ENABLED: bool = True
    # GET /metrics answers only to "Authorization: Bearer <METRICS_TOKEN>"; unset: 404.
    METRICS_TOKEN: SecretStr | None = None
    # prometheus-client's own variable: a directory shared by the workers of one server.
    PROMETHEUS_MULTIPROC_DIR: str | None = None
    # The OpenTelemetry SDK's own variables; these decide only whether tracing is on.
    OTEL_SDK_DISABLED: bool = False
    OTEL_TRACES_EXPORTER: str | None = None
    OTEL_EXPORTER_OTLP_ENDPOINT: str | None = None
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: str | None = None

    @field_validator("PREVIOUS_SECRET_KEYS", mode="before")
    @classmethod
    def _split_previous_keys(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator(
        "CLERK_AUTHORIZED_PARTIES", "ALLOWED_ORIGINS", "TRUSTED_PROXIES", mode="before"
    )
    @classmethod
    def _split_lists(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator(
        "SECRET_KEY",
        "DATABASE_URL",
        "DATABASE_LISTEN_URL",
        "CLERK_SECRET_KEY",
        "CLERK_WEBHOOK_SECRET",
        "CLERK_PUBLISHABLE_KEY",
        "CLERK_ISSUER",
        "CLERK_JWKS_URL",
        "CLERK_JWT_KEY",
        "METRICS_TOKEN",
        "PROMETHEUS_MULTIPROC_DIR",
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "MEDIA_S3_BUCKET",
        "MEDIA_S3_ENDPOINT_URL",
        "MEDIA_S3_ACCESS_KEY_ID",
        "MEDIA_S3_SECRET_ACCESS_KEY",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # An empty line in .env (SECRET_KEY=) means "not configured", not "the empty key".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    # --- derived values -------------------------------------------------------------

    @property
    def is_deployed(self) -> bool:
        """Staging and production get the strict rules."""
        return self.ENVIRONMENT in ("staging", "production")

    @property
    def tracing_enabled(self) -> bool:
        """On when the standard OTEL_* variables name an exporter or an endpoint."""
        if self.OTEL_SDK_DISABLED:
            return False
        exporter = (self.OTEL_TRACES_EXPORTER or "").strip().lower()
        if exporter:
            return exporter != "none"
        return bool(self.OTEL_EXPORTER_OTLP_ENDPOINT or self.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)

    @property
    def docs_enabled(self) -> bool:
        if self.DOCS_ENABLED is not None:
            return self.DOCS_ENABLED
        return self.ENVIRONMENT != "production"

    @property
    def log_format(self) -> str:
        if self.LOG_FORMAT:
            return self.LOG_FORMAT
        return "console" if self.ENVIRONMENT == "development" else "json"

    @property
    def database_url(self) -> URL:
        """The SQLAlchemy URL, with the psycopg2 driver made explicit.

        SQLAlchemy 2.1 maps a bare ``postgresql://`` (what Neon hands out) to psycopg 3;
        we ship psycopg2, so the driver is named. Query parameters such as sslmode and
        sslrootcert are kept untouched.
        """
        raw = self.DATABASE_URL.get_secret_value() if self.DATABASE_URL else SQLITE_DEFAULT_URL
        return normalize_database_url(raw)

    @property
    def database_listen_url(self) -> URL:
        if self.DATABASE_LISTEN_URL is None:
            return self.database_url
        return normalize_database_url(self.DATABASE_LISTEN_URL.get_secret_value())

    @property
    def database_is_default(self) -> bool:
        return self.DATABASE_URL is None

    @property
    def authorized_parties(self) -> list[str]:
        return self.CLERK_AUTHORIZED_PARTIES or self.ALLOWED_ORIGINS

    @property
    def clerk_frontend_api(self) -> str | None:
        """The Frontend API host encoded in the publishable key (pk_test_<b64 host$>)."""
        return frontend_api_from_publishable_key(self.CLERK_PUBLISHABLE_KEY)

    @property
    def clerk_issuer(self) -> str | None:
        if self.CLERK_ISSUER:
            return self.CLERK_ISSUER.rstrip("/")
        host = self.clerk_frontend_api
        return f"https://{host}" if host else None

    @property
    def clerk_jwks_url(self) -> str | None:
        if self.CLERK_JWKS_URL:
            return self.CLERK_JWKS_URL
        if self.CLERK_SECRET_KEY:
            return f"{self.CLERK_API_URL.rstrip('/')}/jwks"
        host = self.clerk_frontend_api
        return f"https://{host}/.well-known/jwks.json" if host else None

    @property
    def clerk_configured(self) -> bool:
        """Enough to verify Clerk session tokens: a key source and an issuer."""
        has_keys = bool(self.CLERK_JWT_KEY or self.clerk_jwks_url)
        return has_keys and self.clerk_issuer is not None

    def all_secret_keys(self) -> list[str]:
        """SECRET_KEY first, then the previous keys still accepted for verification."""
        keys = [self.SECRET_KEY.get_secret_value()] if self.SECRET_KEY else []
        keys.extend(k.get_secret_value() for k in self.PREVIOUS_SECRET_KEYS)
        return keys


def normalize_database_url(raw: str) -> URL:
    url = make_url(raw)
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg2")
    return url


def frontend_api_from_publishable_key(key: str | None) -> str | None:
    if not key or not key.startswith(("pk_test_", "pk_live_")):
        return None
    encoded = key.split("_", 2)[2]
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    host = decoded.rstrip("$")
    if not host or "/" in host or urlsplit(f"https://{host}").hostname is None:
        return None
    return host


@lru_cache
def get_settings() -> Settings:
    return Settings()


def env_file_path() -> Path:
    return Path(".env")
