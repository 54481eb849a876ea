"""Traces: off by default; with a span processor, one request is one trace with its
database spans under the route's span, tied to the access line, with no query values,
SQL parameters or tokens in any attribute."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core import tracing
from app.core.config import Settings
from app.main import create_app
from tests.factories import auth_headers, make_user
from tests.recipes.factories import make_recipe


@pytest.fixture
def traced(engine: Engine, settings: Settings) -> Iterator[tuple[TestClient, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    app = create_app(settings, engine=engine, span_processor=SimpleSpanProcessor(exporter))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, exporter


def test_tracing_is_off_unless_the_otel_variables_turn_it_on(
    make_settings: Callable[..., Settings]
) -> None:
    assert not make_settings().tracing_enabled
    assert make_settings(OTEL_TRACES_EXPORTER="otlp").tracing_enabled
    assert make_settings(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318").tracing_enabled
    assert not make_settings(OTEL_TRACES_EXPORTER="none").tracing_enabled
    assert not make_settings(OTEL_TRACES_EXPORTER="otlp", OTEL_SDK_DISABLED=True).tracing_enabled


def test_a_request_without_tracing_has_no_trace_id(client: TestClient) -> None:
    assert tracing.current_trace_id() is None
    assert client.get("/health").status_code == 200


def test_one_request_is_one_trace_with_the_database_under_the_route(
    traced: tuple[TestClient, InMemorySpanExporter], db: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, exporter = traced
    user = make_user(db)
    recipe = make_recipe(db, user, title="Traced soup")
    headers = auth_headers(client.app, user)  # type: ignore[arg-type]
    exporter.clear()

    with caplog.at_level(logging.INFO, logger="homechef.access"):
        response = client.get(f"/api/v1/recipes/{recipe.id}?servings=3&secret=swordfish",
                              headers={**headers, "X-Request-ID": "trace-me-0001"})

    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    assert len({span.context.trace_id for span in spans}) == 1
    server = [s for s in spans if s.parent is None]
    assert len(server) == 1
    root = server[0]
    assert root.name == "GET /api/v1/recipes/{recipe_id}"
    assert root.attributes[tracing.REQUEST_ID_ATTRIBUTE] == "trace-me-0001"
    db_spans = [s for s in spans if "db.system" in (s.attributes or {})
                or "db.system.name" in (s.attributes or {})]
    assert db_spans, [s.name for s in spans]
    by_id = {s.context.span_id: s for s in spans}
    for span in db_spans:  # each database span descends from the route's span
        parent = span.parent
        while parent is not None and parent.span_id != root.context.span_id:
            parent = by_id[parent.span_id].parent
        assert parent is not None
    everything = json.dumps([dict(s.attributes or {}) for s in spans])
    assert "swordfish" not in everything
    assert "servings=3" not in everything
    assert str(user.id) not in everything  # SQL parameters stay out
    assert headers["Authorization"].split()[1] not in everything
    access = [r for r in caplog.records if getattr(r, "event", "") == "http.access"]
    assert access[-1].trace_id == format(root.context.trace_id, "032x")
    assert access[-1].request_id == "trace-me-0001"
