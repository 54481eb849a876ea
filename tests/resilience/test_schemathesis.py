"""Schemathesis against the app's own OpenAPI schema: every operation, fuzzed and checked.

Each operation is a test of its own, on a started app (lifespan run) called in-process,
with a real internal token for a user in the database. Runs are bounded and derandomised,
so CI stays fast and repeatable. What is checked is the contract the frontend relies on:
never a 5xx, and every status code, content type and body is one the schema declares.

Path parameters are sometimes swapped for the ids of seeded rows, so reads and writes
reach real recipes, images and users, not only 404s.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.main import create_app
from app.media import service as images_service
from app.media.images import process_image
from app.recipes.models import Recipe
from app.users.models import User
from tests.conftest import make_test_settings
from tests.factories import auth_headers, make_user
from tests.fakes.clerk import FakeClerk
from tests.fakes.svix_signing import new_webhook_secret
from tests.recipes.factories import make_recipe

pytestmark = pytest.mark.postgres

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    # A 405 (schemathesis probes other methods on each path) lists what the path allows.
    allow_header_conformance,
]

#: Operations that end the caller's session or account: each call gets a user of its
#: own, so the token the other calls carry keeps working.
SELF_DESTRUCTIVE = {"POST /api/v1/auth/logout", "DELETE /api/v1/users/me"}
#: Deleting a recipe aims at a spare one, put back whenever it is gone.
RECIPE_DELETE = "DELETE /api/v1/recipes/{recipe_id}"
WEBHOOK = "POST /api/v1/webhooks/clerk"

# Seeded rows have fixed ids, so the generation hook below can name them.
COOK_ID = uuid.UUID("00000000-0000-4000-8000-00000000c001")
OTHER_ID = uuid.UUID("00000000-0000-4000-8000-00000000c002")
MY_RECIPE = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
THEIR_PUBLIC_RECIPE = uuid.UUID("00000000-0000-4000-8000-0000000000a2")
SPARE_RECIPE = uuid.UUID("00000000-0000-4000-8000-0000000000a3")


def _label(method: str, path: str) -> str:
    return f"{method.upper()} {path}"


def declared_operations(openapi: dict[str, Any]) -> set[str]:
    return {_label(method, path) for path, item in openapi["paths"].items() for method in item}


# The document /openapi.json serves (test_the_fuzzed_schema_is_the_served_one proves it);
# built without a database, since parametrisation happens at collection time.
OPENAPI = create_app(make_test_settings(None)).openapi()
schema = schemathesis.openapi.from_dict(OPENAPI)


@schema.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    operation = context.operation
    if operation is None or not path_parameters:
        return st.just(path_parameters)
    if "recipe_id" in path_parameters:
        deleting = _label(operation.method, operation.path) == RECIPE_DELETE
        ids = [SPARE_RECIPE] if deleting else [MY_RECIPE, THEIR_PUBLIC_RECIPE]
        return _sometimes(path_parameters, "recipe_id", ids)
    if "user_id" in path_parameters:
        return _sometimes(path_parameters, "user_id", [COOK_ID, OTHER_ID])
    return st.just(path_parameters)


def _sometimes(
    parameters: dict[str, Any], name: str, ids: list[uuid.UUID]
) -> st.SearchStrategy[dict[str, Any]]:
    seeded = st.sampled_from([{**parameters, name: str(i)} for i in ids])
    return st.one_of(st.just(parameters), seeded)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 30)).save(out, "JPEG", quality=80)
    return out.getvalue()


@dataclass
class FuzzTarget:
    app: FastAPI
    db: Session
    cook: User
    headers: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, list[int]] = field(default_factory=dict)

    def headers_for(self, label: str) -> dict[str, str]:
        if label in SELF_DESTRUCTIVE:
            return auth_headers(self.app, make_user(self.db))
        return self.headers

    def put_back_spare_recipe(self) -> None:
        if self.db.get(Recipe, SPARE_RECIPE, populate_existing=True) is None:
            make_recipe(self.db, self.cook, id=SPARE_RECIPE, tags=["spare"],
                        ingredients=["salt"], steps=["Stir."])


def _seed(db: Session, app_settings: Settings) -> User:
    cook = make_user(db, id=COOK_ID, display_name="Cook")
    other = make_user(db, id=OTHER_ID)
    make_recipe(db, cook, id=MY_RECIPE, tags=["soup"], ingredients=["tomato"], steps=["Cook."])
    make_recipe(db, other, id=THEIR_PUBLIC_RECIPE, visibility="public", steps=["Bake."])
    processed = process_image(io.BytesIO(_jpeg()), max_pixels=app_settings.MAX_IMAGE_PIXELS)
    images_service.replace_cover(db, MY_RECIPE, cook.id, processed)
    db.commit()
    return cook


@pytest.fixture
def fuzz(
    make_settings: Callable[..., Settings], engine: Engine, db: Session
) -> Iterator[FuzzTarget]:
    with FakeClerk() as clerk:
        app_settings = make_settings(
            CLERK_JWKS_URL=clerk.jwks_url,
            CLERK_ISSUER=clerk.issuer,
            CLERK_SECRET_KEY=clerk.secret_key,
            CLERK_API_URL=clerk.api_url,
            CLERK_WEBHOOK_SECRET=new_webhook_secret(),
        )
        app = create_app(app_settings, engine=engine)
        target = FuzzTarget(app=app, db=db, cook=_seed(db, app_settings))
        target.put_back_spare_recipe()
        # Loading the served schema starts the app's lifespan where schemathesis will call
        # it (key ring, engine, sessions), as a server would; only then can a token be signed.
        served = schemathesis.openapi.from_asgi("/openapi.json", app)
        try:
            assert served.raw_schema == OPENAPI
            target.headers = auth_headers(app, target.cook)
            yield target
        finally:
            shutdown_lifespans()
    # One test per operation, which must have called it (not only probed other methods).
    assert len(target.statuses) == 1 and all(target.statuses.values()), target.statuses


def test_a_405_lists_every_method_of_the_path(client: TestClient) -> None:
    # The router alone names only the first matching route's methods ("GET").
    response = client.put("/api/v1/users/me")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PATCH"


def test_the_fuzzed_schema_covers_every_served_operation() -> None:
    operations = {
        _label(result.ok().method, result.ok().path) for result in schema.get_all_operations()
    }
    assert operations == declared_operations(OPENAPI)
    assert len(operations) >= 20


def test_every_operation_with_a_json_body_declares_the_400_for_a_malformed_one() -> None:
    """Fuzzing finds an undocumented 400 only when it happens to send broken JSON; this
    checks the whole schema every run."""
    missing = [
        f"{method.upper()} {path}"
        for path, operations in OPENAPI["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
        and "400" not in operation["responses"]
    ]
    assert missing == []


@schema.parametrize()
@settings(
    max_examples=20, deadline=None, derandomize=True, database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_declared(case: schemathesis.Case, fuzz: FuzzTarget) -> None:
    # The operation under test: some generated cases probe other methods on its path.
    label = _label(case.operation.method, case.operation.path)
    if label == RECIPE_DELETE:
        fuzz.put_back_spare_recipe()
    response = case.call_and_validate(
        app=fuzz.app, headers=fuzz.headers_for(label), checks=CHECKS
    )
    if case.method.upper() != case.operation.method.upper():
        return
    fuzz.statuses.setdefault(label, []).append(response.status_code)
    if label == WEBHOOK:
        # No case can carry a valid Svix signature: refused before anything is parsed.
        assert response.status_code in (400, 413, 503), response.text
