"""DELETE /users/me erases everything owned; GET /users/me/export returns exactly it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from app.db.models import Base
from app.users import service as users_service
from app.users.models import User
from tests.factories import auth_headers, make_user
from tests.users.factories import collect, favorite, furnish, photo_bytes

ME = "/api/v1/users/me"


def every_row(engine: Engine) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, row) for every row of every table the schema defines."""
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                yield table.name, dict(row)


def references(
    row: dict[str, Any], ids: set[uuid.UUID], keys: frozenset[str] = frozenset()
) -> bool:
    """Whether the row names one of ``ids`` (or, for content-addressed blobs, ``keys``)."""
    return any(
        (isinstance(value, uuid.UUID) and value in ids)
        or (isinstance(value, str) and value in keys)
        for value in row.values()
    )


def blob_keys(engine: Engine, image_id: uuid.UUID) -> frozenset[str]:
    with engine.connect() as conn:
        return frozenset(conn.scalars(
            text("SELECT sha256 FROM media_variants WHERE image_id = :i"), {"i": image_id}))


def test_erasure_removes_every_row_owned_by_the_user(
    client: TestClient, app: FastAPI, db: Session, engine: Engine
) -> None:
    user = make_user(
        db,
        email="erase-me@example.com",
        first_name="Erin",
        last_name="Erasable",
        username="erin",
        image_url="https://img.example.com/erin.png",
        display_name="Erin's Kitchen",
        bio="I cook.",
        dietary_tags=["vegan"],
        measurement_system="us",
    )
    other = make_user(db)
    mine = furnish(db, user)
    theirs = furnish(db, other)
    favorite(db, user, theirs.public)  # my favorite on someone else's recipe
    favorite(db, other, mine.public)  # someone's favorite on my recipe
    favorite(db, user, mine.private)
    collect(db, mine.book, theirs.public)  # my collection holds someone else's recipe
    collect(db, theirs.book, mine.public)  # someone's collection holds my recipe
    owned_ids = {user.id, mine.private.id, mine.public.id, mine.book.id, mine.smart.id,
                 mine.plan.id, *mine.other_ids, mine.photo.id}
    keys = blob_keys(engine, mine.photo.id)
    assert len(keys) == 3
    rows_before = {name: 0 for name in (t.name for t in Base.metadata.sorted_tables)}
    for name, row in every_row(engine):
        if not references(row, owned_ids, keys):
            rows_before[name] += 1

    response = client.delete(ME, headers=auth_headers(app, user))

    assert response.status_code == 204
    assert response.content == b""
    personal = {"erase-me@example.com", "Erin", "Erasable", "erin", "Erin's Kitchen", "I cook."}
    rows_after = {name: 0 for name in rows_before}
    for name, row in every_row(engine):
        rows_after[name] += 1
        if name == "users" and row["id"] == user.id:
            continue  # the tombstone, checked below
        assert not references(row, owned_ids, keys), (name, row)
        assert not personal & {v for v in row.values() if isinstance(v, str)}, (name, row)
    # Nothing of anyone else went with it (the tombstone is the one extra users row).
    assert rows_after == {**rows_before, "users": rows_before["users"] + 1}

    db.expire_all()
    tombstone = db.get(User, user.id)
    assert tombstone is not None
    assert tombstone.deleted_at is not None
    assert tombstone.clerk_user_id == user.clerk_user_id
    for field in ("email", "first_name", "last_name", "username", "image_url"):
        assert getattr(tombstone, field) is None, field
    assert (tombstone.display_name, tombstone.bio, tombstone.dietary_tags) == (None, None, [])
    assert tombstone.token_version == 1


