"""Signed media links: what a browser loads from a list or a recipe, with no token."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.media.links import LinkSigner
from app.recipes.models import Recipe
from app.users.models import User
from tests.factories import auth_headers, make_user
from tests.media.factories import add_photo
from tests.media.support import assert_problem, decode, jpeg
from tests.recipes.factories import make_recipe

RECIPES = "/api/v1/recipes"
# What a browser sends for <img src> on another origin: no Authorization, no cookies.
BROWSER = {
    "Origin": "https://app.homechef.example",
    "Sec-Fetch-Mode": "no-cors",
    "Sec-Fetch-Dest": "image",
    "Sec-Fetch-Site": "cross-site",
    "Accept": "image/avif,image/webp,image/*,*/*;q=0.8",
}


def _cover_link(client: TestClient, headers: dict[str, str], recipe: Recipe) -> dict[str, str]:
    items = client.get(RECIPES, headers=headers).json()["items"]
    [item] = [i for i in items if i["id"] == str(recipe.id)]
    return item["image"]


def _tamper(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts.path + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def test_a_browser_loads_a_thumbnail_from_a_list_with_no_token(
    client: TestClient, db: Session, owner: User, as_owner: dict[str, str]
) -> None:
    recipe = make_recipe(db, owner)
    assert client.put(f"{RECIPES}/{recipe.id}/image", headers=as_owner,
                      files={"file": ("p.jpg", jpeg((900, 600)), "image/jpeg")}).status_code == 201

    link = _cover_link(client, as_owner, recipe)
    assert set(link) == {"id", "url", "thumb_url", "width", "height"}
    assert (link["width"], link["height"]) == (900, 600)
    got = client.get(link["thumb_url"], headers=BROWSER)

    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "image/jpeg"
    assert max(decode(got.content).size) <= 400
    assert got.headers["cross-origin-resource-policy"] == "cross-origin"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["cache-control"].startswith("private, max-age=")
    assert "vary" not in got.headers or "authorization" not in got.headers["vary"].lower()
    [photo] = client.get(f"{RECIPES}/{recipe.id}", headers=as_owner).json()["images"]
    assert set(photo) == {"id", "url", "thumb_url", "hero_url", "width", "height"}
    hero = decode(client.get(photo["hero_url"], headers=BROWSER).content)
    assert max(hero.size) == 900  # never enlarged (1200 is the cap)


def test_a_public_recipes_image_is_publicly_cacheable_until_the_link_expires(
    client: TestClient, db: Session, owner: User, as_owner: dict[str, str]
) -> None:
    recipe = make_recipe(db, owner, visibility="public")
    add_photo(db, recipe)
    link = _cover_link(client, as_owner, recipe)
    exp = int(parse_qs(urlsplit(link["thumb_url"]).query)["exp"][0])

    got = client.get(link["thumb_url"])
    cache = got.headers["cache-control"]
    assert cache.startswith("public, max-age=") and cache.endswith(", immutable")
    max_age = int(cache.split("max-age=")[1].split(",")[0])
    assert 0 < max_age <= exp - 3600 + 3600 * 2


def test_links_are_stable_within_the_hour_and_expire_on_the_hour(
    client: TestClient, db: Session, owner: User, as_owner: dict[str, str]
) -> None:
    recipe = make_recipe(db, owner)
    add_photo(db, recipe)
    first = client.get(f"{RECIPES}/{recipe.id}", headers=as_owner).json()["images"]
    second = client.get(f"{RECIPES}/{recipe.id}", headers=as_owner).json()["images"]
    assert first == second and len(first) == 1
    exp = int(parse_qs(urlsplit(first[0]["url"]).query)["exp"][0])
    assert exp % 3600 == 0


def test_expiry_is_the_lifetime_rounded_up_to_the_hour() -> None:
    signer = LinkSigner(["k" * 40], 3600, clock=lambda: 7_200_000 + 10.0)
    assert signer.expiry() == 7_200_000 + 7200
    image = uuid.uuid4()
    url = signer.url(image, "card", signer.expiry())
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    assert signer.verify(image, "card", signer.expiry(), sig)
    signer.clock = lambda: 7_200_000 + 7200.0  # the expiry itself: dead
    assert not signer.verify(image, "card", 7_200_000 + 7200, sig)


def test_links_signed_with_a_previous_key_verify_during_rotation() -> None:
    old = LinkSigner(["old-secret" * 4], 3600)
    rotated = LinkSigner(["new-secret" * 4, "old-secret" * 4], 3600)
    stranger = LinkSigner(["new-secret" * 4], 3600)
    image, exp = uuid.uuid4(), old.expiry()
    sig = parse_qs(urlsplit(old.url(image, "original", exp)).query)["sig"][0]
    assert rotated.verify(image, "original", exp, sig)
    assert not stranger.verify(image, "original", exp, sig)
    # New links are signed with the new key.
    assert rotated.url(image, "original", exp) == stranger.url(image, "original", exp)


def test_the_link_key_is_derived_for_links_alone() -> None:
    from app.core.cursors import cursor_key
    from app.media.links import link_key

    assert link_key("s" * 40) != cursor_key("s" * 40)
    assert link_key("s" * 40) != b"s" * 40


def test_etag_304_and_head(
    client: TestClient, db: Session, owner: User, as_owner: dict[str, str]
) -> None:
    recipe = make_recipe(db, owner)
    add_photo(db, recipe, b"some image bytes")
    url = _cover_link(client, as_owner, recipe)["url"]

    got = client.get(url)
    assert got.content == b"some image bytes"
    assert got.headers["content-type"] == "image/webp"
    etag = got.headers["etag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cross-origin-resource-policy"] == "cross-origin"
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(b"some image bytes"))
    assert head.headers["etag"] == etag


@pytest.mark.parametrize("change", [
    {"sig": "A" * 43},
    {"sig": ""},
    {"sig": "é"},
    {"sig": "x" * 5000},
    {"exp": "1"},
    {"exp": "-5"},
    {"exp": "abc"},
    {"exp": "9" * 30},
])
def test_bad_or_tampered_links_are_404(
    client: TestClient, db: Session, owner: User, as_owner: dict[str, str],
    change: dict[str, str],
) -> None:
    recipe = make_recipe(db, owner)
    add_photo(db, recipe)
    url = _cover_link(client, as_owner, recipe)["url"]
    assert client.get(url).status_code == 200
    assert_problem(client.get(_tamper(url, **change)), 404)


def test_a_signature_does_not_open_another_size_or_image(
    client: TestClient, db: Session, owner: User, as_owner: dict[str, str]
) -> None:
    recipe = make_recipe(db, owner)
    first = add_photo(db, recipe, b"first")
    second = add_photo(db, recipe, b"second")
    images = client.get(f"{RECIPES}/{recipe.id}", headers=as_owner).json()["images"]
    card = images[0]["thumb_url"]
    assert_problem(client.get(card.replace("/card?", "/original?")), 404)
    assert_problem(client.get(card.replace(str(first.id), str(second.id))), 404)
    assert_problem(client.get(card.replace("/card?", "/secret?")), 404)
    assert_problem(client.get(card.replace(str(first.id), "not-a-uuid")), 404)
    assert_problem(client.get(card.split("?")[0]), 404)


def test_a_future_exp_beyond_any_issued_link_is_refused(app: FastAPI) -> None:
    signer = LinkSigner(["k" * 40], 3600)
    image = uuid.uuid4()
    far = signer.expiry() + 3 * 3600
    sig = parse_qs(urlsplit(signer.url(image, "card", far)).query)["sig"][0]
    assert not signer.verify(image, "card", far, sig)


def test_an_expired_link_is_404(
    client: TestClient, app: FastAPI, db: Session, owner: User, as_owner: dict[str, str]
) -> None:
    recipe = make_recipe(db, owner)
    add_photo(db, recipe)
    url = _cover_link(client, as_owner, recipe)["url"]
    signer: LinkSigner = app.state.media_links
    real_clock = signer.clock
    signer.clock = lambda: real_clock() + 3 * 3600
    try:
        assert_problem(client.get(url), 404)
    finally:
        signer.clock = real_clock


def test_deleting_the_photo_the_recipe_or_the_person_kills_links_at_once(
    client: TestClient, app: FastAPI, db: Session, owner: User, as_owner: dict[str, str]
) -> None:
    recipe, other = make_recipe(db, owner), make_recipe(db, owner)
    photo = add_photo(db, recipe, b"one")
    add_photo(db, recipe, b"two")
    add_photo(db, other, b"three")
    images = client.get(f"{RECIPES}/{recipe.id}", headers=as_owner).json()["images"]
    other_url = client.get(f"{RECIPES}/{other.id}", headers=as_owner).json()["images"][0]["url"]

    assert client.delete(f"{RECIPES}/{recipe.id}/images/{photo.id}",
                         headers=as_owner).status_code == 204
    assert_problem(client.get(images[0]["url"]), 404)
    assert client.get(images[1]["url"]).status_code == 200
    assert client.delete(f"{RECIPES}/{recipe.id}", headers=as_owner).status_code == 204
    assert_problem(client.get(images[1]["url"]), 404)
    assert client.get(other_url).status_code == 200
    assert client.delete("/api/v1/users/me", headers=as_owner).status_code == 204
    assert_problem(client.get(other_url), 404)


def test_the_media_route_is_rate_limited_per_ip(
    make_client, make_settings, db: Session
) -> None:
    client = make_client(make_settings(RATE_LIMIT_ENABLED=True, RATE_LIMIT_MEDIA="3/minute"))
    owner = make_user(db)
    recipe = make_recipe(db, owner)
    add_photo(db, recipe)
    headers = auth_headers(client.app, owner)  # type: ignore[arg-type]
    url = _cover_link(client, headers, recipe)["thumb_url"]
    answers = [client.get(url).status_code for _ in range(3)]
    # A token does not buy another budget: media is keyed by IP alone.
    refused = client.get(url, headers=headers)
    assert answers == [200, 200, 200]
    assert_problem(refused, 429)
    # Reads of the API are counted apart.
    assert client.get(RECIPES, headers=headers).status_code == 200


def test_a_recipe_turned_private_keeps_serving_issued_links_until_expiry(
    client: TestClient, db: Session, owner: User, as_owner: dict[str, str]
) -> None:
    """The documented leak window (SECURITY.md): the link is the permission."""
    recipe = make_recipe(db, owner, visibility="public")
    add_photo(db, recipe)
    url = _cover_link(client, as_owner, recipe)["url"]
    assert client.patch(f"{RECIPES}/{recipe.id}", json={"visibility": "private"},
                        headers=as_owner).status_code == 200
    got = client.get(url)
    assert got.status_code == 200
    # ...but no longer as a public, shareable cache entry.
    assert got.headers["cache-control"].startswith("private, ")


def test_a_recipe_etag_changes_when_its_links_do(
    client: TestClient, app: FastAPI, db: Session, owner: User, as_owner: dict[str, str]
) -> None:
    """A 304 must not revive a cached body whose links are dead; If-Match still works."""
    recipe = make_recipe(db, owner)
    add_photo(db, recipe)
    got = client.get(f"{RECIPES}/{recipe.id}", headers=as_owner)
    signer: LinkSigner = app.state.media_links
    real_clock = signer.clock
    signer.clock = lambda: real_clock() + 2 * 3600
    try:
        later = client.get(f"{RECIPES}/{recipe.id}",
                           headers={**as_owner, "If-None-Match": got.headers["etag"]})
    finally:
        signer.clock = real_clock
    assert later.status_code == 200
    assert later.json()["images"][0]["url"] != got.json()["images"][0]["url"]
    patched = client.patch(f"{RECIPES}/{recipe.id}", json={"title": "New"},
                           headers={**as_owner, "If-Match": got.headers["etag"]})
    assert patched.status_code == 200, patched.text
