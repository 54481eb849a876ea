"""The database goes away while recipes are being written, then comes back.

The app's only path to PostgreSQL is a loopback TCP proxy (tests/fakes/tcp_proxy.py) that
the test cuts (live connections killed, new ones refused) and restores. What the database
holds is checked on the real server, around the proxy. The promises:

- during the outage every write is a 503 problem, never a 500;
- once the database is back, the same process serves again within 5 seconds;
- every write answered 2xx is in the database, whole; no write that failed is half there.

A failed commit is the one ambiguous case: the COMMIT may have reached the server with its
acknowledgement lost. Such a write is allowed to be in the database, but only whole.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, selectinload

from app.core.config import Settings
from app.main import create_app
from app.recipes.models import Recipe
from app.users.models import User
from tests.factories import auth_headers, make_user
from tests.fakes.tcp_proxy import TcpProxy
from tests.hardening.support import assert_problem

pytestmark = pytest.mark.postgres

RECIPES = "/api/v1/recipes"
ME = "/api/v1/users/me"
#: The requirement: service again within this many seconds of the database returning.
RECOVERY_BOUND = 5.0
#: Generous bounds for the phases of the write stream; they only stop a hung test.
PHASE_TIMEOUT = 60.0


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    with TcpProxy("127.0.0.1", 5432) as running:
        yield running


@pytest.fixture
def proxied(
    pg_url: str, proxy: TcpProxy, make_settings: Callable[..., Settings], engine: Engine
) -> Iterator[TestClient]:
    """An app with its own engine whose every connection goes through ``proxy``.

    Short pool and connect timeouts, so an outage answers in seconds, not the defaults'.
    (``engine`` is requested so the tables are emptied after the test.)
    """
    database = urlsplit(pg_url).path.lstrip("/")
    settings = make_settings(
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{proxy.port}/{database}",
        DB_POOL_SIZE=3, DB_MAX_OVERFLOW=0, DB_POOL_TIMEOUT=2, DB_CONNECT_TIMEOUT=2,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def cook(db: Session) -> User:
    return make_user(db)


# --- what the writer sends, and what the database must then hold -----------------------------


def created_payload(marker: str) -> dict[str, Any]:
    """A new recipe: two of each list, every item carrying the write's marker."""
    return {
        "title": f"Bread {marker}",
        "servings": 2,
        "tags": [marker, "outage"],
        "ingredients": [{"quantity": "500", "unit": "g", "name": f"{marker} flour"},
                        {"name": f"{marker} water"}],
        "steps": [{"text": f"{marker} mix"}, {"text": f"{marker} bake"}],
    }


def patched_payload(marker: str) -> dict[str, Any]:
    """A replacement of every list, with three items each: a half-applied PATCH shows."""
    return {
        "title": f"Bread {marker}",
        "tags": [marker],
        "ingredients": [{"name": f"{marker} {n}"} for n in ("rye", "salt", "yeast")],
        "steps": [{"text": f"{marker} step {n}"} for n in range(3)],
    }


@dataclass(frozen=True)
class Shape:
    """The parts of a recipe a write replaces, as the API shows them."""

    title: str
    version: int
    tags: tuple[str, ...]
    ingredients: tuple[str, ...]
    steps: tuple[str, ...]

    @classmethod
    def of_response(cls, body: dict[str, Any]) -> Shape:
        return cls(body["title"], body["version"], tuple(body["tags"]),
                   tuple(i["name"] for i in body["ingredients"]),
                   tuple(s["text"] for s in body["steps"]))

    @classmethod
    def of_row(cls, recipe: Recipe) -> Shape:
        return cls(recipe.title, recipe.version, tuple(sorted(t.tag for t in recipe.tags)),
                   tuple(i.name for i in sorted(recipe.ingredients, key=lambda i: i.position)),
                   tuple(s.text for s in sorted(recipe.steps, key=lambda s: s.position)))

    @property
    def marker(self) -> str:
        return self.title.removeprefix("Bread ")

    def is_whole(self) -> bool:
        """Every list is from the same write as the title, in that write's shape."""
        marker = self.marker
        items = (*self.tags, *self.ingredients, *self.steps)
        if not all(item.startswith(marker) or item == "outage" for item in items):
            return False
        if self.version == 1:  # as created
            return (len(self.ingredients), len(self.steps)) == (2, 2) and "outage" in self.tags
        return (len(self.tags), len(self.ingredients), len(self.steps)) == (1, 3, 3)


