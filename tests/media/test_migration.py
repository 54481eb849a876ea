"""Migration 0007 turns each recipe's one image into its cover photo, and its downgrade
turns covers back into the one image, bytes intact."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from sqlalchemy import Engine, text

from tests.migration_support import migrate, scratch_database

IMAGE, THUMB = b"original image bytes", b"thumb bytes"


@pytest.fixture
def scratch(pg_url: str):
    with scratch_database("media") as engine:
        yield engine


def test_the_one_image_becomes_the_cover_and_comes_back_on_downgrade(scratch: Engine) -> None:
    migrate(scratch, "0002")
    user, recipe = uuid.uuid4(), uuid.uuid4()
    sha = hashlib.sha256(IMAGE).hexdigest()
    with scratch.begin() as conn:
        conn.execute(text("INSERT INTO users (id, clerk_user_id, dietary_tags) "
                          "VALUES (:u, 'user_m', '[]')"), {"u": user})
        conn.execute(text(
            "INSERT INTO recipes (id, owner_id, title, servings, prep_minutes, cook_minutes, "
            "total_minutes, visibility, image_sha256) "
            "VALUES (:r, :u, 'Soup', 2, 0, 0, 0, 'private', :s)"),
            {"r": recipe, "u": user, "s": sha})
        conn.execute(text(
            "INSERT INTO recipe_images (recipe_id, content_type, width, height, byte_size, "
            "sha256, data, thumb_content_type, thumb_data, created_at) VALUES "
            "(:r, 'image/jpeg', 1600, 800, :n, :s, :d, 'image/jpeg', :t, now())"),
            {"r": recipe, "n": len(IMAGE), "s": sha, "d": IMAGE, "t": THUMB})

    migrate(scratch, "head")
    with scratch.connect() as conn:
        [image] = conn.execute(text("SELECT * FROM media_images")).mappings().all()
        assert (image["recipe_id"], image["is_cover"], image["position"]) == (recipe, True, 0)
        assert (image["sha256"], image["width"], image["height"]) == (sha, 1600, 800)
        variants = {row["size"]: {**row, "data": bytes(row["data"])} for row in conn.execute(text(
            "SELECT v.*, b.data FROM media_variants v JOIN media_blobs b USING (sha256)"
        )).mappings()}
        assert set(variants) == {"original", "hero", "card"}
        assert variants["original"]["data"] == IMAGE == variants["hero"]["data"]
        assert variants["card"]["data"] == THUMB
        assert (variants["card"]["width"], variants["card"]["height"]) == (400, 200)
        assert variants["card"]["sha256"] == hashlib.sha256(THUMB).hexdigest()
        assert conn.scalar(text("SELECT count(*) FROM media_blobs")) == 2  # content-addressed

    migrate(scratch, "0002", down=True)
    with scratch.connect() as conn:
        [row] = conn.execute(text("SELECT * FROM recipe_images")).mappings().all()
        assert (row["recipe_id"], row["sha256"], bytes(row["data"]), bytes(row["thumb_data"])) == (
            recipe, sha, IMAGE, THUMB)
        assert (row["width"], row["height"], row["byte_size"]) == (1600, 800, len(IMAGE))
