"""media: several photos per recipe, three sizes each, content-addressed bytes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

The one-image-per-recipe table (recipe_images) becomes each recipe's cover photo:
its image is the original size, its thumbnail the card size and, since an old image was
never made in the hero size and SQL cannot resize, the original also serves as the hero.
The downgrade keeps every cover (the card becomes the thumbnail again); further photos
of a recipe cannot be represented in the old table and are dropped.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_COPY_UP = [
    """INSERT INTO media_images (id, recipe_id, position, is_cover, sha256, width, height, created_at)
       SELECT gen_random_uuid(), recipe_id, 0, true, sha256, width, height, created_at
       FROM recipe_images""",
    """INSERT INTO media_blobs (sha256, data, created_at)
       SELECT sha256, data, created_at FROM recipe_images
       ON CONFLICT (sha256) DO NOTHING""",
    """INSERT INTO media_blobs (sha256, data, created_at)
       SELECT encode(sha256(thumb_data), 'hex'), thumb_data, created_at FROM recipe_images
       ON CONFLICT (sha256) DO NOTHING""",
    """INSERT INTO media_variants (image_id, size, content_type, width, height, byte_size, sha256)
       SELECT m.id, s.size, r.content_type, r.width, r.height, r.byte_size, r.sha256
       FROM recipe_images r JOIN media_images m ON m.recipe_id = r.recipe_id
       CROSS JOIN (VALUES ('original'), ('hero')) AS s(size)""",
    """INSERT INTO media_variants (image_id, size, content_type, width, height, byte_size, sha256)
       SELECT m.id, 'card', r.thumb_content_type,
              GREATEST(1, round(r.width * LEAST(1.0, 400.0 / GREATEST(r.width, r.height)))),
              GREATEST(1, round(r.height * LEAST(1.0, 400.0 / GREATEST(r.width, r.height)))),
              length(r.thumb_data), encode(sha256(r.thumb_data), 'hex')
       FROM recipe_images r JOIN media_images m ON m.recipe_id = r.recipe_id""",
]

_COPY_DOWN = """
INSERT INTO recipe_images (recipe_id, content_type, width, height, byte_size, sha256, data,
                           thumb_content_type, thumb_data, created_at)
SELECT m.recipe_id, o.content_type, o.width, o.height, o.byte_size, m.sha256, ob.data,
       c.content_type, cb.data, m.created_at
FROM media_images m
JOIN media_variants o ON o.image_id = m.id AND o.size = 'original'
JOIN media_blobs ob ON ob.sha256 = o.sha256
JOIN media_variants c ON c.image_id = m.id AND c.size = 'card'
JOIN media_blobs cb ON cb.sha256 = c.sha256
WHERE m.is_cover
"""


def upgrade() -> None:
    op.create_table('media_blobs',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_media_blobs'))
    )
    op.create_table('media_images',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('recipe_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('is_cover', sa.Boolean(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('position >= 0', name=op.f('ck_media_images_position')),
    sa.ForeignKeyConstraint(['recipe_id'], ['recipes.id'], name=op.f('fk_media_images_recipe_id_recipes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_images'))
    )
    op.create_index('ix_media_images_recipe_position', 'media_images', ['recipe_id', 'position'], unique=False)
    op.create_index('uq_media_images_recipe_cover', 'media_images', ['recipe_id'], unique=True, postgresql_where=sa.text('is_cover'), sqlite_where=sa.text('is_cover'))
    op.create_table('media_variants',
    sa.Column('image_id', sa.Uuid(), nullable=False),
    sa.Column('size', sa.String(length=10), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.CheckConstraint("size IN ('original', 'hero', 'card')", name=op.f('ck_media_variants_size')),
    sa.ForeignKeyConstraint(['image_id'], ['media_images.id'], name=op.f('fk_media_variants_image_id_media_images'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('image_id', 'size', name=op.f('pk_media_variants'))
    )
    op.create_index('ix_media_variants_sha256', 'media_variants', ['sha256'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        for statement in _COPY_UP:
            op.execute(statement)
    else:
        _copy_up_portably()
    op.drop_table('recipe_images')


def _card_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, 400 / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _copy_up_portably() -> None:
    """The same copy for SQLite (no sha256() or gen_random_uuid() in SQL), row by row."""
    import hashlib
    import uuid

    conn = op.get_bind()
    rows = conn.execute(sa.text(
        'SELECT recipe_id, content_type, width, height, byte_size, sha256, data, '
        'thumb_content_type, thumb_data, created_at FROM recipe_images')).mappings().all()
    for row in rows:
        image_id = uuid.uuid4().hex
        thumb_sha = hashlib.sha256(row['thumb_data']).hexdigest()
        conn.execute(sa.text(
            'INSERT INTO media_images (id, recipe_id, position, is_cover, sha256, width, '
            'height, created_at) VALUES (:id, :r, 0, 1, :s, :w, :h, :c)'),
            {'id': image_id, 'r': row['recipe_id'], 's': row['sha256'], 'w': row['width'],
             'h': row['height'], 'c': row['created_at']})
        for sha, data in ((row['sha256'], row['data']), (thumb_sha, row['thumb_data'])):
            conn.execute(sa.text(
                'INSERT INTO media_blobs (sha256, data, created_at) VALUES (:s, :d, :c) '
                'ON CONFLICT (sha256) DO NOTHING'), {'s': sha, 'd': data, 'c': row['created_at']})
        card_w, card_h = _card_size(row['width'], row['height'])
        variants = [
            ('original', row['content_type'], row['width'], row['height'], row['byte_size'],
             row['sha256']),
            ('hero', row['content_type'], row['width'], row['height'], row['byte_size'],
             row['sha256']),
            ('card', row['thumb_content_type'], card_w, card_h, len(row['thumb_data']),
             thumb_sha),
        ]
        for size, content_type, width, height, byte_size, sha in variants:
            conn.execute(sa.text(
                'INSERT INTO media_variants (image_id, size, content_type, width, height, '
                'byte_size, sha256) VALUES (:i, :size, :t, :w, :h, :b, :s)'),
                {'i': image_id, 'size': size, 't': content_type, 'w': width, 'h': height,
                 'b': byte_size, 's': sha})


def downgrade() -> None:
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
    op.execute(_COPY_DOWN)
    op.drop_index('ix_media_variants_sha256', table_name='media_variants')
    op.drop_table('media_variants')
    op.drop_index('uq_media_images_recipe_cover', table_name='media_images', postgresql_where=sa.text('is_cover'), sqlite_where=sa.text('is_cover'))
    op.drop_index('ix_media_images_recipe_position', table_name='media_images')
    op.drop_table('media_images')
    op.drop_table('media_blobs')
