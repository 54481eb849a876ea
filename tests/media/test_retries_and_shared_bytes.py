"""A retried photo upload is not a second photo, and identical bytes shared by several
photos (anyone's) are never deleted from under a photo that is being written.

The race these close: a delete decides "no row names these bytes" while another request
has stored the same bytes and not yet committed its rows; the bytes went, the rows then
named nothing. Writers now claim the hashes they store until they commit, and deleters
(a photo's delete, erasure, a recipe's delete, ``homechef media gc``) skip claimed ones.
"""

from __future__ import annotations

import io
import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.db.session import script_session
from app.media import repository, service
from app.media.images import process_image
from app.media.maintenance import collect_garbage
from app.media.models import MediaBlob, MediaImage, MediaVariant
from app.recipes.models import Recipe
from app.users.models import User
from tests.factories import auth_headers
from tests.media.factories import add_photo
from tests.media.s3_support import new_bucket
from tests.media.support import fresh, jpeg
from tests.recipes.factories import make_recipe

RECIPES = "/api/v1/recipes"


def _post(client: TestClient, recipe: Recipe, headers: dict[str, str], data: bytes):
    return client.post(f"{RECIPES}/{recipe.id}/images", headers=headers,
                       files={"file": ("p.jpg", data, "image/jpeg")})


def _count(db: Session, model) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_a_retried_upload_returns_the_photo_it_already_made(
    client: TestClient, db: Session, owner: User, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    photo = jpeg((300, 200))
    first = _post(client, recipe, as_owner, photo)
    version, blobs = fresh(db, recipe).version, _count(db, MediaBlob)
    again = _post(client, recipe, as_owner, photo)

    assert first.status_code == 201 and again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == first.headers["location"]
    assert _count(db, MediaImage) == 1 and _count(db, MediaBlob) == blobs
    assert fresh(db, recipe).version == version  # nothing changed, no new ETag
    # Another photo is still a new one, and the same photo on another recipe too.
    assert _post(client, recipe, as_owner, jpeg((301, 200))).status_code == 201
    other = make_recipe(db, owner)
    assert _post(client, other, as_owner, photo).status_code == 201


def test_concurrent_retries_of_one_upload_make_one_photo(
    engine: Engine, db: Session, owner: User, recipe: Recipe
) -> None:
    """Real threads on PostgreSQL: the recipe row lock and the re-check under it."""
    processed = process_image(io.BytesIO(jpeg((40, 30))), max_pixels=10_000_000)
    created: list[bool] = []
    barrier = threading.Barrier(6)

    def attempt() -> None:
        with Session(engine) as session:
            barrier.wait()
            created.append(service.add_image(session, recipe.id, owner.id, processed).created)
            session.commit()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created) == [False] * 5 + [True]
    assert _count(db, MediaImage) == 1


def _writer_holding(engine: Engine, shas: list[str]) -> Session:
    """A request that has stored these bytes and not yet committed its rows."""
    writer = Session(engine)
    repository.claim(writer, shas)
    return writer


def _hashes(db: Session, image: MediaImage) -> list[str]:
    return list(db.scalars(select(MediaVariant.sha256).where(MediaVariant.image_id == image.id)))


def test_a_delete_leaves_bytes_a_concurrent_upload_is_about_to_name(
    client: TestClient, engine: Engine, db: Session, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    doomed = add_photo(db, recipe, b"shared")
    shas = _hashes(db, doomed)
    writer = _writer_holding(engine, shas)
    try:
        deleted = client.delete(f"{RECIPES}/{recipe.id}/images/{doomed.id}", headers=as_owner)
        assert deleted.status_code == 204
        # The delete went through, the bytes stayed: the writer's rows will name them.
        assert _count(db, MediaImage) == 0 and _count(db, MediaBlob) == 3
    finally:
        writer.rollback()
        writer.close()
    # Nobody named them in the end: an orphan, which gc removes; not before.
    report = collect_garbage(lambda: script_session(engine), service.default_store(), timedelta(0))
    assert report.removed == 3 and _count(db, MediaBlob) == 0


def test_gc_and_recipe_delete_skip_claimed_bytes_then_remove_them(
    client: TestClient, engine: Engine, db: Session, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    photo = add_photo(db, recipe, b"mine")
    shas = _hashes(db, photo)
    writer = _writer_holding(engine, shas)
    try:
        assert client.delete(f"{RECIPES}/{recipe.id}", headers=as_owner).status_code == 204
        assert _count(db, MediaBlob) == 3
        report = collect_garbage(lambda: script_session(engine), service.default_store(),
                                 timedelta(0))
        assert report.removed == 0 and _count(db, MediaBlob) == 3
    finally:
        writer.rollback()
        writer.close()
    assert collect_garbage(lambda: script_session(engine), service.default_store(),
                           timedelta(0)).removed == 3


def test_deleting_a_recipe_deletes_its_unshared_bytes(
    client: TestClient, db: Session, owner: User, stranger: User, recipe: Recipe,
    as_owner: dict[str, str],
) -> None:
    add_photo(db, recipe, b"only mine")
    add_photo(db, recipe, b"also theirs")
    add_photo(db, make_recipe(db, stranger), b"also theirs")
    assert _count(db, MediaBlob) == 6
    assert client.delete(f"{RECIPES}/{recipe.id}", headers=as_owner).status_code == 204
    assert _count(db, MediaBlob) == 3  # the stranger's copy of the shared photo


def test_the_bucket_keeps_objects_a_concurrent_upload_is_about_to_name(
    make_client, s3_settings, engine: Engine, db: Session, owner: User, recipe: Recipe
) -> None:
    settings = s3_settings()
    client = make_client(settings)
    bucket = new_bucket(settings)
    headers = auth_headers(client.app, owner)  # type: ignore[arg-type]
    photo = jpeg((320, 240))
    made = _post(client, recipe, headers, photo)
    assert made.status_code == 201, made.text
    stored = set(bucket.stored())
    assert stored

    writer = _writer_holding(engine, sorted(stored))
    try:
        gone = client.delete(f"{RECIPES}/{recipe.id}/images/{made.json()['id']}",
                             headers=headers)
        assert gone.status_code == 204
        assert set(bucket.stored()) == stored  # skipped: claimed by the writer
    finally:
        writer.rollback()
        writer.close()
    report = collect_garbage(lambda: script_session(engine), bucket, timedelta(0))
    assert report.removed == len(stored) and set(bucket.stored()) == set()
    # And with nobody writing, a delete removes the objects at once.
    again = _post(client, recipe, headers, photo)
    assert again.status_code == 201
    client.delete(f"{RECIPES}/{recipe.id}/images/{again.json()['id']}", headers=headers)
    assert set(bucket.stored()) == set()
