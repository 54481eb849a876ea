"""PUT /api/v1/recipes/{id}/image with {"url": ...}: fetched by the guarded fetcher,
then through the existing image pipeline."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.imports.fetcher import GuardedFetcher
from app.users.models import User
from tests.imports.servers import LoopbackServer, page
from tests.problems import assert_problem
from tests.recipes.factories import make_recipe


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def open_client(make_client: Callable[..., TestClient],
                make_settings: Callable[..., Settings]) -> TestClient:
    return make_client(make_settings(IMPORT_ALLOW_PRIVATE_NETWORKS=True))


def test_image_by_url_runs_the_image_pipeline(
    open_client: TestClient, site: LoopbackServer, db: Session, alice: User,
    as_alice: dict[str, str]
) -> None:
    recipe = make_recipe(db, alice)
    db.commit()
    site.routes["/dish.png"] = page(_png(), content_type="image/png")
    response = open_client.put(f"/api/v1/recipes/{recipe.id}/image", headers=as_alice,
                               json={"url": site.url("/dish.png")})
    assert response.status_code == 201, response.text
    assert (response.json()["width"], response.json()["height"]) == (64, 48)
    assert response.json()["content_type"] in ("image/jpeg", "image/webp")  # re-encoded
    got = open_client.get(f"/api/v1/recipes/{recipe.id}/image", headers=as_alice)
    assert got.status_code == 200


def test_image_by_url_is_guarded(
    client: TestClient, canary: LoopbackServer, db: Session, alice: User,
    as_alice: dict[str, str]
) -> None:
    recipe = make_recipe(db, alice)
    db.commit()
    client.app.state.import_fetcher = GuardedFetcher(  # type: ignore[attr-defined]
        extra_ports=frozenset({canary.port}))
    for url in (f"http://127.0.0.1:{canary.port}/x.png", f"http://[::1]:{canary.port}/x.png",
                f"http://169.254.169.254:{canary.port}/"):
        response = client.put(f"/api/v1/recipes/{recipe.id}/image", headers=as_alice,
                              json={"url": url})
        assert_problem(response, 422, "import-address-not-allowed")
    assert canary.hit_count == 0


def test_image_that_is_really_html_is_refused(
    open_client: TestClient, site: LoopbackServer, db: Session, alice: User,
    as_alice: dict[str, str]
) -> None:
    recipe = make_recipe(db, alice)
    db.commit()
    site.routes["/fake.png"] = page("<html>not an image</html>", content_type="image/png")
    response = open_client.put(f"/api/v1/recipes/{recipe.id}/image", headers=as_alice,
                               json={"url": site.url("/fake.png")})
    assert_problem(response, 422, "import-not-an-image")


def test_another_users_recipe_is_404_before_anything_is_fetched(
    open_client: TestClient, canary: LoopbackServer, db: Session, alice: User,
    as_bob: dict[str, str]
) -> None:
    recipe = make_recipe(db, alice, visibility="public")
    db.commit()
    response = open_client.put(f"/api/v1/recipes/{recipe.id}/image", headers=as_bob,
                               json={"url": canary.url("/x.png")})
    assert_problem(response, 404)
    assert canary.hit_count == 0


def test_url_body_is_bounded_and_validated(
    client: TestClient, db: Session, alice: User, as_alice: dict[str, str]
) -> None:
    recipe = make_recipe(db, alice)
    db.commit()
    path = f"/api/v1/recipes/{recipe.id}/image"
    assert_problem(client.put(path, headers=as_alice, json={"url": "x" * 9000}), 413)
    assert_problem(client.put(path, headers=as_alice, json={"href": "http://a/"}), 422)
    assert_problem(client.put(path, content=b"{not json",
                              headers={**as_alice, "Content-Type": "application/json"}), 422)


def test_image_by_url_counts_against_the_import_limit(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings],
    db: Session, alice: User, as_alice: dict[str, str]
) -> None:
    client = make_client(make_settings(RATE_LIMIT_ENABLED=True, RATE_LIMIT_IMPORT="1/minute"))
    recipe = make_recipe(db, alice)
    db.commit()
    path = f"/api/v1/recipes/{recipe.id}/image"
    assert_problem(client.put(path, headers=as_alice, json={"url": "file:///x"}), 422)
    assert_problem(client.put(path, headers=as_alice, json={"url": "file:///x"}), 429)
    assert_problem(client.post("/api/v1/recipe-imports/url", headers=as_alice,
                               json={"url": "file:///x"}), 429)
