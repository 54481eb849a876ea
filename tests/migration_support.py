"""A scratch database for migration tests (created empty, dropped after), and stepping
it to an Alembic revision."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from sqlalchemy import Engine

from app.core.config import Settings, normalize_database_url
from app.db.engine import make_engine
from app.db.migrations import alembic_config
from tests.conftest import PG_ADMIN_DSN, _admin_execute


@contextmanager
def scratch_database(prefix: str) -> Iterator[Engine]:
    name = f"homechef_{prefix}_{uuid.uuid4().hex[:10]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    url = normalize_database_url(PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}")
    engine = make_engine(Settings(_env_file=None), url)
    try:
        yield engine
    finally:
        engine.dispose()
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(engine: Engine, target: str, *, down: bool = False) -> None:
    with engine.begin() as conn:
        (command.downgrade if down else command.upgrade)(alembic_config(conn), target)
