"""meal plans, their entries, and the calendar feed token

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

At most one active plan per owner: on PostgreSQL an exclusion constraint over a partial
btree index (owner_id WHERE is_active), DEFERRABLE INITIALLY IMMEDIATE so that it is
checked at the end of the one UPDATE that switches plans (app/mealplans/models.py).
SQLite has no such constraint; there the service's per-user lock alone keeps the rule.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def upgrade() -> None:
    op.create_table('calendar_feed_tokens',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('token_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_calendar_feed_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_calendar_feed_tokens')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_calendar_feed_tokens_token_sha256'))
    )
    op.create_table('meal_plans',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('rotation_weeks', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('rotation_weeks BETWEEN 1 AND 12', name=op.f('ck_meal_plans_rotation_weeks')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_meal_plans_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meal_plans'))
    )
    op.create_index('ix_meal_plans_owner_created', 'meal_plans', ['owner_id', 'created_at', 'id'], unique=False)
    if _is_postgresql():
        op.execute(
            'ALTER TABLE meal_plans ADD CONSTRAINT ex_meal_plans_one_active '
            'EXCLUDE USING btree (owner_id WITH =) WHERE (is_active) '
            'DEFERRABLE INITIALLY IMMEDIATE'
        )
    op.create_table('meal_plan_entries',
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('week', sa.SmallInteger(), nullable=False),
    sa.Column('day', sa.SmallInteger(), nullable=False),
    sa.Column('meal', sa.String(length=10), nullable=False),
    sa.Column('recipe_id', sa.Uuid(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('servings', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.CheckConstraint("meal IN ('breakfast', 'lunch', 'dinner', 'snack')", name=op.f('ck_meal_plan_entries_meal')),
    sa.CheckConstraint('day BETWEEN 0 AND 6', name=op.f('ck_meal_plan_entries_day')),
    sa.CheckConstraint('servings BETWEEN 1 AND 1000', name=op.f('ck_meal_plan_entries_servings')),
    sa.CheckConstraint('week BETWEEN 1 AND 12', name=op.f('ck_meal_plan_entries_week')),
    sa.ForeignKeyConstraint(['plan_id'], ['meal_plans.id'], name=op.f('fk_meal_plan_entries_plan_id_meal_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipe_id'], ['recipes.id'], name=op.f('fk_meal_plan_entries_recipe_id_recipes'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('plan_id', 'position', name=op.f('pk_meal_plan_entries'))
    )
    op.create_index(op.f('ix_meal_plan_entries_recipe_id'), 'meal_plan_entries', ['recipe_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_meal_plan_entries_recipe_id'), table_name='meal_plan_entries')
    op.drop_table('meal_plan_entries')
    op.drop_index('ix_meal_plans_owner_created', table_name='meal_plans')
    op.drop_table('meal_plans')
    op.drop_table('calendar_feed_tokens')
