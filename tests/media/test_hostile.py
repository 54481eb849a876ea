"""Hostile uploads: files that are not images, decompression bombs, broken multipart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.orm import Session

from app.recipes.models import Recipe
from app.users.models import User
from tests.factories import auth_headers
from tests.media.support import (
    assert_problem,
    encode,
    fresh,
    image_url,
    jpeg,
    png_declaring,
    png_rgba,
    upload,
    webp,
)
from tests.recipes.factories import make_recipe

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(
    ("data", "filename", "content_type"),
    [
        (b"<!doctype html><html><script>alert(document.cookie)</script></html>",
         "photo.jpg", "image/jpeg"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
         b"<script>alert(document.domain)</script></svg>", "photo.svg", "image/svg+xml"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)'
         b"</script></svg>", "photo.png", "image/png"),
        (encode(Image.new("RGB", (40, 40)), "GIF"), "photo.gif", "image/gif"),
        (encode(Image.new("RGB", (40, 40)), "BMP"), "photo.jpg", "image/jpeg"),
        (encode(Image.new("RGB", (40, 40)), "TIFF"), "photo.jpg", "image/jpeg"),
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
    bomb = encode(Image.new("1", (9_000, 9_000)), "PNG")  # 81 MP; compresses to ~10 KB
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


def test_body_that_is_not_multipart_is_415(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    raw = client.put(
        image_url(recipe), headers={**as_owner, "Content-Type": "image/jpeg"}, content=jpeg()
    )
    assert assert_problem(raw, 415)["type"].endswith("multipart-required")
    # JSON means {"url": ...} (tests/imports/test_image_url.py): a "file" member is a 422.
    as_json = client.put(image_url(recipe), headers=as_owner, json={"file": "x"})
    assert_problem(as_json, 422)


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
