"""A newcomer's sequence, end to end: `cp .env.example .env`, a key from
`generate_secret_key.py --env-file .env`, `homechef dev`; and the refusals they may meet,
each short, once, with its fix and without a traceback."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.deploy.support import ROOT, clean_env, free_port, serving, wait_until_ready

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
ANSI = re.compile(r"\x1b\[")


def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=clean_env(**env), capture_output=True, text=True,
                          timeout=120, check=False)


def _wait_for_line(log: Path, needle: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while needle not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def test_env_example_copied_keyed_and_started_serves(tmp_path: Path) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    keyed = _run([sys.executable, str(ROOT / "generate_secret_key.py"), "--env-file", ".env"],
                 tmp_path)
    assert keyed.returncode == 0, keyed.stderr
    port = free_port()
    log = tmp_path / "dev.log"
    argv = [str(BIN / "homechef"), "dev", "--port", str(port)]
    with serving(argv, cwd=tmp_path, env=clean_env(), log=log) as process:
        _wait_for_line(log, "Serving on", process)
        # Announced only once the socket listens: the very next request is answered.
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        wait_until_ready(f"http://127.0.0.1:{port}", process, log)
        for _ in range(3):
            assert httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5).status_code == 200
    output = log.read_text()
    assert output.count("Serving on") == 1
    # The .env.example placeholders are named (warned about in development), not used.
    assert "CLERK_WEBHOOK_SECRET still holds the placeholder" in output
    assert "CLERK_SECRET_KEY still holds the placeholder" in output
    # Written to a file, not a terminal: no colour codes, no uvicorn colour copy.
    assert not ANSI.search(output) and "color_message" not in output
    # /ready polled four times and logged nothing but its access lines.
    assert "Context impl" not in output and "Will assume" not in output
    assert "Traceback" not in output


def _assert_short_refusal(result: subprocess.CompletedProcess[str], code: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 3, output
    assert "Traceback" not in output
    assert output.count(f"{code}:") == 1, output
    assert "refusing to start" in output
    assert len(output.strip().splitlines()) <= 8, output
    return output


def test_weak_key_from_the_environment_is_refused_once_and_names_the_environment(
    tmp_path: Path,
) -> None:
    result = _run([sys.executable, "-m", "uvicorn", "app.main:app", "--port", "0"], tmp_path,
                  SECRET_KEY="changeme", PYTHONPATH=str(ROOT))
    output = _assert_short_refusal(result, "secret_key.weak")
    assert "comes from the environment variable, which overrides .env" in output
    assert "changeme" not in output


def test_weak_key_from_env_file_is_refused_by_homechef_dev_before_serving(
    tmp_path: Path,
) -> None:
    (tmp_path / ".env").write_text("SECRET_KEY=abcd" + "abcd" * 15 + "\n")
    result = _run([str(BIN / "homechef"), "dev", "--port", str(free_port())], tmp_path)
    output = _assert_short_refusal(result, "secret_key.weak")
    assert "generate_secret_key.py --env-file .env" in output
    assert "Serving on" not in output


def test_production_migrate_refuses_a_missing_or_sqlite_database_url(tmp_path: Path) -> None:
    for url in ("", "sqlite:///./prod.db"):
        result = _run([str(BIN / "homechef"), "migrate"], tmp_path, ENVIRONMENT="production",
                      DATABASE_URL=url)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "database.not_postgresql" in result.stderr
        assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no homechef.db, no prod.db


def test_homechef_dev_help_describes_every_option() -> None:
    result = subprocess.run([str(BIN / "homechef"), "dev", "--help"], capture_output=True,
                            text=True, timeout=60, check=True)
    assert "address to listen on (default: 127.0.0.1" in result.stdout
    assert "TCP port to listen on (default: 8000)" in result.stdout


def test_a_setting_of_the_wrong_type_is_named_without_a_traceback(tmp_path: Path) -> None:
    migrate = _run([str(BIN / "homechef"), "migrate"], tmp_path, DB_POOL_SIZE="lots")
    serve = _run([sys.executable, "-m", "uvicorn", "app.main:app", "--port", "0"], tmp_path,
                 DB_POOL_SIZE="lots", PYTHONPATH=str(ROOT))
    for result, status in ((migrate, 2), (serve, 3)):
        output = result.stdout + result.stderr
        assert result.returncode == status, output
        assert "DB_POOL_SIZE" in output and "could not be loaded" in output
        assert "Traceback" not in output and "lots" not in output
