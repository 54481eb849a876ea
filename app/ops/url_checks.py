"""Checks of the database URLs' own text, before anything connects with them.

A password with an unencoded ``@`` is the trap here: SQLAlchemy splits the URL at the
first ``@``, so the rest of the password becomes part of the "host", and every message
that names the host (connection errors, the report) prints it. Such a URL is refused
before anything connects, and the report is redacted against the raw text as well as
against what SQLAlchemy parsed from it.
"""

from __future__ import annotations

from app.core.config import Settings
from app.core.database_url import has_unencoded_at, userinfo
from app.ops.results import CheckResult, failed, passed

URL_FIX = (
    "URL-encode the password in {name}: every '@' becomes %40, ':' %3A, '/' %2F "
    "(python -c \"import urllib.parse; print(urllib.parse.quote(input(), safe=''))\")."
)


def _raw_urls(settings: Settings) -> list[tuple[str, str]]:
    urls = [("DATABASE_URL", settings.DATABASE_URL), ("DATABASE_LISTEN_URL",
                                                       settings.DATABASE_LISTEN_URL)]
    return [(name, secret.get_secret_value()) for name, secret in urls if secret is not None]


def urls_are_safe(settings: Settings) -> bool:
    return not any(has_unencoded_at(raw) for _, raw in _raw_urls(settings))


def check_database_urls(settings: Settings) -> list[CheckResult]:
    name = "database.url"
    bad = [variable for variable, raw in _raw_urls(settings) if has_unencoded_at(raw)]
    if bad:
        return [failed(name, f"{variable}'s password contains an unencoded '@': the part after "
                       "it would be taken for the host", URL_FIX.format(name=variable))
                for variable in bad]
    return [passed(name, "the database URLs' user and password are URL-encoded")]


def database_url_secrets(settings: Settings) -> list[str]:
    """Text to redact from every output: each URL's raw password, its pieces around '@'
    and ':', and, when the URL is malformed, the host SQLAlchemy made out of it."""
    secrets: list[str] = []
    for _, raw in _raw_urls(settings):
        info = userinfo(raw)
        if info is None:
            continue
        password = info.partition(":")[2]
        secrets.append(password)
        secrets.extend(password.replace(":", "@").split("@"))
        if "@" in info:
            rest = raw.partition("://")[2].split("?", 1)[0]
            secrets.append(rest)  # user, password and host together
            secrets.append(rest.split("@", 1)[1].split("/", 1)[0])  # the parsed "host"
    return secrets
