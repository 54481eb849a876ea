"""PUT/GET/DELETE /api/v1/recipes/{id}/image, with the hostile uploads beside the happy ones.

Every image is drawn here with Pillow; nothing binary lives in git.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.upload import MULTIPART_OVERHEAD_BYTES
from app.recipes.models import Recipe, RecipeImage
from app.users.models import User
from tests.factories import auth_headers, make_user
from tests.recipes.factories import make_recipe

pytestmark = pytest.mark.postgres

PROBLEM = "application/problem+json"


# --- images, drawn on the spot -----------------------------------------------------------


def _encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def jpeg(size: tuple[int, int] = (640, 480), **params: Any) -> bytes:
    return _encode(Image.new("RGB", size, (200, 60, 30)), "JPEG", quality=90, **params)


def png_rgba(size: tuple[int, int] = (600, 400)) -> bytes:
    return _encode(Image.new("RGBA", size, (20, 180, 40, 128)), "PNG")


def webp(size: tuple[int, int] = (500, 500)) -> bytes:
    return _encode(Image.new("RGB", size, (10, 20, 200)), "WEBP", quality=90)


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


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    return body


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.fixture
def owner(db: Session) -> User:
    return make_user(db)


@pytest.fixture
def stranger(db: Session) -> User:
    return make_user(db)


@pytest.fixture
def as_owner(app: FastAPI, owner: User) -> dict[str, str]:
    return auth_headers(app, owner)


@pytest.fixture
def as_stranger(app: FastAPI, stranger: User) -> dict[str, str]:
    return auth_headers(app, stranger)


@pytest.fixture
def recipe(db: Session, owner: User) -> Recipe:
    return make_recipe(db, owner)


def stored_row(db: Session, recipe: Recipe) -> RecipeImage:
    db.expire_all()
    row = db.scalars(select(RecipeImage).where(RecipeImage.recipe_id == recipe.id)).one()
    _ = row.data, row.thumb_data  # deferred columns
    return row


def fresh(db: Session, recipe: Recipe) -> Recipe:
    db.expire_all()
    return db.get(Recipe, recipe.id)  # type: ignore[return-value]


# --- happy paths ------------------------------------------------------------------------


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


def test_image_responses_cannot_be_sniffed_or_run_anything(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    upload(client, recipe, as_owner, jpeg())
    got = client.get(image_url(recipe), headers=as_owner)
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert got.headers["content-disposition"] == f'inline; filename="recipe-{recipe.id}.jpg"'


def test_private_image_is_not_stored_by_shared_caches(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    upload(client, recipe, as_owner, jpeg())
    got = client.get(image_url(recipe), headers=as_owner)
    assert got.headers["cache-control"].startswith("private")


def test_matching_if_none_match_gives_304_without_a_body(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    upload(client, recipe, as_owner, jpeg())
    etag = client.get(image_url(recipe), headers=as_owner).headers["etag"]

    again = client.get(image_url(recipe), headers={**as_owner, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    weak = client.get(image_url(recipe), headers={**as_owner, "If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    stale = client.get(image_url(recipe), headers={**as_owner, "If-None-Match": '"other"'})
    assert stale.status_code == 200


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


def test_public_recipes_image_is_readable_by_others_and_publicly_cacheable(
    client: TestClient, db: Session, owner: User, as_owner: dict[str, str],
    as_stranger: dict[str, str],
) -> None:
    public = make_recipe(db, owner, visibility="public")
    upload(client, public, as_owner, jpeg())

    got = client.get(image_url(public), headers=as_stranger)
    assert got.status_code == 200
    assert got.headers["cache-control"] == "public, max-age=86400"
    decode(got.content)
    thumb = client.get(image_url(public), params={"size": "thumb"}, headers=as_stranger)
    assert thumb.status_code == 200


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
    assert db.scalar(select(RecipeImage).where(RecipeImage.recipe_id == recipe.id)) is None

    gone = client.get(image_url(recipe), headers=as_owner)
    assert assert_problem(gone, 404)["type"].endswith("recipe-image-not-found")


def test_deleting_a_missing_image_is_a_no_op(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    before = recipe.version
    assert client.delete(image_url(recipe), headers=as_owner).status_code == 204
    assert fresh(db, recipe).version == before


def test_recipe_without_image_is_404_problem(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    assert_problem(client.get(image_url(recipe), headers=as_owner), 404)
    assert_problem(client.get(image_url(recipe), params={"size": "thumb"}, headers=as_owner), 404)


# --- other people ------------------------------------------------------------------------


def test_other_users_private_recipe_image_is_404_like_a_missing_recipe(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str],
    as_stranger: dict[str, str],
) -> None:
    upload(client, recipe, as_owner, jpeg())
    missing = f"/api/v1/recipes/{'0' * 8}-0000-4000-8000-{'0' * 12}/image"
    expected = assert_problem(client.get(missing, headers=as_stranger), 404)

    got = assert_problem(client.get(image_url(recipe), headers=as_stranger), 404)
    assert got["type"] == expected["type"]
    thumb = client.get(image_url(recipe), params={"size": "thumb"}, headers=as_stranger)
    assert_problem(thumb, 404)
    assert_problem(upload(client, recipe, as_stranger, jpeg()), 404)
    assert_problem(client.delete(image_url(recipe), headers=as_stranger), 404)
    assert stored_row(db, recipe).sha256 == fresh(db, recipe).image_sha256


def test_other_users_public_recipe_cannot_be_changed(
    client: TestClient, db: Session, owner: User, as_owner: dict[str, str],
    as_stranger: dict[str, str],
) -> None:
    public = make_recipe(db, owner, visibility="public")
    upload(client, public, as_owner, jpeg())
    assert_problem(upload(client, public, as_stranger, webp()), 404)
    assert_problem(client.delete(image_url(public), headers=as_stranger), 404)
    still = client.get(image_url(public), headers=as_stranger)
    assert still.headers["content-type"] == "image/jpeg"


def test_image_routes_need_a_token(client: TestClient, recipe: Recipe) -> None:
    assert_problem(client.get(image_url(recipe)), 401)
    assert_problem(upload(client, recipe, {}, jpeg()), 401)
    assert_problem(client.delete(image_url(recipe)), 401)


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
    data = _encode(source, "PNG", exif=exif_with_gps())
    upload(client, recipe, as_owner, data, content_type="image/png")
    assert b"Exif" not in stored_row(db, recipe).data

    data = _encode(source, "WEBP", exif=exif_with_gps(), xmp=b"<x:xmpmeta>secret</x:xmpmeta>")
    upload(client, recipe, as_owner, data, content_type="image/webp")
    stored = stored_row(db, recipe).data
    assert b"Exif" not in stored and b"secret" not in stored and b"XMP" not in stored


def test_large_image_is_downscaled(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    body = upload(client, recipe, as_owner, jpeg((3000, 1500))).json()
    assert (body["width"], body["height"]) == (2048, 1024)


def test_image_bytes_are_not_loaded_with_the_recipe(db: Session, recipe: Recipe) -> None:
    # The bytes columns are deferred: loading an image row does not fetch them.
    assert RecipeImage.data.property.deferred
    assert RecipeImage.thumb_data.property.deferred


# --- hostile uploads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "content_type"),
    [
        (b"<!doctype html><html><script>alert(document.cookie)</script></html>",
         "photo.jpg", "image/jpeg"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
         b"<script>alert(document.domain)</script></svg>", "photo.svg", "image/svg+xml"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)'
         b"</script></svg>", "photo.png", "image/png"),
        (_encode(Image.new("RGB", (40, 40)), "GIF"), "photo.gif", "image/gif"),
        (_encode(Image.new("RGB", (40, 40)), "BMP"), "photo.jpg", "image/jpeg"),
        (_encode(Image.new("RGB", (40, 40)), "TIFF"), "photo.jpg", "image/jpeg"),
        (bytes(range(256)) * 64, "photo.webp", "image/webp"),
        (jpeg((800, 800))[:3000], "photo.jpg", "image/jpeg"),
        (png_rgba()[:-200], "photo.png", "image/png"),
        (b"", "photo.jpg", "image/jpeg"),
    ],
    ids=["html-as-jpg", "svg-script", "svg-as-png", "gif", "bmp", "tiff", "random",
         "truncated-jpeg", "truncated-png", "empty"],
)
def test_files_that_are_not_jpeg_png_or_webp_are_refused(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str],
    data: bytes, filename: str, content_type: str,
) -> None:
    response = upload(client, recipe, as_owner, data, filename=filename, content_type=content_type)
    assert assert_problem(response, 422)["type"].endswith("invalid-image")
    assert fresh(db, recipe).image_sha256 is None


def test_decompression_bomb_is_refused_before_decoding(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    bomb = png_declaring(20_000, 20_000)
    assert len(bomb) < 1024
    response = upload(client, recipe, as_owner, bomb, content_type="image/png")
    assert assert_problem(response, 422)["type"].endswith("image-too-many-pixels")
    assert fresh(db, recipe).image_sha256 is None


def test_webp_bomb_is_refused_before_pillow_allocates_its_canvas(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    # An extended-format header declaring a 20000 x 20000 canvas, and nothing else.
    canvas = (20_000 - 1).to_bytes(3, "little") * 2
    header = b"VP8X" + (10).to_bytes(4, "little") + b"\x00" * 4 + canvas
    bomb = b"RIFF" + (4 + len(header)).to_bytes(4, "little") + b"WEBP" + header
    response = upload(client, recipe, as_owner, bomb, content_type="image/webp")
    assert assert_problem(response, 422)["type"].endswith("image-too-many-pixels")


def test_real_all_black_bomb_is_refused(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    bomb = _encode(Image.new("1", (9_000, 9_000)), "PNG")  # 81 MP; compresses to ~10 KB
    assert len(bomb) < 100_000
    response = upload(client, recipe, as_owner, bomb, content_type="image/png")
    assert assert_problem(response, 422)["type"].endswith("image-too-many-pixels")


def test_pixel_cap_comes_from_settings(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Any],
    db: Session, owner: User,
) -> None:
    client = make_client(make_settings(MAX_IMAGE_PIXELS=100 * 100))
    headers = auth_headers(client.app, owner)  # type: ignore[arg-type]
    recipe = make_recipe(db, owner)
    assert upload(client, recipe, headers, jpeg((100, 100))).status_code == 201
    assert_problem(upload(client, recipe, headers, jpeg((101, 100))), 422)
    # WebP decoding costs about four times as much per pixel, so it gets a quarter.
    assert upload(client, recipe, headers, webp((50, 50))).status_code == 200
    assert_problem(upload(client, recipe, headers, webp((51, 50))), 422)


def test_thumb_is_the_only_size(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    upload(client, recipe, as_owner, jpeg())
    for size in ("large", "THUMB", "full", ""):
        assert_problem(client.get(image_url(recipe), params={"size": size}, headers=as_owner), 422)


def test_body_that_is_not_multipart_is_415(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    raw = client.put(
        image_url(recipe), headers={**as_owner, "Content-Type": "image/jpeg"}, content=jpeg()
    )
    assert assert_problem(raw, 415)["type"].endswith("multipart-required")
    as_json = client.put(image_url(recipe), headers=as_owner, json={"file": "x"})
    assert_problem(as_json, 415)


def test_missing_file_field_is_422(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    response = client.put(
        image_url(recipe), headers=as_owner, files={"picture": ("p.jpg", jpeg(), "image/jpeg")}
    )
    assert assert_problem(response, 422)["type"].endswith("upload-field-invalid")
    only_text = client.put(image_url(recipe), headers=as_owner, data={"title": "x"},
                           files={"other": ("a", b"b")})
    assert_problem(only_text, 422)


def test_other_form_fields_are_ignored(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    response = client.put(
        image_url(recipe), headers=as_owner, data={"caption": "Sunday roast"},
        files={"file": ("x", jpeg(), "application/octet-stream")},
    )
    assert response.status_code == 201


def test_too_many_parts_is_400(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    files = [(f"extra{i}", (f"{i}.txt", b"x", "text/plain")) for i in range(20)]
    files.append(("file", ("a.jpg", jpeg(), "image/jpeg")))
    response = client.put(image_url(recipe), headers=as_owner, files=files)
    assert assert_problem(response, 400)["type"].endswith("malformed-multipart")


def test_oversized_part_header_is_400(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="'
        + b"a" * 10_000 + b'"\r\n\r\n' + jpeg() + b"\r\n--xyz--\r\n"
    )
    headers = {**as_owner, "Content-Type": "multipart/form-data; boundary=xyz"}
    assert_problem(client.put(image_url(recipe), headers=headers, content=body), 400)


def test_two_file_fields_are_422(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    files = [("file", ("a.jpg", jpeg(), "image/jpeg")), ("file", ("b.jpg", jpeg(), "image/jpeg"))]
    assert_problem(client.put(image_url(recipe), headers=as_owner, files=files), 422)


@pytest.mark.parametrize(
    "body",
    [b"no boundary here", b"--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc"],
    ids=["garbage", "unterminated"],
)
def test_malformed_multipart_is_400(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str], body: bytes
) -> None:
    headers = {**as_owner, "Content-Type": "multipart/form-data; boundary=xyz"}
    assert_problem(client.put(image_url(recipe), headers=headers, content=body), 400)
    no_boundary = {**as_owner, "Content-Type": "multipart/form-data"}
    assert_problem(client.put(image_url(recipe), headers=no_boundary, content=body), 400)


def test_file_over_max_upload_bytes_is_413(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Any],
    db: Session, owner: User,
) -> None:
    client = make_client(make_settings(MAX_UPLOAD_BYTES=64 * 1024))
    headers = auth_headers(client.app, owner)  # type: ignore[arg-type]
    recipe = make_recipe(db, owner)
    response = upload(client, recipe, headers, b"\xff" * (64 * 1024 + 1))
    assert assert_problem(response, 413)["type"].endswith("payload-too-large")
    assert fresh(db, recipe).image_sha256 is None


# --- oversized bodies, driven at the ASGI level so we can count what the app pulled ---------


class CountingBody:
    """A multipart body of ``total`` bytes that remembers how much of it was consumed."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0
        self.head = (
            b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n"
        )

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        self.sent = len(self.head)
        while self.sent < self.total:
            piece = b"\xff" * min(self.chunk, self.total - self.sent)
            self.sent += len(piece)
            yield piece


