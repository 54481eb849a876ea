"""Images drawn on the spot with Pillow (nothing binary lives in git), and the helpers the
image route tests share."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.media.models import MediaBlob, MediaImage, MediaVariant
from app.recipes.models import Recipe
from tests.problems import assert_problem as assert_problem  # re-exported

# --- images, drawn on the spot -----------------------------------------------------------


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def jpeg(size: tuple[int, int] = (640, 480), **params: Any) -> bytes:
    return encode(Image.new("RGB", size, (200, 60, 30)), "JPEG", quality=90, **params)


def png_rgba(size: tuple[int, int] = (600, 400)) -> bytes:
    return encode(Image.new("RGBA", size, (20, 180, 40, 128)), "PNG")


def webp(size: tuple[int, int] = (500, 500)) -> bytes:
    return encode(Image.new("RGB", size, (10, 20, 200)), "WEBP", quality=90)


def exif_with_gps(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "KitchenCam"  # Make
    if orientation is not None:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (48.0, 51.0, 29.5)
    gps[3] = "E"
    gps[4] = (2.0, 17.0, 40.2)
    return exif


def png_declaring(width: int, height: int) -> bytes:
    """A tiny valid-looking PNG whose header claims width x height (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 4096)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


# --- helpers ----------------------------------------------------------------------------


def image_url(recipe: Recipe) -> str:
    return f"/api/v1/recipes/{recipe.id}/image"


def upload(
    client: TestClient,
    recipe: Recipe,
    headers: dict[str, str],
    data: bytes,
    *,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
) -> httpx.Response:
    return client.put(
        image_url(recipe), headers=headers, files={"file": (filename, data, content_type)}
    )



def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@dataclass
class StoredCover:
    """A recipe's cover as stored: the image row, each size's variant row and bytes."""

    image: MediaImage
    variants: dict[str, MediaVariant]
    blobs: dict[str, bytes]

    @property
    def sha256(self) -> str:
        return self.image.sha256

    @property
    def data(self) -> bytes:
        return self.blobs["original"]

    @property
    def thumb_data(self) -> bytes:
        return self.blobs["card"]

    @property
    def hero_data(self) -> bytes:
        return self.blobs["hero"]

    @property
    def content_type(self) -> str:
        return self.variants["original"].content_type


def stored_row(db: Session, recipe: Recipe) -> StoredCover:
    db.expire_all()
    image = db.scalars(select(MediaImage).where(
        MediaImage.recipe_id == recipe.id, MediaImage.is_cover)).one()
    variants = {v.size: v for v in db.scalars(
        select(MediaVariant).where(MediaVariant.image_id == image.id))}
    blobs = {size: db.scalar(select(MediaBlob.data).where(MediaBlob.sha256 == v.sha256))
             for size, v in variants.items()}
    return StoredCover(image, variants, blobs)  # type: ignore[arg-type]


def fresh(db: Session, recipe: Recipe) -> Recipe:
    db.expire_all()
    return db.get(Recipe, recipe.id)  # type: ignore[return-value]
