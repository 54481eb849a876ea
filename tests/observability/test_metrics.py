"""GET /metrics: guarded by METRICS_TOKEN, route templates only, security signals counted,
and a bounded number of series whatever a hostile client sends."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.core.config import Settings
from tests.factories import auth_headers, make_user

METRICS_TOKEN = "metrics-" + uuid.uuid4().hex + uuid.uuid4().hex
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}
_SAMPLE = re.compile(r'^(?P<name>[a-z_:]+)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$')


def samples(text: str) -> dict[tuple[str, str], float]:
    found: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match:
            found[(match["name"], match["labels"] or "")] = float(match["value"])
    return found


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    wanted = [f'{key}="{val}"' for key, val in labels.items()]
    return sum(
        v for (n, found), v in samples(text).items()
        if n == name and all(w in found.split(",") for w in wanted)
    )


def _series(text: str) -> set[str]:
    return {line.rsplit(" ", 1)[0] for line in text.splitlines() if line.startswith("homechef_")}


@pytest.fixture
def metered(make_client: Callable[..., TestClient], make_settings: Callable[..., Settings]
            ) -> TestClient:
    return make_client(make_settings(METRICS_TOKEN=METRICS_TOKEN))


def test_metrics_do_not_exist_without_a_configured_token(client: TestClient) -> None:
    response = client.get("/metrics", headers=SCRAPE)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("header", [
    None, "Bearer wrong", f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x",
    f"Bearer {METRICS_TOKEN[:-1]}",
])
def test_metrics_refuse_any_other_credential(metered: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}

    response = metered.get("/metrics", headers=headers)

    assert response.status_code == 401
    assert "homechef_" not in response.text


def test_requests_are_counted_by_route_template_never_by_raw_path(
    metered: TestClient, db: Session
) -> None:
    user = make_user(db)
    headers = auth_headers(metered.app, user)  # type: ignore[arg-type]
    missing = uuid.uuid4()
    before = metered.get("/metrics", headers=SCRAPE).text

    for _ in range(3):
        assert metered.get(f"/api/v1/recipes/{missing}", headers=headers).status_code == 404
    after = metered.get("/metrics", headers=SCRAPE)

    assert after.status_code == 200
    assert after.headers["content-type"].startswith("text/plain")
    labels = {"route": "/api/v1/recipes/{recipe_id}", "method": "GET", "status_class": "4xx"}
    counted = value(after.text, "homechef_http_requests_total", **labels) - value(
        before, "homechef_http_requests_total", **labels)
    assert counted == 3
    assert str(missing) not in after.text
    assert value(after.text, "homechef_http_request_duration_seconds_count",
                 route="/api/v1/recipes/{recipe_id}", method="GET") >= 3
    assert "homechef_http_requests_in_flight" in after.text
    assert "homechef_db_pool_checked_out" in after.text


def test_token_rejections_are_counted_by_reason(metered: TestClient) -> None:
    before = metered.get("/metrics", headers=SCRAPE).text

    metered.get("/api/v1/users/me", headers={"Authorization": "Bearer not-a-jwt"})
    metered.get("/api/v1/users/me")
    after = metered.get("/metrics", headers=SCRAPE).text

    name = "homechef_security_events_total"
    rejected = value(after, name, event="auth.token_rejected", kind="internal") - value(
        before, name, event="auth.token_rejected", kind="internal")
    assert rejected == 2
    assert "not-a-jwt" not in after


def test_a_hostile_run_keeps_the_number_of_series_bounded(
    metered: TestClient, db: Session
) -> None:
    user = make_user(db)
    headers = auth_headers(metered.app, user)  # type: ignore[arg-type]
    # The registry is per process: earlier tests' routes are in it already. What a
    # hostile client must not do is add series with what it sends.
    before = _series(metered.get("/metrics", headers=SCRAPE).text)
    for i in range(300):
        marker = uuid.uuid4().hex
        metered.get(f"/api/v1/{marker}/{i}")  # unmatched paths
        metered.get(f"/api/v1/recipes/{uuid.uuid4()}", headers=headers)
        metered.request(f"X{marker[:6].upper()}", "/api/v1/recipes")  # made-up methods
        metered.get("/api/v1/users/me", headers={
            "Authorization": f"Bearer {marker}.{marker}.{marker}", "X-Request-ID": marker * 2,
            "X-Forwarded-For": f"10.{i % 250}.0.1"})
    text = metered.get("/metrics", headers=SCRAPE).text

    series = _series(text)
    # Route x method x status class, each with a histogram: a few dozen new series at most,
    # however many distinct paths, methods, tokens and addresses were sent.
    assert len(series - before) < 60, sorted(series - before)
    assert not re.search(r"[0-9a-f]{32}", "\n".join(series))
    assert "10.1.0.1" not in text
    assert 'route="<unmatched>"' in text
    assert 'method="other"' in text
