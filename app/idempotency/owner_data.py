"""A person's idempotency keys, for GDPR erasure and export.

The export names each key, the request it was for and when it expires, not the stored
response bodies: those are copies of data the export already holds (the recipe itself).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.idempotency import repository


def erase_owner_data(session: Session, owner_id: uuid.UUID) -> None:
    repository.delete_keys_of(session, owner_id)


def export_owner_data(session: Session, owner_id: uuid.UUID) -> dict[str, Any]:
    return {"idempotency_keys": [
        {"key": row.key, "method": row.method, "path": row.path,
         "status_code": row.status_code, "created_at": row.created_at,
         "expires_at": row.expires_at}
        for row in repository.keys_of(session, owner_id)
    ]}
