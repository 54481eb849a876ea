"""A person with one of everything the API stores about people."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.media.models import MediaImage
from app.recipes.models import Favorite, Recipe
from app.users.models import User
from tests.media.factories import add_photo
from tests.recipes.factories import make_recipe


@dataclass
class Household:
    private: Recipe
    public: Recipe
    photo: MediaImage


def photo_bytes(user: User) -> bytes:
    """Each person's own bytes: photos are content-addressed, and identical bytes would
    be one shared blob that outlives one owner's erasure (by design)."""
    return b"\x89PNG fake bytes of " + user.clerk_user_id.encode()


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
    photo = add_photo(db, private, photo_bytes(user))
    return Household(private=private, public=public, photo=photo)


def favorite(db: Session, user: User, recipe: Recipe) -> None:
    db.add(Favorite(user_id=user.id, recipe_id=recipe.id))
    db.commit()
