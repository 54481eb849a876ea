"""Logging setup: one JSON object per line in deployed environments, readable text locally.

Log calls pass structured fields through ``extra={"event": "auth.token_rejected", ...}``.
The request id is added to every record from the request context, so a line can be
joined to the response the client saw.

Redaction is a safety net under the rule "never log a secret": whatever reaches a line
(message, extra fields, tracebacks) is scrubbed of anything shaped like a JWT, a bearer
token, a Clerk or Svix secret (sk_live_, sk_test_, whsec_), a password in a URL, the
configured secret values themselves, and the local part of email addresses.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from app.core.request_context import current_request_id, current_user_id

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "taskName"}


#: Not ours to print: uvicorn's ANSI-coloured copy of the message (``color_message``).
_DROPPED_ATTRS = frozenset({"color_message"})


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v for k, v in vars(record).items()
        if k not in _STANDARD_ATTRS and k != _REDACTED_MARK and k not in _DROPPED_ATTRS
    }


REDACTED = "[REDACTED]"
# One pass per string (this runs on every field of every line). Alternatives, in order:
_SECRETS = re.compile(
    # "Bearer <anything>": the token goes whatever its shape.
    r"(?P<bearer>\b(?i:bearer)\s+)(?!\[REDACTED\])[^\s,;\"'}\]]+"
    # JWTs, and a JWT's header.payload alone: base64url JSON starts with "eyJ".
    r"|\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?"
    # Any other three long base64url segments, e.g. a token whose header was cut off.
    r"|\b[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"
    # Clerk secret keys and Svix signing secrets, prefix kept for diagnosis.
    # The documented placeholders (sk_test_replace-me, USER:PASSWORD@HOST) are kept, so a
    # fix hint that quotes them stays readable.
    r"|\b(?P<prefix>sk_live_|sk_test_|whsec_)(?!replace-me\b)[A-Za-z0-9+/=_-]+"
    # user:password@ in any URL (database, redis).
    r"|(?P<userinfo>://[^:/@\s]*:)(?!PASSWORD@)[^@\s]+@"
    # The local part of an email address; the domain is kept.
    r"|[A-Za-z0-9._%+-]+@(?P<domain>(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})"
)


def _replacement(match: re.Match[str]) -> str:
    if match["bearer"] is not None:
        return match["bearer"] + REDACTED
    if match["prefix"] is not None:
        return match["prefix"] + REDACTED
    if match["userinfo"] is not None:
        return f"{match['userinfo']}{REDACTED}@"
    if match["domain"] is not None:
        return f"***@{match['domain']}"
    return REDACTED


_known_secrets: tuple[str, ...] = ()
# Set on a record once RedactingFilter has cleaned it, so the formatter need not redo it.
_REDACTED_MARK = "_homechef_redacted"


def clean_fields() -> dict[str, bool]:
    """``extra=`` for a line whose every value was made or checked by this code (the
    access line): the redaction pass over it, a third of its cost, is skipped."""
    return {_REDACTED_MARK: True}


def register_secrets(values: Iterable[str | None]) -> None:
    """Literal values (SECRET_KEY, ...) to mask wherever they appear, whatever their shape."""
    global _known_secrets
    # Short values would mask ordinary words (a dev password "postgres" in "postgresql").
    _known_secrets = tuple(sorted({v for v in values if v and len(v) >= 12}, key=len,
                                  reverse=True))


def redact(value: Any) -> Any:
    """Scrub strings, recursively through dicts, lists and tuples; leave the rest alone."""
    if isinstance(value, str):
        for secret in _known_secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return _SECRETS.sub(_replacement, value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v) for v in value)
    return value


class RedactingFilter(logging.Filter):
    """Rewrites a record in place: the merged message and every extra field."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _REDACTED_MARK, False):
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        for key, value in _extras(record).items():
            setattr(record, key, redact(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        setattr(record, _REDACTED_MARK, True)
        return True


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        if not getattr(record, "user_id", None):
            record.user_id = current_user_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Redacts too, so any handler using it is covered."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update({k: v for k, v in _extras(record).items() if v is not None})
        if record.exc_text:
            payload["exc_info"] = record.exc_text
        elif record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        if not getattr(record, _REDACTED_MARK, False):
            payload = redact(payload)
        return json.dumps(payload, default=lambda v: redact(str(v)), ensure_ascii=False)


#: Terminal escape sequences (CSI and OSC), from any source: they colour nothing in a file
#: or a log store, and a value carrying them could rewrite what a terminal shows.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?)")


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        fields = " ".join(
            f"{k}={v}" for k, v in _extras(record).items() if v is not None and k != "event"
        )
        return _ANSI.sub("", redact(f"{base} {fields}" if fields else base))


def configure_logging(level: str, fmt: str, *, secrets: Iterable[str | None] = ()) -> None:
    register_secrets(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(ConsoleFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_homechef", False):
            root.removeHandler(existing)
    handler._homechef = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    logging.getLogger("homechef").setLevel(level)
    root.setLevel(level)
    # uvicorn's access log duplicates ours (which has the route template and user id).
    logging.getLogger("uvicorn.access").disabled = True
    # uvicorn's own lines (startup, protocol errors) go through our handler too, so they
    # are JSON and redacted like everything else.
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
