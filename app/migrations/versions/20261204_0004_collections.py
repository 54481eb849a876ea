"""collections (hand-picked and smart) and their recipes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('collections',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('filter', sa.JSON(), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_collections_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collections'))
    )
    op.create_index('uq_collections_owner_lower_name', 'collections',
                    ['owner_id', sa.text('lower(name)')], unique=True)
    op.create_table('collection_recipes',
    sa.Column('collection_id', sa.Uuid(), nullable=False),
    sa.Column('recipe_id', sa.Uuid(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], name=op.f('fk_collection_recipes_collection_id_collections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipe_id'], ['recipes.id'], name=op.f('fk_collection_recipes_recipe_id_recipes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('collection_id', 'recipe_id', name=op.f('pk_collection_recipes'))
    )
    op.create_index('ix_collection_recipes_recipe_id', 'collection_recipes', ['recipe_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_collection_recipes_recipe_id', table_name='collection_recipes')
    op.drop_table('collection_recipes')
    op.drop_index('uq_collections_owner_lower_name', table_name='collections')
    op.drop_table('collections')
