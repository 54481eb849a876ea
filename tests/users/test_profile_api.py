"""GET/PATCH /users/me and the public profile GET /users/{id}."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.users.models import User
from tests.factories import auth_headers, make_user
from tests.problems import assert_problem
from tests.recipes.factories import make_recipe

ME = "/api/v1/users/me"



def test_me_returns_the_full_profile_including_email(
    client: TestClient, app: FastAPI, db: Session
) -> None:
    user = make_user(db, email="me@example.com", display_name="Chef Me", dietary_tags=["vegan"])
    response = client.get(ME, headers=auth_headers(app, user))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(user.id)
    assert body["email"] == "me@example.com"
    assert body["display_name"] == "Chef Me"
    assert body["dietary_tags"] == ["vegan"]
    assert body["measurement_system"] == "metric"
    assert "token_version" not in body and "clerk_user_id" not in body
    assert response.headers["cache-control"] == "no-store"


def test_me_without_a_token_is_401(client: TestClient) -> None:
    assert_problem(client.get(ME), 401)


def test_patch_changes_only_the_given_fields(client: TestClient, app: FastAPI, db: Session) -> None:
    user = make_user(db, display_name="Before", bio="Keep me")
    response = client.patch(
        ME,
        headers=auth_headers(app, user),
        json={
            "display_name": "  After  ",
            "measurement_system": "us",
            "dietary_tags": ["Vegan", "GLUTEN-free", "vegan", " nut  free "],
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["display_name"] == "After"
    assert body["bio"] == "Keep me"
    assert body["measurement_system"] == "us"
    assert body["dietary_tags"] == ["vegan", "gluten-free", "nut free"]
    db.expire_all()
    stored = db.get(User, user.id)
    assert stored is not None and stored.measurement_system == "us"


def test_patch_strips_html_and_keeps_bio_line_breaks(
    client: TestClient, app: FastAPI, db: Session
) -> None:
    user = make_user(db)
    response = client.patch(
        ME,
        headers=auth_headers(app, user),
        json={
            "display_name": "<script>alert(1)</script><b>Chef</b> &amp; Co",
            "bio": "Line one<img src=x onerror=alert(1)>\nLine two",
        },
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == "Chef & Co"
    assert response.json()["bio"] == "Line one\nLine two"


def test_patch_null_or_markup_only_clears_display_name_and_bio(
    client: TestClient, app: FastAPI, db: Session
) -> None:
    user = make_user(db, display_name="Name", bio="Bio")
    response = client.patch(
        ME, headers=auth_headers(app, user), json={"display_name": None, "bio": "<b></b>"}
    )
    assert response.status_code == 200
    assert (response.json()["display_name"], response.json()["bio"]) == (None, None)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "new@example.com"},
        {"clerk_user_id": "user_other"},
        {"token_version": 99},
        {"role": "admin"},
        {"id": str(uuid.uuid4())},
        {"deleted_at": None},
        {"unknown": 1},
        {"display_name": "x" * 101},
        {"display_name": "bad\x00nul"},
        {"display_name": "line\nbreak"},
        {"display_name": 42},
        {"bio": "b" * 2001},
        {"bio": "escape \x1b[31m"},
        {"measurement_system": "imperial"},
        {"measurement_system": None},
        {"dietary_tags": None},
        {"dietary_tags": "vegan"},
        {"dietary_tags": [f"tag{i}" for i in range(21)]},
        {"dietary_tags": ["t" * 41]},
        {"dietary_tags": [""]},
        {"dietary_tags": ["<b></b>"]},
        {"dietary_tags": ["ok\x07"]},
        {"dietary_tags": [5]},
    ],
    ids=repr,
)
def test_patch_refuses_read_only_unknown_and_invalid_fields(
    client: TestClient, app: FastAPI, db: Session, body: dict[str, Any]
) -> None:
    user = make_user(db, display_name="Unchanged", role="user")
    response = client.patch(ME, headers=auth_headers(app, user), json=body)
    problem = assert_problem(response, 422)
    assert "x" * 101 not in response.text and "\x00" not in response.text
    assert problem["errors"]
    db.expire_all()
    stored = db.get(User, user.id)
    assert stored is not None
    assert (stored.display_name, stored.role, stored.token_version) == ("Unchanged", "user", 0)


@pytest.mark.parametrize("body", [b"not json", b"[]", b'"x"', b"null"])
def test_patch_with_a_body_that_is_not_an_object_is_422(
    client: TestClient, app: FastAPI, db: Session, body: bytes
) -> None:
    user = make_user(db)
    headers = {**auth_headers(app, user), "content-type": "application/json"}
    assert_problem(client.patch(ME, headers=headers, content=body), 422)


def test_public_profile_shows_name_avatar_and_public_recipe_count_never_email(
    client: TestClient, app: FastAPI, db: Session
) -> None:
    viewer = make_user(db)
    person = make_user(
        db,
        email="secret@example.com",
        display_name="Public Chef",
        image_url="https://img.example.com/p.png",
        bio="Private-ish",
    )
    make_recipe(db, person, visibility="public")
    make_recipe(db, person, visibility="public")
    make_recipe(db, person, visibility="private")
    make_recipe(db, viewer, visibility="public")

    response = client.get(f"/api/v1/users/{person.id}", headers=auth_headers(app, viewer))

    assert response.status_code == 200
    assert response.json() == {
        "id": str(person.id),
        "display_name": "Public Chef",
        "avatar_url": "https://img.example.com/p.png",
        "public_recipe_count": 2,
    }
    assert "secret@example.com" not in response.text


@pytest.mark.parametrize(
    "fields, shown",
    [
        ({"display_name": None, "first_name": "Ada", "username": "ada"}, "Ada"),
        ({"display_name": None, "first_name": None, "username": "ada"}, "ada"),
        ({"display_name": None, "first_name": None, "username": None}, None),
    ],
)
def test_public_display_name_falls_back_to_first_name_then_username(
    client: TestClient, app: FastAPI, db: Session, fields: dict[str, Any], shown: str | None
) -> None:
    viewer = make_user(db)
    person = make_user(db, **fields)
    response = client.get(f"/api/v1/users/{person.id}", headers=auth_headers(app, viewer))
    assert response.json()["display_name"] == shown


def test_own_public_profile_never_includes_email(
    client: TestClient, app: FastAPI, db: Session
) -> None:
    user = make_user(db, email="mine@example.com")
    response = client.get(f"/api/v1/users/{user.id}", headers=auth_headers(app, user))
    assert response.status_code == 200
    assert "email" not in response.json() and "mine@example.com" not in response.text


def test_unknown_and_erased_users_are_404(client: TestClient, app: FastAPI, db: Session) -> None:
    viewer = make_user(db)
    erased = make_user(db)
    client.delete(ME, headers=auth_headers(app, erased))
    for user_id in (uuid.uuid4(), erased.id):
        problem = assert_problem(
            client.get(f"/api/v1/users/{user_id}", headers=auth_headers(app, viewer)), 404
        )
        assert problem["type"] == "urn:homechef:problem:user-not-found"


def test_malformed_user_id_is_422(client: TestClient, app: FastAPI, db: Session) -> None:
    viewer = make_user(db)
    assert_problem(client.get("/api/v1/users/not-a-uuid", headers=auth_headers(app, viewer)), 422)


def test_public_profile_needs_a_token(client: TestClient, db: Session) -> None:
    person = make_user(db)
    assert_problem(client.get(f"/api/v1/users/{person.id}"), 401)
