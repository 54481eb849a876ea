"""Every query behind recipe photos.

Writes lock the recipe row first (the UPDATE that bumps its version), then touch
media_images: every writer takes its locks in the same order, so concurrent ones queue
instead of deadlocking, and the count limit is checked under the lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import and_, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from app.media.models import MediaBlob, MediaImage, MediaVariant
from app.recipes.models import Recipe
from app.recipes.repository import visible_to


class VariantHead(NamedTuple):
    """What answering a conditional or HEAD request needs, without the bytes."""

    visibility: str
    content_type: str
    sha256: str
    byte_size: int
    image_id: uuid.UUID


class GalleryRow(NamedTuple):
    id: uuid.UUID
    position: int
    is_cover: bool
    sha256: str
    width: int
    height: int


# --- reads ------------------------------------------------------------------------------


def variant_head(session: Session, image_id: uuid.UUID, size: str) -> VariantHead | None:
    """For a signed link: the link is the permission, so no viewer; a deleted image or
    recipe (erasure) has no row, which is what makes its links 404 at once."""
    statement = (
        select(Recipe.visibility, MediaVariant.content_type, MediaVariant.sha256,
               MediaVariant.byte_size, MediaVariant.image_id)
        .join(MediaImage, MediaImage.id == MediaVariant.image_id)
        .join(Recipe, Recipe.id == MediaImage.recipe_id)
        .where(MediaVariant.image_id == image_id, MediaVariant.size == size)
    )
    row = session.execute(statement).one_or_none()
    return None if row is None else VariantHead(*row)


def cover_head(
    session: Session, recipe_id: uuid.UUID, viewer_id: uuid.UUID, size: str
) -> tuple[bool, VariantHead | None]:
    """(recipe visible?, its cover's variant or None)."""
    statement = (
        select(Recipe.visibility, MediaVariant.content_type, MediaVariant.sha256,
               MediaVariant.byte_size, MediaVariant.image_id)
        .select_from(Recipe)
        .outerjoin(MediaImage, and_(MediaImage.recipe_id == Recipe.id, MediaImage.is_cover))
        .outerjoin(MediaVariant, and_(MediaVariant.image_id == MediaImage.id,
                                      MediaVariant.size == size))
        .where(Recipe.id == recipe_id, visible_to(viewer_id))
    )
    row = session.execute(statement).one_or_none()
    if row is None:
        return False, None
    return True, None if row.sha256 is None else VariantHead(*row)


def gallery(session: Session, recipe_id: uuid.UUID) -> list[GalleryRow]:
    statement = (
        select(MediaImage.id, MediaImage.position, MediaImage.is_cover, MediaImage.sha256,
               MediaImage.width, MediaImage.height)
        .where(MediaImage.recipe_id == recipe_id)
        .order_by(MediaImage.position, MediaImage.created_at, MediaImage.id)
    )
    return [GalleryRow(*row) for row in session.execute(statement)]


def variants_of(session: Session, image_id: uuid.UUID) -> dict[str, MediaVariant]:
    rows = session.scalars(select(MediaVariant).where(MediaVariant.image_id == image_id))
    return {row.size: row for row in rows}


# --- writes -----------------------------------------------------------------------------


def touch_recipe(
    session: Session, recipe_id: uuid.UUID, owner_id: uuid.UUID, *, only_with_image: bool = False
) -> int | None:
    """Bump the version, locking the recipe row; None when the caller does not own it
    (any more), or, with ``only_with_image``, when it has no photo."""
    conditions = [Recipe.id == recipe_id, Recipe.owner_id == owner_id]
    if only_with_image:
        conditions.append(Recipe.image_sha256.is_not(None))
    statement = (
        update(Recipe).where(*conditions).values(version=Recipe.version + 1)
        .returning(Recipe.version).execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none()


def recipe_version(session: Session, recipe_id: uuid.UUID) -> int:
    return int(session.scalar(select(Recipe.version).where(Recipe.id == recipe_id)) or 0)


def sync_cover_hash(session: Session, recipe_id: uuid.UUID) -> None:
    """recipes.image_sha256 := the cover's hash (or NULL): lists read it, not the images."""
    cover = (
        select(MediaImage.sha256)
        .where(MediaImage.recipe_id == recipe_id, MediaImage.is_cover)
        .scalar_subquery()
    )
    session.execute(
        update(Recipe).where(Recipe.id == recipe_id).values(image_sha256=cover)
        .execution_options(synchronize_session=False)
    )


def insert_image(
    session: Session, values: dict[str, Any], variants: Iterable[dict[str, Any]]
) -> None:
    session.execute(insert(MediaImage).values(**values))
    session.execute(insert(MediaVariant), [{"image_id": values["id"], **v} for v in variants])


def delete_image(session: Session, image_id: uuid.UUID) -> None:
    session.execute(
        delete(MediaImage).where(MediaImage.id == image_id)
        .execution_options(synchronize_session=False)
    )


def set_positions(session: Session, ordered_ids: Sequence[uuid.UUID]) -> None:
    for position, image_id in enumerate(ordered_ids):
        session.execute(
            update(MediaImage).where(MediaImage.id == image_id, MediaImage.position != position)
            .values(position=position).execution_options(synchronize_session=False)
        )


def set_cover(session: Session, recipe_id: uuid.UUID, image_id: uuid.UUID) -> None:
    # Two statements: the one-cover index is checked row by row, so the old cover must
    # be cleared before the new one is set.
    session.execute(
        update(MediaImage).where(MediaImage.recipe_id == recipe_id, MediaImage.is_cover)
        .values(is_cover=False).execution_options(synchronize_session=False)
    )
    session.execute(
        update(MediaImage).where(MediaImage.id == image_id)
        .values(is_cover=True).execution_options(synchronize_session=False)
    )


# --- who may touch which bytes ----------------------------------------------------------
#
# Identical bytes are one blob or object, shared by every photo (any owner's) that has
# them. A writer claims each hash it stores until its transaction ends; a deleter deletes
# only hashes it can claim at once and that no row names once it holds the claim. So a
# delete never lands between another request's store and its rows: either the writer
# waits for the delete and stores the bytes again, or the deleter skips them (an orphan
# at worst, for ``homechef media gc``). SQLite serialises writers: nothing to claim.


def _claim_key(sha256: str) -> Any:
    return func.hashtextextended(f"homechef.media:{sha256}", 0)


def claim(session: Session, shas: Iterable[str]) -> None:
    """Wait for, then hold until the transaction ends, each hash (sorted: no deadlock
    between two writers of overlapping hashes)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for sha in sorted(set(shas)):
        session.execute(select(func.pg_advisory_xact_lock(_claim_key(sha))))


def try_claim(session: Session, shas: Iterable[str]) -> set[str]:
    """The hashes claimed now without waiting (a busy one is being written: keep it)."""
    wanted = set(shas)
    if session.get_bind().dialect.name != "postgresql" or not wanted:
        return wanted
    return {sha for sha in sorted(wanted)
            if session.scalar(select(func.pg_try_advisory_xact_lock(_claim_key(sha))))}


# --- the PostgreSQL store's bytes --------------------------------------------------------


def put_blob(session: Session, sha256: str, data: bytes) -> None:
    """Content-addressed: the same bytes are stored once, whoever uploads them again."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    if session.get_bind().dialect.name == "postgresql":
        session.execute(pg_insert(MediaBlob).values(sha256=sha256, data=data)
                        .on_conflict_do_nothing(index_elements=["sha256"]))
    elif session.get(MediaBlob, sha256) is None:
        session.execute(insert(MediaBlob).values(sha256=sha256, data=data))


def read_blob(session: Session, sha256: str) -> bytes | None:
    return session.scalar(select(MediaBlob.data).where(MediaBlob.sha256 == sha256))


def referenced(session: Session, shas: Iterable[str]) -> set[str]:
    wanted = list(set(shas))
    if not wanted:
        return set()
    statement = select(MediaVariant.sha256).where(MediaVariant.sha256.in_(wanted)).distinct()
    return set(session.scalars(statement))


def delete_blobs(session: Session, shas: Iterable[str]) -> int:
    """Delete these blobs unless a variant still names them (another photo, another
    user: content addressing shares identical bytes) or a writer holds them."""
    wanted = list(try_claim(session, shas))
    if not wanted:
        return 0
    result = session.execute(
        delete(MediaBlob)
        .where(MediaBlob.sha256.in_(wanted),
               ~exists().where(MediaVariant.sha256 == MediaBlob.sha256))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def orphan_blob_shas(session: Session, limit: int = 1000) -> list[str]:
    statement = (
        select(MediaBlob.sha256)
        .where(~exists().where(MediaVariant.sha256 == MediaBlob.sha256))
        .limit(limit)
    )
    return list(session.scalars(statement))


# --- one person's photos (erasure and export) ---------------------------------------------


def variants_of_owner(session: Session, owner_id: uuid.UUID) -> Sequence[Any]:
    statement = (
        select(MediaImage.id, MediaImage.recipe_id, MediaImage.position, MediaImage.is_cover,
               MediaImage.created_at, MediaVariant.size, MediaVariant.content_type,
               MediaVariant.width, MediaVariant.height, MediaVariant.byte_size,
               MediaVariant.sha256)
        .join(MediaVariant, MediaVariant.image_id == MediaImage.id)
        .join(Recipe, Recipe.id == MediaImage.recipe_id)
        .where(Recipe.owner_id == owner_id)
        .order_by(MediaImage.recipe_id, MediaImage.position, MediaImage.id, MediaVariant.size)
    )
    return session.execute(statement).all()


def variant_shas_of_recipe(session: Session, recipe_id: uuid.UUID) -> list[str]:
    return list(session.scalars(
        select(MediaVariant.sha256)
        .join(MediaImage, MediaImage.id == MediaVariant.image_id)
        .where(MediaImage.recipe_id == recipe_id)
    ))


def delete_images_of_owner(session: Session, owner_id: uuid.UUID) -> None:
    session.execute(
        delete(MediaImage)
        .where(MediaImage.recipe_id.in_(select(Recipe.id).where(Recipe.owner_id == owner_id)))
        .execution_options(synchronize_session=False)
    )


def count_images(session: Session, recipe_id: uuid.UUID) -> int:
    return session.scalar(
        select(func.count()).select_from(MediaImage).where(MediaImage.recipe_id == recipe_id)
    ) or 0


def blob_batch(session: Session, after: str, limit: int) -> list[tuple[str, str]]:
    """(sha256, a content type naming it) of PostgreSQL-stored blobs, in key order."""
    content_type = (
        select(MediaVariant.content_type).where(MediaVariant.sha256 == MediaBlob.sha256)
        .limit(1).scalar_subquery()
    )
    statement = (
        select(MediaBlob.sha256, content_type).where(MediaBlob.sha256 > after)
        .order_by(MediaBlob.sha256).limit(limit)
    )
    return [(sha, ctype or "application/octet-stream") for sha, ctype in session.execute(statement)]


def delete_blob_rows(session: Session, shas: Iterable[str]) -> None:
    session.execute(delete(MediaBlob).where(MediaBlob.sha256.in_(list(shas)))
                    .execution_options(synchronize_session=False))