def stored_recipes(db: Session) -> dict[uuid.UUID, Shape]:
    """Read on the real database, not through the proxy."""
    db.expire_all()
    rows = db.scalars(select(Recipe).options(
        selectinload(Recipe.tags), selectinload(Recipe.ingredients), selectinload(Recipe.steps)
    ))
    return {recipe.id: Shape.of_row(recipe) for recipe in rows}


# --- a client writing steadily, in its own thread ------------------------------------------


@dataclass
class Write:
    kind: str  # "create" or "patch"
    marker: str
    status: int
    recipe_id: uuid.UUID | None
    response: httpx.Response

    @property
    def ok(self) -> bool:
        return self.status in (200, 201)


@dataclass
class Writer:
    """Creates a recipe, patches it (If-Match), creates the next one, ... until stopped."""

    client: TestClient
    headers: dict[str, str]
    writes: list[Write] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def run(self) -> None:
        current: tuple[uuid.UUID, str] | None = None  # (id, etag) of the recipe to patch
        for n in range(1, 100_000):
            if self.stop.is_set():
                return
            marker = f"w{n:05d}"
            if current is None or n % 2:
                current = self._create(marker) or current
            else:
                current = self._patch(marker, *current)

    def _create(self, marker: str) -> tuple[uuid.UUID, str] | None:
        response = self.client.post(RECIPES, json=created_payload(marker), headers=self.headers)
        recipe_id = uuid.UUID(response.json()["id"]) if response.status_code == 201 else None
        self._record(Write("create", marker, response.status_code, recipe_id, response))
        return (recipe_id, response.headers["etag"]) if recipe_id else None

    def _patch(self, marker: str, recipe_id: uuid.UUID, etag: str) -> tuple[uuid.UUID, str]:
        url = f"{RECIPES}/{recipe_id}"
        response = self.client.patch(url, json=patched_payload(marker),
                                     headers={**self.headers, "If-Match": etag})
        self._record(Write("patch", marker, response.status_code, recipe_id, response))
        if response.status_code == 200:
            return recipe_id, response.headers["etag"]
        if response.status_code == 412:
            # Only after a failed commit that did land: read the version that won.
            fresh = self.client.get(url, headers=self.headers)
            if fresh.status_code == 200:
                return recipe_id, fresh.headers["etag"]
        return recipe_id, etag

    def _record(self, write: Write) -> None:
        with self.changed:
            self.writes.append(write)
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[list[Write]], bool], what: str) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: predicate(self.writes), PHASE_TIMEOUT):
                pytest.fail(f"timed out waiting for {what}: {self._summary()}")

    def count(self, since: int, *, ok: bool) -> Callable[[list[Write]], int]:
        return lambda writes: sum(1 for w in writes[since:] if w.ok == ok)

    def _summary(self) -> list[tuple[str, int]]:
        return [(w.kind, w.status) for w in self.writes]


def wait_until_served(client: TestClient, headers: dict[str, str]) -> float:
    """Seconds from now until an authenticated read succeeds; fails past RECOVERY_BOUND."""
    started = time.monotonic()
    while True:
        response = client.get(ME, headers=headers)
        elapsed = time.monotonic() - started
        if response.status_code == 200:
            return elapsed
        assert response.status_code == 503, response.text
        if elapsed > RECOVERY_BOUND:
            pytest.fail(f"still {response.status_code} {elapsed:.1f}s after the database returned")
        time.sleep(0.05)


def test_writes_across_an_outage_are_503_then_served_and_never_half_applied(
    proxied: TestClient, proxy: TcpProxy, db: Session, cook: User
) -> None:
    headers = auth_headers(proxied.app, cook)  # type: ignore[arg-type]
    writer = Writer(proxied, headers)
    thread = threading.Thread(target=writer.run, name="writer", daemon=True)
    thread.start()
    try:
        writer.wait_for(lambda w: writer.count(0, ok=True)(w) >= 6, "writes before the outage")

        proxy.cut()
        cut_at = len(writer.writes)
        writer.wait_for(lambda w: writer.count(cut_at, ok=False)(w) >= 6, "failed writes")

        proxy.restore()
        wait_until_served(proxied, headers)
        back_at = len(writer.writes)
        writer.wait_for(lambda w: writer.count(back_at, ok=True)(w) >= 6, "writes after it")
    finally:
        writer.stop.set()
        thread.join(timeout=PHASE_TIMEOUT)
    assert not thread.is_alive()

    writes = writer.writes
    failed = [w for w in writes if not w.ok]
    assert {w.status for w in writes} <= {200, 201, 412, 503}, writer._summary()
    assert {w.kind for w in failed} == {"create", "patch"}
    for write in failed:
        if write.status == 503:
            assert_problem(write.response, 503, "database-unavailable")
    assert_412_only_after_a_lost_patch(writes)
    assert_database_matches(stored_recipes(db), writes)


