"""The private calendar feed: a secret URL, public route, dies on revoke, logout and
erasure, shows only the owner's data, and refuses (and logs) guessing."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.config import Settings
from tests.factories import auth_headers, make_user
from tests.mealplans.factories import FEED_TOKEN, assert_problem, entry, make_plan
from tests.recipes.factories import make_recipe
from tests.sql_counting import counting
from tests.users.test_erasure_and_export import every_row


def feed_path(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post(FEED_TOKEN, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return urlsplit(response.json()["url"]).path


def token_of(path: str) -> str:
    return path.rsplit("/", 1)[1].removesuffix(".ics")


def events(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return [{"summary": str(e["summary"]), "date": e["dtstart"].dt.isoformat(),
             "description": str(e.get("description", ""))}
            for e in calendar.walk("VEVENT")]


def _rejections(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == "calendar.feed_rejected"]


def test_the_feed_serves_the_active_plan_without_a_bearer_token(
    client: TestClient, db: Session, engine: Engine, alice, bob, as_alice
) -> None:
    soup = make_recipe(db, alice, title="Tomato soup")
    hidden = make_recipe(db, bob, visibility="public", title="Bob's hidden pie")
    make_plan(db, alice, is_active=True, rotation_weeks=1, entries=[
        entry(day=day, meal="dinner", recipe_id=soup.id, servings=2, note="Use basil")
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    ] + [entry(day="mon", meal="lunch", recipe_id=hidden.id),
         entry(day="tue", meal="lunch", recipe_id=hidden.id, title="Pie night")])
    make_plan(db, bob, is_active=True, entries=[entry(title="Bob's own dinner")])
    hidden.visibility = "private"
    db.commit()
    path = feed_path(client, as_alice)
    assert len(token_of(path)) >= 22  # >= 128 bits in base64url

    with counting(engine) as statements:
        response = client.get(path)

    found = events(response)
    assert response.headers["cache-control"] == "no-store"
    assert len(statements) == 3  # the token, the plan with its entries, the recipe cards
    assert len(found) == 57  # one event per planned day: yesterday (UTC) and 8 weeks
    summaries = {e["summary"] for e in found}
    assert summaries == {"Lunch · Dinner: Tomato soup", "Lunch: Pie night · Dinner: Tomato soup",
                         "Dinner: Tomato soup"}
    assert all("Dinner: Tomato soup (2 servings; Use basil)" in e["description"] for e in found)
    for foreign in ("Bob's hidden pie", str(hidden.id), "Bob's own dinner"):
        assert foreign.encode() not in response.content


def test_without_an_active_plan_the_feed_is_an_empty_calendar(
    client: TestClient, as_alice
) -> None:
    assert events(client.get(feed_path(client, as_alice))) == []


def test_only_the_tokens_hash_is_stored(
    client: TestClient, engine: Engine, alice, as_alice
) -> None:
    token = token_of(feed_path(client, as_alice))
    rows = list(every_row(engine))
    assert not any(token in str(value) for _table, row in rows for value in row.values())
    stored = [row for table, row in rows if table == "calendar_feed_tokens"]
    assert [row["token_sha256"] for row in stored] == [hashlib.sha256(token.encode()).hexdigest()]


def test_a_new_token_replaces_the_old_one_and_a_revoke_kills_it(
    client: TestClient, db: Session, alice, as_alice
) -> None:
    make_plan(db, alice, is_active=True)
    old = feed_path(client, as_alice)
    new = feed_path(client, as_alice)
    assert old != new
    assert_problem(client.get(old), 404, "calendar-feed-not-found")
    assert client.get(new).status_code == 200

    assert client.delete(FEED_TOKEN, headers=as_alice).status_code == 204
    assert client.delete(FEED_TOKEN, headers=as_alice).status_code == 204
    assert_problem(client.get(new), 404, "calendar-feed-not-found")


def test_logout_everywhere_kills_the_feed_at_once(
    client: TestClient, db: Session, alice, as_alice
) -> None:
    path = feed_path(client, as_alice)
    assert client.get(path).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=as_alice).status_code == 204
    assert_problem(client.get(path), 404, "calendar-feed-not-found")
    # A new token after signing in again works.
    db.refresh(alice)
    assert client.get(feed_path(client, auth_headers(client.app, alice))).status_code == 200


def test_erasure_kills_the_feed_at_once(client: TestClient, alice, as_alice) -> None:
    path = feed_path(client, as_alice)
    assert client.delete("/api/v1/users/me", headers=as_alice).status_code == 204
    assert_problem(client.get(path), 404, "calendar-feed-not-found")


@pytest.mark.parametrize("token", [
    secrets.token_urlsafe(32),  # well formed, unknown
    "short", "x" * 100, "x" * 5000, "%00" * 10, "..%2F..%2Fetc", "a" * 42 + "!", "é" * 43,
])
def test_a_wrong_token_is_a_404_and_a_security_event(
    client: TestClient, caplog: pytest.LogCaptureFixture, token: str
) -> None:
    caplog.set_level(logging.INFO)
    response = client.get(f"/api/v1/calendar/{token}.ics")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in response.text
    if "%2F" not in token:
        [event] = _rejections(caplog)
        assert token not in str(event.__dict__)


def test_a_token_of_the_same_shape_but_someone_elses_digest_is_refused(
    client: TestClient, db: Session, as_alice
) -> None:
    bob = make_user(db)
    path = feed_path(client, auth_headers(client.app, bob))
    real = token_of(path)
    flipped = real[:-1] + ("A" if real[-1] != "A" else "B")
    assert_problem(client.get(f"/api/v1/calendar/{flipped}.ics"), 404)


def test_guessing_is_rate_limited_per_ip_and_logged(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(make_settings(RATE_LIMIT_ENABLED=True, RATE_LIMIT_FEED="5/minute"))
    caplog.set_level(logging.INFO)

    statuses = [client.get(f"/api/v1/calendar/{secrets.token_urlsafe(32)}.ics").status_code
                for _ in range(8)]

    assert statuses == [404] * 5 + [429] * 3
    assert len(_rejections(caplog)) == 5  # refused guesses never reach the database
    [exceeded] = [r for r in caplog.records if getattr(r, "event", None) == "ratelimit.exceeded"]
    assert exceeded.category == "feed" and exceeded.key_kind == "ip"


def test_one_feed_url_is_rate_limited_on_its_own(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings],
    db: Session, caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(make_settings(RATE_LIMIT_ENABLED=True, RATE_LIMIT_FEED_URL="2/minute"))
    user = make_user(db)
    path = feed_path(client, auth_headers(client.app, user))
    caplog.set_level(logging.INFO)

    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 429]
    other = client.get(f"/api/v1/calendar/{secrets.token_urlsafe(32)}.ics")
    assert other.status_code == 404  # another URL from the same address still gets through
    [exceeded] = [r for r in caplog.records if getattr(r, "event", None) == "ratelimit.exceeded"]
    assert exceeded.category == "feed_token" and token_of(path) not in exceeded.key
