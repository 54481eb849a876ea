"""The one assertion for the project's one error shape (RFC 9457 problem details)."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "request_id"}


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    """A refusal in the problem shape: right status, request id echoed, nothing leaked."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    if code is not None:
        assert body["type"] == f"urn:homechef:problem:{code}", body
    assert "Traceback" not in response.text
    return body
