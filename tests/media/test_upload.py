"""PUT and DELETE /api/v1/recipes/{id}/image: what is stored, and what the upload changes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.media.models import MediaBlob, MediaImage
from app.recipes.models import Recipe
from tests.media.support import (
    assert_problem,
    decode,
    encode,
    exif_with_gps,
    fresh,
    image_url,
    jpeg,
    png_rgba,
    stored_row,
    upload,
    webp,
)

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(
    ("data", "declared", "stored_type", "fmt"),
    [
        (jpeg(), "image/jpeg", "image/jpeg", "JPEG"),
        (png_rgba(), "image/png", "image/webp", "WEBP"),
        (webp(), "image/webp", "image/webp", "WEBP"),
    ],
    ids=["jpeg", "png", "webp"],
)
def test_upload_then_get_serves_the_reencoded_image_and_a_smaller_thumbnail(
    client: TestClient,
    db: Session,
    recipe: Recipe,
    as_owner: dict[str, str],
    data: bytes,
    declared: str,
    stored_type: str,
    fmt: str,
) -> None:
    before = recipe.version
    put = upload(client, recipe, as_owner, data, content_type=declared)
    assert put.status_code == 201, put.text
    body = put.json()
    assert body["content_type"] == stored_type
    assert put.headers["location"] == image_url(recipe)
    assert put.headers["etag"] == f'"{body["sha256"]}"'

    got = client.get(image_url(recipe), headers=as_owner)
    assert got.status_code == 200
    assert got.headers["content-type"] == stored_type
    assert got.headers["etag"] == put.headers["etag"]
    picture = decode(got.content)
    assert picture.format == fmt
    assert (picture.width, picture.height) == (body["width"], body["height"])

    thumb = client.get(image_url(recipe), params={"size": "thumb"}, headers=as_owner)
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] == body["thumb_content_type"]
    small = decode(thumb.content)
    assert max(small.size) <= 400 < max(picture.size)
    assert thumb.headers["etag"] != got.headers["etag"]

    row = fresh(db, recipe)
    assert row.image_sha256 == body["sha256"]
    assert row.version == before + 1
    assert body["recipe_version"] == row.version


def test_png_keeps_its_transparency(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    assert upload(client, recipe, as_owner, png_rgba(), content_type="image/png").status_code == 201
    picture = decode(client.get(image_url(recipe), headers=as_owner).content)
    assert picture.mode == "RGBA"
    assert picture.getpixel((1, 1))[3] == 128  # type: ignore[index]


def test_replacing_the_image_changes_etag_and_answers_200(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    before = recipe.version
    first = upload(client, recipe, as_owner, jpeg((640, 480)))
    second = upload(client, recipe, as_owner, webp())
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.headers["etag"] != second.headers["etag"]
    conditional = {**as_owner, "If-None-Match": first.headers["etag"]}
    got = client.get(image_url(recipe), headers=conditional)
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/webp"
    assert fresh(db, recipe).version == before + 2


def test_delete_removes_the_image_and_bumps_the_version(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    before = recipe.version
    upload(client, recipe, as_owner, jpeg())
    deleted = client.delete(image_url(recipe), headers=as_owner)
    assert deleted.status_code == 204
    row = fresh(db, recipe)
    assert row.image_sha256 is None
    assert row.version == before + 2
    assert db.scalar(select(MediaImage).where(MediaImage.recipe_id == recipe.id)) is None
    # Its bytes went with it: no other photo names them.
    assert db.scalar(select(MediaBlob.sha256)) is None

    gone = client.get(image_url(recipe), headers=as_owner)
    assert assert_problem(gone, 404)["type"].endswith("recipe-image-not-found")


def test_deleting_a_missing_image_is_a_no_op(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    before = recipe.version
    assert client.delete(image_url(recipe), headers=as_owner).status_code == 204
    assert fresh(db, recipe).version == before


# --- what is stored ----------------------------------------------------------------------


def test_gps_exif_is_stripped_and_orientation_applied(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    # 600 wide, 300 high, "rotate 90° clockwise to display": upright it is 300 x 600.
    data = jpeg((600, 300), exif=exif_with_gps(orientation=6), comment=b"home sweet home")
    assert b"Exif" in data and decode(data).getexif().get_ifd(0x8825)

    body = upload(client, recipe, as_owner, data).json()
    assert (body["width"], body["height"]) == (300, 600)

    row = stored_row(db, recipe)
    for stored in (row.data, row.thumb_data):
        assert b"Exif" not in stored
        assert b"home sweet home" not in stored
        picture = decode(stored)
        assert not picture.getexif()
        assert "icc_profile" not in picture.info and "xmp" not in picture.info
        assert picture.height > picture.width
    served = client.get(image_url(recipe), headers=as_owner).content
    assert served == row.data


def test_png_and_webp_metadata_is_stripped(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    source = Image.new("RGB", (320, 240), (90, 90, 90))
    data = encode(source, "PNG", exif=exif_with_gps())
    upload(client, recipe, as_owner, data, content_type="image/png")
    assert b"Exif" not in stored_row(db, recipe).data

    data = encode(source, "WEBP", exif=exif_with_gps(), xmp=b"<x:xmpmeta>secret</x:xmpmeta>")
    upload(client, recipe, as_owner, data, content_type="image/webp")
    stored = stored_row(db, recipe).data
    assert b"Exif" not in stored and b"secret" not in stored and b"XMP" not in stored


def test_large_image_is_downscaled(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    body = upload(client, recipe, as_owner, jpeg((3000, 1500))).json()
    assert (body["width"], body["height"]) == (2048, 1024)


def test_image_bytes_are_not_loaded_with_the_recipe(db: Session, recipe: Recipe) -> None:
    # The bytes live apart, in a deferred column: loading a blob row does not fetch them.
    assert MediaBlob.data.property.deferred
    assert not hasattr(MediaImage, "data")
