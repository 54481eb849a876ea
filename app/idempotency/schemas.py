"""The export's view of an idempotency key."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ExportedIdempotencyKey(BaseModel):
    key: str
    method: str
    path: str
    status_code: int
    created_at: datetime
    expires_at: datetime
