"""Every query behind recipe images.

Writes lock the recipe row first (its UPDATE), then touch recipe_images: PUT and DELETE
take their locks in the same order, so concurrent ones queue instead of deadlocking.
"""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app.recipes.models import Recipe, RecipeImage
from app.recipes.repository import visible_to


class ImageHead(NamedTuple):
    """What answering a conditional GET needs, without the bytes."""

    visibility: str
    sha256: str | None


class ImageContent(NamedTuple):
    visibility: str
    sha256: str
    content_type: str
    data: bytes


def find_image_head(
    session: Session, recipe_id: uuid.UUID, viewer_id: uuid.UUID
) -> ImageHead | None:
    """None when the recipe does not exist or the viewer may not see it."""
    statement = (
        select(Recipe.visibility, RecipeImage.sha256)
        .outerjoin(RecipeImage, RecipeImage.recipe_id == Recipe.id)
        .where(Recipe.id == recipe_id, visible_to(viewer_id))
    )
    row = session.execute(statement).one_or_none()
    return None if row is None else ImageHead(*row)


def load_image_content(
    session: Session, recipe_id: uuid.UUID, viewer_id: uuid.UUID, *, thumb: bool
) -> ImageContent | None:
    """Visibility, hash, type and bytes read in one statement, so they belong together."""
    content_type = RecipeImage.thumb_content_type if thumb else RecipeImage.content_type
    data = RecipeImage.thumb_data if thumb else RecipeImage.data
    statement = (
        select(Recipe.visibility, RecipeImage.sha256, content_type, data)
        .join(RecipeImage, RecipeImage.recipe_id == Recipe.id)
        .where(Recipe.id == recipe_id, visible_to(viewer_id))
    )
    row = session.execute(statement).one_or_none()
    return None if row is None else ImageContent(*row)


def mark_image(
    session: Session, recipe_id: uuid.UUID, owner_id: uuid.UUID, sha256: str
) -> int | None:
    """Record the new image's hash and bump the version, locking the recipe row.

    The new version, or None when the caller does not own the recipe (any more).
    """
    statement = (
        update(Recipe)
        .where(Recipe.id == recipe_id, Recipe.owner_id == owner_id)
        .values(image_sha256=sha256, version=Recipe.version + 1)
        .returning(Recipe.version)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none()


def unmark_image(session: Session, recipe_id: uuid.UUID, owner_id: uuid.UUID) -> int | None:
    """Clear the hash and bump the version, only if there is an image; else None."""
    statement = (
        update(Recipe)
        .where(
            Recipe.id == recipe_id,
            Recipe.owner_id == owner_id,
            Recipe.image_sha256.is_not(None),
        )
        .values(image_sha256=None, version=Recipe.version + 1)
        .returning(Recipe.version)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none()


def save_image(session: Session, recipe_id: uuid.UUID, fields: dict[str, Any]) -> bool:
    """Replace the image row, or insert it; True when it was inserted.

    Only called with the recipe row locked, so no other writer can slip in between.
    """
    replaced = session.execute(
        update(RecipeImage)
        .where(RecipeImage.recipe_id == recipe_id)
        .values(**fields)
        .execution_options(synchronize_session=False)
    )
    if replaced.rowcount:
        return False
    session.execute(insert(RecipeImage).values(recipe_id=recipe_id, **fields))
    return True


def delete_image(session: Session, recipe_id: uuid.UUID) -> None:
    session.execute(
        delete(RecipeImage)
        .where(RecipeImage.recipe_id == recipe_id)
        .execution_options(synchronize_session=False)
    )