def assert_412_only_after_a_lost_patch(writes: list[Write]) -> None:
    # With one writer, an ETag only goes stale when a PATCH answered 503 did commit (the
    # ambiguous case): the PATCH of that recipe before a 412 (other 412s aside) was a 503.
    for i, write in enumerate(writes):
        if write.status == 412:
            earlier = [w.status for w in writes[:i]
                       if w.kind == "patch" and w.recipe_id == write.recipe_id and w.status != 412]
            assert earlier and earlier[-1] == 503, [(w.kind, w.status) for w in writes]


def assert_database_matches(stored: dict[uuid.UUID, Shape], writes: list[Write]) -> None:
    attempted = {w.marker: w for w in writes}
    for recipe_id, shape in stored.items():
        assert shape.is_whole(), shape
        assert shape.marker in attempted, shape
    created = [w for w in writes if w.kind == "create" and w.ok]
    assert {w.recipe_id for w in created} <= stored.keys()
    landed_anyway = {s.marker for s in stored.values()} & {w.marker for w in writes if not w.ok}
    # One cut, one writer: only the write in flight can have lost its acknowledgement.
    assert len(landed_anyway) <= 1, landed_anyway
    for recipe_id, shape in stored.items():
        on_it = [w for w in writes if w.recipe_id == recipe_id or
                 (w.kind == "create" and w.marker == shape.marker)]
        last_ok = [w for w in on_it if w.ok][-1] if any(w.ok for w in on_it) else None
        if last_ok is not None and shape.marker == last_ok.marker:
            # The database holds exactly what the last successful write answered.
            assert shape == Shape.of_response(last_ok.response.json())
        else:
            assert shape.marker in landed_anyway, (shape, last_ok)


# --- the commit itself fails -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["create", "patch"])
def test_a_commit_lost_with_its_connection_is_503_and_changes_nothing(
    proxied: TestClient, proxy: TcpProxy, db: Session, cook: User, kind: str
) -> None:
    headers = auth_headers(proxied.app, cook)  # type: ignore[arg-type]
    created = proxied.post(RECIPES, json=created_payload("base"), headers=headers)
    assert created.status_code == 201, created.text
    before = stored_recipes(db)

    armed = threading.Event()
    statements: list[str] = []
    sent_before_the_commit: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    def cut_before_commit(_connection: Any) -> None:
        # Fires as the connection is about to send COMMIT: the request's statements have
        # all run, and the commit goes out on a dead socket.
        if armed.is_set():
            armed.clear()
            sent_before_the_commit.extend(statements)
            proxy.cut()

    app_engine: Engine = proxied.app.state.engine  # type: ignore[attr-defined]
    event.listen(app_engine, "before_cursor_execute", record)
    event.listen(app_engine, "commit", cut_before_commit)
    try:
        armed.set()
        if kind == "create":
            response = proxied.post(RECIPES, json=created_payload("lost"), headers=headers)
        else:
            response = proxied.patch(created.headers["location"], json=patched_payload("lost"),
                                     headers={**headers, "If-Match": created.headers["etag"]})
    finally:
        event.remove(app_engine, "commit", cut_before_commit)
        event.remove(app_engine, "before_cursor_execute", record)
    assert not armed.is_set(), "the commit hook never fired"
    write = "INSERT INTO recipes " if kind == "create" else "UPDATE recipes SET"
    assert any(s.startswith(write) for s in sent_before_the_commit), sent_before_the_commit
    assert_problem(response, 503, "database-unavailable")

    assert stored_recipes(db) == before
    proxy.restore()
    wait_until_served(proxied, headers)
    again = proxied.post(RECIPES, json=created_payload("after"), headers=headers)
    assert again.status_code == 201, again.text
