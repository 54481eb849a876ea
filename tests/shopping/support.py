"""Helpers shared by the shopping-list API tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.problems import assert_problem as assert_problem  # re-exported

LISTS = "/api/v1/shopping-lists"


def list_url(list_id: object) -> str:
    return f"{LISTS}/{list_id}"


def items_url(list_id: object) -> str:
    return f"{LISTS}/{list_id}/items"


def item_url(list_id: object, item_id: object) -> str:
    return f"{LISTS}/{list_id}/items/{item_id}"


def recipes_url(list_id: object) -> str:
    return f"{LISTS}/{list_id}/recipes"


def new_list(client: TestClient, headers: dict[str, str], name: str = "Groceries") -> str:
    response = client.post(LISTS, json={"name": name}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def add_item(
    client: TestClient, headers: dict[str, str], list_id: str, **body: Any
) -> dict[str, Any]:
    response = client.post(items_url(list_id), json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def add_recipe(
    client: TestClient, headers: dict[str, str], list_id: str, recipe_id: object,
    servings: int | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"recipe_id": str(recipe_id)}
    if servings is not None:
        body["servings"] = servings
    response = client.post(recipes_url(list_id), json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def lines(detail: dict[str, Any]) -> list[tuple[str, str | None, str | None, bool]]:
    """(name, quantity, unit, checked) of each item, in list order."""
    return [(i["name"], i["quantity"], i["unit"], i["checked"]) for i in detail["items"]]
