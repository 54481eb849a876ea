"""The database rules of startup validation: PostgreSQL over verified TLS in staging and
production (also what ``homechef migrate`` enforces), and URL-encoded passwords."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from app.core.config import Settings
from app.core.findings import Finding

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

SSL_MODES_OK = frozenset({"require", "verify-ca", "verify-full"})
#: sslmode=require encrypts but accepts any certificate: whoever sits on the path can
#: present one. These also check that the server's certificate chains to a trusted root.
SSL_MODES_VERIFIED = frozenset({"verify-ca", "verify-full"})


def database_findings(settings: Settings) -> list[Finding]:
    """The database rules of staging and production (also `homechef migrate`'s)."""
    findings = _database_url_findings(settings, "DATABASE_URL", settings.database_url)
    if settings.DATABASE_LISTEN_URL is not None:
        findings += _database_url_findings(
            settings, "DATABASE_LISTEN_URL", settings.database_listen_url)
    return findings


def _database_url_findings(settings: Settings, name: str, url: URL) -> list[Finding]:
    if url.get_backend_name() != "postgresql":
        found = ("unset (SQLite default)" if name == "DATABASE_URL" and settings.database_is_default
                 else url.get_backend_name())
        return [
            Finding(
                "error",
                "database.not_postgresql",
                f"{settings.ENVIRONMENT} requires PostgreSQL; {name} is {found}.",
                f"Set {name}=postgresql://USER:PASSWORD@HOST/DB?sslmode=require.",
            )
        ]
    sslmode = url.query.get("sslmode")
    if sslmode not in SSL_MODES_OK:
        return [
            Finding(
                "error",
                "database.ssl_required",
                f"{name} must use sslmode=require, verify-ca or verify-full in "
                f"{settings.ENVIRONMENT} (found {sslmode or 'none'}).",
                f"Append ?sslmode=require (or verify-full with sslrootcert) to {name}.",
            )
        ]
    return _server_verification_findings(settings, name, sslmode)


def _server_verification_findings(settings: Settings, name: str, sslmode: str) -> list[Finding]:
    """Production must authenticate the database server, not only encrypt to it."""
    if sslmode in SSL_MODES_VERIFIED:
        return []
    severity: Literal["error", "warning"] = (
        "error" if settings.ENVIRONMENT == "production" else "warning"
    )
    return [Finding(
        severity, "database.ssl_unverified",
        f"{name} uses sslmode={sslmode}, which encrypts but does not authenticate the server "
        f"({settings.ENVIRONMENT} requires verify-full or verify-ca).",
        f"Use sslmode=verify-full with sslrootcert in {name}: sslrootcert=system for a "
        "server with a public certificate (Neon), else the path of your CA's certificate.",
    )]


def url_encoding_findings(settings: Settings) -> list[Finding]:
    """A password with an unencoded '@' makes part of it the "host", which every
    connection error then prints."""
    from app.core.database_url import has_unencoded_at

    urls = (("DATABASE_URL", settings.DATABASE_URL),
            ("DATABASE_LISTEN_URL", settings.DATABASE_LISTEN_URL))
    return [
        Finding("error", "database.url_unencoded",
                f"{name}'s password contains an unencoded '@'.",
                f"URL-encode the password in {name} ('@' is %40).")
        for name, secret in urls
        if secret is not None and has_unencoded_at(secret.get_secret_value())
    ]
