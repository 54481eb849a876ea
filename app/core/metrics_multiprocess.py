"""The multiprocess directory of prometheus-client: cleaned at start-up and after a death.

Under ``uvicorn --workers N`` there is no master hook, so each worker does this as it
starts, under an exclusive lock on the directory:

- a fresh server (the supervising process differs from the one that last cleaned, or no
  process that wrote a file is still alive): every value file is removed, so a restart
  does not resurrect the previous run's numbers;
- otherwise, files of workers that died are retired with the client's
  ``mark_process_dead`` (their live gauges go; their counters stay, so totals never go
  backwards while the server runs).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
from pathlib import Path

from prometheus_client import multiprocess

logger = logging.getLogger("homechef.metrics")

_OWNER_FILE = ".supervisor"
_LOCK_FILE = ".lock"
_VALUE_FILE = re.compile(r"^[a-z_]+_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare(directory: str) -> None:
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    with open(path / _LOCK_FILE, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _clean(path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _clean(path: Path) -> None:
    supervisor = str(os.getppid())
    owner_file = path / _OWNER_FILE
    owner = owner_file.read_text().strip() if owner_file.exists() else ""
    writers: dict[int, list[Path]] = {}
    for file in path.iterdir():
        match = _VALUE_FILE.match(file.name)
        if match:
            writers.setdefault(int(match.group(1)), []).append(file)
    living = [pid for pid in writers if pid != os.getpid() and _alive(pid)]
    if owner != supervisor or not living:
        for pid, files in writers.items():
            if pid == os.getpid():
                continue  # our own values are already open (mapped) from import
            for file in files:
                with contextlib.suppress(FileNotFoundError):
                    file.unlink()
        owner_file.write_text(supervisor)
        logger.info("metrics directory reset", extra={"event": "metrics.reset"})
        return
    for pid in writers:
        if pid != os.getpid() and not _alive(pid):
            multiprocess.mark_process_dead(pid, str(path))
