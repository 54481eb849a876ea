"""Every SQL query about a single recipe, its children, tags and favourites.

The list/search queries live in ``app.recipes.listing``. Writes are plain Core statements
so each one is a known, countable SQL statement; nothing here commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Text,
    bindparam,
    cast,
    delete,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.collections import list_parts
from app.db.session import read_rows
from app.db.versioning import at_version, delete_at_version
from app.media.models import MediaImage
from app.recipes.models import Favorite, Recipe, RecipeIngredient, RecipeStep, RecipeTag

_Child = TypeVar("_Child", RecipeTag, RecipeIngredient, RecipeStep)


def visible_to(user_id: uuid.UUID) -> ColumnElement[bool]:
    """The caller's own recipes and everybody's public ones."""
    return or_(Recipe.owner_id == user_id, Recipe.visibility == "public")


def find_visible(session: Session, recipe_id: uuid.UUID, user_id: uuid.UUID) -> Recipe | None:
    return session.scalar(select(Recipe).where(Recipe.id == recipe_id, visible_to(user_id)))


def find_owned(session: Session, recipe_id: uuid.UUID, user_id: uuid.UUID) -> Recipe | None:
    return session.scalar(
        select(Recipe).where(Recipe.id == recipe_id, Recipe.owner_id == user_id)
    )


def load_detail(session: Session, recipe_id: uuid.UUID, user_id: uuid.UUID) -> Recipe | None:
    """A visible recipe with its tags, ingredients and steps loaded.

    PostgreSQL: one statement, the children aggregated as JSON beside the row. Three
    selectinload round trips cost twice the CPU of the whole rest of the request (measured
    with bench/load.py); SQLite keeps the selectinload form (four statements).
    """
    # A PATCH re-reads the row it just updated in the same session: populate_existing.
    if session.get_bind().dialect.name != "postgresql":
        return session.scalar(
            select(Recipe)
            .where(Recipe.id == recipe_id, visible_to(user_id))
            .options(
                selectinload(Recipe.tags), selectinload(Recipe.ingredients),
                selectinload(Recipe.steps),
            )
            .execution_options(populate_existing=True)
        )
    row = session.execute(_DETAIL, {"recipe_id": recipe_id, "user_id": user_id}).first()
    if row is None:
        return None
    recipe, tags, ingredients, steps = row
    set_committed_value(recipe, "tags", [
        _as_loaded(RecipeTag, recipe_id=recipe.id, tag=tag) for tag in sorted(tags or [])])
    set_committed_value(recipe, "ingredients", [
        _as_loaded(RecipeIngredient, recipe_id=recipe.id, position=position, unit=unit,
                   name=name, note=note,
                   quantity=None if quantity is None else Decimal(quantity))
        for position, quantity, unit, name, note in sorted(ingredients or [])])
    set_committed_value(recipe, "steps", [
        _as_loaded(RecipeStep, recipe_id=recipe.id, position=position, text=text)
        for position, text in sorted(steps or [])])
    return recipe


def _as_loaded(cls: type[_Child], **values: Any) -> _Child:
    """A child object as a query would have loaded it: state made, attributes set with no
    change history, not in the session.

    The mapped constructor fires an attribute event per value: ~16 µs an object against
    ~3 µs, and a recipe has ~20 children (py-spy under bench/load.py).
    """
    child = inspect(cls).class_manager.new_instance()
    child.__dict__.update(values)
    return child


def _json_children(*columns: Any, recipe_id: Any) -> Any:
    """A JSON array of the recipe's child rows, each row an array of ``columns``."""
    return (select(func.json_agg(func.json_build_array(*columns)))
            .where(recipe_id == Recipe.id).scalar_subquery())


_TAGS_JSON = (select(func.json_agg(RecipeTag.tag))
              .where(RecipeTag.recipe_id == Recipe.id).scalar_subquery())
# The quantity travels as text: a JSON number would pass through a float.
_INGREDIENTS_JSON = _json_children(
    RecipeIngredient.position, cast(RecipeIngredient.quantity, Text), RecipeIngredient.unit,
    RecipeIngredient.name, RecipeIngredient.note, recipe_id=RecipeIngredient.recipe_id)
_STEPS_JSON = _json_children(RecipeStep.position, RecipeStep.text,
                             recipe_id=RecipeStep.recipe_id)
# The photos' ids and sizes (for signed links), never their bytes.
_IMAGES_JSON = _json_children(MediaImage.position, MediaImage.id, MediaImage.width,
                              MediaImage.height, recipe_id=MediaImage.recipe_id)


# Built once (bound parameters): constructing this select and its cache key per request
# was a measurable share of a GET's CPU (py-spy under bench/load.py).
# populate_existing: a PATCH re-reads the row it just updated in the same session.
_DETAIL = (
    select(Recipe, _TAGS_JSON, _INGREDIENTS_JSON, _STEPS_JSON)
    .where(Recipe.id == bindparam("recipe_id"),
           or_(Recipe.owner_id == bindparam("user_id"), Recipe.visibility == "public"))
    .execution_options(populate_existing=True)
)


