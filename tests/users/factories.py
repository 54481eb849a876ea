"""A person with one of everything the API stores about people."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.collections.models import Collection, CollectionRecipe
from app.mealplans.models import CalendarFeedToken, MealPlan, MealPlanEntry
from app.media.models import MediaImage
from app.recipes.models import Favorite, Recipe
from app.shopping.models import ShoppingList, ShoppingListItem
from app.users.models import User
from tests.idempotency.factories import make_idempotency_key
from tests.mealplans.factories import entry, make_feed_token, make_plan
from tests.media.factories import add_photo
from tests.recipes.factories import make_recipe
from tests.shopping.factories import make_shopping_list


@dataclass
class Household:
    private: Recipe
    public: Recipe
    book: Collection
    smart: Collection
    #: Active, with entries on both recipes and a free-text one (MealPlanEntry rows).
    plan: MealPlan
    #: Only the hash of a token (CalendarFeedToken).
    feed: CalendarFeedToken
    photo: MediaImage
    #: Ids of the person's other rows (shopping lists and items), owned through parents.
    other_ids: set[uuid.UUID] = field(default_factory=set)


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
    # A create retried with an Idempotency-Key leaves an IdempotencyKey row (the key and
    # the stored response), which erasure must delete and export must list.
    make_idempotency_key(db, user, f"retry-of-{user.clerk_user_id}",
                         response_body=f'{{"title": "{private.title}"}}'.encode())
    book = Collection(owner_id=user.id, name=f"Book of {user.clerk_user_id}", position=0,
                      description="Hand-picked")
    smart = Collection(owner_id=user.id, name="Quick ones", position=1,
                       filter={"max_total_minutes": 20})
    db.add_all([book, smart])
    db.flush()
    db.add_all([CollectionRecipe(collection_id=book.id, recipe_id=r.id) for r in (private, public)])
    db.commit()
    plan = make_plan(db, user, name=f"Plan of {user.clerk_user_id}", is_active=True,
                     rotation_weeks=2, entries=[
                         entry(1, "mon", "dinner", recipe_id=private.id, servings=2),
                         entry(2, "sun", "lunch", recipe_id=public.id, note="picnic"),
                         entry(1, "fri", "dinner", title="Eat out"),
                     ])
    feed = make_feed_token(db, user, digest=hashlib.sha256(user.clerk_user_id.encode()).hexdigest())
    # A shopping list with a typed item and an item with the private recipe's share
    # (shopping_lists, shopping_list_items, shopping_item_sources).
    shopping_list = make_shopping_list(db, user, private)
    other_ids = {shopping_list.id, *(item.id for item in shopping_list_items(db, shopping_list))}
    return Household(private=private, public=public, book=book, smart=smart, plan=plan,
                     feed=feed, other_ids=other_ids, photo=photo)


def collect(db: Session, collection: Collection, recipe: Recipe) -> None:
    db.add(CollectionRecipe(collection_id=collection.id, recipe_id=recipe.id))
    db.commit()


#: Named so the schema check sees every per-person table furnished here.
FURNISHED_MODELS = (Recipe, Favorite, MediaImage, Collection, CollectionRecipe, MealPlan,
                    MealPlanEntry, CalendarFeedToken, ShoppingList, ShoppingListItem)


def shopping_list_items(db: Session, shopping_list: ShoppingList) -> list[ShoppingListItem]:
    return list(db.scalars(
        select(ShoppingListItem).where(ShoppingListItem.list_id == shopping_list.id)))


def favorite(db: Session, user: User, recipe: Recipe) -> None:
    db.add(Favorite(user_id=user.id, recipe_id=recipe.id))
    db.commit()
