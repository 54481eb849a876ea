"""Rules for recipe photos: who may add, reorder, replace or remove them, and what that
changes. Links (app.media.links) are how anyone sees them.

- A recipe has at most MAX_IMAGES photos, in ``position`` order (0..n-1, no gaps).
- A recipe with photos always has exactly one cover: the first photo becomes it, and
  deleting the cover promotes the first remaining photo.
- Every change is a change to the recipe: its version (ETag) moves, and
  ``recipes.image_sha256`` follows the cover, so lists learn "has image" for free.
- The authenticated cover routes (PUT/GET/DELETE /recipes/{id}/image) act on the cover.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.media import repository
from app.media.exceptions import (
    CoverRequired,
    ImageNotFound,
    RecipeImageNotFound,
    TooManyImages,
)
from app.media.images import EncodedImage, ProcessedImage
from app.media.repository import GalleryRow, VariantHead
from app.media.schemas import ImagePatch
from app.media.store import MediaStore, default_store
from app.recipes.exceptions import RecipeNotFound
from app.users import service as users_service

MAX_IMAGES = 10


@dataclass(frozen=True, slots=True)
class StoredImage:
    id: uuid.UUID
    position: int
    is_cover: bool
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


def variant_etag(sha256: str) -> str:
    """Each size's own bytes' hash: the ETag of a signed link's response."""
    return f'"{sha256}"'


def _variants(processed: ProcessedImage) -> dict[str, EncodedImage]:
    return {"original": processed.image, "hero": processed.hero, "card": processed.thumb}


def _write(
    session: Session, store: MediaStore, recipe_id: uuid.UUID, processed: ProcessedImage,
    *, position: int, is_cover: bool,
) -> uuid.UUID:
    """Bytes first, then the rows that name them."""
    variants = _variants(processed)
    # Held until commit: no concurrent delete can remove these bytes before our rows exist.
    repository.claim(session, (encoded.sha256 for encoded in variants.values()))
    rows = []
    for size, encoded in variants.items():
        sha = encoded.sha256
        store.put(session, sha, encoded.data, encoded.content_type)
        rows.append({"size": size, "content_type": encoded.content_type, "width": encoded.width,
                     "height": encoded.height, "byte_size": len(encoded.data), "sha256": sha})
    image_id = uuid.uuid4()
    repository.insert_image(session, {
        "id": image_id, "recipe_id": recipe_id, "position": position, "is_cover": is_cover,
        "sha256": processed.sha256, "width": processed.image.width,
        "height": processed.image.height, "created_at": utcnow(),
    }, rows)
    return image_id


def _stored(
    image_id: uuid.UUID, processed: ProcessedImage, *, position: int, is_cover: bool,
    created: bool, version: int,
) -> StoredImage:
    image = processed.image
    return StoredImage(
        id=image_id, position=position, is_cover=is_cover, content_type=image.content_type,
        width=image.width, height=image.height, byte_size=len(image.data),
        sha256=processed.sha256, thumb_content_type=processed.thumb.content_type,
        created=created, recipe_version=version,
    )


def _lock(session: Session, recipe_id: uuid.UUID, owner_id: uuid.UUID) -> int:
    version = repository.touch_recipe(session, recipe_id, owner_id)
    if version is None:  # deleted (or given away) while the upload streamed in
        raise RecipeNotFound()
    return version


def add_image(
    session: Session, recipe_id: uuid.UUID, owner_id: uuid.UUID, processed: ProcessedImage,
    store: MediaStore | None = None,
) -> StoredImage:
    """POST /images: a new photo at the end of the gallery (the cover if it is the first).

    A photo already in this recipe's gallery (the same bytes once re-encoded: a retried
    upload, or a double tap) is not added again: the existing one comes back, unchanged,
    with ``created`` False. So a retry needs no Idempotency-Key."""
    users_service.guard_active_for_write(session, owner_id)
    twin = _twin(repository.gallery(session, recipe_id), processed)
    if twin is not None:
        return _existing(session, twin, processed, recipe_id)
    version = _lock(session, recipe_id, owner_id)
    photos = repository.gallery(session, recipe_id)
    twin = _twin(photos, processed)  # committed by a concurrent twin while we waited
    if twin is not None:
        return _existing(session, twin, processed, recipe_id, version)
    count = len(photos)
    if count >= MAX_IMAGES:
        raise TooManyImages()
    image_id = _write(session, store or default_store(), recipe_id, processed,
                      position=count, is_cover=count == 0)
    repository.sync_cover_hash(session, recipe_id)
    return _stored(image_id, processed, position=count, is_cover=count == 0, created=True,
                   version=version)


def _twin(photos: list[GalleryRow], processed: ProcessedImage) -> GalleryRow | None:
    return next((photo for photo in photos if photo.sha256 == processed.sha256), None)


def _existing(
    session: Session, photo: GalleryRow, processed: ProcessedImage, recipe_id: uuid.UUID,
    version: int | None = None,
) -> StoredImage:
    if version is None:
        version = repository.recipe_version(session, recipe_id)
    return _stored(photo.id, processed, position=photo.position, is_cover=photo.is_cover,
                   created=False, version=version)