def send_streaming(
    app: FastAPI, url: str, headers: dict[str, str], body: CountingBody
) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.put(url, headers=headers, content=body.__aiter__())

    return anyio.run(go)


def test_oversized_chunked_upload_is_refused_before_it_is_all_read(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Any],
    db: Session, owner: User,
) -> None:
    cap = 256 * 1024
    client = make_client(make_settings(MAX_UPLOAD_BYTES=cap))
    app: FastAPI = client.app  # type: ignore[assignment]
    recipe = make_recipe(db, owner)
    body = CountingBody(total=50 * 1024 * 1024)
    headers = {**auth_headers(app, owner), "Content-Type": "multipart/form-data; boundary=xyz"}

    response = send_streaming(app, image_url(recipe), headers, body)

    assert assert_problem(response, 413)["type"].endswith("payload-too-large")
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert body.sent <= cap + MULTIPART_OVERHEAD_BYTES + 2 * body.chunk


def test_declared_oversized_upload_is_refused_without_reading_it(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    body = CountingBody(total=6 * 1024 * 1024)
    headers = {
        **as_owner,
        "Content-Type": "multipart/form-data; boundary=xyz",
        "Content-Length": str(body.total),
    }
    response = send_streaming(client.app, image_url(recipe), headers, body)  # type: ignore[arg-type]
    assert_problem(response, 413)
    assert body.sent == 0


def noisy_jpeg(size: tuple[int, int], seed: int = 7) -> bytes:
    """Random pixels barely compress: a few megabytes of genuine JPEG."""
    pixels = random.Random(seed).randbytes(size[0] * size[1] * 3)
    return _encode(Image.frombytes("RGB", size, pixels), "JPEG", quality=98, subsampling=0)


def test_upload_just_under_max_upload_bytes_is_accepted(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    data = noisy_jpeg((1400, 1100))
    assert 4 * 1024 * 1024 < len(data) < 5 * 1024 * 1024
    assert upload(client, recipe, as_owner, data).status_code == 201


def test_oversized_upload_with_content_length_is_413(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    response = upload(client, recipe, as_owner, b"\xff" * (5 * 1024 * 1024 + 1))
    assert_problem(response, 413)


def test_strangers_upload_is_refused_before_it_is_read(
    client: TestClient, recipe: Recipe, as_stranger: dict[str, str]
) -> None:
    body = CountingBody(total=1024 * 1024)
    headers = {**as_stranger, "Content-Type": "multipart/form-data; boundary=xyz"}
    response = send_streaming(client.app, image_url(recipe), headers, body)  # type: ignore[arg-type]
    assert_problem(response, 404)
    assert body.sent == 0


def test_streaming_an_upload_holds_no_pooled_connection(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str], engine: Any
) -> None:
    """A slow phone must not pin a database connection while its photo trickles in."""
    seen: list[int] = []

    class ObservingBody(CountingBody):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield self.head
            # The app asked for more: ownership is checked and streaming has begun.
            seen.append(engine.pool.checkedout())
            yield jpeg()
            yield b"\r\n--xyz--\r\n"

    headers = {**as_owner, "Content-Type": "multipart/form-data; boundary=xyz"}
    response = send_streaming(client.app, image_url(recipe), headers, ObservingBody(0))  # type: ignore[arg-type]
    assert response.status_code == 201, response.text
    assert seen == [0]
    assert fresh(db, recipe).image_sha256 is not None
