"""Migration 0008 adds the covering index of public recipes that smart collections'
counts read, and its downgrade takes it away again."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect

from tests.migration_support import migrate, scratch_database

INDEX = "ix_recipes_public_minutes"


@pytest.fixture
def scratch(pg_url: str):
    with scratch_database("0008") as engine:
        yield engine


def _indexes(engine: Engine) -> dict[str, dict]:
    return {ix["name"]: ix for ix in inspect(engine).get_indexes("recipes")}


def test_the_public_recipes_index_comes_with_0008_and_goes_with_its_downgrade(
    scratch: Engine,
) -> None:
    migrate(scratch, "0007")
    assert INDEX not in _indexes(scratch)
    migrate(scratch, "0008")
    index = _indexes(scratch)[INDEX]
    assert index["column_names"] == ["total_minutes", "id"]
    assert index["dialect_options"]["postgresql_include"] == ["owner_id", "cuisine"]
    assert "public" in index["dialect_options"]["postgresql_where"]
    migrate(scratch, "0007", down=True)
    assert INDEX not in _indexes(scratch)
    migrate(scratch, "head")
    assert INDEX in _indexes(scratch)
