"""Two real uvicorn workers: one scrape holds both workers' counts, and a worker that is
killed and replaced leaves its counts in (the directory's dead-worker handling)."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.hardening.support import UvicornProcess
from tests.observability.test_metrics import value

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TOKEN = "metrics-" + uuid.uuid4().hex


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(child) for child in text)
    return found


def _workers(supervisor: int) -> set[int]:
    """The spawned workers (not multiprocessing's resource tracker, also a child)."""
    return {pid for pid in _children(supervisor)
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()}


def _health_count(base_url: str) -> float:
    scraped = httpx.get(f"{base_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                        timeout=10)
    assert scraped.status_code == 200, scraped.text
    return value(scraped.text, "homechef_http_requests_total", route="/health")


def test_every_workers_counts_are_in_one_scrape_and_survive_a_killed_worker(
    pg_url: str, tmp_path: Path
) -> None:
    directory = tmp_path / "metrics"
    (directory).mkdir()
    (directory / "counter_999999.db").write_bytes(b"stale file of an earlier run")
    env = {"DATABASE_URL": pg_url, "METRICS_TOKEN": TOKEN,
           "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    server = UvicornProcess(env, tmp_path, extra_args=("--workers", "2"))
    with server:
        supervisor = server._process.pid  # type: ignore[union-attr]
        before = _health_count(server.base_url)  # the start-up probes are counted too
        # Fresh connections, so the kernel spreads them over both workers.
        for _ in range(40):
            assert httpx.get(f"{server.base_url}/health", timeout=10).status_code == 200
        assert _health_count(server.base_url) - before == 40
        writers = {f.name.rsplit("_", 1)[1] for f in directory.glob("counter_*.db")}
        assert "999999.db" not in writers  # the earlier run's file was cleaned away
        assert len(writers) == 2  # both workers answered and wrote

        workers = _workers(supervisor)
        assert len(workers) == 2
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len(_workers(supervisor) - {victim}) < 2:
            assert time.monotonic() < deadline, "the worker was not replaced"
            time.sleep(0.2)
        served = 0
        while served < 10:
            try:
                if httpx.get(f"{server.base_url}/health", timeout=10).status_code == 200:
                    served += 1
            except httpx.HTTPError:
                time.sleep(0.2)

        # Whichever worker answers the scrape, the dead worker's counts are still in.
        assert _health_count(server.base_url) - before >= 50
