"""Helpers shared by the recipes API tests."""

from __future__ import annotations

from typing import Any

import httpx

RECIPES = "/api/v1/recipes"
TAGS = "/api/v1/tags"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "request_id"}


def recipe_url(recipe_id: object) -> str:
    return f"{RECIPES}/{recipe_id}"


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body


def comparable(body: dict[str, Any]) -> dict[str, Any]:
    """A problem body without what differs per request (request id and path)."""
    return {k: v for k, v in body.items() if k not in ("request_id", "instance")}


def payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Tomato Soup",
        "description": "A warming soup.",
        "servings": 4,
        "prep_minutes": 10,
        "cook_minutes": 25,
        "cuisine": "Italian",
        "source_url": "https://example.com/soup",
        "visibility": "private",
        "tags": ["Soup", "vegan"],
        "ingredients": [
            {"quantity": "800", "unit": "g", "name": "tomatoes", "note": "ripe"},
            {"quantity": "1", "unit": "tbsp", "name": "olive oil"},
            {"name": "salt"},
        ],
        "steps": [{"text": "Chop the tomatoes."}, {"text": "Simmer for 20 minutes."}],
    }
    body.update(overrides)
    return body