@dataclass(frozen=True, slots=True)
class RecipeDetail:
    """One recipe as GET shows it, read without ORM objects: the hottest read builds its
    response straight from the row (ORM identity-map entities and ~20 child objects
    were about half of a GET's CPU, measured with bench/load.py under py-spy).
    Attribute names match ``Recipe``'s, so ETags and representations are computed alike.
    """

    id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    description: str | None
    servings: int
    prep_minutes: int
    cook_minutes: int
    total_minutes: int
    cuisine: str | None
    source_url: str | None
    visibility: str
    version: int
    image_sha256: str | None
    created_at: datetime
    updated_at: datetime
    tag_names: list[str]
    #: (quantity, unit, name, note), in position order
    ingredient_rows: list[tuple[Decimal | None, str | None, str, str | None]]
    step_texts: list[str]
    #: (image id, width, height), in gallery order
    image_rows: list[tuple[uuid.UUID, int, int]]
    #: The reader's hand-picked collections holding the recipe: (id, name).
    collections: Sequence[tuple[uuid.UUID, str]] = ()


_DETAIL_COLUMNS = [
    Recipe.__table__.c[name] for name in (
        "id", "owner_id", "title", "description", "servings", "prep_minutes", "cook_minutes",
        "total_minutes", "cuisine", "source_url", "visibility", "version", "image_sha256",
        "created_at", "updated_at",
    )
]
# Core columns (typed, so UUIDs and UTC timestamps come back as the ORM gives them), no
# entity; built once with bound parameters.
_DETAIL_ROW = (
    select(*_DETAIL_COLUMNS, _TAGS_JSON, _INGREDIENTS_JSON, _STEPS_JSON, _IMAGES_JSON,
           list_parts.collection_refs_column(bindparam("user_id", type_=Recipe.owner_id.type)))
    .where(Recipe.id == bindparam("recipe_id"),
           or_(Recipe.owner_id == bindparam("user_id"), Recipe.visibility == "public"))
)


def read_detail(
    session: Session, recipe_id: uuid.UUID, user_id: uuid.UUID
) -> RecipeDetail | None:
    """A visible recipe for display, in one statement on PostgreSQL (SQLite: via
    ``load_detail``)."""
    if session.get_bind().dialect.name != "postgresql":
        recipe = load_detail(session, recipe_id, user_id)
        return None if recipe is None else detail_with_collections(session, recipe, user_id)
    row = read_rows(session, _DETAIL_ROW, {"recipe_id": recipe_id, "user_id": user_id}).first()
    if row is None:
        return None
    *scalars, tags, ingredients, steps, images, collections = row
    return RecipeDetail(
        *scalars,
        tag_names=sorted(tags or []),
        ingredient_rows=[
            (None if quantity is None else Decimal(quantity), unit, name, note)
            for _position, quantity, unit, name, note in sorted(ingredients or [])],
        step_texts=[text for _position, text in sorted(steps or [])],
        image_rows=[(uuid.UUID(image_id), width, height)
                    for _position, image_id, width, height in sorted(images or [])],
        collections=[(uuid.UUID(ref_id), name) for ref_id, name in collections or []],
    )


# What a GET's ETag is made of (recipe_etag), without the children: a revalidation that
# matches answers 304 from this one small row.
_ETAG_ROW = (
    select(Recipe.id, Recipe.version, Recipe.image_sha256,
           list_parts.collection_refs_column(bindparam("user_id", type_=Recipe.owner_id.type)))
    .where(Recipe.id == bindparam("recipe_id"),
           or_(Recipe.owner_id == bindparam("user_id"), Recipe.visibility == "public"))
)


def read_etag_basis(
    session: Session, recipe_id: uuid.UUID, user_id: uuid.UUID
) -> RecipeDetail | None:
    """A visible recipe's version, image and the reader's collections of it (the rest of
    the detail left empty): enough for ``recipe_etag``. PostgreSQL only; None elsewhere,
    where the caller reads the whole detail."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    row = read_rows(session, _ETAG_ROW, {"recipe_id": recipe_id, "user_id": user_id}).first()
    if row is None:
        return None
    recipe_id, version, image_sha256, collections = row
    return RecipeDetail(
        id=recipe_id, owner_id=user_id, title="", description=None, servings=0,
        prep_minutes=0, cook_minutes=0, total_minutes=0, cuisine=None, source_url=None,
        visibility="", version=version, image_sha256=image_sha256, created_at=datetime.min,
        updated_at=datetime.min, tag_names=[], ingredient_rows=[], step_texts=[], image_rows=[],
        collections=[(uuid.UUID(ref_id), name) for ref_id, name in collections or []],
    )


def detail_with_collections(
    session: Session, recipe: Recipe, user_id: uuid.UUID
) -> RecipeDetail:
    """``detail_of`` plus the reader's collections of the recipe (one more statement)."""
    refs = list_parts.refs_by_recipe(session, user_id, [recipe.id]).get(recipe.id, [])
    return replace(detail_of(recipe), collections=refs)


