from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

DeliveryStatus = Literal["processed", "duplicate", "ignored"]


class WebhookAck(BaseModel):
    """What Clerk (Svix) gets back; any 2xx stops its retries."""

    status: DeliveryStatus

