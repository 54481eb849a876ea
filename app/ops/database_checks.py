"""Database checks: reachable, encrypted when it must be, and migrated to head.

One connection is opened (bounded by DB_CONNECT_TIMEOUT) and everything is read from it
into a ``DatabaseObservation``; the checks themselves are pure functions of the settings
and that observation.

Whether the connection is encrypted is asked of both ends: libpq's ``ssl_in_use`` (the
client's view, which is what matters: it is our traffic) and ``pg_stat_ssl`` for this
backend (the server's view). They differ behind a TLS-terminating proxy such as Neon's,
where the client speaks TLS to the proxy and the server sees the proxy's plain
connection; the check passes on the client's word then and says so.

The TLS rule takes its policy ("SSL required") from the configured settings and its
evidence from the connection actually made, so the tests can prove the FAIL branch on a
shared server that has TLS on: the policy says require, the connection is made with
sslmode=disable, and the observed ``ssl = false`` fails the check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError

from app.core.config import Settings
from app.core.database_findings import SSL_MODES_OK, SSL_MODES_VERIFIED
from app.db.engine import make_engine
from app.db.migrations import current_revisions, head_revisions, pending_revisions
from app.ops.results import CheckResult, failed, passed, warned

VERIFY_FIX = (
    "Use sslmode=verify-full in DATABASE_URL with sslrootcert: sslrootcert=system for a "
    "server with a public certificate (Neon), else the path of your CA's certificate."
)
MIGRATE_FIX = (
    "Run `homechef migrate` (alembic upgrade head) as a release step, with the direct "
    "(non-pooled) connection string."
)


@dataclass
class DatabaseObservation:
    backend: str
    target: str  # host:port/database or the SQLite path; never credentials
    error: str | None = None
    client_tls: bool | None = None
    server_ssl: bool | None = None
    tls_version: str | None = None
    #: The sslmode libpq actually used (its own default filled in): how far the server
    #: was authenticated, not only whether the link was encrypted.
    sslmode: str | None = None
    current: tuple[str, ...] = ()
    pending: list[str] = field(default_factory=list)
    migration_error: str | None = None

    @property
    def reachable(self) -> bool:
        return self.error is None

    @property
    def encrypted(self) -> bool | None:
        return self.client_tls if self.client_tls is not None else self.server_ssl


def describe_target(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database}"
    port = f":{url.port}" if url.port else ""
    return f"{url.host or 'localhost'}{port}/{url.database or ''}"


def ssl_required(settings: Settings) -> bool:
    """The policy: deployed environments, or a DATABASE_URL that asks for SSL itself."""
    return settings.is_deployed or settings.database_url.query.get("sslmode") in SSL_MODES_OK


def _driver_message(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    first_line = (str(original).strip().splitlines() or [type(original).__name__])[0]
    return first_line[:200]


def _read_tls(connection: Connection, observation: DatabaseObservation) -> None:
    raw = connection.connection.dbapi_connection
    info = getattr(raw, "info", None)
    if info is not None and hasattr(info, "ssl_in_use"):
        observation.client_tls = bool(info.ssl_in_use)
        if info.ssl_in_use:
            observation.tls_version = info.ssl_attribute("protocol")
        observation.sslmode = (getattr(info, "dsn_parameters", None) or {}).get("sslmode")
    row = connection.execute(
        text("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    ).first()
    if row is not None:
        observation.server_ssl = bool(row.ssl)
        observation.tls_version = observation.tls_version or row.version


def _read_migrations(connection: Connection, observation: DatabaseObservation) -> None:
    try:
        observation.current = current_revisions(connection)
        if set(observation.current) != set(head_revisions()):
            observation.pending = pending_revisions(connection)
    except (CommandError, RevisionError, SQLAlchemyError) as exc:
        # Typically a revision in the database that this code does not know.
        observation.migration_error = _driver_message(exc)


def inspect_database(settings: Settings, url: URL | None = None) -> DatabaseObservation:
    """Connect once and read TLS state and schema revision.

    ``url`` overrides the connection URL only (the policy still comes from ``settings``).
    """
    url = url or settings.database_url
    observation = DatabaseObservation(url.get_backend_name(), describe_target(url))
    is_file = observation.backend == "sqlite" and url.database not in (None, "", ":memory:")
    if is_file and not Path(str(url.database)).exists():
        # Connecting would create an empty file; say so instead.
        observation.error = "the file does not exist yet"
        return observation
    engine = make_engine(settings, url)
    try:
        with engine.connect() as connection:
            if observation.backend == "postgresql":
                _read_tls(connection, observation)
            _read_migrations(connection, observation)
    except SQLAlchemyError as exc:
        observation.error = _driver_message(exc)
    finally:
        engine.dispose()
    return observation


def check_database_connect(settings: Settings, obs: DatabaseObservation) -> list[CheckResult]:
    name = "database.connect"
    if obs.reachable:
        return [passed(name, f"connected to {obs.target}")]
    if obs.backend == "sqlite":
        return [warned(name, f"{obs.target}: {obs.error}",
                       "Run `homechef migrate` (or `homechef dev`) to create it.")]
    return [failed(
        name, f"cannot connect to {obs.target} within {settings.DB_CONNECT_TIMEOUT}s: {obs.error}",
        "Check DATABASE_URL's host, port, user and password, that the database accepts "
        "connections from here, and DB_CONNECT_TIMEOUT.",
    )]


def check_database_tls(settings: Settings, obs: DatabaseObservation) -> list[CheckResult]:
    name = "database.tls"
    required = ssl_required(settings)
    if obs.backend != "postgresql":
        if required:
            return [warned(name, "not checked: the database is not PostgreSQL "
                           "(see database.config)", "Use PostgreSQL with sslmode=require.")]
        return [passed(name, "not applicable: SQLite has no network connection")]
    if not obs.reachable:
        return [warned(name, "not checked: the database is unreachable (see database.connect)",
                       "Fix the connection first.")]
    server = {True: "true", False: "false", None: "unknown"}[obs.server_ssl]
    evidence = f"pg_stat_ssl.ssl = {server}"
    if obs.encrypted:
        via = f" ({obs.tls_version})" if obs.tls_version else ""
        note = ("; the server sees a plain connection, as behind a TLS-terminating proxy "
                "such as Neon's" if obs.server_ssl is False else "")
        verified = obs.sslmode in SSL_MODES_VERIFIED
        mode = (f"the server's certificate was verified (sslmode={obs.sslmode})" if verified
                else f"the server was NOT authenticated (sslmode={obs.sslmode or 'unknown'})")
        reason = f"the connection is encrypted{via}, {evidence}; {mode}{note}"
        if settings.ENVIRONMENT == "production" and not verified:
            return [failed(name, reason, VERIFY_FIX)]
        return [passed(name, reason)]
    if required:
        return [failed(
            name, f"the connection to {obs.target} is not encrypted ({evidence}) although "
            f"SSL is required in {settings.ENVIRONMENT}",
            "Use sslmode=require, or verify-full with sslrootcert, in DATABASE_URL, and make "
            "sure the server has TLS on (ssl = on).",
        )]
    return [passed(name, f"the connection is not encrypted ({evidence}); not required in "
                   f"{settings.ENVIRONMENT}")]


def check_migrations(obs: DatabaseObservation) -> list[CheckResult]:
    name = "database.migrations"
    if not obs.reachable:
        return [warned(name, "not checked: the database is unreachable (see database.connect)",
                       MIGRATE_FIX)]
    heads = ", ".join(head_revisions())
    if obs.migration_error:
        return [failed(
            name, f"the database's revision ({', '.join(obs.current) or 'unknown'}) is not in "
            f"this code's migration history (head {heads}): {obs.migration_error}",
            "Deploy the code that contains that migration, or point DATABASE_URL at the "
            "right database.",
        )]
    if set(obs.current) == set(head_revisions()):
        return [passed(name, f"the schema is at head ({heads})")]
    if not obs.pending:
        return [failed(
            name, f"the database is at {', '.join(obs.current)}, which is not head ({heads})",
            "Deploy the code that contains that migration, or point DATABASE_URL at the "
            "right database.",
        )]
    return [failed(name, f"{len(obs.pending)} migration(s) pending: {'; '.join(obs.pending)}",
                   MIGRATE_FIX)]
