"""GET /api/v1/recipes/{id}/image: headers, caching, sizes, and who may see or change it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.recipes.models import Recipe
from app.users.models import User
from tests.media.support import (
    assert_problem,
    decode,
    fresh,
    image_url,
    jpeg,
    stored_row,
    upload,
    webp,
)
from tests.recipes.factories import make_recipe

pytestmark = pytest.mark.postgres


def test_image_responses_cannot_be_sniffed_or_run_anything(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    upload(client, recipe, as_owner, jpeg())
    got = client.get(image_url(recipe), headers=as_owner)
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert got.headers["content-disposition"] == f'inline; filename="recipe-{recipe.id}.jpg"'


def test_private_image_is_not_stored_by_shared_caches(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    upload(client, recipe, as_owner, jpeg())
    got = client.get(image_url(recipe), headers=as_owner)
    assert got.headers["cache-control"].startswith("private")


def test_matching_if_none_match_gives_304_without_a_body(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    upload(client, recipe, as_owner, jpeg())
    etag = client.get(image_url(recipe), headers=as_owner).headers["etag"]

    again = client.get(image_url(recipe), headers={**as_owner, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    weak = client.get(image_url(recipe), headers={**as_owner, "If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304
    stale = client.get(image_url(recipe), headers={**as_owner, "If-None-Match": '"other"'})
    assert stale.status_code == 200


def test_public_recipes_image_is_readable_by_others_and_never_kept_by_shared_caches(
    client: TestClient, db: Session, owner: User, as_owner: dict[str, str],
    as_stranger: dict[str, str],
) -> None:
    public = make_recipe(db, owner, visibility="public")
    upload(client, public, as_owner, jpeg())

    got = client.get(image_url(public), headers=as_stranger)
    assert got.status_code == 200
    # Security review, finding 4: "public, max-age=86400" let a shared cache go on serving
    # it for a day after the recipe turned private or the image was deleted.
    assert got.headers["cache-control"] == "private, no-cache"
    assert got.headers["vary"] == "Authorization"
    decode(got.content)
    thumb = client.get(image_url(public), params={"size": "thumb"}, headers=as_stranger)
    assert thumb.status_code == 200
    assert thumb.headers["cache-control"] == "private, no-cache"
    revalidated = client.get(
        image_url(public), headers={**as_stranger, "If-None-Match": got.headers["etag"]}
    )
    assert revalidated.status_code == 304
    assert revalidated.headers["cache-control"] == "private, no-cache"


def test_recipe_without_image_is_404_problem(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    assert_problem(client.get(image_url(recipe), headers=as_owner), 404)
    assert_problem(client.get(image_url(recipe), params={"size": "thumb"}, headers=as_owner), 404)


# --- other people ------------------------------------------------------------------------


def test_other_users_private_recipe_image_is_404_like_a_missing_recipe(
    client: TestClient, db: Session, recipe: Recipe, as_owner: dict[str, str],
    as_stranger: dict[str, str],
) -> None:
    upload(client, recipe, as_owner, jpeg())
    missing = f"/api/v1/recipes/{'0' * 8}-0000-4000-8000-{'0' * 12}/image"
    expected = assert_problem(client.get(missing, headers=as_stranger), 404)

    got = assert_problem(client.get(image_url(recipe), headers=as_stranger), 404)
    assert got["type"] == expected["type"]
    thumb = client.get(image_url(recipe), params={"size": "thumb"}, headers=as_stranger)
    assert_problem(thumb, 404)
    assert_problem(upload(client, recipe, as_stranger, jpeg()), 404)
    assert_problem(client.delete(image_url(recipe), headers=as_stranger), 404)
    assert stored_row(db, recipe).sha256 == fresh(db, recipe).image_sha256


def test_other_users_public_recipe_cannot_be_changed(
    client: TestClient, db: Session, owner: User, as_owner: dict[str, str],
    as_stranger: dict[str, str],
) -> None:
    public = make_recipe(db, owner, visibility="public")
    upload(client, public, as_owner, jpeg())
    assert_problem(upload(client, public, as_stranger, webp()), 404)
    assert_problem(client.delete(image_url(public), headers=as_stranger), 404)
    still = client.get(image_url(public), headers=as_stranger)
    assert still.headers["content-type"] == "image/jpeg"


def test_image_routes_need_a_token(client: TestClient, recipe: Recipe) -> None:
    assert_problem(client.get(image_url(recipe)), 401)
    assert_problem(upload(client, recipe, {}, jpeg()), 401)
    assert_problem(client.delete(image_url(recipe)), 401)


def test_thumb_is_the_only_size(
    client: TestClient, recipe: Recipe, as_owner: dict[str, str]
) -> None:
    upload(client, recipe, as_owner, jpeg())
    for size in ("large", "THUMB", "full", ""):
        assert_problem(client.get(image_url(recipe), params={"size": size}, headers=as_owner), 422)