def replace_cover(
    session: Session, recipe_id: uuid.UUID, owner_id: uuid.UUID, processed: ProcessedImage,
    store: MediaStore | None = None,
) -> StoredImage:
    """PUT /image: the cover is replaced in its place (a first photo becomes the cover)."""
    users_service.guard_active_for_write(session, owner_id)
    store = store or default_store()
    version = _lock(session, recipe_id, owner_id)
    photos = repository.gallery(session, recipe_id)
    cover = next((photo for photo in photos if photo.is_cover), None)
    position = len(photos) if cover is None else cover.position
    if cover is not None:
        _remove(session, store, cover)
    image_id = _write(session, store, recipe_id, processed, position=position, is_cover=True)
    repository.sync_cover_hash(session, recipe_id)
    return _stored(image_id, processed, position=position, is_cover=True,
                   created=cover is None, version=version)


def _remove(session: Session, store: MediaStore, photo: GalleryRow) -> None:
    shas = [variant.sha256 for variant in repository.variants_of(session, photo.id).values()]
    repository.delete_image(session, photo.id)
    store.forget(session, shas)


def _find(photos: list[GalleryRow], image_id: uuid.UUID) -> GalleryRow:
    for photo in photos:
        if photo.id == image_id:
            return photo
    raise ImageNotFound()


def update_image(
    session: Session, recipe_id: uuid.UUID, owner_id: uuid.UUID, image_id: uuid.UUID,
    patch: ImagePatch,
) -> int:
    """PATCH: move to ``position`` (clamped to the end) and/or make it the cover."""
    version = _lock(session, recipe_id, owner_id)
    photos = repository.gallery(session, recipe_id)
    photo = _find(photos, image_id)
    if patch.is_cover is False and photo.is_cover:
        raise CoverRequired()
    if patch.position is not None:
        order = [p.id for p in photos if p.id != image_id]
        order.insert(min(patch.position, len(order)), image_id)
        repository.set_positions(session, order)
    if patch.is_cover and not photo.is_cover:
        repository.set_cover(session, recipe_id, image_id)
        repository.sync_cover_hash(session, recipe_id)
    return version


def delete_image(
    session: Session, recipe_id: uuid.UUID, owner_id: uuid.UUID, image_id: uuid.UUID,
    store: MediaStore | None = None,
) -> None:
    _lock(session, recipe_id, owner_id)
    photos = repository.gallery(session, recipe_id)
    _close_gap(session, store or default_store(), recipe_id, photos, _find(photos, image_id))


def _close_gap(
    session: Session, store: MediaStore, recipe_id: uuid.UUID, photos: list[GalleryRow],
    gone: GalleryRow,
) -> None:
    _remove(session, store, gone)
    rest = [p for p in photos if p.id != gone.id]
    repository.set_positions(session, [p.id for p in rest])
    if gone.is_cover and rest:
        repository.set_cover(session, recipe_id, rest[0].id)
    repository.sync_cover_hash(session, recipe_id)


def remove_cover(
    session: Session, recipe_id: uuid.UUID, owner_id: uuid.UUID, store: MediaStore | None = None
) -> None:
    """DELETE /image. Idempotent: no photo, no change (no version bump). The next photo
    in the gallery, if any, becomes the cover."""
    if repository.touch_recipe(session, recipe_id, owner_id, only_with_image=True) is None:
        return
    photos = repository.gallery(session, recipe_id)
    cover = next((photo for photo in photos if photo.is_cover), None)
    if cover is not None:
        _close_gap(session, store or default_store(), recipe_id, photos, cover)


def gallery(session: Session, recipe_id: uuid.UUID) -> list[GalleryRow]:
    return repository.gallery(session, recipe_id)


def photo_hashes(session: Session, recipe_id: uuid.UUID) -> list[str]:
    """Every stored size of the recipe's photos, read before the recipe is deleted."""
    return repository.variant_shas_of_recipe(session, recipe_id)


def forget_photos(session: Session, shas: list[str], store: MediaStore | None = None) -> None:
    """After the recipe's rows are gone (the cascade): its bytes, unless shared."""
    (store or default_store()).forget(session, shas)


def cover_head(
    session: Session, recipe_id: uuid.UUID, viewer_id: uuid.UUID, *, thumb: bool
) -> VariantHead:
    visible, head = repository.cover_head(
        session, recipe_id, viewer_id, "card" if thumb else "original")
    if not visible:
        raise RecipeNotFound()
    if head is None:
        raise RecipeImageNotFound()
    return head


def linked_head(session: Session, image_id: uuid.UUID, size: str) -> VariantHead:
    head = repository.variant_head(session, image_id, size)
    if head is None:
        raise ImageNotFound()
    return head


def read_bytes(session: Session, head: VariantHead, store: MediaStore | None = None) -> bytes:
    data = (store or default_store()).read(session, head.sha256)
    if data is None:  # removed between the head and now
        raise ImageNotFound()
    return data


def delivery_url(head: VariantHead, store: MediaStore | None = None) -> str | None:
    """A presigned URL to redirect to (S3 with MEDIA_S3_DELIVERY=redirect), else None."""
    return (store or default_store()).presigned_url(head.sha256, head.content_type)
