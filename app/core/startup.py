"""Startup validation: the fast, in-process gate that runs before the app serves.

It checks configuration only (no network). ``validate_setup.py`` is the thorough
pre-deploy gate that also reaches the database and Clerk.

Every problem is collected, so an operator fixes them all in one pass. No message ever
contains a secret value.

Run standalone: ``python app/core/startup.py`` (exit status 1 on any error).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import Literal

if __name__ == "__main__" and __package__ in (None, ""):
    # Allow `python app/core/startup.py` from the project root.
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.core.config import Settings
from app.core.database_findings import database_findings, url_encoding_findings
from app.core.findings import Finding, StartupValidationError
from app.core.secret_key import assess_secret_key

logger = logging.getLogger("homechef.startup")

KEY_FIX = "Generate one with `python generate_secret_key.py --env-file .env` (or --rotate)."
#: The environment wins over .env, so writing .env cannot fix a key set there.
KEY_FIX_ENVIRONMENT = (
    "SECRET_KEY comes from the environment variable, which overrides .env: set it to the "
    "output of `python generate_secret_key.py` where the environment is defined "
    "(or unset it to use .env)."
)


def _key_fix() -> str:
    """Where the key the settings hold came from decides the fix."""
    if os.environ.get("SECRET_KEY", "").strip():
        return KEY_FIX_ENVIRONMENT
    return KEY_FIX


def _key_findings(settings: Settings) -> list[Finding]:
    findings: list[Finding] = []
    if settings.SECRET_KEY is None:
        return [Finding("error", "secret_key.missing", "SECRET_KEY is not set.", KEY_FIX)]
    current = settings.SECRET_KEY.get_secret_value()
    assessment = assess_secret_key(current)
    if not assessment.ok:
        reasons = "; ".join(p.message for p in assessment.problems)
        findings.append(
            Finding("error", "secret_key.weak", f"SECRET_KEY is too weak: {reasons}.", _key_fix())
        )
    for index, previous in enumerate(settings.PREVIOUS_SECRET_KEYS, start=1):
        value = previous.get_secret_value()
        result = assess_secret_key(value)
        if not result.ok:
            reasons = "; ".join(p.message for p in result.problems)
            findings.append(
                Finding(
                    "error",
                    "previous_secret_keys.weak",
                    f"PREVIOUS_SECRET_KEYS entry #{index} is too weak: {reasons}.",
                    "Remove it; a weak key must not verify tokens either.",
                )
            )
        if value == current:
            findings.append(
                Finding(
                    "warning",
                    "previous_secret_keys.duplicate",
                    f"PREVIOUS_SECRET_KEYS entry #{index} equals SECRET_KEY.",
                    "Remove the duplicate entry.",
                )
            )
    return findings


def _not_production(settings: Settings) -> Finding:
    # Loud on purpose: an unset ENVIRONMENT lands here too, e.g. under plain uvicorn.
    unset = "ENVIRONMENT" not in settings.model_fields_set
    return Finding(
        "warning", "dev.not_production",
        f"{'ENVIRONMENT is not set, so this is' if unset else 'ENVIRONMENT=development:'} "
        "development mode, NOT A PRODUCTION CONFIGURATION: the dev-token works, the API docs "
        "are public, no HSTS, no database TLS requirement, webhooks without a secret.",
        "Set ENVIRONMENT=production (or staging) for anything reachable by others.",
    )


def _clerk_findings(settings: Settings) -> list[Finding]:
    findings: list[Finding] = []
    if not settings.clerk_configured:
        findings.append(
            Finding(
                "error",
                "clerk.missing",
                "Clerk is not configured: no issuer and key source for session tokens.",
                "Set CLERK_PUBLISHABLE_KEY and CLERK_SECRET_KEY (or CLERK_ISSUER with "
                "CLERK_JWKS_URL or CLERK_JWT_KEY).",
            )
        )
    if settings.CLERK_WEBHOOK_SECRET is None:
        findings.append(
            Finding(
                "error",
                "clerk.webhook_secret_missing",
                "CLERK_WEBHOOK_SECRET is not set; user sync webhooks would be refused.",
                "Copy the signing secret (whsec_...) from the Clerk dashboard's webhook endpoint.",
            )
        )
    if settings.ENVIRONMENT == "production":
        secret = settings.CLERK_SECRET_KEY.get_secret_value() if settings.CLERK_SECRET_KEY else ""
        if secret.startswith("sk_test_"):
            findings.append(
                Finding(
                    "error",
                    "clerk.test_secret_key",
                    "CLERK_SECRET_KEY is a test key (sk_test_) in production.",
                    "Use the production instance's sk_live_ key.",
                )
            )
        if (settings.CLERK_PUBLISHABLE_KEY or "").startswith("pk_test_"):
            findings.append(
                Finding(
                    "error",
                    "clerk.test_publishable_key",
                    "CLERK_PUBLISHABLE_KEY is a test key (pk_test_) in production.",
                    "Use the production instance's pk_live_ key.",
                )
            )
    return findings


def _cors_findings(settings: Settings) -> list[Finding]:
    findings: list[Finding] = []
    wildcard = "*" in settings.ALLOWED_ORIGINS
    if wildcard and settings.CORS_ALLOW_CREDENTIALS:
        findings.append(
            Finding(
                "error",
                "cors.wildcard_with_credentials",
                "ALLOWED_ORIGINS contains '*' while CORS_ALLOW_CREDENTIALS is on.",
                "List the exact frontend origins.",
            )
        )
    if wildcard and settings.is_deployed:
        findings.append(
            Finding(
                "error",
                "cors.wildcard",
                f"ALLOWED_ORIGINS contains '*' in {settings.ENVIRONMENT}.",
                "List the exact frontend origins, e.g. https://app.example.com.",
            )
        )
    if "null" in settings.ALLOWED_ORIGINS:
        findings.append(
            Finding(
                "error",
                "cors.null_origin",
                "ALLOWED_ORIGINS contains 'null', which sandboxed pages and files can send.",
                "Remove 'null' from ALLOWED_ORIGINS.",
            )
        )
    return findings


def _format_findings(settings: Settings) -> list[Finding]:
    """Values that parse as strings but mean nothing: refuse them rather than guess."""
    from limits import parse as parse_limit

    from app.core.client_ip import parse_trusted_proxies

    findings: list[Finding] = []
    for name in ("RATE_LIMIT_AUTH", "RATE_LIMIT_WRITE", "RATE_LIMIT_READ", "RATE_LIMIT_WEBHOOK",
                 "RATE_LIMIT_FEED", "RATE_LIMIT_FEED_URL",
                 "RATE_LIMIT_IMPORT"):
        try:
            parse_limit(getattr(settings, name))
        except ValueError:
            findings.append(Finding(
                "error", "rate_limit.invalid", f"{name} is not a rate limit.",
                f"Use the form '10/minute' or '600 per hour' for {name}.",
            ))
    for entry in settings.TRUSTED_PROXIES:
        try:
            parse_trusted_proxies([entry])
        except ValueError:
            findings.append(Finding(
                "error", "trusted_proxies.invalid",
                "A TRUSTED_PROXIES entry is not an IP address or CIDR network.",
                "List proxy addresses like 10.0.0.5 or 10.0.0.0/8, comma-separated.",
            ))
    scheme = settings.RATE_LIMIT_STORAGE_URL.get_secret_value().split("://", 1)[0]
    if scheme not in ("memory", "redis", "rediss", "redis+sentinel", "redis+cluster"):
        findings.append(Finding(
            "error", "rate_limit.storage_invalid",
            "RATE_LIMIT_STORAGE_URL must be memory:// or a redis:// URL.",
            "Set RATE_LIMIT_STORAGE_URL=redis://HOST:6379/0 (or memory:// for one process).",
        ))
    return findings


def _development_warnings(settings: Settings) -> list[Finding]:
    findings: list[Finding] = []
    if settings.ENVIRONMENT == "development":
        findings.append(_not_production(settings))
    if settings.database_is_default:
        findings.append(
            Finding(
                "warning",
                "dev.sqlite_default",
                "Using the embedded SQLite database ./homechef.db.",
                "Set DATABASE_URL to use PostgreSQL.",
            )
        )
    if not settings.clerk_configured:
        findings.append(
            Finding(
                "warning",
                "dev.clerk_unconfigured",
                "Clerk is not configured; POST /api/v1/auth/token answers 503.",
                "Use `homechef dev-token` for a local token, or set the CLERK_* variables.",
            )
        )
    if settings.CLERK_WEBHOOK_SECRET is None:
        findings.append(
            Finding(
                "warning",
                "dev.webhook_secret_missing",
                "CLERK_WEBHOOK_SECRET is not set; the webhook endpoint answers 503.",
                "Set CLERK_WEBHOOK_SECRET to test webhooks locally.",
            )
        )
    return findings


#: The placeholders .env.example and the docs write (SECRET_KEY's is refused as weak).
_PLACEHOLDER = re.compile(r"replace[-_]?(me|with)|change[-_]?me|USER:PASSWORD@HOST", re.I)
_PLACEHOLDER_SETTINGS = (
    "CLERK_SECRET_KEY", "CLERK_WEBHOOK_SECRET", "CLERK_PUBLISHABLE_KEY", "CLERK_JWT_KEY",
    "CLERK_ISSUER", "CLERK_JWKS_URL", "DATABASE_URL", "DATABASE_LISTEN_URL",
    "RATE_LIMIT_STORAGE_URL",
)


def _placeholder_findings(settings: Settings) -> list[Finding]:
    """A value copied from .env.example unchanged: refused where deployed, warned locally."""
    severity: Literal["error", "warning"] = "error" if settings.is_deployed else "warning"
    findings = []
    for name in _PLACEHOLDER_SETTINGS:
        value = getattr(settings, name)
        text = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        if isinstance(text, str) and _PLACEHOLDER.search(text):
            findings.append(Finding(
                severity, "config.placeholder",
                f"{name} still holds the placeholder from .env.example.",
                f"Set {name} to the real value, or leave it empty (unset).",
            ))
    return findings
def _import_findings(settings: Settings) -> list[Finding]:
    """The fetcher's loopback switch exists for tests and local development only."""
    if not settings.IMPORT_ALLOW_PRIVATE_NETWORKS:
        return []
    message = ("IMPORT_ALLOW_PRIVATE_NETWORKS is on: recipe import may fetch loopback and "
               "private addresses (server-side request forgery).")
    fix = "Unset IMPORT_ALLOW_PRIVATE_NETWORKS (it is for tests and local development)."
    if settings.is_deployed:
        return [Finding("error", "imports.private_networks_allowed",
                        f"{message} Not allowed in {settings.ENVIRONMENT}.", fix)]
    return [Finding("warning", "imports.private_networks_allowed", message, fix)]


