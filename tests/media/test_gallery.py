"""Several photos per recipe: add, list, reorder, choose the cover, delete; limits and
other people's recipes."""

from __future__ import annotations

import threading
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.media import service
from app.media.exceptions import TooManyImages
from app.media.images import process_image
from app.media.models import MediaBlob, MediaImage
from app.recipes.models import Recipe
from app.users.models import User
from tests.media.factories import add_photo
from tests.media.support import assert_problem, decode, fresh, jpeg
from tests.recipes.factories import make_recipe

RECIPES = "/api/v1/recipes"


def photos_url(recipe: Recipe) -> str:
    return f"{RECIPES}/{recipe.id}/images"


def post(client: TestClient, recipe: Recipe, headers: dict[str, str], size=(64, 48)):
    return client.post(photos_url(recipe), headers=headers,
                       files={"file": ("p.jpg", jpeg(size), "image/jpeg")})


def gallery(client: TestClient, recipe: Recipe, headers: dict[str, str]) -> list[dict]:
    response = client.get(photos_url(recipe), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_posting_photos_makes_three_sizes_and_the_first_is_the_cover(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    before = recipe.version
    first = post(client, recipe, as_owner, size=(3000, 2000))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["is_cover"] is True and body["position"] == 0
    assert (body["width"], body["height"]) == (2048, 1365)
    sizes = {name: decode(client.get(body[key]).content).size
             for name, key in (("original", "url"), ("hero", "hero_url"), ("card", "thumb_url"))}
    assert sizes == {"original": (2048, 1365), "hero": (1200, 800), "card": (400, 267)}

    second = post(client, recipe, as_owner).json()
    assert second["is_cover"] is False and second["position"] == 1
    assert [p["id"] for p in gallery(client, recipe, as_owner)] == [body["id"], second["id"]]
    row = fresh(db, recipe)
    assert row.version == before + 2 and row.image_sha256 == body["sha256"]
    assert client.get(f"{RECIPES}/{recipe.id}", headers=as_owner).json()["images"][1]["id"] \
        == second["id"]


def test_at_most_ten_photos(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    for i in range(10):
        add_photo(db, recipe, f"photo {i}".encode())
    refused = post(client, recipe, as_owner)
    assert assert_problem(refused, 409)["type"].endswith("too-many-images")


def test_reorder_and_choose_the_cover(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    a, b, c = (add_photo(db, recipe, name) for name in (b"a", b"b", b"c"))
    url = photos_url(recipe)
    assert client.patch(f"{url}/{c.id}", json={"position": 0}, headers=as_owner).status_code == 204
    assert [p["id"] for p in gallery(client, recipe, as_owner)] == [str(c.id), str(a.id), str(b.id)]
    assert client.patch(f"{url}/{a.id}", json={"position": 99}, headers=as_owner).status_code == 204
    assert [p["position"] for p in gallery(client, recipe, as_owner)] == [0, 1, 2]

    assert client.patch(f"{url}/{b.id}", json={"is_cover": True},
                        headers=as_owner).status_code == 204
    covers = [p["id"] for p in gallery(client, recipe, as_owner) if p["is_cover"]]
    assert covers == [str(b.id)]
    assert fresh(db, recipe).image_sha256 == b.sha256
    refused = client.patch(f"{url}/{b.id}", json={"is_cover": False}, headers=as_owner)
    assert assert_problem(refused, 409)["type"].endswith("cover-required")
    for bad in ({"position": -1}, {"position": "x"}, {"extra": 1}):
        assert client.patch(f"{url}/{b.id}", json=bad, headers=as_owner).status_code == 422


def test_deleting_the_cover_promotes_the_first_remaining_photo(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    a, b = add_photo(db, recipe, b"a"), add_photo(db, recipe, b"b")
    a_id, b_sha = a.id, b.sha256
    assert client.delete(f"{photos_url(recipe)}/{a.id}", headers=as_owner).status_code == 204
    [left] = gallery(client, recipe, as_owner)
    assert left["id"] == str(b.id) and left["is_cover"] and left["position"] == 0
    assert fresh(db, recipe).image_sha256 == b_sha
    assert assert_problem(client.delete(f"{photos_url(recipe)}/{a_id}", headers=as_owner), 404)
    assert client.delete(f"{photos_url(recipe)}/{b.id}", headers=as_owner).status_code == 204
    assert fresh(db, recipe).image_sha256 is None
    assert db.scalar(select(func.count()).select_from(MediaBlob)) == 0


def test_identical_bytes_are_stored_once_and_outlive_one_owner(
    client: TestClient, db: Session, owner: User, stranger: User, recipe: Recipe,
    as_owner: dict[str, str],
) -> None:
    theirs = make_recipe(db, stranger)
    mine = add_photo(db, recipe, b"same")
    add_photo(db, theirs, b"same")
    assert db.scalar(select(func.count()).select_from(MediaBlob)) == 3
    assert client.delete(f"{photos_url(recipe)}/{mine.id}", headers=as_owner).status_code == 204
    assert db.scalar(select(func.count()).select_from(MediaBlob)) == 3


def test_other_peoples_recipes_and_photos_are_404_on_every_verb(
    client: TestClient, db: Session, owner: User, stranger: User, recipe: Recipe,
    as_owner: dict[str, str], as_stranger: dict[str, str],
) -> None:
    photo = add_photo(db, recipe)
    public = make_recipe(db, owner, visibility="public")
    public_photo = add_photo(db, public, b"public")
    theirs = make_recipe(db, stranger)
    own_photo = add_photo(db, theirs, b"theirs")
    missing = uuid.uuid4()
    attempts = [
        ("GET", photos_url(recipe), None),
        ("POST", photos_url(recipe), None),
        ("POST", photos_url(public), None),
        ("PATCH", f"{photos_url(recipe)}/{photo.id}", {"is_cover": True}),
        ("PATCH", f"{photos_url(public)}/{public_photo.id}", {"position": 0}),
        ("DELETE", f"{photos_url(recipe)}/{photo.id}", None),
        ("DELETE", f"{photos_url(public)}/{public_photo.id}", None),
        ("GET", f"{RECIPES}/{missing}/images", None),
        # Their own recipe, with my photo's id: not theirs to touch.
        ("PATCH", f"{photos_url(theirs)}/{photo.id}", {"position": 0}),
        ("DELETE", f"{photos_url(theirs)}/{photo.id}", None),
    ]
    for method, url, body in attempts:
        kwargs = {"json": body} if body else {}
        if method == "POST":
            kwargs = {"files": {"file": ("p.jpg", jpeg((32, 32)), "image/jpeg")}}
        answer = client.request(method, url, headers=as_stranger, **kwargs)
        assert answer.status_code == 404, (method, url, answer.status_code)
    # A public recipe's photos are listed for anyone signed in.
    assert [p["id"] for p in gallery(client, public, as_stranger)] == [str(public_photo.id)]
    assert db.get(MediaImage, photo.id) is not None and db.get(MediaImage, own_photo.id)


def test_concurrent_uploads_never_pass_the_limit(
    engine: Engine, db: Session, owner: User, recipe: Recipe
) -> None:
    """Real threads on PostgreSQL: the recipe row lock serialises the count check."""
    import io

    for i in range(8):
        add_photo(db, recipe, f"p{i}".encode())
    # Four different photos (the same one twice would be one photo: test_retries).
    photos = [process_image(io.BytesIO(jpeg((32 + i, 32))), max_pixels=10_000_000)
              for i in range(4)]
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def attempt(processed) -> None:
        with Session(engine) as session:
            barrier.wait()
            try:
                service.add_image(session, recipe.id, owner.id, processed)
                session.commit()
                outcomes.append("added")
            except TooManyImages:
                session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(photo,)) for photo in photos]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["added", "added", "refused", "refused"]
    count = db.scalar(select(func.count()).select_from(MediaImage)
                      .where(MediaImage.recipe_id == recipe.id))
    assert count == 10
    positions = db.scalars(select(MediaImage.position).where(MediaImage.recipe_id == recipe.id))
    assert sorted(positions) == list(range(10))


@pytest.mark.parametrize("data", [b"not an image", b"\xff\xd8\xff" + b"\x00" * 100])
def test_hostile_uploads_are_refused_without_a_row(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str], data: bytes
) -> None:
    answer = client.post(photos_url(recipe), headers=as_owner,
                         files={"file": ("p.jpg", data, "image/jpeg")})
    assert answer.status_code == 422
    assert db.scalar(select(func.count()).select_from(MediaImage)) == 0
