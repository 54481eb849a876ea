"""Running image decodes so that no upload can hold the service hostage.

- Each decode runs in a short-lived worker process with a hard CPU-time limit
  (RLIMIT_CPU): whatever a file makes the decoder do, the kernel stops it after
  IMAGE_CPU_SECONDS. A thread could not be stopped at all.
- The worker is killed at once when the request is cancelled (client gone, shutdown).
- The memory estimate is reserved in this process, around the worker, from the same
  budget in-process decodes use.
- One account has at most JOBS_PER_USER decodes running or queued per process, so it
  cannot occupy the (small) pool that every user's uploads share.

Workers come from a forkserver preloaded with the image code: forking a small, single-
threaded server is cheap (milliseconds) and safe, where forking this threaded server
process would not be.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import resource
import signal
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar

from app.core.errors import AppError, RateLimited
from app.media import images
from app.media.images import InvalidImage, ProcessedImage

logger = logging.getLogger("homechef.media")

#: Decoding is CPU-bound: more workers than cores only adds memory, not speed.
IMAGE_WORKERS = 2
JOBS_PER_USER = 1
#: Wall-clock allowance on top of the CPU limit, for a worker starved of CPU by others
#: (RLIMIT_CPU counts CPU time only) or blocked for any other reason.
WALL_CLOCK_FACTOR = 6
_POLL_SECONDS = 0.05

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["app.media.images"])
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
        result = run_limited(
            images.process_image, io.BytesIO(data), cpu_seconds=cpu_seconds,
            cancelled=cancelled, max_pixels=max_pixels, max_scans=max_scans,
        )
    assert isinstance(result, ProcessedImage)
    return result


def run_limited(
    function: Callable[..., Any], *args: Any, cpu_seconds: int,
    cancelled: threading.Event | None = None, **kwargs: Any,
) -> Any:
    """``function(*args, **kwargs)`` in a fresh worker process limited to ``cpu_seconds``
    of CPU. An AppError it raises is re-raised here; a worker that runs out of time,
    is cancelled or dies raises ImageTooExpensive (or InvalidImage)."""
    if cancelled is not None and cancelled.is_set():
        raise ImageTooExpensive("The upload was cancelled.")
    receiver, sender = _context.Pipe(duplex=False)
    worker = _context.Process(
        target=_worker_main, args=(sender, cpu_seconds, function, args, kwargs), daemon=True
    )
    worker.start()
    sender.close()
    try:
        outcome = _wait(receiver, cpu_seconds * WALL_CLOCK_FACTOR, cancelled)
    finally:
        if worker.is_alive():
            worker.kill()
        worker.join()
        receiver.close()
    if outcome is None:
        _log_kill(worker.exitcode)
        raise ImageTooExpensive(f"Decoding may take at most {cpu_seconds} s of CPU.")
    status, value = outcome
    if status == "ok":
        return value
    if status == "error" and isinstance(value, AppError):
        raise value
    raise InvalidImage()


def _wait(
    receiver: Connection, wall_seconds: float, cancelled: threading.Event | None
) -> tuple[str, Any] | None:
    waited = 0.0
    while waited < wall_seconds:
        if cancelled is not None and cancelled.is_set():
            return None
        if receiver.poll(_POLL_SECONDS):
            try:
                outcome: tuple[str, Any] = receiver.recv()
            except (EOFError, OSError):
                return None  # the worker died, usually of SIGXCPU/SIGKILL
            return outcome
        waited += _POLL_SECONDS
    return None


def _worker_main(
    sender: Connection, cpu_seconds: int, function: Callable[..., Any],
    args: tuple[Any, ...], kwargs: dict[str, Any],
) -> None:
    # SIGXCPU at the soft limit, SIGKILL one second later if it is caught somewhere.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    outcome: tuple[str, Any]
    try:
        outcome = ("ok", function(*args, **kwargs))
    except AppError as exc:
        outcome = ("error", exc)
    except BaseException as exc:  # reported by type only, as a refusal
        outcome = ("crash", type(exc).__name__)
    sender.send(outcome)
    sender.close()


def _log_kill(exitcode: int | None) -> None:
    reason = {-signal.SIGXCPU: "cpu-limit", -signal.SIGKILL: "killed"}.get(
        exitcode or 0, "timeout-or-cancel"
    )
    logger.warning(
        "image.worker_stopped", extra={"event": "image.worker_stopped", "reason": reason}
    )