def test_after_erasure_every_token_is_refused(
    client: TestClient, app: FastAPI, db: Session
) -> None:
    user = make_user(db)
    tokens = [auth_headers(app, user, sid=f"sess_{n}") for n in range(3)]
    assert client.delete(ME, headers=tokens[0]).status_code == 204
    for headers in tokens:
        for method, path in (("GET", ME), ("GET", f"{ME}/export"), ("DELETE", ME)):
            response = client.request(method, path, headers=headers)
            assert response.status_code == 401, (method, path)
            assert response.headers["content-type"].startswith("application/problem+json")
    db.expire_all()
    # A token minted with the new version still names an erased user.
    erased = db.get(User, user.id)
    assert erased is not None
    assert client.get(ME, headers=auth_headers(app, erased)).status_code == 401


def test_erasure_leaves_other_users_untouched(
    client: TestClient, app: FastAPI, db: Session
) -> None:
    user = make_user(db)
    other = make_user(db, email="stay@example.com")
    furnish(db, other)
    client.delete(ME, headers=auth_headers(app, user))
    response = client.get(f"{ME}/export", headers=auth_headers(app, other))
    assert response.status_code == 200
    assert response.json()["profile"]["email"] == "stay@example.com"
    assert len(response.json()["recipes"]) == 2


def test_export_contains_exactly_the_callers_data(
    client: TestClient, app: FastAPI, db: Session, engine: Engine
) -> None:
    user = make_user(db, email="me@example.com", bio="My bio", dietary_tags=["vegan"])
    other = make_user(db, email="them@example.com", first_name="Otto")
    mine = furnish(db, user)
    theirs = furnish(db, other)
    favorite(db, user, theirs.public)
    favorite(db, other, mine.public)
    collect(db, mine.book, theirs.public)
    collect(db, mine.book, theirs.private)  # since turned private: not exported
    collect(db, theirs.book, mine.public)

    response = client.get(f"{ME}/export", headers=auth_headers(app, user))

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "attachment" in response.headers["content-disposition"]
    export = response.json()
    assert export["profile"]["id"] == str(user.id)
    assert export["profile"]["clerk_user_id"] == user.clerk_user_id
    assert export["profile"]["email"] == "me@example.com"
    assert export["profile"]["bio"] == "My bio"
    assert export["profile"]["dietary_tags"] == ["vegan"]

    by_id = {recipe["id"]: recipe for recipe in export["recipes"]}
    assert set(by_id) == {str(mine.private.id), str(mine.public.id)}
    stew = by_id[str(mine.private.id)]
    assert stew["tags"] == ["stew", "winter"]
    assert [i["name"] for i in stew["ingredients"]] == ["beans", "salt"]
    assert stew["ingredients"][0]["quantity"] == "1.125"  # as the API shows it
    assert [s["text"] for s in stew["steps"]] == ["Soak", "Simmer"]
    [photo] = export["media"]["images"]
    assert photo["recipe_id"] == str(mine.private.id) and photo["is_cover"] is True
    original = photo["sizes"]["original"]
    assert original["content_type"] == "image/webp"
    assert original["byte_size"] == len(photo_bytes(user))
    # Each size names its stored object (the store and the key), never the bytes.
    assert original["object"] == {"store": "postgresql", "key": original["sha256"]}
    assert set(photo["sizes"]) == {"original", "hero", "card"}
    assert export["favorites"] == [
        {"recipe_id": str(theirs.public.id), "created_at": export["favorites"][0]["created_at"]}
    ]

    assert [k["key"] for k in export["idempotency_keys"]] == [f"retry-of-{user.clerk_user_id}"]
    assert export["idempotency_keys"][0]["path"] == "/api/v1/recipes"
    books = {c["name"]: c for c in export["collections"]}
    assert set(books) == {f"Book of {user.clerk_user_id}", "Quick ones"}
    book = books[f"Book of {user.clerk_user_id}"]
    assert book["description"] == "Hand-picked" and book["filter"] is None
    assert {r["recipe_id"] for r in book["recipes"]} == {
        str(mine.private.id), str(mine.public.id), str(theirs.public.id)}
    assert books["Quick ones"]["filter"] == {"max_total_minutes": 20}

    # Nothing of anyone else: no other person's id, email or recipe appears anywhere.
    for foreign in (str(other.id), "them@example.com", "Otto", str(theirs.private.id)):
        assert foreign not in response.text
    assert theirs.public.title not in response.text
    # Image bytes are never exported, only metadata.
    assert "PNG fake" not in response.text and "data" not in original

    [plan] = export["meal_plans"]
    assert (plan["id"], plan["is_active"], plan["rotation_weeks"]) == (str(mine.plan.id), True, 2)
    assert [(e["week"], e["day"], e["meal"], e["recipe_id"], e["title"]) for e in plan["entries"]
            ] == [(1, "mon", "dinner", str(mine.private.id), None),
                  (2, "sun", "lunch", str(mine.public.id), None),
                  (1, "fri", "dinner", None, "Eat out")]
    # The feed token's hash only: the token itself is never stored.
    assert export["calendar_feed"]["token_sha256"] == mine.feed.token_sha256
    assert str(theirs.plan.id) not in response.text


