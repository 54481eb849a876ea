"""Oversized and slow uploads, driven at the ASGI level so we can count what the app pulled."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.orm import Session

from app.core.upload import MULTIPART_OVERHEAD_BYTES
from app.recipes.models import Recipe
from app.users.models import User
from tests.factories import auth_headers
from tests.media.support import (
    assert_problem,
    encode,
    fresh,
    image_url,
    jpeg,
    upload,
)
from tests.recipes.factories import make_recipe

pytestmark = pytest.mark.postgres


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
    return encode(Image.frombytes("RGB", size, pixels), "JPEG", quality=98, subsampling=0)


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
