"""Run the API the way an operator does: as separate processes, from another directory."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg2

from app.core.config import Settings
from tests.conftest import PG_ADMIN_DSN

ROOT = Path(__file__).resolve().parents[2]
#: Long enough for a cold start on a loaded two-core machine; the loop ends at 200.
READY_WITHIN_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**overrides: str) -> dict[str, str]:
    """The machine's environment without any of our settings, PYTHONPATH or a venv."""
    drop = set(Settings.model_fields) | {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(overrides)
    return env


@contextmanager
def fresh_database() -> Iterator[str]:
    """An empty PostgreSQL database (no tables, no Alembic revision), dropped afterwards."""
    name = f"homechef_deploy_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(sql: str) -> None:
    conn = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@contextmanager
def serving(argv: Sequence[str], *, cwd: Path, env: dict[str, str],
            log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process; stop it (by its pid) when the block ends."""
    with log.open("wb") as out:
        process = subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_ready(base_url: str, process: subprocess.Popen[bytes], log: Path) -> httpx.Response:
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    last: object = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited ({process.returncode}):\n{log.read_text()}")
        try:
            response = httpx.get(f"{base_url}/ready", timeout=5)
            if response.status_code == 200:
                return response
            last = response.text
        except httpx.TransportError as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"/ready never answered 200 (last: {last}):\n{log.read_text()}")


def dockerfile_instruction(name: str) -> list[str]:
    """The exec-form (JSON array) argument of the Dockerfile's CMD or HEALTHCHECK ... CMD."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    match = re.search(rf"^{name}\b.*?(\[.*\])\s*$", text, re.MULTILINE)
    assert match, f"no exec-form {name} in the Dockerfile"
    return list(json.loads(match.group(1)))