def validate_settings(settings: Settings) -> list[Finding]:
    findings = _key_findings(settings) + _cors_findings(settings) + _format_findings(settings)
    findings += url_encoding_findings(settings)
    findings += _placeholder_findings(settings)
    findings += _import_findings(settings)
    if settings.is_deployed:
        findings += database_findings(settings) + _clerk_findings(settings)
    else:
        findings += _development_warnings(settings)
    return findings


def run_startup_validation(settings: Settings) -> list[Finding]:
    """Log every finding; raise StartupValidationError if any is an error."""
    findings = validate_settings(settings)
    for finding in findings:
        level = logging.ERROR if finding.severity == "error" else logging.WARNING
        event = "startup.validation" if finding.severity == "error" else "config.warning"
        logger.log(
            level, str(finding), extra={"event": event, "code": finding.code}
        )
    if any(f.severity == "error" for f in findings):
        raise StartupValidationError(findings)
    logger.info("startup validation passed", extra={"event": "startup.validation"})
    return findings


def main() -> int:
    from pydantic import ValidationError

    try:
        settings = Settings()
    except ValidationError as exc:
        # Only field names and messages: pydantic is told to hide input values.
        print(f"Settings could not be loaded:\n{exc}", file=sys.stderr)
        return 1
    findings = validate_settings(settings)
    for finding in findings:
        print(str(finding), file=sys.stderr if finding.severity == "error" else sys.stdout)
    if any(f.severity == "error" for f in findings):
        print("Startup validation FAILED.", file=sys.stderr)
        return 1
    print(f"Startup validation passed for ENVIRONMENT={settings.ENVIRONMENT}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
