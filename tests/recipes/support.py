"""Helpers shared by the recipes API tests."""

from __future__ import annotations

from typing import Any

from tests.problems import assert_problem as assert_problem  # re-exported

RECIPES = "/api/v1/recipes"
TAGS = "/api/v1/tags"


def recipe_url(recipe_id: object) -> str:
    return f"{RECIPES}/{recipe_id}"



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
