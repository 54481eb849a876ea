"""POST /api/v1/recipe-imports/url against loopback servers.

Positive fetches run with IMPORT_ALLOW_PRIVATE_NETWORKS (the test setting); the hostile
ones with the guard on, the canary's port let through the fetcher's test seam so that
only the address rule stands between the request and the canary.
"""

from __future__ import annotations

import gzip
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.imports.fetcher import GuardedFetcher
from app.users.models import User
from tests.imports import pages
from tests.imports.servers import LoopbackServer, page, redirect, send
from tests.problems import assert_problem
from tests.recipes.factories import make_recipe

URL = "/api/v1/recipe-imports/url"


@pytest.fixture
def open_client(make_client: Callable[..., TestClient],
                make_settings: Callable[..., Settings]) -> TestClient:
    return make_client(make_settings(IMPORT_ALLOW_PRIVATE_NETWORKS=True))


def test_url_import_follows_redirects_and_reads_gzip_and_latin1(
    open_client: TestClient, site: LoopbackServer, as_alice: dict[str, str]
) -> None:
    site.routes["/start"] = redirect("/recipe?utm_source=feed")
    body = gzip.compress(pages.latin1_page())
    site.routes["/recipe"] = lambda h: send(h, 200, body, headers={"Content-Encoding": "gzip"},
                                            content_type="text/html")
    response = open_client.post(URL, json={"url": site.url("/start")}, headers=as_alice)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["draft"]["title"] == "Crème brûlée"  # found through <meta charset>
    assert result["source"]["url"] == site.url("/start")
    assert result["source"]["final_url"] == site.url("/recipe?utm_source=feed")
    assert result["draft"]["source_url"] == site.url("/recipe")


def test_url_import_finds_duplicates_of_the_final_page(
    open_client: TestClient, site: LoopbackServer, db: Session, alice: User,
    as_alice: dict[str, str]
) -> None:
    site.routes["/mac"] = page(pages.graph_page())
    saved = make_recipe(db, alice, title="Saved mac", source_url=site.url("/mac"))
    db.commit()
    result = open_client.post(URL, json={"url": site.url("/mac")}, headers=as_alice).json()
    assert result["duplicates"] == [{"id": str(saved.id), "title": "Saved mac"}]
    assert result["method"] == "json-ld"


def test_site_refusal_and_no_recipe_are_distinct_problems(
    open_client: TestClient, site: LoopbackServer, as_alice: dict[str, str]
) -> None:
    site.routes["/blocked"] = page("<html>no bots</html>", status=403)
    site.routes["/article"] = page(pages.no_recipe_page())
    blocked = open_client.post(URL, json={"url": site.url("/blocked")}, headers=as_alice)
    assert assert_problem(blocked, 422, "import-site-refused")["paste_instead"] is True
    article = open_client.post(URL, json={"url": site.url("/article")}, headers=as_alice)
    assert_problem(article, 422, "import-no-recipe")


@pytest.mark.parametrize(("template", "code"), [
    ("http://127.0.0.1:{port}/", "import-address-not-allowed"),
    ("http://[::1]:{port}/", "import-address-not-allowed"),
    ("http://2130706433:{port}/", "import-address-not-allowed"),
    ("http://localhost:{port}/", "import-address-not-allowed"),
    ("http://169.254.169.254:{port}/latest/meta-data/", "import-address-not-allowed"),
    ("http://100.64.0.1:{port}/", "import-address-not-allowed"),
    ("file:///etc/passwd", "import-url-not-allowed"),
    ("gopher://127.0.0.1:{port}/", "import-url-not-allowed"),
    ("http://user:pw@127.0.0.1:{port}/", "import-url-not-allowed"),
    ("http://127.0.0.1:8080/", "import-url-not-allowed"),
])
def test_hostile_urls_are_422_problems_and_never_reach_the_canary(
    client: TestClient, canary: LoopbackServer, as_alice: dict[str, str], template: str,
    code: str, caplog: pytest.LogCaptureFixture
) -> None:
    client.app.state.import_fetcher = GuardedFetcher(  # type: ignore[attr-defined]
        extra_ports=frozenset({canary.port}))
    with caplog.at_level(logging.WARNING, logger="homechef.security"):
        response = client.post(URL, json={"url": template.format(port=canary.port)},
                               headers=as_alice)
    body = assert_problem(response, 422, code)
    assert "127.0.0.1" not in body["detail"] and "::1" not in body["detail"]
    assert canary.hit_count == 0
    assert any(getattr(r, "event", "") == "import.fetch_refused" for r in caplog.records)


def test_the_default_app_refuses_loopback_even_on_a_standard_port(
    client: TestClient, as_alice: dict[str, str]
) -> None:
    response = client.post(URL, json={"url": "http://localhost/"}, headers=as_alice)
    assert_problem(response, 422, "import-address-not-allowed")


def test_url_import_is_rate_limited_per_user(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings],
    as_alice: dict[str, str], as_bob: dict[str, str]
) -> None:
    client = make_client(make_settings(RATE_LIMIT_ENABLED=True, RATE_LIMIT_IMPORT="2/minute"))
    for _ in range(2):
        assert_problem(client.post(URL, json={"url": "file:///x"}, headers=as_alice), 422)
    limited = client.post(URL, json={"url": "file:///x"}, headers=as_alice)
    assert_problem(limited, 429, "rate-limited")
    assert int(limited.headers["Retry-After"]) >= 1
    assert_problem(client.post(URL, json={"url": "file:///x"}, headers=as_bob), 422)
    # Pasting a page fetches nothing and is not counted.
    pasted = client.post("/api/v1/recipe-imports/html", json={"html": pages.array_page()},
                         headers=as_alice)
    assert pasted.status_code == 200


def test_no_database_connection_is_held_while_fetching_and_the_flood_gets_503(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings],
    site: LoopbackServer, engine: Engine, as_alice: dict[str, str]
) -> None:
    client = make_client(make_settings(IMPORT_ALLOW_PRIVATE_NETWORKS=True,
                                       IMPORT_MAX_CONCURRENT_FETCHES=1))
    arrived, release = threading.Event(), threading.Event()

    def held(h: object) -> None:
        arrived.set()
        release.wait(10)
        send(h, 200, pages.array_page().encode())  # type: ignore[arg-type]

    site.routes["/held"] = held
    baseline = engine.pool.checkedout()  # type: ignore[attr-defined]
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.post, URL, json={"url": site.url("/held")}, headers=as_alice)
        assert arrived.wait(10)
        during = engine.pool.checkedout()  # type: ignore[attr-defined]
        flood = client.post(URL, json={"url": site.url("/held")}, headers=as_alice)
        release.set()
        assert first.result(timeout=20).status_code == 200
    # Not more than before the request (the baseline may include a connection that the
    # app's start-up, e.g. the revocation feed, was still using and has since returned).
    assert during <= baseline
    assert_problem(flood, 503, "import-busy")
    assert flood.headers["Retry-After"] == "5"
    assert site.hit_count == 1
