"""A recipe's photos, their sizes, and the bytes (when PostgreSQL is the store).

- ``media_images``: one row per photo (up to MAX_IMAGES per recipe), its place in the
  gallery and whether it is the cover. At most one cover per recipe (partial unique index).
- ``media_variants``: the sizes made once at upload (original, hero, card), each naming
  its bytes by their SHA-256: writes are content-addressed, so a retried upload never
  duplicates bytes.
- ``media_blobs``: the PostgreSQL store's bytes, keyed by that hash. Lists and links
  never read this table.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UUIDPrimaryKey, utcnow

SIZES = ("original", "hero", "card")


class MediaImage(UUIDPrimaryKey, Base):
    __tablename__ = "media_images"
    __table_args__ = (
        Index("ix_media_images_recipe_position", "recipe_id", "position"),
        # One cover per recipe; the list joins on it (one index probe per row).
        Index("uq_media_images_recipe_cover", "recipe_id", unique=True,
              postgresql_where=text("is_cover"), sqlite_where=text("is_cover")),
        CheckConstraint("position >= 0", name="position"),
    )

    recipe_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recipes.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    is_cover: Mapped[bool] = mapped_column(Boolean, default=False)
    # The original's hash: the image's identity for ETags and the recipe's image_sha256.
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MediaVariant(Base):
    __tablename__ = "media_variants"
    __table_args__ = (
        CheckConstraint("size IN ('original', 'hero', 'card')", name="size"),
        Index("ix_media_variants_sha256", "sha256"),
    )

    image_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("media_images.id", ondelete="CASCADE"), primary_key=True
    )
    size: Mapped[str] = mapped_column(String(10), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))


class MediaBlob(Base):
    """Bytes by content hash (the PostgreSQL store). Shared by every variant with the
    same bytes; removed when the last one goes (repository.delete_unreferenced_blobs)."""

    __tablename__ = "media_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
