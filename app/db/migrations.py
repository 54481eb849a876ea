"""Programmatic access to the Alembic history (the CLI, /ready, tests and validate_setup)."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

#: The migrations ship inside the package, so an installed wheel can migrate too; the
#: checkout's alembic.ini points here for developers' `alembic upgrade head`.
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


class _QuietContext(logging.Filter):
    """Drop the two lines Alembic logs whenever a migration context is made.

    /ready makes one on every probe (every few seconds); "Running upgrade ..." and the
    rest of a real migration still log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("Context impl ", "Will assume "))


logging.getLogger("alembic.runtime.migration").addFilter(_QuietContext())


def alembic_config(connection: Connection | None = None) -> Config:
    # No ini file: the app configures logging itself, and a wheel has no alembic.ini.
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
        config.attributes["configure_logger"] = False
    return config


@lru_cache
def head_revisions() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def pending_revisions(connection: Connection) -> list[str]:
    """Revisions between the database's current state and head, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    current = current_revisions(connection)
    pending = []
    for rev in script.iterate_revisions(script.get_heads(), current or "base"):
        if rev.revision not in current:
            pending.append(f"{rev.revision} ({rev.doc})")
    return list(reversed(pending))


def upgrade_to_head(engine: Engine) -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")


def downgrade_to_base(engine: Engine) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
