"""Photos written straight to the database (no decode), for tests that need one fast."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.media.models import MediaBlob, MediaImage, MediaVariant
from app.recipes.models import Recipe

FAKE_BYTES = b"\x89PNG fake bytes"


def add_photo(
    db: Session, recipe: Recipe, payload: bytes = FAKE_BYTES, *, width: int = 640,
    height: int = 480,
) -> MediaImage:
    """A photo with three sizes whose bytes are ``payload`` (+ the size's name), at the
    end of the gallery; the cover when it is the first."""
    count = db.scalar(select(func.count()).select_from(MediaImage)
                      .where(MediaImage.recipe_id == recipe.id)) or 0
    digest = hashlib.sha256(payload).hexdigest()
    image = MediaImage(id=uuid.uuid4(), recipe_id=recipe.id, position=count,
                       is_cover=count == 0, sha256=digest, width=width, height=height)
    db.add(image)
    db.flush()
    for size in ("original", "hero", "card"):
        data = payload if size == "original" else payload + size.encode()
        sha = hashlib.sha256(data).hexdigest()
        if db.get(MediaBlob, sha) is None:
            db.add(MediaBlob(sha256=sha, data=data))
        db.add(MediaVariant(image_id=image.id, size=size, content_type="image/webp",
                            width=width, height=height, byte_size=len(data), sha256=sha))
    if count == 0:
        recipe.image_sha256 = digest
    db.commit()
    return image
