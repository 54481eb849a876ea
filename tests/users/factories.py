"""A person with one of everything the API stores about people."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.recipes.models import Favorite, Recipe, RecipeImage
from app.shopping.models import ShoppingList, ShoppingListItem
from app.users.models import User
from tests.recipes.factories import make_recipe
from tests.shopping.factories import make_shopping_list


@dataclass
class Household:
    private: Recipe
    public: Recipe
    #: Ids of the person's other rows (shopping lists and items), owned through parents.
    other_ids: set[uuid.UUID] = field(default_factory=set)


def add_image(db: Session, recipe: Recipe, payload: bytes = b"\x89PNG fake bytes") -> RecipeImage:
    digest = hashlib.sha256(payload).hexdigest()
    image = RecipeImage(
        recipe_id=recipe.id,
        content_type="image/webp",
        width=640,
        height=480,
        byte_size=len(payload),
        sha256=digest,
        data=payload,
        thumb_content_type="image/webp",
        thumb_data=payload[:4],
    )
    recipe.image_sha256 = digest
    db.add(image)
    db.commit()
    return image


def furnish(db: Session, user: User) -> Household:
    """Give ``user`` a private and a public recipe (tags, ingredients, steps, an image)."""
    private = make_recipe(
        db,
        user,
        title=f"Secret stew of {user.clerk_user_id}",
        tags=["stew", "winter"],
        ingredients=[{"name": "beans", "quantity": "1.125", "unit": "kg"}, "salt"],
        steps=["Soak", "Simmer"],
        description="Family recipe",
    )
    public = make_recipe(
        db,
        user,
        title=f"Open salad of {user.clerk_user_id}",
        visibility="public",
        tags=["salad"],
        ingredients=["lettuce"],
        steps=["Toss"],
    )
    add_image(db, private)
    # A shopping list with a typed item and an item with the private recipe's share
    # (shopping_lists, shopping_list_items, shopping_item_sources).
    shopping_list = make_shopping_list(db, user, private)
    other_ids = {shopping_list.id, *(item.id for item in shopping_list_items(db, shopping_list))}
    return Household(private=private, public=public, other_ids=other_ids)


def shopping_list_items(db: Session, shopping_list: ShoppingList) -> list[ShoppingListItem]:
    return list(db.scalars(
        select(ShoppingListItem).where(ShoppingListItem.list_id == shopping_list.id)))


def favorite(db: Session, user: User, recipe: Recipe) -> None:
    db.add(Favorite(user_id=user.id, recipe_id=recipe.id))
    db.commit()
