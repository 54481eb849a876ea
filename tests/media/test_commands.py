"""``homechef media gc`` and ``homechef media migrate --to s3`` as an operator runs them:
the real command line in a process of its own, configured by environment variables,
against this run's PostgreSQL and moto's S3 server."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.media.models import MediaBlob
from app.recipes.models import Recipe
from tests.conftest import TEST_SECRET_KEY
from tests.media.factories import add_photo
from tests.media.s3_support import bucket_name, new_bucket, s3_overrides


def _homechef(pg_url: str, *args: str, **settings: Any) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MEDIA_")}
    env.update({"ENVIRONMENT": "test", "DATABASE_URL": pg_url, "SECRET_KEY": TEST_SECRET_KEY,
                "LOG_FORMAT": "json"})
    env.update({key: str(value) for key, value in settings.items()})
    return subprocess.run([sys.executable, "-m", "app.cli", "media", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_gc_and_migrate_from_the_command_line(
    pg_url: str, make_settings, s3_endpoint: str, db: Session, recipe: Recipe
) -> None:
    add_photo(db, recipe, b"kept")
    db.add(MediaBlob(sha256="0" * 64, data=b"named by nothing"))
    db.commit()

    gc = _homechef(pg_url, "gc", "--grace-minutes", "0")
    assert gc.returncode == 0, gc.stderr
    assert "examined=1 removed=1" in gc.stdout
    assert db.scalar(select(func.count()).select_from(MediaBlob)) == 3

    overrides = s3_overrides(s3_endpoint, bucket_name())
    bucket = new_bucket(make_settings(**overrides))
    moved = _homechef(pg_url, "migrate", "--to", "s3", "--delete-source", **overrides)
    assert moved.returncode == 0, moved.stderr
    assert "copied=3 already_there=0 source_rows_deleted=3" in moved.stdout
    assert len(set(bucket.stored())) == 3
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(MediaBlob)) == 0
    again = _homechef(pg_url, "gc", "--grace-minutes", "0", **overrides)
    assert again.returncode == 0 and "removed=0" in again.stdout, again.stderr


def test_an_unreachable_bucket_is_a_clear_failure_that_loses_nothing(
    pg_url: str, db: Session, recipe: Recipe
) -> None:
    add_photo(db, recipe, b"stays")
    down = s3_overrides("http://127.0.0.1:9", bucket_name(), MEDIA_S3_TIMEOUT_SECONDS=1)
    result = _homechef(pg_url, "migrate", "--to", "s3", "--delete-source", **down)
    assert result.returncode == 1
    assert "cannot be reached; nothing was lost" in result.stderr
    assert "Traceback" not in result.stderr
    assert db.scalar(select(func.count()).select_from(MediaBlob)) == 3
