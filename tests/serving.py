"""A real uvicorn process on a loopback port, for tests that kill it or put a proxy in
front of it. Its output goes to a file the test can read; it is killed at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from app.core.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The test app's settings (its database and key, so test tokens are valid there),
    as a child process's environment."""
    assert settings.SECRET_KEY is not None and settings.DATABASE_URL is not None
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update({
        "ENVIRONMENT": "test", "SECRET_KEY": settings.SECRET_KEY.get_secret_value(),
        "DATABASE_URL": settings.DATABASE_URL.get_secret_value(),
        "LOG_FORMAT": "json", "RATE_LIMIT_ENABLED": "false", "DB_POOL_SIZE": "3",
        "DB_MAX_OVERFLOW": "5", "PYTHONPATH": str(REPO_ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    env.update(extra)
    return env


@dataclass
class Uvicorn:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """kill -9: no shutdown, no flushing, as a crash or the OOM killer would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def start_uvicorn(
    app_spec: str, env: dict[str, Any], log_path: Path, *, factory: bool = False,
    prefix: Sequence[str] = (), extra_args: Sequence[str] = (), timeout: float = 30.0,
) -> Uvicorn:
    """uvicorn with the production flags (docs/DEPLOYMENT.md), ready when /health is 200."""
    port = free_port()
    command = [*prefix, sys.executable, "-m", "uvicorn", app_spec, "--host", "127.0.0.1",
               "--port", str(port), "--no-server-header", "--no-proxy-headers",
               "--no-access-log", *extra_args]
    if factory:
        command.append("--factory")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Uvicorn(port, process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited:\n{server.log()[-3000:]}")
        try:
            if httpx.get(server.url + "/health", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"uvicorn not ready after {timeout}s:\n{server.log()[-3000:]}")
