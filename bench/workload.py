"""What the benchmarks send: seeded users with real tokens, visible recipes, search terms,
recipe bodies, and the matching requests for the project and for the reference."""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import Engine, text

from bench.common import API, Req, ServerConfig, mint_tokens
from bench.seed import INGREDIENTS, NOTES, STEPS, TAGS, collection_id

#: Typed into the search box: common and rare words, two-word queries and a type-ahead
#: prefix, all found in the seeded data.
SEARCH_TERMS = [
    "chicken", "garlic", "tomato soup", "vegan curry", "lemon", "choc", "spicy noodles",
    "pasta", "mushroom risotto", "beans", "salmon", "roasted cauliflower", "tofu bowl",
    "gnocchi", "coconut", "ginger", "halloumi", "lentil dal", "pie", "quick",
]


@dataclass(frozen=True)
class Population:
    """The seeded users the load is spread over, and recipes each may read."""

    user_ids: list[uuid.UUID]
    clerk_ids: list[str]
    tokens: dict[uuid.UUID, str]
    #: (reader, recipe) pairs: half the reader's own recipes, half others' public ones.
    readable: list[tuple[uuid.UUID, uuid.UUID]]

    def bearer(self, user: uuid.UUID) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


def load_population(engine: Engine, config: ServerConfig, pairs: int = 2000) -> Population:
    with engine.connect() as conn:
        users = conn.execute(
            text("SELECT id, clerk_user_id FROM users WHERE deleted_at IS NULL "
                 "ORDER BY clerk_user_id")
        ).all()
        own = conn.execute(
            text("SELECT owner_id, id FROM recipes ORDER BY md5(id::text || 'own') LIMIT :n"),
            {"n": pairs // 2},
        ).all()
        public = conn.execute(
            text("SELECT id FROM recipes WHERE visibility = 'public' "
                 "ORDER BY md5(id::text || 'pub') LIMIT :n"),
            {"n": pairs // 2},
        ).scalars().all()
    user_ids = [row[0] for row in users]
    readable: list[tuple[uuid.UUID, uuid.UUID]] = []
    for i, (owner, recipe) in enumerate(own):
        readable.append((owner, recipe))
        if i < len(public):
            readable.append((user_ids[(i * 7) % len(user_ids)], public[i]))
    return Population(
        user_ids=user_ids, clerk_ids=[row[1] for row in users],
        tokens=mint_tokens(config, user_ids), readable=readable,
    )


# --- request sets ---------------------------------------------------------------------------


def get_one(pop: Population, *, reference: bool) -> list[Req]:
    if reference:
        return [Req("GET", f"/recipes/{r}?as_user={u}") for u, r in pop.readable]
    return [Req("GET", f"{API}/recipes/{r}", pop.bearer(u)) for u, r in pop.readable]


def list_page(pop: Population, *, reference: bool) -> list[Req]:
    """Mine and others' public recipes (scope=all), as the reference lists them."""
    if reference:
        return [Req("GET", f"/recipes?as_user={u}") for u in pop.user_ids]
    return [Req("GET", f"{API}/recipes?scope=all", pop.bearer(u)) for u in pop.user_ids]


def own_list_page(pop: Population) -> list[Req]:
    """The default list: the caller's own recipes, no filter."""
    return [Req("GET", f"{API}/recipes", pop.bearer(u)) for u in pop.user_ids]


def collections_list(pop: Population) -> list[Req]:
    return [Req("GET", f"{API}/collections", pop.bearer(u)) for u in pop.user_ids]


def collection_page(pop: Population, *, smart: bool) -> list[Req]:
    """A page of one of the caller's seeded collections (bench/seed.py: odd positions are
    smart, even ones hand-picked; the first user's position 0 is the 5,000-recipe book)."""
    requests = []
    for i, user in enumerate(pop.user_ids):
        n = int(pop.clerk_ids[i].removeprefix("user_bench_"))
        position = 2 * (i % 10) + (1 if smart else 0)
        if not smart and n == 1:
            position = 2  # the big book has its own benchmark (bench/collections_scale.py)
        requests.append(Req("GET", f"{API}/recipes?collection={collection_id(n, position)}",
                            pop.bearer(user)))
    return requests


def search(pop: Population, *, reference: bool, sort: str | None = None) -> list[Req]:
    """The default order (newest first), or ``sort=relevance``."""
    requests = []
    order = f"&sort={sort}" if sort else ""
    for i, user in enumerate(pop.user_ids):
        q = quote(SEARCH_TERMS[i % len(SEARCH_TERMS)])
        if reference:
            requests.append(Req("GET", f"/recipes?as_user={user}&q={q}{order}"))
        else:
            requests.append(Req("GET", f"{API}/recipes?q={q}{order}&scope=all",
                                pop.bearer(user)))
    return requests


def create(pop: Population, count: int = 500) -> list[Req]:
    headers = {"Content-Type": "application/json"}
    return [
        Req("POST", f"{API}/recipes", {**pop.bearer(pop.user_ids[i % len(pop.user_ids)]),
                                       **headers}, recipe_body(i))
        for i in range(count)
    ]


def exchange(clerk_tokens: list[str]) -> list[Req]:
    return [Req("POST", f"{API}/auth/token", {"Authorization": f"Bearer {t}"})
            for t in clerk_tokens]


def mint_clerk_tokens(fake: object, clerk_ids: list[str], lifetime: int = 4 * 3600) -> list[str]:
    """Clerk session tokens for seeded users, valid for the whole run."""
    now = int(time.time())
    return [
        fake.mint_session_token(sub=cid, exp=now + lifetime)  # type: ignore[attr-defined]
        for cid in clerk_ids
    ]


def recipe_body(i: int) -> str:
    """A realistic recipe to create: 9 ingredients, 6 steps, 3 tags, a short description."""
    rng = random.Random(i)
    names = rng.sample(INGREDIENTS, 9)
    body = {
        "title": f"Bench {names[0]} {rng.choice(['stew', 'salad', 'curry', 'bake'])} {i}",
        "description": f"A benchmark recipe built around {names[0]} and {names[1]}. "
                       "It keeps well in the fridge for three days and tastes even better "
                       "the next day. Serve it with crusty bread or a simple green salad.",
        "servings": rng.randint(1, 8),
        "prep_minutes": rng.choice([5, 10, 15, 20, 30]),
        "cook_minutes": rng.choice([0, 10, 20, 40, 90]),
        "cuisine": rng.choice(["Italian", "Thai", "Mexican", None]),
        "visibility": rng.choice(["private", "public"]),
        "tags": rng.sample(TAGS, 3),
        "ingredients": [
            {"quantity": rng.choice(["1", "2", "0.5", "250", None]),
             "unit": rng.choice(["g", "ml", "tbsp", "tsp", None]), "name": name,
             "note": rng.choice([None, None, *NOTES])}
            for name in names
        ],
        "steps": [{"text": rng.choice(STEPS).replace("{i}", rng.choice(names))
                   .replace("{n}", str(rng.randint(2, 30)))} for _ in range(6)],
    }
    return json.dumps(body)


def revalidate_one(pop: Population, engine: Engine) -> list[Req]:
    """GET one recipe with the ETag the reader cached (If-None-Match): each answers 304.
    The ETags come from the API's own functions (they cover the reader's collections)."""
    from sqlalchemy.orm import Session

    from app.recipes.repository import read_etag_basis
    from app.recipes.service import recipe_etag

    requests = []
    with Session(engine) as session:
        for user, recipe in pop.readable:
            basis = read_etag_basis(session, recipe, user)
            assert basis is not None, "a readable pair must be visible"
            requests.append(Req("GET", f"{API}/recipes/{recipe}",
                                {**pop.bearer(user), "If-None-Match": recipe_etag(basis)}))
    return requests
