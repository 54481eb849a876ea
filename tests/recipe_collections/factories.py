"""Collection factories and helpers for the collections API tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.collections.models import Collection, CollectionRecipe
from app.recipes.models import Recipe
from app.users.models import User

COLLECTIONS = "/api/v1/collections"


def collection_url(collection_id: object) -> str:
    return f"{COLLECTIONS}/{collection_id}"


def member_url(collection_id: object, recipe_id: object) -> str:
    return f"{COLLECTIONS}/{collection_id}/recipes/{recipe_id}"


def make_collection(
    db: Session, owner: User, *, recipes: list[Recipe] = (), **fields: Any  # type: ignore[assignment]
) -> Collection:
    """One committed collection (``filter=`` makes it smart) holding ``recipes``."""
    values: dict[str, Any] = {"name": f"Book {len(fields)}-{id(fields)}", "position": 0}
    values.update(fields)
    collection = Collection(owner_id=owner.id, **values)
    db.add(collection)
    db.flush()
    db.add_all(CollectionRecipe(collection_id=collection.id, recipe_id=r.id) for r in recipes)
    db.commit()
    return collection


def create(client, headers: dict[str, str], **body: Any):
    return client.post(COLLECTIONS, json={"name": "Weeknight", **body}, headers=headers)
