"""Security event names and the one helper that emits them.

The names are a contract with whoever reads the logs (alerts, dashboards): they never
change spelling. Every event goes to the ``homechef.security`` logger as a structured
record whose ``event`` field is the name, so a line can be found with one filter::

    security_event(AUTH_TOKEN_REJECTED, reason="expired", token_kind="clerk")

Fields are plain values (ids, reason codes, counts). Never pass a token, a secret or an
email address: the log redaction in ``app.core.logs`` is a safety net, not a licence.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from app.core import metrics

security_log = logging.getLogger("homechef.security")

AUTH_TOKEN_ISSUED: Final = "auth.token_issued"  # noqa: S105 (an event name)
AUTH_TOKEN_REJECTED: Final = "auth.token_rejected"  # noqa: S105
AUTH_CLERK_UNAVAILABLE: Final = "auth.clerk_unavailable"
AUTH_LOGOUT: Final = "auth.logout"
WEBHOOK_REJECTED: Final = "webhook.rejected"
WEBHOOK_PROCESSED: Final = "webhook.processed"
RATELIMIT_EXCEEDED: Final = "ratelimit.exceeded"
RATELIMIT_STORAGE_UNAVAILABLE: Final = "ratelimit.storage_unavailable"
STARTUP_VALIDATION: Final = "startup.validation"
CONFIG_WARNING: Final = "config.warning"
DB_UNAVAILABLE: Final = "db.unavailable"
CALENDAR_FEED_REJECTED: Final = "calendar.feed_rejected"
#: The guarded fetcher refused a URL or a response (app/imports/fetcher.py).
IMPORT_FETCH_REFUSED: Final = "import.fetch_refused"

#: The level an event is logged at unless the caller says otherwise.
DEFAULT_LEVELS: Final[dict[str, int]] = {
    AUTH_TOKEN_ISSUED: logging.INFO,
    AUTH_TOKEN_REJECTED: logging.WARNING,
    AUTH_CLERK_UNAVAILABLE: logging.ERROR,
    AUTH_LOGOUT: logging.INFO,
    WEBHOOK_REJECTED: logging.WARNING,
    WEBHOOK_PROCESSED: logging.INFO,
    RATELIMIT_EXCEEDED: logging.WARNING,
    RATELIMIT_STORAGE_UNAVAILABLE: logging.ERROR,
    STARTUP_VALIDATION: logging.INFO,
    CONFIG_WARNING: logging.WARNING,
    DB_UNAVAILABLE: logging.ERROR,
    CALENDAR_FEED_REJECTED: logging.WARNING,
    IMPORT_FETCH_REFUSED: logging.WARNING,
}

# LogRecord refuses ``extra`` keys that shadow its own attributes (KeyError at runtime),
# so a field called e.g. "name" or "msg" is renamed instead of crashing the caller.
_RESERVED = frozenset(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {
    "message",
    "asctime",
}


def security_event(name: str, /, *, level: int | None = None, **fields: Any) -> None:
    """Log one security event: message and ``event`` are the name, fields ride along."""
    extra = {(f"{key}_" if key in _RESERVED else key): value for key, value in fields.items()}
    extra["event"] = name
    metrics.count_security_event(name, fields)
    security_log.log(level if level is not None else DEFAULT_LEVELS.get(name, logging.INFO),
                     name, extra=extra)
