"""The recipes API on the embedded SQLite default: create, list, search, get, and the same
search answers as PostgreSQL on the shared small data set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.db.engine import make_engine
from app.db.migrations import upgrade_to_head
from app.main import create_app
from tests.conftest import make_test_settings
from tests.factories import auth_headers, make_user
from tests.recipes.search_cases import SEARCH_CASES, SEARCH_SET
from tests.recipes.support import RECIPES, TAGS, assert_problem, payload


@pytest.fixture
def sqlite_client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    settings = make_test_settings(f"sqlite:///{tmp_path / 'homechef.db'}")
    engine = make_engine(settings)
    upgrade_to_head(engine)
    with Session(engine, expire_on_commit=False) as db:
        alice, bob = make_user(db), make_user(db)
    app = create_app(settings, engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, auth_headers(app, alice), auth_headers(app, bob)
    engine.dispose()


def titles(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


def test_create_get_list_and_search_on_sqlite(sqlite_client) -> None:
    client, as_alice, as_bob = sqlite_client
    created = client.post(RECIPES, json=payload(title="<b>Soup</b>"), headers=as_alice)
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    body = client.get(url, params={"servings": 6}, headers=as_alice).json()
    assert body["title"] == "Soup"
    assert [i["quantity"] for i in body["ingredients"]] == ["1200", "1.5", None]
    assert client.get(url, headers={**as_alice, "If-None-Match": created.headers["etag"]}
                      ).status_code == 304
    assert_problem(client.get(url, headers=as_bob), 404)
    assert_problem(client.post(RECIPES, json=payload(title="a\x00"), headers=as_alice), 422)

    patched = client.patch(url, json={"title": "Tomato bisque", "tags": ["Dinner"]},
                           headers={**as_alice, "If-Match": created.headers["etag"]})
    assert patched.status_code == 200
    stale = client.patch(url, json={"title": "x"},
                         headers={**as_alice, "If-Match": created.headers["etag"]})
    assert_problem(stale, 412)

    assert titles(client.get(RECIPES, params={"q": "bisq"}, headers=as_alice)) == ["Tomato bisque"]
    assert titles(client.get(RECIPES, params={"tag": "dinner"}, headers=as_alice)) == [
        "Tomato bisque"
    ]
    assert client.put(f"{url}/favorite", headers=as_alice).status_code == 200
    assert titles(client.get(RECIPES, params={"favorites": True}, headers=as_alice)) == [
        "Tomato bisque"
    ]
    assert client.get(TAGS, headers=as_alice).json() == {"items": [{"tag": "dinner", "count": 1}]}
    assert client.delete(url, headers=as_alice).status_code == 204


def test_cursor_pages_on_sqlite(sqlite_client) -> None:
    client, as_alice, _ = sqlite_client
    for i in range(7):
        client.post(RECIPES, json=payload(title=f"Dish {i}", prep_minutes=i % 3),
                    headers=as_alice)
    for sort in ("newest", "oldest", "title", "quickest"):
        everything = titles(client.get(RECIPES, params={"sort": sort, "limit": 100},
                                       headers=as_alice))
        paged: list[str] = []
        params: dict[str, Any] = {"sort": sort, "limit": 3}
        while True:
            page = client.get(RECIPES, params=params, headers=as_alice).json()
            paged += [item["title"] for item in page["items"]]
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
        assert paged == everything and len(paged) == 7
    tampered = client.get(RECIPES, params={"cursor": "x" + params["cursor"][1:]},
                          headers=as_alice)
    assert_problem(tampered, 400)


def test_sqlite_gives_the_same_search_answers_as_postgresql(sqlite_client) -> None:
    client, as_alice, _ = sqlite_client
    for recipe in SEARCH_SET:
        assert client.post(RECIPES, json=payload(**recipe), headers=as_alice).status_code == 201
    for params, expected in SEARCH_CASES:
        assert titles(client.get(RECIPES, params=params, headers=as_alice)) == expected, params
