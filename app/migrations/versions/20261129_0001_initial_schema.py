"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _is_postgresql() -> bool:
    # The full-text GIN index exists on PostgreSQL only; SQLite searches differently.
    return op.get_bind().dialect.name == 'postgresql'


def upgrade() -> None:
    op.create_table('revoked_sessions',
    sa.Column('sid', sa.String(length=128), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sid', name=op.f('pk_revoked_sessions'))
    )
    op.create_index(op.f('ix_revoked_sessions_revoked_at'), 'revoked_sessions', ['revoked_at'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('clerk_user_id', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=True),
    sa.Column('last_name', sa.String(length=100), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('image_url', sa.String(length=2048), nullable=True),
    sa.Column('display_name', sa.String(length=100), nullable=True),
    sa.Column('bio', sa.Text(), nullable=True),
    sa.Column('measurement_system', sa.String(length=10), server_default='metric', nullable=False),
    sa.Column('dietary_tags', sa.JSON(), nullable=False),
    sa.Column('role', sa.String(length=20), server_default='user', nullable=False),
    sa.Column('token_version', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('clerk_updated_at', sa.BigInteger(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("measurement_system IN ('metric', 'us')", name=op.f('ck_users_measurement_system')),
    sa.CheckConstraint("role IN ('user', 'admin')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('clerk_user_id', name=op.f('uq_users_clerk_user_id'))
    )
    op.create_table('webhook_events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('svix_id', sa.String(length=255), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
    sa.UniqueConstraint('svix_id', name=op.f('uq_webhook_events_svix_id'))
    )
    op.create_table('recipes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('servings', sa.Integer(), nullable=False),
    sa.Column('prep_minutes', sa.Integer(), nullable=False),
    sa.Column('cook_minutes', sa.Integer(), nullable=False),
    sa.Column('total_minutes', sa.Integer(), nullable=False),
    sa.Column('cuisine', sa.String(length=60), nullable=True),
    sa.Column('source_url', sa.String(length=2048), nullable=True),
    sa.Column('visibility', sa.String(length=10), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('image_sha256', sa.String(length=64), nullable=True),
    sa.Column('search_vector', postgresql.TSVECTOR().with_variant(sa.Text(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("visibility IN ('private', 'public')", name=op.f('ck_recipes_visibility')),
    sa.CheckConstraint('cook_minutes BETWEEN 0 AND 10080', name=op.f('ck_recipes_cook_minutes')),
    sa.CheckConstraint('prep_minutes BETWEEN 0 AND 10080', name=op.f('ck_recipes_prep_minutes')),
    sa.CheckConstraint('servings BETWEEN 1 AND 1000', name=op.f('ck_recipes_servings')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_recipes_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recipes'))
    )
    op.create_index(op.f('ix_recipes_cuisine'), 'recipes', ['cuisine'], unique=False)
    op.create_index('ix_recipes_owner_created', 'recipes', ['owner_id', 'created_at', 'id'], unique=False)
    if _is_postgresql():
        op.create_index(
            'ix_recipes_search_vector', 'recipes', ['search_vector'], unique=False,
            postgresql_using='gin',
        )
    op.create_index('ix_recipes_title', 'recipes', ['title', 'id'], unique=False)
    op.create_index('ix_recipes_total_minutes', 'recipes', ['total_minutes', 'id'], unique=False)
    op.create_index('ix_recipes_visibility_created', 'recipes', ['visibility', 'created_at', 'id'], unique=False)
    op.create_table('favorites',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('recipe_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recipe_id'], ['recipes.id'], name=op.f('fk_favorites_recipe_id_recipes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_favorites_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'recipe_id', name=op.f('pk_favorites'))
    )
    op.create_index('ix_favorites_recipe_id', 'favorites', ['recipe_id'], unique=False)
    op.create_table('recipe_images',
    sa.Column('recipe_id', sa.Uuid(), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('thumb_content_type', sa.String(length=32), nullable=False),
    sa.Column('thumb_data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recipe_id'], ['recipes.id'], name=op.f('fk_recipe_images_recipe_id_recipes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('recipe_id', name=op.f('pk_recipe_images'))
    )
    op.create_table('recipe_ingredients',
    sa.Column('recipe_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('unit', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['recipe_id'], ['recipes.id'], name=op.f('fk_recipe_ingredients_recipe_id_recipes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('recipe_id', 'position', name=op.f('pk_recipe_ingredients'))
    )
    op.create_index(op.f('ix_recipe_ingredients_name'), 'recipe_ingredients', ['name'], unique=False)
    op.create_table('recipe_steps',
    sa.Column('recipe_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['recipe_id'], ['recipes.id'], name=op.f('fk_recipe_steps_recipe_id_recipes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('recipe_id', 'position', name=op.f('pk_recipe_steps'))
    )
    op.create_table('recipe_tags',
    sa.Column('recipe_id', sa.Uuid(), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['recipe_id'], ['recipes.id'], name=op.f('fk_recipe_tags_recipe_id_recipes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('recipe_id', 'tag', name=op.f('pk_recipe_tags'))
    )
    op.create_index('ix_recipe_tags_tag', 'recipe_tags', ['tag', 'recipe_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_recipe_tags_tag', table_name='recipe_tags')
    op.drop_table('recipe_tags')
    op.drop_table('recipe_steps')
    op.drop_index(op.f('ix_recipe_ingredients_name'), table_name='recipe_ingredients')
    op.drop_table('recipe_ingredients')
    op.drop_table('recipe_images')
    op.drop_index('ix_favorites_recipe_id', table_name='favorites')
    op.drop_table('favorites')
    op.drop_index('ix_recipes_visibility_created', table_name='recipes')
    op.drop_index('ix_recipes_total_minutes', table_name='recipes')
    op.drop_index('ix_recipes_title', table_name='recipes')
    if _is_postgresql():
        op.drop_index('ix_recipes_search_vector', table_name='recipes', postgresql_using='gin')
    op.drop_index('ix_recipes_owner_created', table_name='recipes')
    op.drop_index(op.f('ix_recipes_cuisine'), table_name='recipes')
    op.drop_table('recipes')
    op.drop_table('webhook_events')
    op.drop_table('users')
    op.drop_index(op.f('ix_revoked_sessions_revoked_at'), table_name='revoked_sessions')
    op.drop_table('revoked_sessions')
