"""Body caps while streaming (declared, chunked), per path; hostile JSON never reaches a 500."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from fastapi import Body, Request
from fastapi.testclient import TestClient

from app.core.body_limit import MAX_JSON_DEPTH, json_nesting_exceeds
from app.core.config import Settings
from tests.hardening.support import assert_problem

KIB = 1024
JSON_LIMIT = 64 * KIB
WEBHOOK_LIMIT = 4 * KIB


def _accept_json(payload: Any = Body()) -> dict[str, str]:
    return {"type": type(payload).__name__}


async def _accept_raw(request: Request) -> dict[str, int]:
    return {"bytes": len(await request.body())}


@pytest.fixture
def body_client(
    make_client: Callable[..., TestClient], make_settings: Callable[..., Settings]
) -> TestClient:
    client = make_client(
        make_settings(MAX_JSON_BODY_BYTES=JSON_LIMIT, MAX_WEBHOOK_BODY_BYTES=WEBHOOK_LIMIT)
    )
    client.app.add_api_route("/test/json", _accept_json, methods=["POST"])  # type: ignore[attr-defined]
    client.app.add_api_route("/test/raw", _accept_raw, methods=["POST"])  # type: ignore[attr-defined]
    return client


@pytest.fixture
def default_client(make_client: Callable[..., TestClient], settings: Settings) -> TestClient:
    """The default 1 MiB cap: room for 100k nested arrays to meet the depth rule."""
    client = make_client(settings)
    client.app.add_api_route("/test/json", _accept_json, methods=["POST"])  # type: ignore[attr-defined]
    return client


def drive(client: TestClient, path: str, chunks: list[bytes], headers: dict[str, str]) -> dict:
    """Send ``chunks`` as separate ASGI messages, as uvicorn does for a chunked body.

    (TestClient reads a streamed body whole before handing it over.) Returns the status,
    response headers and body, and how many chunks the application pulled.
    """
    app = client.app
    pulled = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal pulled
        if pulled < len(chunks):
            pulled += 1
            return {"type": "http.request", "body": chunks[pulled - 1],
                    "more_body": pulled < len(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "app": app, "state": {},
    }
    anyio.run(app, scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    response_headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return {"status": start["status"], "headers": response_headers, "body": body,
            "pulled": pulled}


def test_declared_oversize_body_is_413_problem_without_reading_it(body_client: TestClient) -> None:
    response = body_client.post("/test/json", content=b"[" + b"1," * JSON_LIMIT + b"1]",
                                headers={"content-type": "application/json"})
    body = assert_problem(response, 413, "payload-too-large")
    assert str(JSON_LIMIT) in body["detail"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_chunked_oversize_body_is_cut_off_while_streaming(body_client: TestClient) -> None:
    chunks = [b"x" * (8 * KIB)] * 64  # 512 KiB, no Content-Length
    result = drive(body_client, "/test/raw", chunks, {"content-type": "application/octet-stream"})
    assert result["status"] == 413
    assert result["headers"]["content-type"] == "application/problem+json"
    problem = json.loads(result["body"])
    assert problem["type"] == "urn:homechef:problem:payload-too-large"
    # It stopped reading right after the cap, not at the end of the body.
    assert result["pulled"] == JSON_LIMIT // (8 * KIB) + 1


def test_chunked_json_over_the_cap_is_413_too(body_client: TestClient) -> None:
    chunks = [b"[" + b"1," * 4000] + [b"1," * 4000] * 20 + [b"1]"]
    result = drive(body_client, "/test/json", chunks, {"content-type": "application/json"})
    assert result["status"] == 413
    assert result["pulled"] < len(chunks)


def test_chunked_body_under_the_cap_is_served(body_client: TestClient) -> None:
    chunks = [b'{"a": "', b"y" * (30 * KIB), b'"}']
    result = drive(body_client, "/test/json", chunks, {"content-type": "application/json"})
    assert result["status"] == 200, result["body"]
    assert json.loads(result["body"]) == {"type": "dict"}


def test_the_webhook_has_its_own_smaller_cap(body_client: TestClient) -> None:
    big = json.dumps({"data": "z" * (2 * WEBHOOK_LIMIT)}).encode()
    assert_problem(body_client.post("/api/v1/webhooks/clerk", content=big), 413)
    assert body_client.post("/test/json", content=big,
                            headers={"content-type": "application/json"}).status_code == 200


def test_the_image_upload_route_is_left_to_its_own_cap(body_client: TestClient) -> None:
    # Over the JSON cap but under MAX_UPLOAD_BYTES: not refused by the body-limit middleware.
    response = body_client.put("/api/v1/recipes/0b8a3d55-6b2b-4b7e-9a55-6bb8d1d8f0f1/image",
                               content=b"\x89PNG" + b"0" * (2 * JSON_LIMIT),
                               headers={"content-type": "image/png"})
    assert response.status_code != 413, response.text
    assert response.status_code < 500


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b"[" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b'{"ok": [' + b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1) + b"]}",
    ],
    ids=["100k-arrays", "100k-unclosed", "50k-objects", "just-over-the-depth"],
)
@pytest.mark.parametrize("content_type", ["application/json", "application/merge-patch+json", None])
def test_deeply_nested_json_is_413_never_a_500(
    default_client: TestClient, payload: bytes, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = default_client.post("/test/json", content=payload, headers=headers)
    body = assert_problem(response, 413, "payload-too-large")
    assert "nested" in body["detail"]


def test_nesting_inside_strings_is_just_text(body_client: TestClient) -> None:
    payload = json.dumps({"note": "[" * 5000 + "{" * 5000, "escaped": '\\"[[[['}).encode()
    response = body_client.post("/test/json", content=payload,
                                headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text


def test_reasonable_nesting_is_accepted(body_client: TestClient) -> None:
    payload = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    response = body_client.post("/test/json", content=payload,
                                headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "payload",
    [b"9" * 5000, b'{"a": ' + b"1" * 10_000 + b"}", b"\xff\xfe", b"{" * 10],
    ids=["huge-int", "huge-int-in-object", "not-utf8", "unclosed"],
)
def test_hostile_json_is_a_4xx_problem(body_client: TestClient, payload: bytes) -> None:
    response = body_client.post("/test/json", content=payload,
                                headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_depth_scan_handles_quotes_and_escapes() -> None:
    assert not json_nesting_exceeds(b'"\\"' + b"[" * 100)  # an open string to the end
    assert json_nesting_exceeds(b'"\\\\"' + b"[" * 100)  # an escaped backslash closes it
    assert not json_nesting_exceeds(b'["' + b"a]]]][[[[{{{{" * 100 + b'"]')
    assert json_nesting_exceeds(b'["x", ' * 100 + b"]" * 100)
