"""The production shape from docs/DEPLOYMENT.md: gunicorn with the app's uvicorn worker
class. It serves with two workers, sends no Server header, keeps the security headers,
and does not take the client address from X-Forwarded-For (the app decides that, for
TRUSTED_PROXIES only)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY
from tests.deploy.support import ROOT, clean_env, free_port, serving, wait_until_ready

pytestmark = pytest.mark.slow


def test_gunicorn_with_the_app_worker_serves_like_bare_uvicorn(
    tmp_path: Path, pg_url: str,
) -> None:
    port = free_port()
    log = tmp_path / "gunicorn.log"
    argv = [sys.executable, "-m", "gunicorn", "app.main:app", "-k",
            "app.core.gunicorn_worker.Worker", "-w", "2", "-b", f"127.0.0.1:{port}"]
    env = clean_env(PYTHONPATH=str(ROOT), ENVIRONMENT="test", SECRET_KEY=TEST_SECRET_KEY,
                    DATABASE_URL=pg_url, LOG_FORMAT="json", RATE_LIMIT_ENABLED="false",
                    DB_POOL_SIZE="2")
    with serving(argv, cwd=tmp_path, env=env, log=log) as process:
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base, process, log)
        response = httpx.get(f"{base}/health", headers={"X-Forwarded-For": "203.0.113.9"},
                             timeout=5)
    assert response.status_code == 200
    assert "server" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"]
    lines = [json.loads(line) for line in log.read_text().splitlines()
             if line.startswith("{") and '"http.access"' in line]
    health = [line for line in lines if line["route"] == "/health"]
    assert health and health[-1]["client_ip"] == "127.0.0.1"
    assert len({line["pid"] for line in lines}) >= 1
