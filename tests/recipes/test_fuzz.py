"""Generated hostile input never produces a 500: it is stored cleanly or refused with 422/400."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from tests.recipes.support import RECIPES, assert_problem

HOSTILE_TEXT = st.sampled_from([
    "\x00", "a\x00b", "\ud800", "\udfff", "\x1b[2J", "\u0085", "\r", "<script>x</script>",
    "<b></b>", "&#0;", "&amp;lt;", "'; DROP TABLE recipes; --", "%_\\", "🍅" * 50, "\u202e",
    "x" * 201, "y" * 5_001, " ", "", "NaN", "1e999",
])
TEXT = st.one_of(st.text(max_size=60), HOSTILE_TEXT)
NUMBER = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)
SCALAR = st.one_of(st.none(), st.booleans(), NUMBER, TEXT)
ANY_JSON = st.recursive(
    SCALAR,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=10,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually the well-typed value, sometimes anything at all."""
    return st.one_of(strategy, strategy, ANY_JSON)


INGREDIENT = st.fixed_dictionaries(
    {"name": maybe(TEXT)},
    optional={"quantity": maybe(NUMBER), "unit": maybe(TEXT), "note": maybe(TEXT),
              "position": ANY_JSON},
)
RECIPE = st.fixed_dictionaries(
    {"title": maybe(TEXT)},
    optional={
        "description": maybe(TEXT),
        "servings": maybe(st.integers(min_value=-5, max_value=1_005)),
        "prep_minutes": maybe(st.integers(min_value=-1, max_value=10_081)),
        "cook_minutes": maybe(NUMBER),
        "cuisine": maybe(TEXT),
        "source_url": maybe(st.one_of(TEXT, st.sampled_from([
            "https://example.com/x", "javascript:alert(1)", "http://[::1", "https://a:99999",
        ]))),
        "visibility": maybe(st.sampled_from(["private", "public", "PUBLIC", "friends"])),
        "tags": maybe(st.lists(maybe(TEXT), max_size=22)),
        "ingredients": maybe(st.lists(maybe(INGREDIENT), max_size=4)),
        "steps": maybe(st.lists(maybe(st.fixed_dictionaries({"text": maybe(TEXT)})), max_size=4)),
        "owner_id": ANY_JSON,
        "version": ANY_JSON,
    },
)


SAFE_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=40),
    st.sampled_from(["<b>Soup</b>", "Mac &amp; cheese", "100% rye", "O'Brien", "a_b", "🍅 salad",
                     "  spaced  out  ", "x" * 200, "Ωμέγα", "<i>x</i>&lt;"]),
)
VALID_RECIPE = st.fixed_dictionaries(
    {"title": SAFE_TEXT},
    optional={
        "description": st.one_of(st.none(), SAFE_TEXT),
        "servings": st.integers(min_value=1, max_value=1_000),
        "prep_minutes": st.integers(min_value=0, max_value=10_080),
        "visibility": st.sampled_from(["private", "public"]),
        "tags": st.lists(SAFE_TEXT.map(lambda t: t[:40]), max_size=20),
        "ingredients": st.lists(st.fixed_dictionaries({"name": SAFE_TEXT}, optional={
            "quantity": st.decimals(min_value=0, max_value=10**9, places=4).map(str),
            "unit": st.one_of(st.none(), SAFE_TEXT.map(lambda t: t[:40])),
        }), max_size=5),
        "steps": st.lists(st.fixed_dictionaries({"text": SAFE_TEXT}), max_size=4),
    },
)


@given(body=st.one_of(VALID_RECIPE, RECIPE, ANY_JSON))
def test_no_generated_recipe_payload_is_a_500(client, as_alice, body: Any) -> None:
    # Sent as text so that NaN, Infinity and lone surrogates reach the server as JSON does.
    content = json.dumps(body, allow_nan=True)
    headers = {**as_alice, "content-type": "application/json"}
    response = client.post(RECIPES, content=content, headers=headers)
    event(f"POST {response.status_code}")
    if response.status_code != 201:
        assert_problem(response, 422)
        return
    created = response.json()
    fetched = client.get(response.headers["location"], params={"servings": 7}, headers=as_alice)
    assert fetched.status_code == 200
    assert fetched.json()["title"] == created["title"]
    patched = client.patch(response.headers["location"], content=content, headers=headers)
    assert patched.status_code == 200, patched.text


# Lone surrogates cannot travel in a URL: the client would fail before the server.
URL_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=60),
    HOSTILE_TEXT.filter(lambda t: not any(0xD800 <= ord(c) <= 0xDFFF for c in t)),
)


@given(
    params=st.fixed_dictionaries({}, optional={
        "q": URL_TEXT, "tag": st.lists(URL_TEXT, max_size=3), "ingredient": URL_TEXT,
        "cuisine": URL_TEXT, "owner": st.one_of(URL_TEXT, st.uuids().map(str), st.just("me")),
        "sort": st.sampled_from(["newest", "oldest", "title", "quickest", "relevance", "x"]),
        "limit": st.integers(min_value=-1, max_value=101).map(str),
        "max_total_minutes": NUMBER.map(str),
        "cursor": st.one_of(URL_TEXT, st.text(alphabet="ABCabc012-_.=", max_size=200)),
        "favorites": st.sampled_from(["true", "false", "1", "yes", "maybe"]),
        "scope": st.one_of(st.sampled_from(["mine", "public", "all"]), URL_TEXT),
        # A well-formed id of no collection of the caller's is a 404.
        "collection": st.one_of(URL_TEXT, st.uuids().map(str), st.just("none")),
    })
)
def test_no_generated_list_query_is_a_500(client, as_alice, params: dict[str, Any]) -> None:
    response = client.get(RECIPES, params=params, headers=as_alice)
    event(f"GET {response.status_code}")
    if response.status_code != 200:
        assert response.status_code in (400, 404, 422), response.text
        assert_problem(response, response.status_code)
