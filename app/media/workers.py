"""Worker processes for image decoding, each job under a hard CPU-time limit.

A decode in a thread cannot be stopped; a process can. Each job runs in a long-lived
worker process whose RLIMIT_CPU soft limit is set, for that job, to the CPU time it has
used so far plus the job's allowance: when a file makes the decoder (libjpeg, libpng,
libwebp, LittleCMS) run past it, the kernel sends SIGXCPU and the worker dies. A job that
overruns its wall-clock allowance (a worker starved of CPU, or stuck) or whose request is
cancelled has its worker killed. A dead worker is replaced by a fresh one; healthy ones
are reused (starting a process costs far more than a decode) and retired after
``MAX_JOBS_PER_WORKER`` jobs so that heap fragmentation cannot pile up.

Workers are started from a forkserver (a clean single-threaded process), never forked
from this threaded server.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from app.core.errors import AppError

logger = logging.getLogger("homechef.recipes.images")

#: Wall-clock allowance as a multiple of the CPU allowance: only for a worker that is
#: stuck without using CPU (RLIMIT_CPU counts CPU time only); generous, because a busy
#: machine starves honest workers too.
WALL_CLOCK_FACTOR = 12
MAX_JOBS_PER_WORKER = 200
_POLL_SECONDS = 0.05

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["app.media.images"])


class WorkerStopped(Exception):
    """The job's worker was stopped: out of CPU or wall-clock time, cancelled, or dead.
    ``reason`` is one of cpu-limit, timeout, cancelled, died."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WorkerCrashed(Exception):
    """The job raised something other than an AppError (its type name only)."""


class _Worker:
    def __init__(self) -> None:
        self.connection, child_end = _context.Pipe(duplex=True)
        self.process: BaseProcess = _context.Process(
            target=_worker_main, args=(child_end,), daemon=True
        )
        self.process.start()
        child_end.close()
        self.jobs = 0
        self.stopped = False

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.connection.close()


_idle: list[_Worker] = []
_idle_lock = threading.Lock()


def run_limited(
    function: Callable[..., Any], *args: Any, cpu_seconds: int,
    cancelled: threading.Event | None = None, wall_seconds: float | None = None,
    **kwargs: Any,
) -> Any:
    """``function(*args, **kwargs)`` in a worker process, with at most ``cpu_seconds`` of
    CPU (and ``wall_seconds`` of wall-clock time, default WALL_CLOCK_FACTOR times that).
    An AppError it raises is re-raised here; WorkerStopped or WorkerCrashed else."""
    if cancelled is not None and cancelled.is_set():
        raise WorkerStopped("cancelled")
    worker = _checkout()
    healthy = False
    try:
        worker.connection.send((cpu_seconds, function, args, kwargs))
        wall = wall_seconds if wall_seconds is not None else cpu_seconds * WALL_CLOCK_FACTOR
        status, value = _wait(worker, wall, cancelled)
        healthy = True
    finally:
        _checkin(worker, healthy)
    if status == "ok":
        return value
    if status == "error" and isinstance(value, AppError):
        raise value
    raise WorkerCrashed(str(value))


def _checkout() -> _Worker:
    with _idle_lock:
        if _idle:
            return _idle.pop()
    return _Worker()  # the callers' limiter bounds how many exist


def _checkin(worker: _Worker, healthy: bool) -> None:
    worker.jobs += 1
    if healthy and worker.jobs < MAX_JOBS_PER_WORKER and worker.process.is_alive():
        with _idle_lock:
            _idle.append(worker)
        return
    worker.stop()


def _wait(
    worker: _Worker, wall_seconds: float, cancelled: threading.Event | None
) -> tuple[str, Any]:
    waited = 0.0
    while waited < wall_seconds:
        if cancelled is not None and cancelled.is_set():
            raise _stopped(worker, "cancelled")
        if worker.connection.poll(_POLL_SECONDS):
            try:
                outcome: tuple[str, Any] = worker.connection.recv()
            except (EOFError, OSError):
                worker.process.join()
                died_of_cpu = worker.process.exitcode == -signal.SIGXCPU
                raise _stopped(worker, "cpu-limit" if died_of_cpu else "died") from None
            return outcome
        waited += _POLL_SECONDS
    raise _stopped(worker, "timeout")


def _stopped(worker: _Worker, reason: str) -> WorkerStopped:
    worker.stop()
    logger.warning("image.worker_stopped",
                   extra={"event": "image.worker_stopped", "reason": reason})
    return WorkerStopped(reason)


def _worker_main(connection: Connection) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    while True:
        try:
            cpu_seconds, function, args, kwargs = connection.recv()
        except EOFError:
            return  # the server went away
        _limit_cpu(cpu_seconds)
        outcome: tuple[str, Any]
        try:
            outcome = ("ok", function(*args, **kwargs))
        except AppError as exc:
            outcome = ("error", exc)
        except Exception as exc:  # reported by type only: a message may quote the input
            outcome = ("crash", type(exc).__name__)
        _limit_cpu(None)
        connection.send(outcome)


def _limit_cpu(seconds: int | None) -> None:
    """SIGXCPU once this process has used ``seconds`` more CPU than now (None: no limit).

    Only the soft limit moves; the hard limit stays unlimited so it can be raised again
    for the next job.
    """
    if seconds is None:
        resource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1  # limits are whole seconds
    resource.setrlimit(resource.RLIMIT_CPU, (used + seconds, resource.RLIM_INFINITY))
