"""Configuration checks: what the settings say, before anything is contacted.

The rules startup already enforces come from ``app.core.startup.validate_settings`` (the
fast in-process gate) and are only regrouped here; this module adds the rules a
pre-deploy gate can afford to be stricter about (live-key prefixes, https-only origins,
docs, shared rate-limit storage, token lifetime, key reuse across environments).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError
from pydantic_settings import SettingsError

from app.core.config import Settings
from app.core.startup import Finding, validate_settings
from app.ops.results import CheckResult, failed, passed, warned

ENV_FIX = "See .env.example and the README's configuration table."
KEY_FIX = "Run `python generate_secret_key.py --env-file {path}` (see SECURITY.md, Runbooks)."

#: Each entry is satisfied by any one of its variables.
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "development": (("SECRET_KEY",),),
    "test": (("SECRET_KEY",),),
    "staging": (
        ("SECRET_KEY",),
        ("DATABASE_URL",),
        ("CLERK_PUBLISHABLE_KEY", "CLERK_ISSUER"),
        ("CLERK_SECRET_KEY", "CLERK_JWKS_URL", "CLERK_JWT_KEY", "CLERK_PUBLISHABLE_KEY"),
        ("CLERK_WEBHOOK_SECRET",),
        ("ALLOWED_ORIGINS",),
    ),
    "production": (
        ("SECRET_KEY",),
        ("DATABASE_URL",),
        ("CLERK_SECRET_KEY",),
        ("CLERK_PUBLISHABLE_KEY",),
        ("CLERK_WEBHOOK_SECRET",),
        ("ALLOWED_ORIGINS",),
    ),
}

SHARED_RATE_LIMIT_SCHEMES = frozenset(
    {"redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster"}
)
MAX_RECOMMENDED_TOKEN_MINUTES = 60

# Startup findings are shown under the check they belong to (exact code, then prefix).
_FINDING_GROUPS = {
    "dev.sqlite_default": "database.config",
    "dev.clerk_unconfigured": "clerk.config",
    "dev.webhook_secret_missing": "clerk.config",
    "secret_key": "secret_keys.strength",
    "previous_secret_keys": "secret_keys.strength",
    "database": "database.config",
    "clerk": "clerk.config",
    "cors": "cors.origins",
    "imports": "imports.fetcher",
}
OTHER_FINDINGS = "startup.other"


# --- loading -----------------------------------------------------------------------------


def load_settings(env_file: Path | None) -> tuple[Settings | None, CheckResult]:
    """Settings from ``env_file`` (if any) and the process environment."""
    name = "settings.load"
    source = str(env_file) if env_file else "the process environment"
    try:
        settings = Settings(_env_file=env_file)
    except ValidationError as exc:
        # Field names and pydantic's error type only: never the offending value.
        problems = sorted(
            {f"{'.'.join(str(p) for p in err['loc']) or '(settings)'} ({err['type']})"
             for err in exc.errors(include_input=False, include_url=False)}
        )
        return None, failed(
            name,
            f"settings from {source} are invalid: {', '.join(problems)}",
            f"Correct those variables. {ENV_FIX}",
        )
    except (SettingsError, OSError, UnicodeDecodeError) as exc:
        return None, failed(
            name, f"settings from {source} could not be read ({type(exc).__name__})",
            f"Make the file readable UTF-8 with one NAME=value per line. {ENV_FIX}",
        )
    return settings, passed(name, f"loaded from {source} (ENVIRONMENT={settings.ENVIRONMENT})")


# --- grouping startup findings -----------------------------------------------------------


def _group_of(code: str) -> str:
    return _FINDING_GROUPS.get(code) or _FINDING_GROUPS.get(code.split(".", 1)[0], OTHER_FINDINGS)


def _as_result(name: str, finding: Finding) -> CheckResult:
    status = "FAIL" if finding.severity == "error" else "WARN"
    return CheckResult(name, status, finding.message, finding.fix)


def startup_findings(settings: Settings) -> list[Finding]:
    """validate_settings(), minus what settings.required already reports."""
    missing = set(missing_variables(settings))
    covered = {"secret_key.missing", "clerk.webhook_secret_missing"}
    if any(name.startswith("CLERK_") for name in missing):
        covered.add("clerk.missing")
    return [f for f in validate_settings(settings) if f.code not in covered]


def _findings_for(name: str, findings: Sequence[Finding]) -> list[CheckResult]:
    return [_as_result(name, f) for f in findings if _group_of(f.code) == name]


def check_other_startup_findings(findings: Sequence[Finding]) -> list[CheckResult]:
    """Anything startup reports that no check above claims is still shown."""
    return _findings_for(OTHER_FINDINGS, findings)


# --- required variables ------------------------------------------------------------------


def _is_present(settings: Settings, variable: str) -> bool:
    if variable == "ALLOWED_ORIGINS":
        return "ALLOWED_ORIGINS" in settings.model_fields_set and bool(settings.ALLOWED_ORIGINS)
    return bool(getattr(settings, variable))


def missing_variables(settings: Settings) -> list[str]:
    missing = []
    for alternatives in REQUIRED[settings.ENVIRONMENT]:
        if not any(_is_present(settings, variable) for variable in alternatives):
            missing.append(" or ".join(alternatives))
    return missing


def check_required(settings: Settings) -> list[CheckResult]:
    name = "settings.required"
    results: list[CheckResult] = []
    if "ENVIRONMENT" not in settings.model_fields_set:
        # A FAIL, not a warning: the development default turns off database TLS, HSTS,
        # closed docs and the webhook-secret requirement, and turns the dev-token on.
        results.append(failed(
            name, "ENVIRONMENT is not set, so it defaults to development (no database TLS "
            "requirement, public docs, no HSTS, a working dev-token); checked as development",
            "Set ENVIRONMENT=production (or staging, or development on purpose) explicitly.",
        ))
    missing = missing_variables(settings)
    if missing:
        results.append(failed(
            name, f"missing for {settings.ENVIRONMENT}: {', '.join(missing)}",
            f"Set them in the .env file or the deployment's environment. {ENV_FIX}",
        ))
    return results or [passed(name, f"every variable {settings.ENVIRONMENT} requires is set")]


# --- secret keys ---------------------------------------------------------------------------


def check_secret_keys(settings: Settings, findings: Sequence[Finding]) -> list[CheckResult]:
    name = "secret_keys.strength"
    results = _findings_for(name, findings)
    if results:
        return results
    if settings.SECRET_KEY is None:
        return [warned(name, "not checked: SECRET_KEY is not set (see settings.required)",
                       KEY_FIX.format(path=".env"))]
    count = len(settings.PREVIOUS_SECRET_KEYS)
    return [passed(name, f"SECRET_KEY and {count} previous key(s) pass the strength assessor")]


# --- database, Clerk, HTTP surface ----------------------------------------------------------


def check_database_config(settings: Settings, findings: Sequence[Finding]) -> list[CheckResult]:
    name = "database.config"
    results = _findings_for(name, findings)
    if results:
        return results
    url = settings.database_url
    if url.get_backend_name() == "sqlite":
        return [passed(name, "SQLite (development only)")]
    sslmode = url.query.get("sslmode") or "none (libpq default: prefer)"
    return [passed(name, f"PostgreSQL with sslmode={sslmode}")]


def _live_key_results(settings: Settings, name: str) -> list[CheckResult]:
    results: list[CheckResult] = []
    secret = settings.CLERK_SECRET_KEY.get_secret_value() if settings.CLERK_SECRET_KEY else ""
    # sk_test_/pk_test_ are already startup findings; here: anything else that is not live.
    if secret and not secret.startswith(("sk_live_", "sk_test_")):
        results.append(failed(
            name, "CLERK_SECRET_KEY is not a Clerk live secret key (sk_live_)",
            "Copy the production instance's secret key from the Clerk dashboard.",
        ))
    publishable = settings.CLERK_PUBLISHABLE_KEY or ""
    if publishable and not publishable.startswith(("pk_live_", "pk_test_")):
        results.append(failed(
            name, "CLERK_PUBLISHABLE_KEY is not a Clerk live publishable key (pk_live_)",
            "Copy the production instance's publishable key from the Clerk dashboard.",
        ))
    return results


def check_clerk_config(settings: Settings, findings: Sequence[Finding]) -> list[CheckResult]:
    name = "clerk.config"
    results = _findings_for(name, findings)
    if settings.ENVIRONMENT == "production":
        results += _live_key_results(settings, name)
    webhook = settings.CLERK_WEBHOOK_SECRET
    if webhook is not None and not webhook.get_secret_value().startswith("whsec_"):
        make = failed if settings.is_deployed else warned
        results.append(make(
            name, "CLERK_WEBHOOK_SECRET does not start with whsec_, so it is not a Svix "
            "signing secret", "Copy the endpoint's signing secret from Clerk → Webhooks.",
        ))
    if results:
        return results
    if not settings.clerk_configured:
        return [passed(name, "Clerk is not configured (allowed outside staging and production)")]
    kind = "live keys" if settings.ENVIRONMENT == "production" else "configured"
    return [passed(name, f"Clerk {kind}; webhook signing secret set")]


def check_clerk_issuer(settings: Settings) -> list[CheckResult]:
    """CLERK_ISSUER, when set, must name the Frontend API the publishable key encodes."""
    name = "clerk.issuer"
    publishable = settings.CLERK_PUBLISHABLE_KEY
    encoded_host = settings.clerk_frontend_api
    if publishable and encoded_host is None:
        return [failed(name, "CLERK_PUBLISHABLE_KEY is not a valid Clerk publishable key "
                       "(pk_live_/pk_test_ followed by the base64 Frontend API host)",
                       "Copy the publishable key again from the Clerk dashboard → API keys.")]
    issuer = settings.clerk_issuer
    if issuer is None:
        return [passed(name, "no issuer configured (see clerk.config)")]
    parts = urlsplit(issuer)
    results: list[CheckResult] = []
    if settings.is_deployed and parts.scheme != "https":
        results.append(failed(name, f"the Clerk issuer {issuer} is not https",
                              "Set CLERK_ISSUER to https://<your Frontend API host>."))
    if encoded_host and parts.netloc != encoded_host:
        results.append(failed(
            name, f"CLERK_ISSUER is {issuer}, but CLERK_PUBLISHABLE_KEY belongs to "
            f"https://{encoded_host}", "Use the issuer and keys of one Clerk instance; "
            "or unset CLERK_ISSUER to derive it from the publishable key.",
        ))
    return results or [passed(name, f"issuer {issuer} matches the publishable key"
                              if encoded_host else f"issuer {issuer}")]


def _not_an_origin(origin: str) -> bool:
    parts = urlsplit(origin)
    return not parts.netloc or bool(parts.path or parts.query or parts.fragment)


def check_cors(settings: Settings, findings: Sequence[Finding]) -> list[CheckResult]:
    name = "cors.origins"
    results = _findings_for(name, findings)
    strict = settings.is_deployed
    make = failed if strict else warned
    origins = [o for o in settings.ALLOWED_ORIGINS if o not in ("*", "null")]
    if "*" in settings.ALLOWED_ORIGINS and not strict and not results:
        results.append(warned(name, "ALLOWED_ORIGINS contains '*' (refused in staging and "
                              "production)", "List the exact frontend origins."))
    malformed = [o for o in origins if _not_an_origin(o)]
    if malformed:
        results.append(make(name, f"not origins (scheme://host[:port], no path or trailing "
                            f"slash): {', '.join(malformed)}", "Write each origin exactly as "
                            "the browser sends it, e.g. https://app.example.com."))
    plain = [o for o in origins if urlsplit(o).scheme != "https" and o not in malformed]
    if plain:
        where = "" if strict else " (accepted in development only)"
        results.append(make(name, f"origins without https{where}: {', '.join(plain)}",
                            "Serve the frontend over https and list its https:// origin."))
    return results or [passed(name, f"{len(origins)} https origin(s), no wildcard")]


def check_docs(settings: Settings) -> list[CheckResult]:
    name = "docs.disabled"
    if not settings.docs_enabled:
        return [passed(name, "/docs, /redoc and /openapi.json are off")]
    fix = "Unset DOCS_ENABLED (docs are off by default in production) or set DOCS_ENABLED=false."
    if settings.ENVIRONMENT == "production":
        return [failed(name, "the interactive docs and OpenAPI schema are public in production",
                       fix)]
    if settings.ENVIRONMENT == "staging":
        return [warned(name, "the interactive docs are public in staging", fix)]
    return [passed(name, f"docs are on ({settings.ENVIRONMENT})")]


def check_rate_limit_storage(settings: Settings) -> list[CheckResult]:
    name = "rate_limit.storage"
    # Only the scheme is ever shown: the URL may carry a Redis password.
    scheme = urlsplit(settings.RATE_LIMIT_STORAGE_URL.get_secret_value()).scheme or "(none)"
    shared = scheme in SHARED_RATE_LIMIT_SCHEMES
    workers = settings.WEB_CONCURRENCY
    if not settings.RATE_LIMIT_ENABLED:
        if settings.is_deployed:
            return [warned(name, f"rate limiting is disabled in {settings.ENVIRONMENT}",
                           "Set RATE_LIMIT_ENABLED=true.")]
        return [passed(name, "rate limiting is disabled (development)")]
    if workers > 1 and not shared:
        return [failed(
            name, f"WEB_CONCURRENCY={workers} but RATE_LIMIT_STORAGE_URL is {scheme}://: each "
            f"worker counts alone, so every limit is {workers} times too high",
            "Set RATE_LIMIT_STORAGE_URL=redis://HOST:6379/0 (shared by all workers), "
            "or run one worker.",
        )]
    if shared:
        return [passed(name, f"shared storage ({scheme}://) for {workers} worker(s)")]
    return [passed(name, f"{scheme}:// with one worker; use Redis if you run more than one "
                   "instance")]


def check_token_lifetime(settings: Settings) -> list[CheckResult]:
    name = "tokens.lifetime"
    minutes = settings.ACCESS_TOKEN_EXPIRE_MINUTES
    if minutes > MAX_RECOMMENDED_TOKEN_MINUTES:
        return [warned(
            name, f"ACCESS_TOKEN_EXPIRE_MINUTES={minutes}: a leaked token stays usable that "
            "long, and a planned key rotation must keep the old key for as long",
            f"Keep it at {MAX_RECOMMENDED_TOKEN_MINUTES} or less (default 15); "
            "the app refreshes tokens through POST /api/v1/auth/token.",
        )]
    return [passed(name, f"access tokens live {minutes} minute(s)")]


def check_import_fetcher(settings: Settings) -> list[CheckResult]:
    """FAIL in every environment: a deployable configuration never has the switch on."""
    name = "imports.fetcher"
    if settings.IMPORT_ALLOW_PRIVATE_NETWORKS:
        return [failed(
            name, "IMPORT_ALLOW_PRIVATE_NETWORKS=true lets recipe import fetch loopback and "
            "private addresses (server-side request forgery); startup refuses it in staging "
            "and production",
            "Unset IMPORT_ALLOW_PRIVATE_NETWORKS; it exists for tests and local development.",
        )]
    return [passed(name, "recipe import fetches public addresses only")]
#: Shorter, and a scrape credential is within reach of guessing.
MIN_METRICS_TOKEN_LENGTH = 32


def check_metrics(settings: Settings) -> list[CheckResult]:
    """GET /metrics needs METRICS_TOKEN; unset, it answers 404. A weak or reused token
    is as good as no authentication on a public interface."""
    name = "metrics.exposure"
    if settings.METRICS_TOKEN is None:
        return [passed(name, "GET /metrics is off (no METRICS_TOKEN): it answers 404")]
    token = settings.METRICS_TOKEN.get_secret_value()
    fix = ("Set METRICS_TOKEN to a fresh random value of 32+ characters, e.g. "
           "`python generate_secret_key.py`, used for nothing else.")
    problems = []
    if len(token) < MIN_METRICS_TOKEN_LENGTH:
        problems.append(f"METRICS_TOKEN is shorter than {MIN_METRICS_TOKEN_LENGTH} characters")
    if token in settings.all_secret_keys():
        problems.append("METRICS_TOKEN is also a SECRET_KEY")
    if problems:
        if settings.ENVIRONMENT == "production":
            return [failed(name, f"{p}: /metrics is effectively unauthenticated", fix)
                    for p in problems]
        return [warned(name, p, fix) for p in problems]
    results = [passed(name, "GET /metrics answers only to the METRICS_TOKEN bearer")]
    if settings.WEB_CONCURRENCY > 1 and not settings.PROMETHEUS_MULTIPROC_DIR:
        results.append(warned(
            "metrics.workers", f"WEB_CONCURRENCY={settings.WEB_CONCURRENCY} without "
            "PROMETHEUS_MULTIPROC_DIR: each scrape sees one worker's numbers",
            "Set PROMETHEUS_MULTIPROC_DIR to an empty directory the workers can write "
            "(docs/DEPLOYMENT.md, Metrics).",
        ))
    return results
