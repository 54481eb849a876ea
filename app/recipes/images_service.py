"""Rules for recipe images: who may see, replace or remove them, and what that changes.

Visibility follows the recipe: the owner sees their own, anyone signed in sees a public
recipe's image, and everything else is 404, exactly like a missing recipe. Attaching,
replacing or removing an image is a change to the recipe: its version (ETag) moves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.core.errors import NotFound
from app.db.base import utcnow
from app.recipes import images_repository as repository
from app.recipes.exceptions import RecipeNotFound
from app.recipes.images import ProcessedImage
from app.recipes.images_repository import ImageContent


class RecipeImageNotFound(NotFound):
    code = "recipe-image-not-found"
    detail = "This recipe has no image."


@dataclass(frozen=True, slots=True)
class VisibleImage:
    visibility: str
    sha256: str


@dataclass(frozen=True, slots=True)
class StoredImage:
    content_type: str
    width: int
    height: int
    byte_size: int
    sha256: str
    thumb_content_type: str
    created: bool
    recipe_version: int


def image_etag(sha256: str, *, thumb: bool) -> str:
    # The thumbnail is derived from the image, so the image's hash names it too.
    return f'"{sha256}-thumb"' if thumb else f'"{sha256}"'


def store_image(
    session: Session, recipe_id: uuid.UUID, owner_id: uuid.UUID, processed: ProcessedImage
) -> StoredImage:
    """Attach or replace the image."""
    version = repository.mark_image(session, recipe_id, owner_id, processed.sha256)
    if version is None:  # deleted while the upload streamed in
        raise RecipeNotFound()
    image, thumb = processed.image, processed.thumb
    created = repository.save_image(
        session,
        recipe_id,
        {
            "content_type": image.content_type,
            "width": image.width,
            "height": image.height,
            "byte_size": len(image.data),
            "sha256": processed.sha256,
            "data": image.data,
            "thumb_content_type": thumb.content_type,
            "thumb_data": thumb.data,
            "created_at": utcnow(),
        },
    )
    return StoredImage(
        content_type=image.content_type,
        width=image.width,
        height=image.height,
        byte_size=len(image.data),
        sha256=processed.sha256,
        thumb_content_type=thumb.content_type,
        created=created,
        recipe_version=version,
    )


def remove_image(session: Session, recipe_id: uuid.UUID, owner_id: uuid.UUID) -> None:
    """Idempotent: removing an image that is not there changes nothing (no version bump)."""
    if repository.unmark_image(session, recipe_id, owner_id) is not None:
        repository.delete_image(session, recipe_id)


def image_head(session: Session, recipe_id: uuid.UUID, viewer_id: uuid.UUID) -> VisibleImage:
    head = repository.find_image_head(session, recipe_id, viewer_id)
    if head is None:
        raise RecipeNotFound()
    if head.sha256 is None:
        raise RecipeImageNotFound()
    return VisibleImage(visibility=head.visibility, sha256=head.sha256)


def image_content(
    session: Session, recipe_id: uuid.UUID, viewer_id: uuid.UUID, *, thumb: bool
) -> ImageContent:
    content = repository.load_image_content(session, recipe_id, viewer_id, thumb=thumb)
    if content is None:
        # Removed (or hidden) since the head was read: answer as a fresh GET would.
        image_head(session, recipe_id, viewer_id)
        raise RecipeImageNotFound()
    return content
