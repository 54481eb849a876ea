"""A person's photos, for GDPR erasure and export.

Erasure runs before the recipes' (which would cascade the rows away and leave the bytes
unnamed): the rows go, then every blob or object no other photo names.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.media import repository
from app.media.store import default_store


def erase_owner_data(session: Session, owner_id: uuid.UUID) -> None:
    shas = [row.sha256 for row in repository.variants_of_owner(session, owner_id)]
    repository.delete_images_of_owner(session, owner_id)
    default_store().forget(session, shas)


def export_owner_data(session: Session, owner_id: uuid.UUID) -> dict[str, Any]:
    """Metadata of every photo and size, with the stored object each size is (by hash,
    in the configured store); not the bytes."""
    images: dict[uuid.UUID, dict[str, Any]] = {}
    store = default_store()
    for row in repository.variants_of_owner(session, owner_id):
        image = images.setdefault(row.id, {
            "id": row.id, "recipe_id": row.recipe_id, "position": row.position,
            "is_cover": row.is_cover, "created_at": row.created_at, "sizes": {},
        })
        image["sizes"][row.size] = {
            "content_type": row.content_type, "width": row.width, "height": row.height,
            "byte_size": row.byte_size, "sha256": row.sha256,
            "object": {"store": store.name, "key": store.key(row.sha256)},
        }
    return {"media": {"images": list(images.values())}}
