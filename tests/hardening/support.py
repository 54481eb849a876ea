"""Helpers for the hardening tests: the problem shape, and real uvicorn processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import TEST_SECRET_KEY
from tests.problems import assert_problem as assert_problem  # re-exported

REPO_ROOT = Path(__file__).resolve().parents[2]
ME_URL = "/api/v1/users/me"



def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on (bound, then released): connections are refused."""
    return free_port()


class UvicornProcess:
    """``uvicorn app.main:app`` in a subprocess, configured only through its environment.

    It runs in ``workdir`` so a developer's ``.env`` in the repository cannot leak in, with
    the flags production should use: no Server banner, no proxy-header rewriting.
    """

    def __init__(
        self, env: Mapping[str, str], workdir: Path, extra_args: tuple[str, ...] = ()
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(REPO_ROOT),
            "ENVIRONMENT": "test",
            "SECRET_KEY": TEST_SECRET_KEY,
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self._args = ["--no-server-header", "--no-proxy-headers", *extra_args]
        self._workdir = workdir
        self._log = workdir / f"uvicorn-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> UvicornProcess:
        """Launch without waiting (several processes start in parallel; see ``serving``)."""
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                 "--port", str(self.port), *self._args],
                cwd=self._workdir, env=self._env, stdout=log, stderr=subprocess.STDOUT,
            )
        return self

    def __enter__(self) -> UvicornProcess:
        self.start()
        self.wait_until_serving()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def output(self) -> str:
        return self._log.read_text(errors="replace")

    def wait_until_serving(self) -> None:
        # A bound on waiting, not a performance assertion: a slow machine just waits longer.
        deadline = time.monotonic() + 60
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"uvicorn exited early:\n{self.output()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"uvicorn did not start:\n{self.output()}")

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(f"{self.base_url}{path}", timeout=10, **kwargs)


@contextmanager
def serving(*processes: UvicornProcess) -> Iterator[tuple[UvicornProcess, ...]]:
    """Start every process at once (imports are the slow part), wait for all, stop all."""
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_until_serving()
        yield processes
    finally:
        for process in processes:
            process.stop()
