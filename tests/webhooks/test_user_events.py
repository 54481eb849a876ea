"""user.created / user.updated / user.deleted through the real endpoint."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.recipes.models import Favorite, Recipe
from app.users.models import User
from app.webhooks.models import WebhookEvent
from app.webhooks.service import WebhookPayloadInvalid, process_delivery
from tests.factories import auth_headers, make_user
from tests.fakes.svix_signing import svix_headers
from tests.recipes.factories import make_recipe
from tests.webhooks.conftest import WEBHOOK_PATH, PostEvent
from tests.webhooks.events import clerk_user, user_deleted, user_event


def stored(db: Session, clerk_id: str) -> User | None:
    db.expire_all()
    return db.scalars(select(User).where(User.clerk_user_id == clerk_id)).one_or_none()


def test_user_created_stores_the_primary_email_and_names(
    post_event: PostEvent, db: Session
) -> None:
    response = post_event(user_event("created", "user_1", email="primary@example.com"))
    assert response.status_code == 200
    assert response.json() == {"status": "processed"}
    user = stored(db, "user_1")
    assert user is not None
    assert user.email == "primary@example.com"
    assert (user.first_name, user.last_name, user.username) == ("Ada", "Lovelace", "ada")
    assert user.image_url == "https://img.clerk.com/ada.png"
    assert user.clerk_updated_at == 1_700_000_000_000
    assert (user.dietary_tags, user.measurement_system, user.token_version) == ([], "metric", 0)


def test_user_updated_changes_the_mirrored_fields_only(post_event: PostEvent, db: Session) -> None:
    make_user(db, clerk_user_id="user_2", display_name="Chef A", bio="Mine", clerk_updated_at=1)
    post_event(
        user_event("updated", "user_2", updated_at=2, first_name="Grace", email="g@example.com")
    )
    user = stored(db, "user_2")
    assert user is not None
    assert (user.first_name, user.email) == ("Grace", "g@example.com")
    assert (user.display_name, user.bio) == ("Chef A", "Mine")


def test_an_update_older_than_the_stored_one_is_ignored(post_event: PostEvent, db: Session) -> None:
    post_event(user_event("updated", "user_3", updated_at=2_000, first_name="New"))
    response = post_event(user_event("updated", "user_3", updated_at=1_000, first_name="Old"))
    assert response.status_code == 200
    user = stored(db, "user_3")
    assert user is not None and user.first_name == "New"
    assert user.clerk_updated_at == 2_000


def test_user_created_after_user_updated_does_not_roll_back(
    post_event: PostEvent, db: Session
) -> None:
    post_event(user_event("updated", "user_4", updated_at=2_000, first_name="Updated"))
    post_event(user_event("created", "user_4", updated_at=1_000, first_name="Created"))
    user = stored(db, "user_4")
    assert user is not None and user.first_name == "Updated"


def test_hostile_profile_values_are_cleaned_before_storage(
    post_event: PostEvent, db: Session
) -> None:
    post_event(
        user_event(
            "created",
            "user_5",
            first_name="<img src=x onerror=alert(1)>Eve\x00\u202e",
            last_name="&lt;script&gt;alert(1)&lt;/script&gt;Mallory",
            username="x" * 5000,
            image_url="javascript:alert(1)",
            email="not an email <script>",
        )
    )
    user = stored(db, "user_5")
    assert user is not None
    assert user.first_name == "Eve"
    assert user.last_name == "Mallory"
    assert user.username == "x" * 64
    assert user.image_url is None
    assert user.email is None


@pytest.mark.parametrize(
    "image_url",
    [
        "http://img.example.com/a.png",
        'https://img.example.com/a.png" onload="x',
        "https:///no-host",
        "data:image/png;base64,AAAA",
        "https://" + "a" * 2048 + ".com",
    ],
)
def test_image_url_must_be_plain_https(post_event: PostEvent, db: Session, image_url: str) -> None:
    post_event(user_event("created", "user_img", image_url=image_url))
    user = stored(db, "user_img")
    assert user is not None and user.image_url is None


UNUSABLE_DATA: list[object] = [
    None,
    [],
    "user_1",
    42,
    {},
    {"id": None},
    {"id": 7},
    {"id": ""},
    {"id": "u" * 65},
    {"id": "user_\x00nul"},
]


@pytest.mark.parametrize("kind", ["user.created", "user.updated", "user.deleted"])
def test_unusable_event_data_is_acknowledged_and_ignored(
    post_event: PostEvent, db: Session, kind: str
) -> None:
    # Clerk signed it, so a retry would carry the same data: 200 stops the retries.
    for data in UNUSABLE_DATA:
        response = post_event({"type": kind, "data": data})
        assert response.status_code == 200, data
        assert response.json() == {"status": "ignored"}, data
    assert db.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("first_name", 123),
        ("last_name", ["a"]),
        ("username", {"x": 1}),
        ("image_url", True),
        ("email_addresses", "nope"),
        ("email_addresses", [None, 1, "x"]),
        ("primary_email_address_id", 5),
        ("updated_at", "yesterday"),
        ("updated_at", True),
        ("updated_at", -5),
        ("updated_at", 10**30),
    ],
)
def test_wrong_field_types_count_as_absent(
    post_event: PostEvent, db: Session, field: str, value: object
) -> None:
    event = user_event("created", "user_types")
    event["data"][field] = value
    response = post_event(event)
    assert response.status_code == 200
    user = stored(db, "user_types")
    assert user is not None


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'"user.created"',
        b"{}",
        b'{"type": 5}',
        b'{"type": "user.created", "data": {"id": "user_big", "updated_at": ' + b"9" * 5000 + b"}}",
    ],
    ids=["not-json", "array", "string", "no-type", "type-not-string", "huge-int"],
)
def test_signed_body_that_is_not_an_event_is_400(
    hook_client: TestClient, webhook_secret: str, db: Session, body: bytes
) -> None:
    response = hook_client.post(
        WEBHOOK_PATH, content=body, headers=svix_headers(webhook_secret, body)
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == "urn:homechef:problem:webhook-payload-invalid"
    assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_deeply_nested_signed_body_is_refused_without_a_500(
    hook_client: TestClient, webhook_secret: str, db: Session
) -> None:
    body = b"[" * 100_000
    response = hook_client.post(
        WEBHOOK_PATH, content=body, headers=svix_headers(webhook_secret, body)
    )
    # The body-limit middleware refuses deep nesting (413) before the route parses it.
    assert response.status_code in (400, 413)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_the_service_itself_refuses_deep_nesting_as_400(db: Session) -> None:
    with pytest.raises(WebhookPayloadInvalid):
        process_delivery(db, "msg_deep", b"[" * 100_000)


def test_lone_surrogates_in_names_are_dropped(
    hook_client: TestClient, webhook_secret: str, db: Session
) -> None:
    # Valid JSON, valid UTF-8 on the wire, but "\ud800" decodes to an unencodable character.
    data = clerk_user("user_surrogate", updated_at=1, first_name="A")
    body = json.dumps({"type": "user.created", "data": data}).replace('"A"', '"A\\ud800B"')
    response = hook_client.post(
        WEBHOOK_PATH, content=body, headers=svix_headers(webhook_secret, body)
    )
    assert response.status_code == 200
    user = stored(db, "user_surrogate")
    assert user is not None and user.first_name == "AB"


def test_unknown_event_type_is_200_and_recorded(post_event: PostEvent, db: Session) -> None:
    response = post_event({"type": "organization.created", "data": {"id": "org_1"}})
    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 1


def test_user_deleted_erases_and_kills_tokens(
    post_event: PostEvent, hook_client: TestClient, db: Session
) -> None:
    user = make_user(db, clerk_user_id="user_del", display_name="Soon gone")
    other = make_user(db)
    own = make_recipe(db, user, tags=["x"], ingredients=["salt"], steps=["stir"])
    theirs = make_recipe(db, other, visibility="public")
    db.add_all(
        [
            Favorite(user_id=user.id, recipe_id=theirs.id),
            Favorite(user_id=other.id, recipe_id=own.id),
        ]
    )
    db.commit()
    headers = auth_headers(hook_client.app, user)  # type: ignore[arg-type]
    assert hook_client.get("/api/v1/users/me", headers=headers).status_code == 200

    assert post_event(user_deleted("user_del")).status_code == 200

    tombstone = stored(db, "user_del")
    assert tombstone is not None and tombstone.deleted_at is not None
    assert (tombstone.email, tombstone.first_name, tombstone.display_name) == (None, None, None)
    assert tombstone.token_version == 1
    assert (
        db.scalar(select(func.count()).select_from(Recipe).where(Recipe.owner_id == user.id)) == 0
    )
    assert db.scalar(select(func.count()).select_from(Favorite)) == 0
    assert db.get(Recipe, theirs.id) is not None
    assert hook_client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_user_deleted_for_an_unknown_user_leaves_a_tombstone(
    post_event: PostEvent, db: Session
) -> None:
    assert post_event(user_deleted("user_never_seen")).status_code == 200
    post_event(user_event("created", "user_never_seen", updated_at=10**13))
    user = stored(db, "user_never_seen")
    assert user is not None and user.deleted_at is not None
    assert user.email is None and user.first_name is None


def test_a_late_update_cannot_resurrect_an_erased_user(post_event: PostEvent, db: Session) -> None:
    post_event(user_event("created", "user_late", updated_at=1))
    post_event(user_deleted("user_late"))
    post_event(user_event("updated", "user_late", updated_at=10**13, first_name="Zombie"))
    user = stored(db, "user_late")
    assert user is not None and user.deleted_at is not None and user.first_name is None
