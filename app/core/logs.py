"""Logging setup: one JSON object per line in deployed environments, readable text locally.

Log calls pass structured fields through ``extra={"event": "auth.token_rejected", ...}``.
The request id is added to every record from the request context, so a line can be
joined to the response the client saw.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from app.core.request_context import current_request_id, current_user_id

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
) | {"message", "asctime", "taskName"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        if not getattr(record, "user_id", None):
            record.user_id = current_user_id()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        payload.update({k: v for k, v in _extras(record).items() if v is not None})
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        fields = " ".join(
            f"{k}={v}" for k, v in _extras(record).items() if v is not None and k != "event"
        )
        return f"{base} {fields}" if fields else base


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
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
