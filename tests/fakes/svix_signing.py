"""Real svix webhook headers, signed by the ``svix`` package's own code (as Clerk's are)."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from svix.webhooks import Webhook


def new_webhook_secret() -> str:
    """A secret in Clerk's format: ``whsec_`` + base64 of random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def svix_headers(
    secret: str,
    payload: bytes | str,
    *,
    msg_id: str | None = None,
    timestamp: datetime | int | None = None,
) -> dict[str, str]:
    """The headers Clerk sends with ``payload``: svix-id, svix-timestamp, svix-signature.

    ``timestamp`` (an aware datetime or Unix seconds) defaults to now; pass an old one to
    test replay windows.
    """
    msg_id = msg_id or f"msg_{secrets.token_hex(12)}"
    if timestamp is None:
        moment = datetime.now(UTC)
    elif isinstance(timestamp, int):
        moment = datetime.fromtimestamp(timestamp, UTC)
    else:
        # svix reads the datetime's fields as UTC, so convert rather than relabel.
        moment = timestamp.astimezone(UTC)
    data = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    signature = Webhook(secret).sign(msg_id, moment, data)
    return {
        "svix-id": msg_id,
        "svix-timestamp": str(int(moment.timestamp())),
        "svix-signature": signature,
    }
