"""Lengths are checked on exactly what is stored, after every transformation (security
review, finding 6: "İ" * 40 passed the 40-character tag check, became 80 characters when
lowercased, and the INSERT failed with a 500)."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from sqlalchemy import String
from sqlalchemy.orm import Session

from app.recipes.models import Recipe, RecipeIngredient, RecipeTag
from app.recipes.schemas import MAX_TAG, RecipeCreate, RecipeListParams
from app.users.models import User
from app.users.schemas import DIETARY_TAG_MAX, UserUpdate
from tests.factories import auth_headers, make_user
from tests.problems import assert_problem
from tests.recipes.support import RECIPES

DOTTED_I = "\u0130"  # "İ": lowercases to "i" + U+0307, two characters


def test_a_tag_that_lowercases_longer_than_allowed_is_422_not_500(
    client: TestClient, app: FastAPI, db: Session
) -> None:
    headers = auth_headers(app, make_user(db))
    response = client.post(RECIPES, headers=headers, json={"title": "t", "tags": [DOTTED_I * 40]})
    assert_problem(response, 422)
    fits = client.post(RECIPES, headers=headers, json={"title": "t", "tags": [DOTTED_I * 20]})
    assert fits.status_code == 201, fits.text
    assert fits.json()["tags"] == ["i\u0307" * 20]


def test_tag_filter_is_folded_like_stored_tags_then_measured(
    client: TestClient, app: FastAPI, db: Session
) -> None:
    headers = auth_headers(app, make_user(db))
    created = client.post(RECIPES, headers=headers, json={"title": "t", "tags": ["Crème"]})
    assert created.status_code == 201
    decomposed = "CRE\u0300ME"  # NFD, upper case: the same tag to a reader
    found = client.get(RECIPES, headers=headers, params={"tag": decomposed})
    assert [r["id"] for r in found.json()["items"]] == [created.json()["id"]]
    assert_problem(client.get(RECIPES, headers=headers, params={"tag": DOTTED_I * 40}), 422)


def test_a_dietary_tag_that_lowercases_longer_than_allowed_is_refused(
    client: TestClient, app: FastAPI, db: Session
) -> None:
    headers = auth_headers(app, make_user(db))
    tags = [DOTTED_I * DIETARY_TAG_MAX]
    assert_problem(client.patch("/api/v1/users/me", headers=headers, json={"dietary_tags": tags}),
                   422)


# --- property: whatever is accepted fits the column it is stored in --------------------------

#: Characters whose case mapping or normalisation changes the length, markup and entities
#: the sanitiser rewrites, and whitespace it collapses.
TRICKY = [
    DOTTED_I, "\u00df", "\ufb03", "\u01c5", "\u0390", "\u1e9e", "\u0958", "\u2126", "A\u0301",
    "&amp;", "&#304;", "<b>", "  ", "\t", "\U0001f345", "x",
]


def near_limit(limit: int) -> st.SearchStrategy[str]:
    """Text around ``limit`` characters built from TRICKY, with arbitrary text mixed in."""
    piece = st.one_of(st.sampled_from(TRICKY), st.text(min_size=1, max_size=3))
    return st.builds(
        lambda p, k, tail: p * k + tail, piece,
        st.integers(min_value=max(1, limit // 4), max_value=limit + 2), st.text(max_size=4),
    )


def column_length(column: Any) -> int:
    assert isinstance(column.type, String) and column.type.length
    return int(column.type.length)


def accepted(model: type[BaseModel], data: dict[str, Any]) -> BaseModel | None:
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


def fits(value: str | None, column: Any) -> bool:
    return value is None or len(value) <= column_length(column)


@settings(max_examples=150, deadline=None)
@given(title=near_limit(200), cuisine=near_limit(60), tag=near_limit(MAX_TAG),
       unit=near_limit(40), name=near_limit(200), note=near_limit(500))
@example(title="t", cuisine="c", tag=DOTTED_I * 40, unit="g", name="n", note="x")
def test_any_accepted_recipe_fits_its_columns(
    title: str, cuisine: str, tag: str, unit: str, name: str, note: str
) -> None:
    data = {"title": title, "cuisine": cuisine, "tags": [tag],
            "ingredients": [{"name": name, "unit": unit, "note": note}]}
    recipe = accepted(RecipeCreate, data)
    if recipe is None:
        return
    assert isinstance(recipe, RecipeCreate)
    assert fits(recipe.title, Recipe.__table__.c.title)
    assert fits(recipe.cuisine, Recipe.__table__.c.cuisine)
    assert all(fits(t, RecipeTag.__table__.c.tag) for t in recipe.tags)
    for ingredient in recipe.ingredients:
        assert fits(ingredient.name, RecipeIngredient.__table__.c.name)
        assert fits(ingredient.unit, RecipeIngredient.__table__.c.unit)
        assert fits(ingredient.note, RecipeIngredient.__table__.c.note)


@settings(max_examples=100, deadline=None)
@given(display_name=near_limit(100), dietary=near_limit(DIETARY_TAG_MAX),
       tag_filter=near_limit(MAX_TAG))
def test_any_accepted_profile_or_filter_fits(
    display_name: str, dietary: str, tag_filter: str
) -> None:
    update = accepted(UserUpdate, {"display_name": display_name, "dietary_tags": [dietary]})
    if isinstance(update, UserUpdate):
        assert fits(update.display_name, User.__table__.c.display_name)
        assert all(len(t) <= DIETARY_TAG_MAX for t in update.dietary_tags or [])
    params = accepted(RecipeListParams, {"tag": [tag_filter]})
    if isinstance(params, RecipeListParams):
        assert all(fits(t, RecipeTag.__table__.c.tag) for t in params.tag)


@pytest.mark.parametrize("text", ["Crème Brûlée", "A\u0301", "Straße", DOTTED_I])
def test_tags_are_stored_in_one_normal_form(text: str) -> None:
    recipe = RecipeCreate.model_validate({"title": "t", "tags": [text, text.upper()]})
    assert all(t == t.lower() for t in recipe.tags)
    assert all(t == unicodedata.normalize("NFC", t) for t in recipe.tags)
