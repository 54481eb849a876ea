"""POST /webhooks/clerk: Clerk's user and session events, delivered by Svix."""

from __future__ import annotations

from fastapi import APIRouter

from app.core.errors import problem_responses
from app.db.session import SessionDep, UnitOfWorkRoute
from app.webhooks import service
from app.webhooks.schemas import WebhookAck
from app.webhooks.verification import VerifiedDeliveryDep

router = APIRouter(tags=["webhooks"], route_class=UnitOfWorkRoute)

_RAW_JSON_BODY = {
    "requestBody": {
        "required": True,
        "description": "A Clerk event, signed by Svix (svix-id, svix-timestamp, svix-signature).",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.post(
    "/webhooks/clerk",
    response_model=WebhookAck,
    summary="Receive a Clerk webhook",
    responses=problem_responses(400, 413, 503),
    openapi_extra=_RAW_JSON_BODY,
)
def receive_clerk_webhook(delivery: VerifiedDeliveryDep, session: SessionDep) -> WebhookAck:
    # The delivery dependency is declared first: the signature is checked on the raw
    # body before the session (and so the database) is ever touched.
    status = service.process_delivery(session, delivery.svix_id, delivery.body)
    return WebhookAck(status=status)
