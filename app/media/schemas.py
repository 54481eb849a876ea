"""What the API shows of a photo: signed links a browser can load without a token."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ImageLink(BaseModel):
    """One photo: ``url`` is the original (at most 2048 px), ``thumb_url`` the card size
    (~400 px); width and height are the original's. The links expire
    (MEDIA_LINK_SECONDS, rounded up to the hour); fetch the recipe again for fresh ones."""

    id: uuid.UUID
    url: str
    thumb_url: str
    width: int
    height: int


class PhotoLink(ImageLink):
    """A photo on the recipe page: also ``hero_url``, the page size (~1200 px)."""

    hero_url: str


class ImagePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    position: int | None = Field(default=None, ge=0, le=100)
    is_cover: bool | None = None


class GalleryImageRead(PhotoLink):
    recipe_id: uuid.UUID
    position: int
    is_cover: bool
    content_type: str
    byte_size: int
    sha256: str
    recipe_version: int


class GalleryItem(PhotoLink):
    position: int
    is_cover: bool


class ImageList(BaseModel):
    items: list[GalleryItem]


class ExportedObject(BaseModel):
    store: str
    key: str


class ExportedVariant(BaseModel):
    content_type: str
    width: int
    height: int
    byte_size: int
    sha256: str
    object: ExportedObject


class ExportedPhoto(BaseModel):
    id: uuid.UUID
    recipe_id: uuid.UUID
    position: int
    is_cover: bool
    created_at: datetime
    sizes: dict[str, ExportedVariant]


class ExportedMedia(BaseModel):
    """Metadata of every photo and where each size is stored; never the bytes."""

    images: list[ExportedPhoto]
