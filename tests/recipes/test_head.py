"""HEAD answers wherever GET does: same status and headers, no body (app/core/head.py)."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.users.models import User
from tests.media.support import jpeg, upload
from tests.recipes.factories import make_recipe
from tests.recipes.support import RECIPES, recipe_url

_SAME_HEADERS = ("content-type", "content-length", "etag", "cache-control")


def _assert_head_mirrors_get(client: TestClient, url: str, headers: dict[str, str]) -> None:
    got = client.get(url, headers=headers)
    head = client.head(url, headers=headers)
    assert head.status_code == got.status_code
    assert head.content == b""
    for name in _SAME_HEADERS:
        assert head.headers.get(name) == got.headers.get(name), name


def test_head_on_ready_and_health_answers_200_without_a_body(client: TestClient) -> None:
    for url in ("/ready", "/health"):
        _assert_head_mirrors_get(client, url, {})
        assert client.head(url).status_code == 200


def test_head_on_a_recipe_gives_its_etag_and_on_a_list_its_headers(
    client: TestClient, db: Session, alice: User, as_alice: dict[str, str]
) -> None:
    recipe = make_recipe(db, alice, ingredients=["salt"])
    _assert_head_mirrors_get(client, recipe_url(recipe.id), as_alice)
    _assert_head_mirrors_get(client, f"{recipe_url(recipe.id)}?servings=2", as_alice)
    _assert_head_mirrors_get(client, RECIPES, as_alice)
    etag = client.head(recipe_url(recipe.id), headers=as_alice).headers["etag"]
    again = client.head(recipe_url(recipe.id), headers={**as_alice, "If-None-Match": etag})
    assert again.status_code == 304


def test_head_on_an_image_answers_like_get(
    client: TestClient, db: Session, alice: User, as_alice: dict[str, str]
) -> None:
    recipe = make_recipe(db, alice)
    assert upload(client, recipe, as_alice, jpeg()).status_code in (200, 201)
    _assert_head_mirrors_get(client, f"{recipe_url(recipe.id)}/image", as_alice)
    _assert_head_mirrors_get(client, f"{recipe_url(recipe.id)}/image?size=thumb", as_alice)
    assert int(client.head(f"{recipe_url(recipe.id)}/image", headers=as_alice)
               .headers["content-length"]) > 0


def test_head_keeps_get_rules_no_token_is_401_and_anothers_recipe_is_404(
    client: TestClient, db: Session, alice: User, as_bob: dict[str, str]
) -> None:
    recipe = make_recipe(db, alice)
    assert client.head(recipe_url(recipe.id)).status_code == 401
    hidden = client.head(recipe_url(recipe.id), headers=as_bob)
    missing = client.head(recipe_url("00000000-0000-0000-0000-000000000000"), headers=as_bob)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content == b""


def test_head_on_a_route_without_get_is_still_405(
    client: TestClient, as_alice: dict[str, str]
) -> None:
    response = client.head("/api/v1/auth/logout", headers=as_alice)
    assert response.status_code == 405


def test_head_is_logged_as_head_with_its_route(
    client: TestClient, db: Session, alice: User, as_alice: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    recipe = make_recipe(db, alice)
    with caplog.at_level(logging.INFO, logger="homechef.access"):
        client.head(recipe_url(recipe.id), headers=as_alice)
    (line,) = [r for r in caplog.records if getattr(r, "event", None) == "http.access"]
    assert line.method == "HEAD"
    assert line.route == "/api/v1/recipes/{recipe_id}"
