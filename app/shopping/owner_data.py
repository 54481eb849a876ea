"""What the users domain needs from shopping lists: a person's lists, erased or exported.

Items and their sources hang off lists (ON DELETE CASCADE), so erasing the lists takes
everything; the export shows items (tombstones too: they are the person's data until
purged) with the recipes' shares.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.shopping.models import ShoppingItemSource, ShoppingList, ShoppingListItem


def erase_owner_data(session: Session, owner_id: uuid.UUID) -> None:
    session.execute(
        delete(ShoppingList).where(ShoppingList.owner_id == owner_id)
        .execution_options(synchronize_session=False)
    )


def _text(value: Any) -> str | None:
    # A string keeps every stored digit; a JSON number would round.
    return None if value is None else str(value)


def export_owner_data(session: Session, owner_id: uuid.UUID) -> dict[str, Any]:
    lists = session.scalars(
        select(ShoppingList).where(ShoppingList.owner_id == owner_id)
        .order_by(ShoppingList.created_at, ShoppingList.id)
    ).all()
    items = session.scalars(
        select(ShoppingListItem).join(ShoppingList)
        .where(ShoppingList.owner_id == owner_id)
        .order_by(ShoppingListItem.position, ShoppingListItem.id)
    ).all()
    sources = session.scalars(
        select(ShoppingItemSource).join(ShoppingListItem).join(ShoppingList)
        .where(ShoppingList.owner_id == owner_id)
    ).all()
    by_item: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for source in sources:
        by_item.setdefault(source.item_id, []).append({
            "recipe_id": source.recipe_id, "servings": source.servings,
            "recipe_servings": source.recipe_servings, "quantity": _text(source.quantity),
            "unit": source.unit,
        })
    by_list: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for item in items:
        by_list.setdefault(item.list_id, []).append({
            "id": item.id, "position": item.position, "name": item.name,
            "quantity": _text(item.quantity), "unit": item.unit, "note": item.note,
            "category": item.category, "checked": item.checked, "checked_at": item.checked_at,
            "edited": item.edited, "deleted_at": item.deleted_at,
            "created_at": item.created_at, "updated_at": item.updated_at,
            "sources": by_item.get(item.id, []),
        })
    return {"shopping_lists": [
        {"id": shopping_list.id, "name": shopping_list.name,
         "created_at": shopping_list.created_at, "updated_at": shopping_list.updated_at,
         "items": by_list.get(shopping_list.id, [])}
        for shopping_list in lists
    ]}
