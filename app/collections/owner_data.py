"""What the users domain needs from collections: a person's collections, erased or exported."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.collections.models import Collection, CollectionRecipe
from app.recipes.models import Recipe
from app.recipes.repository import visible_to


def erase_owner_data(session: Session, owner_id: uuid.UUID) -> None:
    """The owner's collections; ON DELETE CASCADE takes their memberships. Others'
    collections lose this person's recipes when the recipes domain deletes them."""
    session.execute(
        delete(Collection).where(Collection.owner_id == owner_id)
        .execution_options(synchronize_session=False)
    )


def export_owner_data(session: Session, owner_id: uuid.UUID) -> dict[str, Any]:
    """The owner's collections with the recipes in them that the owner may still see."""
    collections = session.scalars(
        select(Collection).where(Collection.owner_id == owner_id)
        .order_by(Collection.position, Collection.name, Collection.id)
    ).all()
    members: dict[uuid.UUID, list[dict[str, Any]]] = {c.id: [] for c in collections}
    rows = session.execute(
        select(CollectionRecipe.collection_id, CollectionRecipe.recipe_id,
               CollectionRecipe.added_at)
        .join(Collection, Collection.id == CollectionRecipe.collection_id)
        .join(Recipe, Recipe.id == CollectionRecipe.recipe_id)
        .where(Collection.owner_id == owner_id, visible_to(owner_id))
        .order_by(CollectionRecipe.added_at, CollectionRecipe.recipe_id)
    )
    for collection_id, recipe_id, added_at in rows:
        members[collection_id].append({"recipe_id": recipe_id, "added_at": added_at})
    return {"collections": [
        {
            "id": c.id, "name": c.name, "description": c.description, "position": c.position,
            "filter": c.filter, "created_at": c.created_at, "updated_at": c.updated_at,
            "recipes": members[c.id],
        }
        for c in collections
    ]}