def detail_of(recipe: Recipe) -> RecipeDetail:
    """The same read model, from a loaded ``Recipe`` (after a write, or on SQLite): one
    more statement for the photos."""
    session = object_session(recipe)
    images = [] if session is None else image_rows(session, recipe.id)
    return RecipeDetail(
        *(getattr(recipe, column.key) for column in _DETAIL_COLUMNS),
        tag_names=sorted(t.tag for t in recipe.tags),
        ingredient_rows=[(i.quantity, i.unit, i.name, i.note) for i in recipe.ingredients],
        step_texts=[s.text for s in recipe.steps],
        image_rows=images,
    )


def image_rows(session: Session, recipe_id: uuid.UUID) -> list[tuple[uuid.UUID, int, int]]:
    statement = (
        select(MediaImage.id, MediaImage.width, MediaImage.height)
        .where(MediaImage.recipe_id == recipe_id)
        .order_by(MediaImage.position, MediaImage.id)
    )
    return [(image_id, width, height) for image_id, width, height in session.execute(statement)]


# --- writes --------------------------------------------------------------------------


def update_recipe(
    session: Session,
    recipe_id: uuid.UUID,
    values: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> int | None:
    """Apply ``values`` and bump the version; the new version, or None if no row matched.

    With ``expected_version`` the UPDATE only matches that version. It takes the row lock,
    so of concurrent writers holding the same version exactly one wins; the others wait,
    then re-check the condition against the committed row and match nothing.
    """
    conditions = at_version(Recipe, recipe_id, expected_version)
    prep = values.get("prep_minutes", Recipe.prep_minutes)
    cook = values.get("cook_minutes", Recipe.cook_minutes)
    statement = (
        update(Recipe)
        .where(*conditions)
        # Derived in SQL from the row as locked, never from a copy read earlier.
        .values(**values, total_minutes=prep + cook, version=Recipe.version + 1)
        .returning(Recipe.version)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none()


def delete_recipe(
    session: Session, recipe_id: uuid.UUID, *, expected_version: int | None
) -> bool:
    return delete_at_version(session, Recipe, recipe_id, expected_version)


def replace_tags(session: Session, recipe_id: uuid.UUID, tags: Sequence[str]) -> None:
    session.execute(delete(RecipeTag).where(RecipeTag.recipe_id == recipe_id))
    if tags:
        session.execute(insert(RecipeTag), [{"recipe_id": recipe_id, "tag": t} for t in tags])


def replace_ingredients(
    session: Session, recipe_id: uuid.UUID, ingredients: Sequence[Mapping[str, Any]]
) -> None:
    session.execute(delete(RecipeIngredient).where(RecipeIngredient.recipe_id == recipe_id))
    if ingredients:
        session.execute(
            insert(RecipeIngredient),
            [{"recipe_id": recipe_id, "position": i, **ing} for i, ing in enumerate(ingredients)],
        )


def replace_steps(session: Session, recipe_id: uuid.UUID, steps: Sequence[str]) -> None:
    session.execute(delete(RecipeStep).where(RecipeStep.recipe_id == recipe_id))
    if steps:
        session.execute(
            insert(RecipeStep),
            [{"recipe_id": recipe_id, "position": i, "text": t} for i, t in enumerate(steps)],
        )


# --- tags ----------------------------------------------------------------------------


def tag_counts(session: Session, owner_id: uuid.UUID) -> list[tuple[str, int]]:
    count = func.count().label("count")
    rows = session.execute(
        select(RecipeTag.tag, count)
        .join(Recipe, Recipe.id == RecipeTag.recipe_id)
        .where(Recipe.owner_id == owner_id)
        .group_by(RecipeTag.tag)
        .order_by(count.desc(), RecipeTag.tag)
    )
    return [(tag, n) for tag, n in rows]


# --- favourites ------------------------------------------------------------------------


def add_favorite(session: Session, user_id: uuid.UUID, recipe_id: uuid.UUID) -> bool:
    """Idempotent; False if the recipe vanished meanwhile (deleted by its owner)."""
    dialect = session.get_bind().dialect.name
    values = {"user_id": user_id, "recipe_id": recipe_id}
    if dialect == "postgresql":
        statement = postgresql.insert(Favorite).values(**values).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(Favorite).values(**values).on_conflict_do_nothing()
    try:
        # A savepoint, so a lost race with a DELETE of the recipe leaves the session usable.
        with session.begin_nested():
            session.execute(statement)
    except IntegrityError:
        return False
    return True


def remove_favorite(session: Session, user_id: uuid.UUID, recipe_id: uuid.UUID) -> bool:
    """True if a favourite was removed by this call."""
    result = session.execute(
        delete(Favorite).where(Favorite.user_id == user_id, Favorite.recipe_id == recipe_id)
    )
    return bool(result.rowcount)