def test_export_of_a_fresh_user_is_just_the_profile(
    client: TestClient, app: FastAPI, db: Session
) -> None:
    user = make_user(db)
    export = client.get(f"{ME}/export", headers=auth_headers(app, user)).json()
    assert export["recipes"] == [] and export["favorites"] == []
    assert export["idempotency_keys"] == []
    assert export["collections"] == []
    assert export["meal_plans"] == [] and export["calendar_feed"] is None
    assert export["media"] == {"images": []}
    assert export["profile"]["id"] == str(user.id)


#: Foreign keys that on purpose do not cascade, each with its reason:
#: - a shopping-list item's source: deleting (or erasing the owner of) a public recipe
#:   must not change other people's lists; the share stays, the link goes;
#: - a meal-plan entry: it outlives its recipe and keeps its own title (the meal plans
#:   branch's column, merged into this one).
SET_NULL_ALLOWED = {
    ("shopping_item_sources", "recipe_id", "SET NULL"),
    ("meal_plan_entries", "recipe_id", "SET NULL"),
}


def test_schema_has_no_user_data_table_the_erasure_forgets(engine: Engine) -> None:
    """Every foreign key to users or recipes cascades, so erasure reaches new tables too,
    except the allowlisted SET NULL ones (which keep no personal data once nulled)."""
    with engine.connect() as conn:
        rules = conn.execute(
            text(
                "SELECT tc.table_name, kcu.column_name, rc.delete_rule, ccu.table_name "
                "FROM information_schema.referential_constraints rc "
                "JOIN information_schema.table_constraints tc "
                "  ON tc.constraint_name = rc.constraint_name "
                "JOIN information_schema.key_column_usage kcu "
                "  ON kcu.constraint_name = rc.constraint_name "
                "JOIN information_schema.constraint_column_usage ccu "
                "  ON ccu.constraint_name = rc.unique_constraint_name "
                "WHERE ccu.table_name IN ('users', 'recipes')"
            )
        ).all()
    assert rules, "expected foreign keys to users and recipes"
    not_cascading = {(table, column, rule) for table, column, rule, _ in rules
                     if rule != "CASCADE"}
    assert not_cascading == SET_NULL_ALLOWED


def test_a_profile_update_racing_an_erasure_cannot_refill_the_tombstone(
    db: Session, engine: Engine
) -> None:
    user = make_user(db)
    with Session(engine, expire_on_commit=False) as request_session:
        # The PATCH request authenticated this user just before the erasure committed.
        loaded = request_session.get(User, user.id)
        assert loaded is not None
        with Session(engine) as erasing:
            assert users_service.erase_by_clerk_id(erasing, user.clerk_user_id) == "erased"
            erasing.commit()
        with pytest.raises(users_service.UserErased):
            users_service.update_profile(request_session, loaded, {"display_name": "Back"})
        request_session.rollback()
    db.expire_all()
    tombstone = db.get(User, user.id)
    assert tombstone is not None and tombstone.display_name is None
