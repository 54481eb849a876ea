"""Collection rules: limits, names, kinds, preconditions, and the shapes for the router.

Recipe visibility is decided by the recipes service (one rule, one place); this module
never commits (the session dependency does, once, after the route returns).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.collections import list_parts, repository
from app.collections.exceptions import (
    CollectionChanged,
    CollectionFull,
    CollectionKindFixed,
    CollectionNameTaken,
    CollectionNotFound,
    SmartCollectionMembership,
    TooManyCollections,
)
from app.collections.models import Collection
from app.collections.schemas import (
    MAX_COLLECTIONS,
    MAX_RECIPES_PER_COLLECTION,
    CollectionCreate,
    CollectionList,
    CollectionRead,
    CollectionUpdate,
    MembershipState,
    SmartFilter,
)
from app.core.errors import AppError
from app.recipes import service as recipes_service
from app.recipes.exceptions import RecipeNotFound
from app.recipes.schemas import RecipeFilter
from app.users import service as users_service


def collection_etag(collection: Collection) -> str:
    basis = f"{collection.id}:{collection.version}"
    return '"' + hashlib.sha256(basis.encode()).hexdigest()[:32] + '"'


def _expected_version(collection: Collection, if_match: str | None) -> int | None:
    if if_match is None:
        return None
    if not recipes_service.etag_matches(if_match, collection_etag(collection)):
        raise CollectionChanged()
    return collection.version


def _saved(user: Principal, smart: SmartFilter) -> dict[str, Any]:
    """The filter as stored: checked by the list's own rules, defaults left out."""
    recipes_service.validate_saved_filter(user, smart)
    return smart.model_dump(mode="json", exclude_defaults=True)


# --- reads -------------------------------------------------------------------------------


def _counts(
    session: Session, user: Principal, collections: Sequence[Collection | Row[Any]],
    only: uuid.UUID | None = None,
) -> dict[uuid.UUID, int]:
    """Every count in one statement (hand-picked and smart), whatever their number."""
    if not collections:
        return {}
    smart = [(f"s{i}_", c) for i, c in enumerate(collections) if c.filter is not None]
    parts, values = recipes_service.saved_filter_counts(
        session, user, [(prefix, _valid_filter(user, c)) for prefix, c in smart])
    ids = {prefix: c.id for prefix, c in smart}
    return repository.counts(
        session, user.id, [(ids[prefix], prefix, sub) for prefix, sub in parts], values, only)


def _valid_filter(user: Principal, collection: Collection | Row[Any]) -> RecipeFilter | None:
    """A smart collection's filter, validated once per version and process (shared with
    the recipe list's cache, list_parts.SAVED_FILTERS); None when the rules refuse it."""
    known = list_parts.SAVED_FILTERS.get(user.id, collection.id, collection.version)
    if known is not None:
        return known[1]  # type: ignore[no-any-return]
    try:
        saved = recipes_service.saved_filter(collection.filter or {})
    except AppError:
        return None
    list_parts.SAVED_FILTERS.put(user.id, collection.id, collection.version, saved)
    return saved


def to_read(collection: Collection | Row[Any], recipe_count: int) -> CollectionRead:
    return CollectionRead(
        id=collection.id, name=collection.name, description=collection.description,
        position=collection.position,
        kind="hand-picked" if collection.filter is None else "smart",
        filter=collection.filter, recipe_count=recipe_count, version=collection.version,
        created_at=collection.created_at, updated_at=collection.updated_at,
    )


def list_collections(session: Session, user: Principal) -> CollectionList:
    collections = repository.collections_of(session, user.id)
    counts = _counts(session, user, collections)
    return CollectionList(items=[to_read(c, counts.get(c.id, 0)) for c in collections])


def read_one(session: Session, user: Principal, collection: Collection) -> CollectionRead:
    counts = _counts(session, user, [collection], only=collection.id)
    return to_read(collection, counts.get(collection.id, 0))


# --- writes ------------------------------------------------------------------------------


def create_collection(session: Session, user: Principal, data: CollectionCreate) -> Collection:
    users_service.guard_active_for_write(session, user.id)
    saved = _saved(user, data.filter) if data.filter is not None else None
    # Concurrent creates of one owner queue here, so the limit cannot be overrun.
    repository.lock_collections_of(session, user.id)
    count, last_position = repository.stats_of(session, user.id)
    if count >= MAX_COLLECTIONS:
        raise TooManyCollections()
    position = data.position
    if position is None:
        position = 0 if last_position is None else last_position + 1
    collection = repository.insert_collection(session, {
        "id": uuid.uuid4(), "owner_id": user.id, "name": data.name,
        "description": data.description, "position": position, "filter": saved,
    })
    if collection is None:
        raise CollectionNameTaken()
    return collection


def update_collection(
    session: Session, user: Principal, collection: Collection, changes: CollectionUpdate,
    if_match: str | None,
) -> Collection:
    expected = _expected_version(collection, if_match)
    given = changes.model_fields_set
    values: dict[str, Any] = {name: getattr(changes, name)
                              for name in ("name", "description", "position") if name in given}
    if "filter" in given:
        if collection.filter is None or changes.filter is None:
            raise CollectionKindFixed()
        values["filter"] = _saved(user, changes.filter)
    if values:
        try:
            version = repository.update_collection(
                session, collection.id, values, expected_version=expected)
        except IntegrityError:
            raise CollectionNameTaken() from None
        if version is None:
            raise CollectionChanged() if expected is not None else CollectionNotFound()
    updated = repository.find_owned(session, collection.id, user.id)
    if updated is None:
        raise CollectionNotFound()
    return updated


def delete_collection(session: Session, collection: Collection, if_match: str | None) -> None:
    expected = _expected_version(collection, if_match)
    if not repository.delete_collection(session, collection.id, expected_version=expected):
        raise CollectionChanged() if expected is not None else CollectionNotFound()


# --- membership --------------------------------------------------------------------------


def _hand_picked(collection: Collection) -> None:
    if collection.filter is not None:
        raise SmartCollectionMembership()


def add_recipe(
    session: Session, user: Principal, collection: Collection, recipe_id: uuid.UUID
) -> MembershipState:
    """Idempotent, like a favourite: adding twice is adding once."""
    _hand_picked(collection)
    users_service.guard_active_for_write(session, user.id)
    recipes_service.require_visible_recipes(session, user.id, [recipe_id])
    size, present = repository.lock_collection(session, collection.id, recipe_id)
    if not present:
        if size >= MAX_RECIPES_PER_COLLECTION:
            raise CollectionFull()
        if not repository.add_member(session, collection.id, recipe_id):
            raise RecipeNotFound()
    return MembershipState(collection_id=collection.id, recipe_id=recipe_id, in_collection=True)


def remove_recipe(
    session: Session, user: Principal, collection: Collection, recipe_id: uuid.UUID
) -> MembershipState:
    """Idempotent. A recipe that has since turned private can still be taken out;
    otherwise the recipe must be visible, as for PUT."""
    _hand_picked(collection)
    removed = repository.remove_member(session, collection.id, recipe_id)
    if not removed:
        recipes_service.require_visible_recipes(session, user.id, [recipe_id])
    return MembershipState(collection_id=collection.id, recipe_id=recipe_id, in_collection=False)

