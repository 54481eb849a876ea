"""If-Match that is no ETag at all, the scaled view's ETag, and a PATCH that changes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.recipes.support import RECIPES, assert_problem, payload


@pytest.fixture
def created(client: TestClient, as_alice: dict[str, str]):
    return client.post(RECIPES, json=payload(), headers=as_alice)


@pytest.mark.parametrize("if_match", [
    '"<etag>"',                            # the README's placeholder, pasted as is
    "0123456789abcdef0123456789abcdef",    # the hex without its quotes
    '"abc"', "etag", '"0123456789abcdef0123456789abcdef", garbage', ",", "W/", '"' * 34,
])
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_an_if_match_that_is_no_etag_is_a_400_saying_what_one_looks_like(
    client: TestClient, as_alice: dict[str, str], created, if_match: str, method: str
) -> None:
    url = created.headers["location"]
    response = client.request(method, url, headers={**as_alice, "If-Match": if_match},
                              json={"title": "x"} if method == "PATCH" else None)
    body = assert_problem(response, 400, "malformed-if-match")
    assert "quoted string" in body["detail"] and "?servings=" in body["detail"]
    assert client.get(url, headers=as_alice).json()["version"] == 1


@pytest.mark.parametrize("form", ["{etag}", "W/{etag}", "*", ' "{other}" , {etag}'])
def test_well_formed_if_match_forms_are_accepted(
    client: TestClient, as_alice: dict[str, str], created, form: str
) -> None:
    etag = created.headers["etag"]
    if_match = form.format(etag=etag, other="0" * 32)
    response = client.patch(created.headers["location"], json={"title": "Renamed"},
                            headers={**as_alice, "If-Match": if_match})
    assert response.status_code == 200, response.text


def test_the_scaled_views_etag_is_stale_for_writes_send_the_unscaled_one(
    client: TestClient, as_alice: dict[str, str], created
) -> None:
    url = created.headers["location"]
    scaled = client.get(f"{url}?servings=2", headers=as_alice).headers["etag"]
    plain = client.get(url, headers=as_alice).headers["etag"]
    assert scaled != plain
    stale = client.patch(url, json={"title": "x"}, headers={**as_alice, "If-Match": scaled})
    assert_problem(stale, 412, "recipe-changed")
    ok = client.patch(url, json={"title": "x"}, headers={**as_alice, "If-Match": plain})
    assert ok.status_code == 200


def test_a_patch_that_changes_nothing_keeps_version_and_etag(
    client: TestClient, as_alice: dict[str, str], created
) -> None:
    url, etag = created.headers["location"], created.headers["etag"]
    body = created.json()
    same = {
        "title": body["title"], "servings": body["servings"], "visibility": "private",
        "tags": list(reversed(body["tags"])),
        # "800" as sent at creation, stored as 800.0000: the same quantity.
        "ingredients": payload()["ingredients"],
        "steps": [{"text": s["text"]} for s in body["steps"]],
    }
    response = client.patch(url, json=same, headers={**as_alice, "If-Match": etag})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1
    assert response.headers["etag"] == etag
    assert response.json() == client.get(url, headers=as_alice).json()


@pytest.mark.parametrize("change", [
    {"title": "Other"}, {"description": None}, {"tags": ["soup"]},
    {"ingredients": [{"quantity": "801", "unit": "g", "name": "tomatoes", "note": "ripe"}]},
    {"steps": [{"text": "Chop the tomatoes."}]},
])
def test_a_patch_that_changes_one_thing_bumps_the_version(
    client: TestClient, as_alice: dict[str, str], created, change: dict
) -> None:
    response = client.patch(created.headers["location"], json=change, headers=as_alice)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    assert response.headers["etag"] != created.headers["etag"]


def test_a_noop_patch_with_a_stale_etag_is_still_412(
    client: TestClient, as_alice: dict[str, str], created
) -> None:
    url, etag = created.headers["location"], created.headers["etag"]
    client.patch(url, json={"title": "Moved on"}, headers=as_alice)
    response = client.patch(url, json={"title": "Moved on"},
                            headers={**as_alice, "If-Match": etag})
    assert_problem(response, 412)


def test_the_export_prints_quantities_as_the_api_does(
    client: TestClient, as_alice: dict[str, str], created
) -> None:
    shown = [i["quantity"] for i in created.json()["ingredients"]]
    export = client.get("/api/v1/users/me/export", headers=as_alice).json()
    (recipe,) = export["recipes"]
    assert [i["quantity"] for i in recipe["ingredients"]] == shown == ["800", "1", None]
