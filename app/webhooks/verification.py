"""Svix signature check on the raw body: the first thing a webhook request meets.

Nothing is parsed and no database is touched until the signature holds. Every way a
request can fail here (headers missing or malformed, stale or future timestamp, wrong
signature, a body that is not UTF-8, a body too large) is a 4xx problem, never a 500.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from svix.webhooks import Webhook, WebhookVerificationError

from app.core.config import Settings
from app.core.errors import BadRequest, PayloadTooLarge, ServiceUnavailable
from app.core.events import WEBHOOK_REJECTED, security_event

SVIX_HEADERS = ("svix-id", "svix-timestamp", "svix-signature")
SVIX_ID_MAX = 255  # webhook_events.svix_id

# standardwebhooks' messages, mapped to stable reason codes for the log.
_REASONS = {
    "Message timestamp too old": "timestamp_too_old",
    "Message timestamp too new": "timestamp_too_new",
    "Invalid Signature Headers": "malformed_headers",
    "No matching signature found": "bad_signature",
    "Missing required headers": "missing_headers",
}


class WebhookNotConfigured(ServiceUnavailable):
    code = "webhook-not-configured"
    detail = "Webhooks are not configured on this server."


class WebhookSignatureInvalid(BadRequest):
    code = "webhook-signature-invalid"
    detail = "The webhook signature is missing, malformed, expired or wrong."


class WebhookBodyTooLarge(PayloadTooLarge):
    code = "webhook-body-too-large"


@dataclass(frozen=True, slots=True)
class VerifiedDelivery:
    svix_id: str
    body: bytes = field(repr=False)


def _reject(reason: str, error: Exception) -> Exception:
    security_event(WEBHOOK_REJECTED, reason=reason)
    return error


async def read_capped_body(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it passes ``limit`` bytes (never buffered whole)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _reject("body_too_large", WebhookBodyTooLarge())
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _reject("body_too_large", WebhookBodyTooLarge())
    return bytes(body)


def _webhook(settings: Settings) -> Webhook:
    if settings.CLERK_WEBHOOK_SECRET is None:
        raise _reject("not_configured", WebhookNotConfigured())
    try:
        return Webhook(settings.CLERK_WEBHOOK_SECRET.get_secret_value())
    except Exception:  # any failure here means a bad secret, whose text is never shown
        raise _reject("secret_invalid", WebhookNotConfigured()) from None


def verify_signature(webhook: Webhook, body: bytes, headers: dict[str, str]) -> None:
    if not all(headers.values()):
        raise _reject("missing_headers", WebhookSignatureInvalid())
    try:
        # Strict UTF-8 first: svix would decode it anyway, and the raise is ours to name.
        webhook.verify(body.decode("utf-8"), headers)
    except UnicodeDecodeError:
        raise _reject("body_not_utf8", WebhookSignatureInvalid()) from None
    except WebhookVerificationError as exc:
        reason = _REASONS.get(str(exc), "verification_failed")
        raise _reject(reason, WebhookSignatureInvalid()) from None
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, binascii.Error):
        # svix raises these (not WebhookVerificationError) for e.g. "v1" without a
        # comma or a signature that is not base64.
        raise _reject("malformed_headers", WebhookSignatureInvalid()) from None


async def verified_delivery(request: Request) -> VerifiedDelivery:
    settings: Settings = request.app.state.settings
    webhook = _webhook(settings)
    body = await read_capped_body(request, settings.MAX_WEBHOOK_BODY_BYTES)
    headers = {name: request.headers.get(name, "") for name in SVIX_HEADERS}
    verify_signature(webhook, body, headers)
    svix_id = headers["svix-id"]
    if len(svix_id) > SVIX_ID_MAX or not svix_id.isprintable():
        raise _reject("malformed_headers", WebhookSignatureInvalid())
    return VerifiedDelivery(svix_id=svix_id, body=body)


#: The verified raw delivery; resolving it is the first thing the webhook route does.
VerifiedDeliveryDep = Annotated[VerifiedDelivery, Depends(verified_delivery)]
