"""Recipe rules: who may do what, preconditions, and the shapes handed to the router.

Every query is in ``repository``/``listing``; this module never commits (the session
dependency does, once, after the route returns).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.collections import list_parts
from app.core.cursors import (
    Position,
    cursor_key,
    encode_cursor,
)
from app.media import service as media_service
from app.media.links import LinkSigner, image_link, photo_link
from app.recipes import list_filters, list_pages, listing, repository, shared_reads
from app.recipes.exceptions import (
    MalformedIfMatch,
    RecipeChanged,
    RecipeNotFound,
)
from app.recipes.models import Recipe, RecipeIngredient, RecipeStep, RecipeTag
from app.recipes.repository import RecipeDetail
from app.recipes.saved_filters import (  # re-exported: the collections domain's way in
    saved_filter as saved_filter,
)
from app.recipes.saved_filters import saved_filter_counts as saved_filter_counts
from app.recipes.saved_filters import validate_saved_filter as validate_saved_filter
from app.recipes.scaling import display_quantity
from app.recipes.schemas import (
    CollectionRef,
    FavoriteState,
    IngredientIn,
    IngredientOut,
    RecipeCreate,
    RecipeListParams,
    RecipePage,
    RecipeRead,
    RecipeSummary,
    RecipeUpdate,
    StepOut,
    TagCount,
    TagList,
)
from app.recipes.search import refresh_search_vectors
from app.recipes.shared_reads import RecipeCard, RecipeIngredients
from app.users import service as users_service

SCALAR_FIELDS = (
    "title", "description", "servings", "prep_minutes", "cook_minutes", "cuisine",
    "source_url", "visibility",
)
LIST_FIELDS = frozenset({"tags", "ingredients", "steps"})
#: Fields the search column is computed from.
SEARCHED_FIELDS = frozenset({"title", "description", "tags", "ingredients"})
SORT_KEY_TYPES: dict[str, type] = {
    "newest": datetime, "oldest": datetime, "title": str, "quickest": int, "relevance": float,
}


# --- ETags and preconditions ----------------------------------------------------------


def recipe_etag(
    recipe: Recipe | RecipeDetail, servings: int | None = None, links_exp: int | None = None,
    collections: Sequence[tuple[uuid.UUID, str]] | None = None,
) -> str:
    """A strong ETag of one representation: the recipe's version (and image), the
    servings it was scaled to, and the reader's collections holding it (ids and names:
    they are part of the body). ``collections`` defaults to a detail's own; a recipe in
    none of the reader's collections keeps the basis it always had.

    With photos, a GET's body carries signed links that expire: ``links_exp`` is then
    appended (``"<hash>-<exp>"``), so a 304 never revives a body whose links are dead.
    If-Match ignores that suffix (``_same_version``): the version is what a write checks.
    """
    if collections is None:
        collections = getattr(recipe, "collections", ())
    basis = f"{recipe.id}:{recipe.version}:{recipe.image_sha256 or ''}:{servings or ''}"
    if collections:
        basis += ":" + json.dumps([[str(ref_id), name] for ref_id, name in collections])
    tag = hashlib.sha256(basis.encode()).hexdigest()[:32]
    if links_exp is not None and recipe.image_sha256 is not None:
        tag = f"{tag}-{links_exp}"
    return f'"{tag}"'


def _same_version(if_match: str, etag: str) -> bool:
    if etag_matches(if_match, etag):
        return True
    # A GET's ETag with its links' expiry: the same version of the recipe.
    candidates = (part.strip().removeprefix("W/") for part in if_match.split(","))
    return any(c.startswith('"') and c.rsplit("-", 1)[0] + '"' == etag for c in candidates)


def current_etag(
    session: Session, user: Principal, recipe_id: uuid.UUID, servings: int | None,
    links_exp: int | None = None,
) -> str | None:
    """The ETag GET would send, from one small row; None when the recipe is not visible
    (or not on PostgreSQL): the caller then reads the detail, which answers 404."""
    basis = repository.read_etag_basis(session, recipe_id, user.id)
    return None if basis is None else recipe_etag(basis, servings, links_exp)


def etag_matches(header: str, etag: str) -> bool:
    """Whether an If-Match / If-None-Match value names ``etag`` (or is ``*``).

    The weak prefix is ignored: a proxy that compresses may weaken our strong ETags, and
    the client should not be punished for that with a 412 loop.
    """
    if header.strip() == "*":
        return True
    candidates = (part.strip().removeprefix("W/") for part in header.split(","))
    return etag in candidates


#: One ETag of ours (recipe_etag), optionally weakened by a proxy; a list of them, or *.
_OUR_ETAG = r'\s*(?:W/)?"[0-9a-f]{32}(?:-[0-9]{1,12})?"\s*'
_IF_MATCH = re.compile(rf"\s*\*\s*|{_OUR_ETAG}(?:,{_OUR_ETAG})*")


def _expected_version(session: Session, recipe: Recipe, if_match: str | None) -> int | None:
    if if_match is None:
        return None
    # Something that is no ETag at all (a "<etag>" placeholder, unquoted hex) is the
    # client's mistake to be told about, not a 412 "the recipe has changed".
    if not _IF_MATCH.fullmatch(if_match):
        raise MalformedIfMatch()
    # The owner's GET sent an ETag that covers their collections of the recipe.
    refs = list_parts.refs_by_recipe(session, recipe.owner_id, [recipe.id]).get(recipe.id, [])
    if not _same_version(if_match, recipe_etag(recipe, collections=refs)):
        raise RecipeChanged()
    return recipe.version


# --- single recipes ---------------------------------------------------------------------


def to_read(recipe: Recipe, links: LinkSigner, servings: int | None = None) -> RecipeRead:
    """The full representation; quantities scaled when ``servings`` differs."""
    return detail_to_read(repository.detail_of(recipe), links, servings)


def detail_to_read(
    recipe: RecipeDetail, links: LinkSigner, servings: int | None = None,
    links_exp: int | None = None,
) -> RecipeRead:
    scaled = servings is not None and servings != recipe.servings
    exp = links_exp or links.expiry()
    return RecipeRead(
        id=recipe.id, owner_id=recipe.owner_id, title=recipe.title,
        description=recipe.description,
        servings=servings if scaled and servings is not None else recipe.servings,
        scaled_from_servings=recipe.servings if scaled else None,
        prep_minutes=recipe.prep_minutes, cook_minutes=recipe.cook_minutes,
        total_minutes=recipe.total_minutes, cuisine=recipe.cuisine,
        source_url=recipe.source_url, visibility=recipe.visibility,  # type: ignore[arg-type]
        tags=recipe.tag_names,
        ingredients=[
            IngredientOut(
                quantity=display_quantity(quantity, recipe.servings, servings),
                unit=unit, name=name, note=note,
            )
            for quantity, unit, name, note in recipe.ingredient_rows
        ],
        steps=[StepOut(text=text) for text in recipe.step_texts],
        has_image=recipe.image_sha256 is not None,
        collections=[CollectionRef(id=ref_id, name=name) for ref_id, name in recipe.collections],
        version=recipe.version,
        images=[photo_link(links, image_id, width, height, exp)
                for image_id, width, height in recipe.image_rows],
        created_at=recipe.created_at, updated_at=recipe.updated_at,
    )


def to_read_for(
    session: Session, user: Principal, recipe: Recipe, links: LinkSigner
) -> tuple[RecipeRead, str]:
    """``to_read`` after a write, with the caller's collections of the recipe, and the
    ETag a GET would send for it."""
    detail = repository.detail_with_collections(session, recipe, user.id)
    exp = links.expiry()
    return detail_to_read(detail, links, links_exp=exp), recipe_etag(detail, links_exp=exp)


def get_recipe_detail(session: Session, user: Principal, recipe_id: uuid.UUID) -> RecipeDetail:
    """What GET shows (no ORM objects; see repository.RecipeDetail)."""
    detail = repository.read_detail(session, recipe_id, user.id)
    if detail is None:
        raise RecipeNotFound()
    return detail


def get_recipe(session: Session, user: Principal, recipe_id: uuid.UUID) -> Recipe:
    recipe = repository.load_detail(session, recipe_id, user.id)
    if recipe is None:
        raise RecipeNotFound()
    return recipe


def visible_recipe_ids(
    session: Session, user_id: uuid.UUID, recipe_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """The subset of ``recipe_ids`` the caller may see (their own, or public): one query.

    Other domains (collections, meal plans, shopping) decide visibility through this,
    never by repeating the rule.
    """
    return shared_reads.visible_ids(session, list(recipe_ids), user_id)


def visible_recipe_cards(
    session: Session, user_id: uuid.UUID, recipe_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, RecipeCard]:
    """Id, title, total minutes and image presence of the visible ones of ``recipe_ids``,
    in one query; a recipe the caller may not see is simply absent."""
    return shared_reads.visible_cards(session, list(recipe_ids), user_id)


def visible_recipe_ingredients(
    session: Session, user_id: uuid.UUID, recipe_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, RecipeIngredients]:
    """Servings and ingredient rows of the visible ones of ``recipe_ids``, in one query
    (for scaling into a shopping list); a recipe the caller may not see is absent."""
    return shared_reads.visible_ingredients(session, list(recipe_ids), user_id)


def require_visible_recipes(
    session: Session, user_id: uuid.UUID, recipe_ids: Iterable[uuid.UUID]
) -> None:
    """Refuse with a 404, as for a missing recipe, unless every id is visible."""
    wanted = set(recipe_ids)
    if wanted - visible_recipe_ids(session, user_id, wanted):
        raise RecipeNotFound()


def _ingredient_values(ingredient: IngredientIn) -> dict[str, Any]:
    return ingredient.model_dump()


def create_recipe(session: Session, user: Principal, data: RecipeCreate) -> Recipe:
    # An erasure racing this request must not leave a recipe behind for the tombstone.
    users_service.guard_active_for_write(session, user.id)
    values = {name: getattr(data, name) for name in SCALAR_FIELDS}
    recipe = Recipe(
        owner_id=user.id, total_minutes=data.prep_minutes + data.cook_minutes, **values
    )
    recipe.tags = [RecipeTag(tag=tag) for tag in data.tags]
    recipe.ingredients = [
        RecipeIngredient(position=i, **_ingredient_values(ing))
        for i, ing in enumerate(data.ingredients)
    ]
    recipe.steps = [RecipeStep(position=i, text=step.text) for i, step in enumerate(data.steps)]
    session.add(recipe)
    session.flush()
    refresh_search_vectors(session, [recipe.id])
    return recipe


def update_recipe(
    session: Session, user: Principal, recipe: Recipe, changes: RecipeUpdate, if_match: str | None
) -> Recipe:
    expected = _expected_version(session, recipe, if_match)
    given = changes.model_fields_set
    # The children are needed only to compare given lists; scalars compare on the row.
    current = get_recipe(session, user, recipe.id) if given & LIST_FIELDS else recipe
    if not _changes_something(current, changes):
        # Nothing to write: the version and ETag stay, so other clients' ETags stay valid.
        return current if current is not recipe else get_recipe(session, user, recipe.id)
    values = {name: getattr(changes, name) for name in SCALAR_FIELDS if name in given}
    # The guarded UPDATE comes first: it takes the row lock, which also serialises the
    # list replacements below against any concurrent writer of this recipe.
    if repository.update_recipe(session, recipe.id, values, expected_version=expected) is None:
        raise RecipeChanged() if expected is not None else RecipeNotFound()
    if changes.tags is not None:
        repository.replace_tags(session, recipe.id, changes.tags)
    if changes.ingredients is not None:
        repository.replace_ingredients(
            session, recipe.id, [_ingredient_values(i) for i in changes.ingredients]
        )
    if changes.steps is not None:
        repository.replace_steps(session, recipe.id, [s.text for s in changes.steps])
    if given & SEARCHED_FIELDS:
        refresh_search_vectors(session, [recipe.id])
    return get_recipe(session, user, recipe.id)


def _changes_something(current: Recipe, changes: RecipeUpdate) -> bool:
    given = changes.model_fields_set
    if any(getattr(changes, name) != getattr(current, name)
           for name in SCALAR_FIELDS if name in given):
        return True
    if changes.tags is not None and sorted(changes.tags) != sorted(t.tag for t in current.tags):
        return True
    if changes.ingredients is not None and [
        (i.quantity, i.unit, i.name, i.note) for i in changes.ingredients
    ] != [(i.quantity, i.unit, i.name, i.note) for i in current.ingredients]:
        return True  # Decimal compares by value: "800" equals the stored 800.0000
    return changes.steps is not None and (
        [s.text for s in changes.steps] != [s.text for s in current.steps])


def delete_recipe(session: Session, recipe: Recipe, if_match: str | None) -> None:
    expected = _expected_version(session, recipe, if_match)
    # Only a recipe with a cover has photos; their bytes are named before the cascade.
    photos = media_service.photo_hashes(session, recipe.id) if recipe.image_sha256 else []
    if not repository.delete_recipe(session, recipe.id, expected_version=expected):
        raise RecipeChanged() if expected is not None else RecipeNotFound()
    if photos:
        media_service.forget_photos(session, photos)


# --- lists --------------------------------------------------------------------------------


def list_recipes(
    session: Session, user: Principal, params: RecipeListParams, secret: str, links: LinkSigner
) -> RecipePage:
    key = cursor_key(secret)
    planned, rows, more = list_filters.fetch(session, user, params, key, SORT_KEY_TYPES)
    query, fingerprint, params = planned.query, planned.fingerprint, planned.params
    query = replace(query, dialect=session.get_bind().dialect.name)
    tags = list_pages.page_tags(session, query, rows)
    collections = list_pages.page_collections(session, query, rows)
    next_cursor = None
    exp = links.expiry()  # one expiry for the page: every link on it is cacheable
    if more and rows:
        next_cursor = encode_cursor(key, fingerprint, Position(rows[-1].sort_key, rows[-1].id))
    return RecipePage(
        items=[_summary(row, tags.get(row.id, []), collections.get(row.id, []), links, exp)
               for row in rows],
        next_cursor=next_cursor,
        total=list_pages.count(session, query) if params.include_total else None,
    )


def _excerpt(text: str | None) -> str | None:
    if text is None or len(text) <= listing.EXCERPT_CHARS:
        return text
    return text[: listing.EXCERPT_CHARS].rstrip() + "…"


def _summary(
    row: Any, tags: list[str], collections: list[Any], links: LinkSigner, exp: int
) -> RecipeSummary:
    # By position, in listing.SUMMARY_FIELDS order: a Row's attribute lookups were two
    # thirds of the cost of a page's summaries (~140 -> ~60 µs per 20 rows).
    (recipe_id, owner_id, title, excerpt, servings, prep_minutes, cook_minutes,
     total_minutes, cuisine, visibility, has_image, cover_id, cover_width, cover_height,
     is_favorite, created_at, updated_at, *_sort_key_tags_and_collections) = row
    return RecipeSummary(
        id=recipe_id, owner_id=owner_id, title=title, description_excerpt=_excerpt(excerpt),
        servings=servings, prep_minutes=prep_minutes, cook_minutes=cook_minutes,
        total_minutes=total_minutes, cuisine=cuisine, visibility=visibility,
        tags=tags, has_image=bool(has_image), is_favorite=bool(is_favorite),
        collections=[CollectionRef(id=ref_id, name=name) for ref_id, name in collections],
        image=None if cover_id is None else image_link(
            links, cover_id, cover_width, cover_height, exp),
        created_at=created_at, updated_at=updated_at,
    )


def list_tags(session: Session, user: Principal) -> TagList:
    return TagList(
        items=[TagCount(tag=t, count=n) for t, n in repository.tag_counts(session, user.id)]
    )


# --- favourites ----------------------------------------------------------------------------


def add_favorite(session: Session, user: Principal, recipe: Recipe) -> FavoriteState:
    users_service.guard_active_for_write(session, user.id)
    if not repository.add_favorite(session, user.id, recipe.id):
        raise RecipeNotFound()
    return FavoriteState(recipe_id=recipe.id, is_favorite=True)


def remove_favorite(session: Session, user: Principal, recipe_id: uuid.UUID) -> FavoriteState:
    """Idempotent. A favourite of a recipe that has since turned private can still be
    removed; otherwise the recipe must be visible, like for PUT."""
    removed = repository.remove_favorite(session, user.id, recipe_id)
    if not removed and repository.find_visible(session, recipe_id, user.id) is None:
        raise RecipeNotFound()
    return FavoriteState(recipe_id=recipe_id, is_favorite=False)
