"""A non-editable install deploys: wheel -> fresh virtualenv -> migrate -> serve -> ready.

These are the steps of the Dockerfile, run without a container: the same files go into
the build (pyproject.toml, README.md, app/), the same CMD serves and the same
HEALTHCHECK probes. Everything runs from a directory that is not the checkout, so
nothing can be found through the source tree.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.core.secret_key import generate_secret_key
from tests.deploy.support import (
    ROOT,
    clean_env,
    dockerfile_instruction,
    free_port,
    fresh_database,
    serving,
    wait_until_ready,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

#: What the Dockerfile copies into its build stage (and .dockerignore lets through).
BUILD_CONTEXT = ("pyproject.toml", "README.md", "app")


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False,
                          **kwargs)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtualenv holding only the wheel and its dependencies; yields its bin/."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    source.mkdir()
    for name in BUILD_CONTEXT:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, source / name)
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                  "-w", str(base / "dist"), str(source)])
    assert built.returncode == 0, built.stderr
    (wheel,) = (base / "dist").glob("homechef_api-*.whl")
    venv = base / "venv"
    # No pip inside the new venv (seconds saved); this test's pip installs into it.
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert made.returncode == 0, made.stderr
    done = _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                 "install", "-q", "--no-compile", str(wheel)])
    assert done.returncode == 0, done.stderr
    yield venv / "bin"


def test_the_wheel_holds_the_migrations_and_imports_from_site_packages(
    installed: Path, tmp_path: Path
) -> None:
    probe = ("import app.db.migrations as m; print(m.MIGRATIONS_DIR); "
             "print(sorted(p.name for p in (m.MIGRATIONS_DIR / 'versions').glob('*.py')))")
    result = _run([str(installed / "python"), "-c", probe], cwd=tmp_path, env=clean_env())
    assert result.returncode == 0, result.stderr
    location, versions = result.stdout.splitlines()
    assert "site-packages" in location and str(ROOT) not in location
    shipped = sorted(p.name for p in (ROOT / "app" / "migrations" / "versions").glob("*.py"))
    assert versions == str(shipped)


def test_installed_wheel_migrates_a_fresh_database_and_becomes_ready(
    installed: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    with fresh_database() as url:
        env = clean_env(ENVIRONMENT="development", DATABASE_URL=url,
                        SECRET_KEY=generate_secret_key(),
                        PATH=f"{installed}:{clean_env()['PATH']}",
                        # The image sets these (ENV); the CMD and HEALTHCHECK follow them.
                        UVICORN_HOST="127.0.0.1", UVICORN_PORT=str(port))
        migrated = _run(["homechef", "migrate"], cwd=elsewhere, env=env)
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        assert "latest migration" in migrated.stdout

        command = dockerfile_instruction("CMD")
        assert command[:2] == ["uvicorn", "app.main:app"]
        log = tmp_path / "server.log"
        with serving(command, cwd=elsewhere, env=env, log=log) as process:
            ready = wait_until_ready(f"http://127.0.0.1:{port}", process, log)
            assert ready.json()["status"] == "ready"
            # The image's HEALTHCHECK command, run as Docker would run it.
            healthcheck = _run(dockerfile_instruction("HEALTHCHECK"), cwd=elsewhere, env=env)
            assert healthcheck.returncode == 0, healthcheck.stderr
            assert httpx.head(f"http://127.0.0.1:{port}/ready", timeout=5).status_code == 200
    assert list(elsewhere.iterdir()) == []  # no SQLite file, no .env: it used PostgreSQL


def test_developers_alembic_upgrade_head_from_the_checkout_still_works() -> None:
    # alembic.ini points at the same migrations the wheel ships (app/migrations).
    with fresh_database() as url:
        env = clean_env(DATABASE_URL=url)
        alembic = str(Path(sys.executable).parent / "alembic")
        upgraded = _run([alembic, "upgrade", "head"], cwd=ROOT, env=env)
        assert upgraded.returncode == 0, upgraded.stderr
        current = _run([alembic, "current"], cwd=ROOT, env=env)
        assert "(head)" in current.stdout, current.stdout + current.stderr
