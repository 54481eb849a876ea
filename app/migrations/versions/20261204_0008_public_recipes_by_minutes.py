"""recipes: an index of public recipes by total minutes, covering owner and cuisine

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

Counting a smart collection whose filter reaches other people's public recipes
(``scope=public``/``all``, favourites, ``owner=``) read the recipes' heap: a bitmap of
every public recipe (ix_recipes_visibility_created, 30% of the table) ANDed with the
filter's own index, or a sequential scan of the whole table for a tag or a cuisine
(40-50 ms on the 100,000-recipe bench seed). A partial index of the public recipes
only, keyed like ix_recipes_total_minutes and carrying owner_id and cuisine, answers
those counts from the index alone (``max_total_minutes`` as a range; a tag, cuisine or
owner test over ~2 MB instead of ~100 MB), and serves ``sort=quickest`` over public
recipes in order. PostgreSQL only (SQLite has no INCLUDE; its lists are small).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = 'ix_recipes_public_minutes'


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade() -> None:
    if _postgresql():
        op.create_index(
            NAME, 'recipes', ['total_minutes', 'id'],
            postgresql_include=['owner_id', 'cuisine'],
            postgresql_where=sa.text("visibility = 'public'"),
        )


def downgrade() -> None:
    if _postgresql():
        op.drop_index(NAME, table_name='recipes')
