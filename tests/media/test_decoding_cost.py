"""Files that pass the size and pixel caps but ask for far more decoding work or memory
than a photo (security review, finding 1, and the PNG/WebP/JPEG siblings of it)."""

from __future__ import annotations

import io
import os
import threading
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.media import jobs as images_jobs
from app.media.images import estimate_working_set
from app.media.structure import MAX_CHUNKS, MAX_FRAMES, MAX_METADATA_BYTES
from app.media.workers import WorkerStopped, run_limited
from app.recipes.models import Recipe
from app.users.models import User
from tests.factories import auth_headers
from tests.media.bombs import (
    jpeg_segment_flood,
    png_chunk,
    png_with,
    progressive_jpeg,
    scan_bomb,
    webp_animation_declaring,
)
from tests.media.support import assert_problem, fresh, jpeg, upload
from tests.recipes.factories import make_recipe

pytestmark = pytest.mark.postgres


def spin_forever() -> None:
    """A decode that never ends (what a scan bomb looks like from outside)."""
    while True:
        pass


def test_progressive_jpeg_with_thousands_of_scans_is_refused_before_decoding(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    bomb = scan_bomb((2000, 2000), 2000)  # ~75 KB; about a CPU-second to decode at 4 MP
    response = upload(client, recipe, as_owner, bomb)
    problem = assert_problem(response, 422)
    assert problem["type"].endswith("image-too-complex")
    assert "scans" in problem["detail"]
    assert fresh(db, recipe).image_sha256 is None


def test_ordinary_progressive_jpeg_is_still_accepted(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    assert upload(client, recipe, as_owner, progressive_jpeg((1200, 900))).status_code == 201
    baseline_multi_scan = jpeg((300, 200), progressive=True, optimize=True)
    assert upload(client, recipe, as_owner, baseline_multi_scan).status_code == 200


def test_decoding_is_stopped_at_the_cpu_limit(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Any],
    db: Session, owner: User,
) -> None:
    # The scan cap lifted, so the CPU limit alone has to stop this one: ~5.5 CPU-seconds
    # unlimited on a fast core, well past the 1 s budget plus the up-to-1 s the whole-second
    # RLIMIT_CPU allows (6,000 scans, 1.6 s, fitted inside that slack on a quiet machine).
    client = make_client(make_settings(IMAGE_MAX_SCANS=100_000, IMAGE_CPU_SECONDS=1))
    headers = auth_headers(client.app, owner)  # type: ignore[arg-type]
    recipe = make_recipe(db, owner)
    response = upload(client, recipe, headers, scan_bomb((2000, 2000), 20_000))
    assert assert_problem(response, 422)["type"].endswith("image-too-expensive")
    assert fresh(db, recipe).image_sha256 is None
    # The worker pool is free again: the next upload goes through.
    assert upload(client, recipe, headers, jpeg()).status_code == 201


def test_a_cancelled_decode_kills_its_worker() -> None:
    cancelled = threading.Event()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            run_limited(spin_forever, cpu_seconds=300, cancelled=cancelled)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    cancelled.set()
    thread.join()  # returns only once the worker process has been killed and reaped
    assert len(outcome) == 1 and isinstance(outcome[0], WorkerStopped)
    assert outcome[0].reason == "cancelled"


def test_a_worker_that_ran_out_of_cpu_is_replaced_and_healthy_ones_are_reused() -> None:
    with pytest.raises(WorkerStopped) as stopped:
        run_limited(spin_forever, cpu_seconds=1, wall_seconds=3600)  # only CPU can stop it
    assert stopped.value.reason == "cpu-limit"
    first = run_limited(os.getpid, cpu_seconds=5)
    assert run_limited(os.getpid, cpu_seconds=5) == first
    assert first != os.getpid()


def test_progressive_memory_is_estimated_from_the_full_size() -> None:
    # 4:4:4 progressive: libjpeg keeps 3 components x 2 bytes per pixel of coefficients
    # at full size, whatever the draft scale the pixels decode at.
    side = 3000
    progressive = estimate_working_set(
        io.BytesIO(progressive_jpeg((side, side))), max_pixels=40_000_000
    )
    baseline = estimate_working_set(io.BytesIO(jpeg((side, side))), max_pixels=40_000_000)
    assert progressive >= baseline + side * side * 6


def test_one_account_cannot_run_two_image_jobs_at_once(
    client: TestClient, db: Session, recipe: Recipe, owner: User,
    as_owner: dict[str, str], as_stranger: dict[str, str], stranger: User,
) -> None:
    with images_jobs._user_slot(owner.id):  # an upload of the owner's still decoding
        busy = upload(client, recipe, as_owner, jpeg())
        others = upload(client, make_recipe(db, stranger), as_stranger, jpeg())
    problem = assert_problem(busy, 429)
    assert problem["type"].endswith("image-jobs-busy")
    assert busy.headers["Retry-After"]
    assert others.status_code == 201
    assert upload(client, recipe, as_owner, jpeg()).status_code == 201


def _ztxt(inflated: int) -> bytes:
    return png_chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"a" * inflated, 9))


@pytest.mark.parametrize(
    ("bomb", "detail"),
    [
        (png_with(png_chunk(b"IDAT", b"") * MAX_CHUNKS, before_idat=False), "chunks"),
        (png_with(_ztxt(MAX_METADATA_BYTES // 2) * 3), "metadata"),
        (png_with(png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(b"\x00" * 3_000_000))),
         "metadata"),
        (png_with(png_chunk(b"acTL", (MAX_FRAMES + 1).to_bytes(4, "big") + b"\x00" * 4)),
         "frames"),
        (webp_animation_declaring(MAX_FRAMES + 1), "frames"),
        (jpeg_segment_flood(100_000), "segments"),
    ],
    ids=["png-many-idat", "png-ztxt", "png-iccp", "png-apng-frames", "webp-frames",
         "jpeg-segment-flood"],
)
def test_sibling_decoding_cost_bombs_are_refused(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str], bomb: bytes, detail: str
) -> None:
    response = upload(client, recipe, as_owner, bomb, content_type="image/png")
    problem = assert_problem(response, 422)
    assert problem["type"].endswith("image-too-complex")
    assert detail in problem["detail"]


def test_png_with_modest_metadata_is_accepted(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    assert upload(client, recipe, as_owner, png_with(_ztxt(10_000))).status_code == 201
