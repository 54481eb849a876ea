"""The S3-compatible store against a real S3 API on loopback (moto's server): uploads,
reads, conditional reads, redirects to presigned URLs, deletes, gc, the store being
down, erasure and export, and the resumable migration from PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.db.session import script_session
from app.media import store as media_store
from app.media.maintenance import collect_garbage, migrate_to_s3
from app.media.models import MediaBlob, MediaImage
from app.media.s3_store import S3Store
from app.media.store import MediaStoreUnavailable
from app.recipes.models import Recipe
from app.users.models import User
from tests.factories import auth_headers
from tests.media.factories import add_photo
from tests.media.s3_support import SECRET_KEY, free_port, new_bucket
from tests.media.support import assert_problem, jpeg
from tests.recipes.factories import make_recipe

RECIPES = "/api/v1/recipes"


def keys(store: S3Store) -> set[str]:
    return set(store.stored())


def put_cover(client: TestClient, recipe: Recipe, headers: dict[str, str]) -> Any:
    return client.put(f"{RECIPES}/{recipe.id}/image", headers=headers,
                      files={"file": ("p.jpg", jpeg((1600, 900)), "image/jpeg")})


def links_of(client: TestClient, recipe: Recipe, headers: dict[str, str]) -> list[dict]:
    return client.get(f"{RECIPES}/{recipe.id}", headers=headers).json()["images"]


def test_upload_read_conditional_read_and_delete_through_the_bucket(
    make_client, s3_settings, db: Session, owner: User, recipe: Recipe
) -> None:
    settings = s3_settings()
    client = make_client(settings)
    bucket = new_bucket(settings)
    headers = auth_headers(client.app, owner)  # type: ignore[arg-type]

    put = put_cover(client, recipe, headers)
    assert put.status_code == 201, put.text
    assert len(keys(bucket)) == 3  # original, hero, card
    assert db.scalar(select(func.count()).select_from(MediaBlob)) == 0
    cover = client.get(f"{RECIPES}/{recipe.id}/image", headers=headers)
    assert cover.status_code == 200 and cover.content[:2] == b"\xff\xd8"

    [link] = links_of(client, recipe, headers)
    got = client.get(link["thumb_url"])
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert client.get(link["thumb_url"], headers={"If-None-Match": got.headers["etag"]}
                      ).status_code == 304
    assert client.head(link["url"]).headers["content-length"] == str(put.json()["byte_size"])

    # The same photo again: content-addressed, no new object.
    assert put_cover(client, recipe, headers).status_code == 200
    assert len(keys(bucket)) == 3
    assert client.delete(f"{RECIPES}/{recipe.id}/image", headers=headers).status_code == 204
    assert keys(bucket) == set()
    assert_problem(client.get(link["thumb_url"]), 404)


def test_redirect_mode_sends_a_short_presigned_url_never_a_public_one(
    make_client, s3_settings, db: Session, owner: User, recipe: Recipe
) -> None:
    settings = s3_settings(MEDIA_S3_DELIVERY="redirect", MEDIA_S3_PRESIGN_SECONDS=60)
    client = make_client(settings)
    bucket = new_bucket(settings)
    headers = auth_headers(client.app, owner)  # type: ignore[arg-type]
    assert put_cover(client, recipe, headers).status_code == 201
    [link] = links_of(client, recipe, headers)

    answer = client.get(link["thumb_url"], follow_redirects=False)
    assert answer.status_code == 307
    location = answer.headers["location"]
    assert "X-Amz-Signature=" in location and "X-Amz-Expires=60" in location
    assert answer.headers["cache-control"] == "private, no-store"
    fetched = httpx.get(location)
    assert fetched.status_code == 200 and fetched.content[:2] == b"\xff\xd8"
    # The same object without the signature is refused: the bucket is private.
    assert httpx.get(location.split("?")[0]).status_code == 403
    assert SECRET_KEY not in location
    assert len(keys(bucket)) == 3


def test_store_down_is_a_503_with_nothing_half_written_and_the_next_upload_works(
    make_client, s3_settings, s3_endpoint: str, db: Session, owner: User, recipe: Recipe
) -> None:
    live = s3_settings()
    bucket = new_bucket(live)
    dead = live.model_copy(update={"MEDIA_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
                                   "MEDIA_S3_TIMEOUT_SECONDS": 1})
    client = make_client(dead)
    headers = auth_headers(client.app, owner)  # type: ignore[arg-type]
    before = db.get(Recipe, recipe.id).version  # type: ignore[union-attr]

    refused = put_cover(client, recipe, headers)
    assert assert_problem(refused, 503)["type"].endswith("media-store-unavailable")
    assert refused.headers["retry-after"] == "5"
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(MediaImage)) == 0
    assert db.get(Recipe, recipe.id).version == before  # type: ignore[union-attr]

    media_store._current = bucket  # the store is back
    assert put_cover(client, recipe, headers).status_code == 201
    assert len(keys(bucket)) == 3


def test_gc_removes_orphans_and_keeps_what_rows_name(
    make_client, s3_settings, engine: Engine, db: Session, owner: User, recipe: Recipe
) -> None:
    settings = s3_settings()
    client = make_client(settings)
    bucket = new_bucket(settings)
    headers = auth_headers(client.app, owner)  # type: ignore[arg-type]
    assert put_cover(client, recipe, headers).status_code == 201
    named = keys(bucket)
    # Bytes stored by a request that then died before its rows committed.
    bucket.put(db, "0" * 64, b"orphan", "image/jpeg")

    young = collect_garbage(lambda: script_session(engine), bucket, timedelta(hours=1))
    assert young.removed == 0 and "0" * 64 in keys(bucket)
    report = collect_garbage(lambda: script_session(engine), bucket, timedelta(0))
    assert (report.examined, report.removed) == (4, 1)
    assert keys(bucket) == named


def test_erasure_deletes_the_objects_and_export_lists_them(
    make_client, s3_settings, db: Session, owner: User, recipe: Recipe
) -> None:
    settings = s3_settings()
    client = make_client(settings)
    bucket = new_bucket(settings)
    headers = auth_headers(client.app, owner)  # type: ignore[arg-type]
    assert put_cover(client, recipe, headers).status_code == 201

    export = client.get("/api/v1/users/me/export", headers=headers).json()
    [photo] = export["media"]["images"]
    listed = {size["object"]["key"] for size in photo["sizes"].values()}
    assert {size["object"]["store"] for size in photo["sizes"].values()} == {"s3"}
    assert listed == {bucket.key(sha) for sha in keys(bucket)}

    assert client.delete("/api/v1/users/me", headers=headers).status_code == 204
    assert keys(bucket) == set()


class _FailsAfter(S3Store):
    """The bucket goes away after ``n`` writes (an interrupted migration)."""

    n: int = 2

    def put(self, session: Session, sha256: str, data: bytes, content_type: str) -> None:
        if self.n <= 0:
            raise MediaStoreUnavailable()
        self.n -= 1
        super().put(session, sha256, data, content_type)


def test_migrate_to_s3_is_resumable_and_rerunnable(
    s3_settings, engine: Engine, db: Session, owner: User
) -> None:
    settings = s3_settings()
    target = new_bucket(settings)
    for i in range(3):
        add_photo(db, make_recipe(db, owner), f"photo {i}".encode())  # 9 blobs in PostgreSQL
    interrupted = _FailsAfter(target.client, target.bucket, target.prefix, None)
    with pytest.raises(MediaStoreUnavailable):
        migrate_to_s3(lambda: script_session(engine), interrupted, delete_source=True)
    assert len(keys(target)) == 2
    assert db.scalar(select(func.count()).select_from(MediaBlob)) == 9  # nothing dropped

    resumed = migrate_to_s3(lambda: script_session(engine), target, delete_source=True)
    assert (resumed.copied, resumed.already_there, resumed.source_rows_deleted) == (7, 2, 9)
    assert len(keys(target)) == 9
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(MediaBlob)) == 0
    again = migrate_to_s3(lambda: script_session(engine), target)
    assert (again.copied, again.already_there) == (0, 0)
    # The photos now read from the bucket.
    media_store._current = target
    image = db.scalars(select(MediaImage)).first()
    assert image is not None
    from app.media import repository

    head = repository.variant_head(db, image.id, "original")
    assert head is not None and target.read(db, head.sha256) is not None
