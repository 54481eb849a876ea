"""Running image decodes so that no upload can hold the service hostage.

- Each decode runs in a worker process under a hard CPU-time limit (``app.media.workers``):
  whatever a file makes the decoder do, it is stopped after IMAGE_CPU_SECONDS. A thread
  could not be stopped at all.
- The worker is killed at once when the request is cancelled (client gone, shutdown).
- The memory estimate is reserved in this process, around the worker, from the same
  budget in-process decodes use.
- One account has at most JOBS_PER_USER decodes running or queued per process, so it
  cannot occupy the (small) pool that every user's uploads share.
"""

from __future__ import annotations

import io
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar

from app.core.errors import RateLimited
from app.media import images
from app.media.images import InvalidImage, ProcessedImage
from app.media.workers import WorkerCrashed, WorkerStopped, run_limited

#: Decoding is CPU-bound: more workers than cores only adds memory, not speed.
IMAGE_WORKERS = 2
JOBS_PER_USER = 1
_image_workers: RunVar[CapacityLimiter] = RunVar("image_workers")
_active: Counter[uuid.UUID] = Counter()
_active_lock = threading.Lock()


class ImageTooExpensive(InvalidImage):
    code = "image-too-expensive"
    title = "Image too expensive to process"
    detail = "Decoding the image took longer than allowed."


class ImageJobsBusy(RateLimited):
    code = "image-jobs-busy"
    detail = "Another image of yours is still being processed; retry when it is done."


async def process_upload(
    data: bytes, *, user_id: uuid.UUID, max_pixels: int, max_scans: int, cpu_seconds: int
) -> ProcessedImage:
    """process_image on ``data`` in a CPU-limited worker process, one job per user."""
    cancelled = threading.Event()
    job = partial(
        _run_job, data, max_pixels=max_pixels, max_scans=max_scans,
        cpu_seconds=cpu_seconds, cancelled=cancelled,
    )
    with _user_slot(user_id):
        try:
            return await anyio.to_thread.run_sync(job, limiter=_workers(), abandon_on_cancel=True)
        finally:
            cancelled.set()  # an abandoned job kills its worker within _POLL_SECONDS


def _workers() -> CapacityLimiter:
    try:
        return _image_workers.get()
    except LookupError:
        limiter = CapacityLimiter(IMAGE_WORKERS)
        _image_workers.set(limiter)
        return limiter


@contextmanager
def _user_slot(user_id: uuid.UUID) -> Iterator[None]:
    with _active_lock:
        if _active[user_id] >= JOBS_PER_USER:
            raise ImageJobsBusy(headers={"Retry-After": "5"})
        _active[user_id] += 1
    try:
        yield
    finally:
        with _active_lock:
            _active[user_id] -= 1
            if _active[user_id] <= 0:
                del _active[user_id]


def _run_job(
    data: bytes, *, max_pixels: int, max_scans: int, cpu_seconds: int,
    cancelled: threading.Event,
) -> ProcessedImage:
    # The header checks are cheap and bounded (app.media.structure caps what Pillow parses),
    # so they run here: a refusal costs no worker process.
    working_set = images.estimate_working_set(
        io.BytesIO(data), max_pixels=max_pixels, max_scans=max_scans
    )
    with images.reserve_decode_memory(working_set):
        try:
            result = run_limited(
                images.process_image, io.BytesIO(data), cpu_seconds=cpu_seconds,
                cancelled=cancelled, max_pixels=max_pixels, max_scans=max_scans,
            )
        except WorkerStopped as exc:
            detail = ("The upload was cancelled." if exc.reason == "cancelled"
                      else f"Decoding may take at most {cpu_seconds} s of CPU.")
            raise ImageTooExpensive(detail) from None
        except WorkerCrashed:
            raise InvalidImage() from None
    assert isinstance(result, ProcessedImage)
    return result
