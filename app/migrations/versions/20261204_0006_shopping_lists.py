"""shopping lists: lists, items (with sync counter and tombstones), item sources

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

shopping_item_sources.recipe_id is ON DELETE SET NULL on purpose: deleting (or erasing
the owner of) a public recipe must not change the lists of people who shopped for it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
# '0002' in the brief: chained after the merged meal plans (0005) so this branch has one
# head; the integrator re-chains at merge.
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('shopping_lists',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('change_seq', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('purged_seq', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_shopping_lists_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shopping_lists'))
    )
    op.create_index('ix_shopping_lists_owner_created', 'shopping_lists', ['owner_id', 'created_at', 'id'], unique=False)
    op.create_table('shopping_list_items',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('list_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(), nullable=True),
    sa.Column('unit', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('category', sa.String(length=60), nullable=True),
    sa.Column('checked', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('edited', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('change_seq', sa.BigInteger(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_shopping_list_items_quantity')),
    sa.ForeignKeyConstraint(['list_id'], ['shopping_lists.id'], name=op.f('fk_shopping_list_items_list_id_shopping_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shopping_list_items'))
    )
    op.create_index('ix_shopping_list_items_list_seq', 'shopping_list_items', ['list_id', 'change_seq'], unique=False)
    op.create_table('shopping_item_sources',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('recipe_id', sa.Uuid(), nullable=True),
    sa.Column('servings', sa.Integer(), nullable=True),
    sa.Column('recipe_servings', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Numeric(), nullable=True),
    sa.Column('unit', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['shopping_list_items.id'], name=op.f('fk_shopping_item_sources_item_id_shopping_list_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipe_id'], ['recipes.id'], name=op.f('fk_shopping_item_sources_recipe_id_recipes'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shopping_item_sources'))
    )
    op.create_index(op.f('ix_shopping_item_sources_item_id'), 'shopping_item_sources', ['item_id'], unique=False)
    op.create_index(op.f('ix_shopping_item_sources_recipe_id'), 'shopping_item_sources', ['recipe_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_shopping_item_sources_recipe_id'), table_name='shopping_item_sources')
    op.drop_index(op.f('ix_shopping_item_sources_item_id'), table_name='shopping_item_sources')
    op.drop_table('shopping_item_sources')
    op.drop_index('ix_shopping_list_items_list_seq', table_name='shopping_list_items')
    op.drop_table('shopping_list_items')
    op.drop_index('ix_shopping_lists_owner_created', table_name='shopping_lists')
    op.drop_table('shopping_lists')
