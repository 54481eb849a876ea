"""Every pre-deploy check, in order: ``run_checks`` is what validate_setup.py runs.

This is the thorough gate. ``app.core.startup`` stays the fast in-process gate that runs
in the app's lifespan (configuration only, no network); its findings are reused here, and
this adds what only a deliberate pre-deploy step can afford: connecting to the
database (TLS, migrations), fetching Clerk's JWKS, inspecting the .env file and git, and
comparing keys with other environments' files.

Each check is a small function returning CheckResults; a check that cannot run because
an earlier one failed (no settings, no database) says "not checked" rather than guess.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy.engine import URL

from app.core.config import Settings
from app.core.envfile import read_env_value
from app.ops import config_checks as config
from app.ops.clerk_checks import check_clerk_keys
from app.ops.database_checks import (
    DatabaseObservation,
    check_database_connect,
    check_database_tls,
    check_migrations,
    describe_target,
    inspect_database,
)
from app.ops.feed_checks import check_revocation_feed
from app.ops.file_checks import (
    check_env_file_ignored,
    check_env_file_permissions,
    check_env_file_untracked,
)
from app.ops.key_reuse_checks import check_key_uniqueness
from app.ops.media_checks import check_media_store
from app.ops.ratelimit_checks import check_rate_limit_reachable
from app.ops.results import CheckResult, failed
from app.ops.url_checks import (
    check_database_urls,
    database_url_secrets,
    urls_are_safe,
)

logger = logging.getLogger("homechef.ops")

SECRET_VARIABLES = (
    "SECRET_KEY",
    "PREVIOUS_SECRET_KEYS",
    "DATABASE_URL",
    "CLERK_SECRET_KEY",
    "CLERK_WEBHOOK_SECRET",
    "RATE_LIMIT_STORAGE_URL",
    "METRICS_TOKEN",
)
REDACTED = "[redacted]"
# Shorter fragments would redact ordinary words; no real secret is this short.
_MIN_REDACT_LENGTH = 6


def guarded(name: str, check: Callable[[], list[CheckResult]]) -> list[CheckResult]:
    """Run one check; any exception it raises becomes a FAIL of that check, so one broken
    check (or one driver error nobody foresaw) never costs the rest of the report."""
    try:
        return check()
    except Exception as exc:  # reported as a FAIL, see crashed()
        return [crashed(name, exc)]


def crashed(name: str, exc: BaseException) -> CheckResult:
    # The exception's type only: its message may quote a URL, a key or a password.
    logger.debug("check %s raised %s", name, type(exc).__name__)
    return failed(
        name, f"the check could not complete: it raised {type(exc).__name__}",
        "Fix the settings this check reads (see the other results) and run validate_setup "
        "again; if it persists, report it with the exception type.",
    )


def file_checks(env_file: Path | None) -> list[CheckResult]:
    return (
        guarded("env_file.permissions", lambda: check_env_file_permissions(env_file))
        + guarded("env_file.gitignored", lambda: check_env_file_ignored(env_file))
        + guarded("env_file.untracked", lambda: check_env_file_untracked(env_file))
    )


def settings_checks(settings: Settings, other_env_files: Sequence[Path]) -> list[CheckResult]:
    results: list[CheckResult] = []
    try:
        findings = config.startup_findings(settings)
    except Exception as exc:  # reported like any other crashed check
        findings = []
        results.append(crashed("startup.findings", exc))
    steps: list[tuple[str, Callable[[], list[CheckResult]]]] = [
        ("settings.required", lambda: config.check_required(settings)),
        ("secret_keys.strength", lambda: config.check_secret_keys(settings, findings)),
        ("secret_keys.unique", lambda: check_key_uniqueness(settings, other_env_files)),
        ("database.url", lambda: check_database_urls(settings)),
        ("database.config", lambda: config.check_database_config(settings, findings)),
        ("clerk.config", lambda: config.check_clerk_config(settings, findings)),
        ("clerk.issuer", lambda: config.check_clerk_issuer(settings)),
        ("cors.origins", lambda: config.check_cors(settings, findings)),
        ("docs.disabled", lambda: config.check_docs(settings)),
        ("rate_limit.storage", lambda: config.check_rate_limit_storage(settings)),
        ("tokens.lifetime", lambda: config.check_token_lifetime(settings)),
        ("metrics.exposure", lambda: config.check_metrics(settings)),
        ("imports.fetcher", lambda: config.check_import_fetcher(settings)),
        ("startup.other", lambda: config.check_other_startup_findings(findings)),
    ]
    return results + [result for name, step in steps for result in guarded(name, step)]


def network_checks(settings: Settings, database_url: URL | None = None) -> list[CheckResult]:
    observation = _observe(settings, database_url)
    return (
        guarded("database.connect", lambda: check_database_connect(settings, observation))
        + guarded("database.tls", lambda: check_database_tls(settings, observation))
        + guarded("database.migrations", lambda: check_migrations(observation))
        + guarded("auth.revocation_feed", lambda: check_revocation_feed(
            settings, database_reachable=observation.reachable))
        + guarded("rate_limit.reachable", lambda: check_rate_limit_reachable(settings))
        + guarded("clerk.keys", lambda: check_clerk_keys(settings))
        + guarded("media.store_reachable", lambda: check_media_store(settings))
    )


def _observe(settings: Settings, database_url: URL | None) -> DatabaseObservation:
    if database_url is None and not urls_are_safe(settings):
        # The URL is refused (database.url); connecting would go to a host made of part
        # of the password, and every message would repeat it.
        return DatabaseObservation("postgresql", "DATABASE_URL (refused, see database.url)",
                                   error="not attempted: the URL is malformed")
    try:
        return inspect_database(settings, database_url)
    except Exception as exc:  # the connect check reports it
        url = database_url or settings.database_url
        return DatabaseObservation(url.get_backend_name(), describe_target(url),
                                   error=f"the connection attempt raised {type(exc).__name__}")


def run_checks(
    env_file: Path | None,
    *,
    env_file_required: bool = False,
    other_env_files: Sequence[Path] = (),
    database_url: URL | None = None,
) -> tuple[Settings | None, list[CheckResult]]:
    """Run everything; the results are already redacted.

    ``env_file`` None (or a missing file that was not asked for explicitly) means the
    settings come from the process environment alone, as on most hosting platforms.
    ``database_url`` overrides only the connection the database checks make.
    """
    if env_file is not None and not env_file.exists():
        if env_file_required:
            result = failed("settings.load", f"{env_file} does not exist",
                            "Pass the right --env-file, or create it from .env.example.")
            return None, [result]
        env_file = None
    try:
        settings, loaded = config.load_settings(env_file)
    except Exception as exc:  # the report must still come out
        settings, loaded = None, crashed("settings.load", exc)
    results = [loaded]
    if settings is not None:
        results += settings_checks(settings, other_env_files)
        results += network_checks(settings, database_url)
    results += file_checks(env_file)
    secrets = secret_values(env_file, settings, other_env_files)
    return settings, [redact(result, secrets) for result in results]


def secret_values(
    env_file: Path | None, settings: Settings | None, other_env_files: Sequence[Path] = ()
) -> set[str]:
    """Every secret this run could have seen, so that none can reach the report."""
    raw: list[str] = []
    for path in [p for p in (env_file, *other_env_files) if p is not None and p.is_file()]:
        for name in SECRET_VARIABLES:
            try:
                raw.append(read_env_value(path, name) or "")
            except (OSError, UnicodeDecodeError):
                continue
    raw.extend(os.environ.get(name, "") for name in SECRET_VARIABLES)
    if settings is not None:
        raw.extend(settings.all_secret_keys())
        for secret in (settings.CLERK_SECRET_KEY, settings.CLERK_WEBHOOK_SECRET,
                       settings.DATABASE_URL, settings.RATE_LIMIT_STORAGE_URL,
                       settings.METRICS_TOKEN):
            raw.append(secret.get_secret_value() if secret is not None else "")
        raw.append(settings.database_url.password or "")
        raw.extend(database_url_secrets(settings))
    values: set[str] = set()
    for value in raw:
        # Comma lists (PREVIOUS_SECRET_KEYS) are redacted entry by entry as well.
        for part in [value, *value.split(",")]:
            part = part.strip()
            if len(part) >= _MIN_REDACT_LENGTH and part != "memory://":
                values.add(part)
    return values


def redact(result: CheckResult, secrets: set[str]) -> CheckResult:
    reason, fix = result.reason, result.fix
    for secret in sorted(secrets, key=len, reverse=True):
        reason = reason.replace(secret, REDACTED)
        fix = fix.replace(secret, REDACTED)
    return replace(result, reason=reason, fix=fix)
