"""Seed a benchmark database with realistic users and recipes, fast, and reuse it.

    .venv/bin/python bench/seed.py                      # 1,000 users, 100,000 recipes
    .venv/bin/python bench/seed.py --recipes 10000 --db homechef_bench_10k
    .venv/bin/python bench/seed.py --force              # throw the data away and reseed

The rows are generated inside PostgreSQL (INSERT ... SELECT over generate_series), so
100,000 recipes with ~2 million child rows take about a minute rather than an hour of
ORM inserts. Every value is derived from a hash of the row number, so two seeds of the
same size hold the same data. The search column is then filled by the application's own
``refresh_search_vectors``, so seeded recipes are searchable exactly like recipes created
through the API. A marker table remembers what was seeded: a rerun at the same size only
removes what earlier benchmark runs added (their created recipes, favourites, images).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg2
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.recipes.search import refresh_search_vectors
from bench.common import BENCH_DB, bench_engine, database_url, ensure_database

#: Bump when the generated data changes shape: a marker of another version reseeds.
SEED_VERSION = 1
DEFAULT_USERS = 1_000
DEFAULT_RECIPES = 100_000
PUBLIC_PERCENT = 30
SEARCH_BATCH = 5_000
#: A title's main ingredient is one of the first ones of INGREDIENTS (proteins, grains,
#: vegetables), not "baking powder".
MAIN_INGREDIENT_CHOICES = 60

FIRST_NAMES = [
    "Ada", "Amara", "Ana", "Ben", "Chen", "Chloe", "Dario", "Emma", "Farah", "Gabriel",
    "Hana", "Ines", "Ivan", "Jonas", "Kemi", "Lara", "Leo", "Lucia", "Maya", "Mateo",
    "Nadia", "Noah", "Olga", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Sofia", "Tariq",
    "Uma", "Victor", "Wen", "Yara", "Zoe",
]
LAST_NAMES = [
    "Andersen", "Bauer", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito",
    "Jensen", "Kowalski", "Lopez", "Martin", "Nguyen", "Okafor", "Petrov", "Rossi", "Silva",
    "Tanaka", "Urban", "Varga", "Weber", "Xu", "Yilmaz", "Zhang",
]
ADJECTIVES = [
    "classic", "creamy", "crispy", "smoky", "spicy", "zesty", "rustic", "quick", "easy",
    "hearty", "lemony", "garlicky", "roasted", "grilled", "braised", "baked", "herby",
    "sticky", "tangy", "golden", "summer", "winter", "weeknight", "sunday", "grandma's",
    "one-pot", "slow-cooked", "charred", "fragrant", "silky", "light", "rich", "fresh",
    "sheet-pan", "street-style", "honey", "buttery", "peppery", "sweet", "savory",
]
DISHES = [
    "soup", "stew", "curry", "salad", "risotto", "pasta", "tacos", "pie", "tart", "cake",
    "bread", "casserole", "stir-fry", "noodles", "bowl", "skewers", "burgers", "pizza",
    "frittata", "omelette", "pancakes", "muffins", "cookies", "dumplings", "gratin", "chili",
    "traybake", "flatbread", "sandwich", "wraps", "fritters", "galette", "crumble", "lasagna",
    "paella", "tagine", "dal", "ramen", "pilaf", "quiche", "hash", "ragu", "gnocchi",
    "enchiladas", "chowder", "biryani", "kebabs", "porridge", "smoothie", "brownies",
]
#: Trimmed to a prime length below, so a stride walks distinct names within a recipe.
INGREDIENTS = [
    "chicken", "beef", "pork", "lamb", "salmon", "cod", "prawns", "tofu", "tempeh", "eggs",
    "chickpeas", "lentils", "black beans", "kidney beans", "rice", "quinoa", "couscous",
    "bulgur", "spaghetti", "penne", "noodles", "potatoes", "sweet potatoes", "carrots",
    "onions", "red onion", "shallots", "garlic", "ginger", "leeks", "celery", "fennel",
    "tomatoes", "cherry tomatoes", "tomato paste", "bell pepper", "chili", "jalapeno",
    "zucchini", "eggplant", "mushrooms", "spinach", "kale", "cabbage", "broccoli",
    "cauliflower", "peas", "green beans", "corn", "asparagus", "pumpkin", "butternut squash",
    "beetroot", "avocado", "cucumber", "lettuce", "rocket", "basil", "parsley", "coriander",
    "mint", "dill", "thyme", "rosemary", "oregano", "sage", "bay leaves", "cumin",
    "coriander seeds", "paprika", "smoked paprika", "turmeric", "garam masala", "cinnamon",
    "nutmeg", "cardamom", "cloves", "star anise", "black pepper", "sea salt", "olive oil",
    "butter", "sesame oil", "coconut milk", "cream", "milk", "yogurt", "parmesan",
    "cheddar", "mozzarella", "feta", "ricotta", "goat cheese", "flour", "sugar",
    "brown sugar", "honey", "maple syrup", "baking powder", "yeast", "oats", "almonds",
    "walnuts", "pine nuts", "cashews", "peanuts", "sesame seeds", "lemon", "lime", "orange",
    "apple", "pear", "banana", "strawberries", "blueberries", "raspberries", "dark chocolate",
    "cocoa powder", "vanilla", "soy sauce", "fish sauce", "miso", "tahini", "mustard",
    "vinegar", "balsamic vinegar", "white wine", "red wine", "stock", "chicken stock",
    "vegetable stock", "capers", "olives", "anchovies", "bacon", "chorizo", "sausages",
    "ham", "duck", "turkey", "mussels", "squid", "tuna", "halloumi", "paneer", "gochujang",
    "harissa", "pesto", "breadcrumbs", "tortillas", "puff pastry", "spring onions",
]
MEASURES = [  # (unit, quantity): parallel arrays in SQL; "" means no unit
    ("g", "200"), ("g", "100"), ("g", "450"), ("kg", "1"), ("ml", "250"), ("ml", "100"),
    ("l", "1"), ("tbsp", "2"), ("tbsp", "1"), ("tsp", "1"), ("tsp", "0.5"), ("cup", "1"),
    ("cup", "0.75"), ("cup", "1.5"), ("clove", "3"), ("pinch", "1"), ("", "2"), ("", "1"),
    ("", "4"), ("", "0.5"), ("oz", "8"), ("lb", "1.25"), ("can", "1"), ("bunch", "1"),
]
NOTES = [
    "finely chopped", "diced", "thinly sliced", "grated", "crushed", "to taste",
    "at room temperature", "melted", "drained and rinsed", "roughly torn", "toasted",
    "peeled", "zested and juiced", "optional", "plus extra to serve", "cut into chunks",
]
#: Trimmed to a prime length below, so a recipe's 1-5 tags are distinct.
TAGS = [
    "vegan", "vegetarian", "gluten-free", "dairy-free", "quick", "weeknight", "dessert",
    "breakfast", "brunch", "lunch", "dinner", "snack", "side", "starter", "soup", "salad",
    "baking", "bbq", "one-pot", "meal-prep", "kid-friendly", "spicy", "comfort-food",
    "healthy", "high-protein", "low-carb", "budget", "party", "holiday", "summer", "winter",
    "autumn", "spring", "freezer-friendly", "make-ahead", "pasta", "rice", "noodles", "curry",
    "seafood", "chicken", "beef", "pork", "lamb", "tofu", "beans", "cheese", "chocolate",
    "fruit", "bread", "pickles", "sauce", "drinks",
]
CUISINES = [
    "Italian", "French", "Spanish", "Greek", "Turkish", "Lebanese", "Moroccan", "Indian",
    "Thai", "Vietnamese", "Chinese", "Japanese", "Korean", "Mexican", "Peruvian",
    "American", "British", "German", "Ethiopian", "Caribbean",
]
STEPS = [
    "Heat a splash of olive oil in a large pan over medium heat and add the {i}.",
    "Cook the {i} for {n} minutes, stirring now and then, until soft and golden.",
    "Meanwhile, bring a large pot of salted water to the boil.",
    "Add the {i} and season well with salt and pepper.",
    "Whisk the {i} with a little water until smooth, then pour it into the pan.",
    "Preheat the oven to 200C (180C fan) and line a baking tray.",
    "Roast the {i} for {n} minutes, turning halfway, until charred at the edges.",
    "Simmer gently for {n} minutes, until the sauce has thickened.",
    "Stir through the {i} and let it wilt for a minute.",
    "Taste and adjust the seasoning with more salt, pepper or a squeeze of lemon.",
    "Leave to rest for {n} minutes before slicing.",
    "Blend until smooth, adding a splash of water if it is too thick.",
    "Scatter over the {i} and serve straight away.",
    "Fold the {i} into the batter without overmixing.",
    "Bake for {n} minutes, until risen and a skewer comes out clean.",
    "Toast the {i} in a dry pan until fragrant, then set aside.",
    "Marinate the {i} for at least {n} minutes, or overnight in the fridge.",
    "Divide between bowls and top with the {i}.",
]
SENTENCES = [
    "A weeknight favourite built around {i}.",
    "This is the dish I make when the {i} at the market looks too good to pass up.",
    "Ready in under an hour, with {i} doing most of the work.",
    "The {i} gives it a deep, savoury backbone that everyone loves.",
    "It keeps well in the fridge for three days and tastes even better the next day.",
    "Serve it with crusty bread or a simple green salad.",
    "My grandmother's recipe, lightly adapted, with plenty of {i}.",
    "Swap the {i} for whatever you have in the fridge; it is very forgiving.",
    "Great for feeding a crowd, and easy to double.",
    "The secret is to be patient with the {i} and let it caramelise properly.",
    "Kids love it, and it sneaks in a good amount of vegetables.",
    "A bright, fresh dish that works just as well for lunch the next day.",
]


#: 20 collections per user: even positions hand-picked (~1/4 of the owner's recipes and a
#: few public ones), odd positions smart, with these saved filters.
COLLECTIONS_PER_USER = 20
SMART_FILTERS = [
    {"tag": ["vegan"]},
    {"max_total_minutes": 30},
    {"cuisine": "Italian"},
    {"tag": ["quick", "dinner"]},
    {"favorites": True},
    {"ingredient": ["garlic"]},
    {"q": "soup"},
    {"collection": "none"},
    {"scope": "all", "tag": ["vegan"], "max_total_minutes": 20},
    {"sort": "quickest", "max_total_minutes": 15},
]
#: The first user's "Collection 0" holds this many recipes (deep pages of a big book).
BIG_COLLECTION = 5_000


def _largest_prime_at_most(n: int) -> int:
    def prime(k: int) -> bool:
        return k > 1 and all(k % d for d in range(2, int(k**0.5) + 1))

    while not prime(n):
        n -= 1
    return n


INGREDIENT_VOCAB = INGREDIENTS[: _largest_prime_at_most(len(INGREDIENTS))]
TAG_VOCAB = TAGS[: _largest_prime_at_most(len(TAGS))]


@dataclass(frozen=True)
class SeedInfo:
    db_name: str
    users: int
    recipes: int
    seconds: float
    reused: bool


def user_id(n: int) -> uuid.UUID:
    """The id of the n-th seeded user (1-based); the SQL below derives it the same way."""
    return uuid.UUID(hashlib.md5(f"bench-user:{n}".encode()).hexdigest())


def clerk_user_id(n: int) -> str:
    return f"user_bench_{n:07d}"


def recipe_id(n: int) -> uuid.UUID:
    return uuid.UUID(hashlib.md5(f"bench-recipe:{n}".encode()).hexdigest())


def collection_id(user: int, position: int) -> uuid.UUID:
    """The n-th user's collection at ``position`` (odd: smart, even: hand-picked)."""
    return uuid.UUID(hashlib.md5(f"bench-collection:{user}:{position}".encode()).hexdigest())


# --- SQL --------------------------------------------------------------------------------------

_HELPERS = """
CREATE FUNCTION pg_temp.h(seed text) RETURNS integer LANGUAGE sql IMMUTABLE
AS $$ SELECT hashtext(seed) & 2147483647 $$;
CREATE FUNCTION pg_temp.pick(items text[], seed text) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT items[1 + (hashtext(seed) & 2147483647) % cardinality(items)] $$;
"""

_USERS = """
INSERT INTO users (id, clerk_user_id, email, first_name, last_name, username,
                   measurement_system, dietary_tags, role, token_version, created_at, updated_at)
SELECT md5('bench-user:' || g)::uuid,
       'user_bench_' || lpad(g::text, 7, '0'),
       'cook' || g || '@example.com',
       pg_temp.pick({first_names}, 'fn' || g),
       pg_temp.pick({last_names}, 'ln' || g),
       'cook' || g,
       CASE WHEN pg_temp.h('ms' || g) % 4 = 0 THEN 'us' ELSE 'metric' END,
       '[]'::json, 'user', 0,
       now() - make_interval(secs => 800 * 86400 + pg_temp.h('uc' || g) % (100 * 86400)),
       now() - make_interval(secs => pg_temp.h('uu' || g) % (30 * 86400))
FROM generate_series(1, {users}) AS g
"""

# n: row number; m: the main ingredient, which also appears first in the ingredient list.
_RECIPES = """
INSERT INTO recipes (id, owner_id, title, description, servings, prep_minutes, cook_minutes,
                     total_minutes, cuisine, source_url, visibility, version, created_at,
                     updated_at)
SELECT md5('bench-recipe:' || n)::uuid,
       md5('bench-user:' || (1 + pg_temp.h('owner' || n) % {users}))::uuid,
       left(replace(initcap(pg_temp.pick({adjectives}, 'adj' || n) || ' ' || m || ' '
                            || pg_temp.pick({dishes}, 'dish' || n)), '''S ', '''s ')
            || CASE WHEN pg_temp.h('with' || n) % 3 = 0
                    THEN ' with ' || pg_temp.pick({ingredients}, 'with-i' || n) ELSE '' END,
            200),
       CASE WHEN pg_temp.h('hasdesc' || n) % 100 < 85 THEN
         replace(pg_temp.pick({sentences}, 's1' || n), '{{i}}', m) || ' '
         || replace(pg_temp.pick({sentences}, 's2' || n), '{{i}}',
                    pg_temp.pick({ingredients}, 's2i' || n))
         || CASE WHEN pg_temp.h('s3?' || n) % 2 = 0 THEN ' ' || replace(
              pg_temp.pick({sentences}, 's3' || n), '{{i}}',
              pg_temp.pick({ingredients}, 's3i' || n)) ELSE '' END
       END,
       1 + pg_temp.h('srv' || n) % 8,
       prep, cook, prep + cook,
       CASE WHEN pg_temp.h('hascuis' || n) % 100 < 80
            THEN pg_temp.pick({cuisines}, 'cuis' || n) END,
       CASE WHEN pg_temp.h('hasurl' || n) % 4 = 0
            THEN 'https://example.com/recipes/' || n END,
       CASE WHEN pg_temp.h('vis' || n) % 100 < {public_percent} THEN 'public' ELSE 'private' END,
       1, created, created + make_interval(secs => pg_temp.h('upd' || n) % (20 * 86400))
FROM generate_series(1, {recipes}) AS n
CROSS JOIN LATERAL (SELECT
    {ingredients}[1 + pg_temp.h('main' || n) % {main_choices}] AS m,
    5 * (pg_temp.h('prep' || n) % 13) AS prep,
    10 * (pg_temp.h('cook' || n) % 19) AS cook,
    -- Spread over two years, distinct to the millisecond (ties would still be broken by id).
    now() - interval '760 days'
      + make_interval(secs => (pg_temp.h('ct' || n) % (730 * 86400))::double precision
                              + (n % 1000) / 1000.0) AS created
) AS x
"""

# The first ingredient is the title's main one; the rest walk the (prime-length) vocabulary
# with a per-recipe stride, so names within a recipe are distinct.
_INGREDIENTS = """
INSERT INTO recipe_ingredients (recipe_id, position, quantity, unit, name, note)
SELECT md5('bench-recipe:' || n)::uuid, p,
       CASE WHEN pg_temp.h('qn' || n || ':' || p) % 10 = 0 THEN NULL
            ELSE {quantities}[1 + ms]::numeric END,
       CASE WHEN pg_temp.h('qn' || n || ':' || p) % 10 = 0 THEN NULL
            ELSE nullif({units}[1 + ms], '') END,
       {ingredients}[1 + (first + p * stride) % cardinality({ingredients})],
       CASE WHEN pg_temp.h('note' || n || ':' || p) % 5 = 0
            THEN pg_temp.pick({notes}, 'nt' || n || ':' || p) END
FROM generate_series(1, {recipes}) AS n
CROSS JOIN LATERAL (SELECT
    pg_temp.h('main' || n) % {main_choices} AS first,
    1 + pg_temp.h('stride' || n) % (cardinality({ingredients}) - 1) AS stride
) AS s
CROSS JOIN LATERAL generate_series(0, 2 + pg_temp.h('ning' || n) % 13) AS p
CROSS JOIN LATERAL (SELECT pg_temp.h('ms' || n || ':' || p) % cardinality({units}) AS ms) AS q
"""

_STEPS = """
INSERT INTO recipe_steps (recipe_id, position, text)
SELECT md5('bench-recipe:' || n)::uuid, p,
       replace(replace(pg_temp.pick({steps}, 'st' || n || ':' || p), '{{i}}',
                       pg_temp.pick({ingredients}, 'sti' || n || ':' || p)),
               '{{n}}', (2 + pg_temp.h('stn' || n || ':' || p) % 28)::text)
FROM generate_series(1, {recipes}) AS n
CROSS JOIN LATERAL generate_series(0, 2 + pg_temp.h('nst' || n) % 8) AS p
"""

_TAGS = """
INSERT INTO recipe_tags (recipe_id, tag)
SELECT md5('bench-recipe:' || n)::uuid,
       {tags}[1 + (pg_temp.h('t0' || n) + p * (1 + pg_temp.h('tstride' || n)
                   % (cardinality({tags}) - 1))) % cardinality({tags})]
FROM generate_series(1, {recipes}) AS n
CROSS JOIN LATERAL generate_series(0, pg_temp.h('ntag' || n) % 5) AS p
"""

_COLLECTIONS = """
INSERT INTO collections (id, owner_id, name, description, position, filter, version,
                         created_at, updated_at)
SELECT md5('bench-collection:' || u || ':' || k)::uuid, md5('bench-user:' || u)::uuid,
       'Collection ' || k, NULL, k,
       CASE WHEN k % 2 = 1 THEN ({filters})[1 + k / 2]::json END, 1, now(), now()
FROM generate_series(1, {users}) AS u CROSS JOIN generate_series(0, {per_user} - 1) AS k
"""

_OWN_MEMBERS = """
INSERT INTO collection_recipes (collection_id, recipe_id, added_at)
SELECT c.id, r.id, now() FROM collections c JOIN recipes r ON r.owner_id = c.owner_id
WHERE c.filter IS NULL AND pg_temp.h(r.id::text || ':' || c.position) % 4 = 0
"""

_PUBLIC_MEMBERS = """
INSERT INTO collection_recipes (collection_id, recipe_id, added_at)
SELECT c.id, r.id, now() FROM collections c
CROSS JOIN generate_series(1, 8) AS j
JOIN recipes r
  ON r.id = md5('bench-recipe:' || (1 + pg_temp.h(c.id::text || ':' || j) % {recipes}))::uuid
WHERE c.filter IS NULL AND r.visibility = 'public' AND r.owner_id <> c.owner_id
ON CONFLICT DO NOTHING
"""

_BIG_COLLECTION = """
DELETE FROM collection_recipes WHERE collection_id = md5('bench-collection:1:0')::uuid;
INSERT INTO collection_recipes (collection_id, recipe_id, added_at)
SELECT md5('bench-collection:1:0')::uuid, r.id, now() FROM recipes r
WHERE r.owner_id = md5('bench-user:1')::uuid OR r.visibility = 'public'
ORDER BY md5(r.id::text || 'big') LIMIT {big};
"""

_MARKER = """
CREATE TABLE IF NOT EXISTS bench_seed (
    id integer PRIMARY KEY CHECK (id = 1),
    users integer NOT NULL,
    recipes integer NOT NULL,
    seed_version integer NOT NULL,
    seeded_at timestamptz NOT NULL
)
"""

_APP_TABLES = ("collection_recipes", "collections", "favorites", "media_variants",
               "media_images", "media_blobs",
               "recipe_tags", "recipe_ingredients", "recipe_steps", "recipes",
               "revoked_sessions", "webhook_events", "users")


def _vocab_literals(cur: Any) -> dict[str, str]:
    """The word lists as SQL array literals, written into the statements themselves.

    As constants they are built once per statement; read from a table they would be
    detoasted again for every generated row (measured: ~20x slower).
    """
    lists = {
        "first_names": FIRST_NAMES, "last_names": LAST_NAMES, "adjectives": ADJECTIVES,
        "dishes": DISHES, "ingredients": INGREDIENT_VOCAB, "units": [u for u, _ in MEASURES],
        "quantities": [q for _, q in MEASURES], "notes": NOTES, "tags": TAG_VOCAB,
        "cuisines": CUISINES, "steps": STEPS, "sentences": SENTENCES,
    }
    return {
        name: "(" + cur.mogrify("%s::text[]", (words,)).decode() + ")"
        for name, words in lists.items()
    }


def _marker(engine: Engine) -> tuple[int, int, int] | None:
    with engine.begin() as conn:
        conn.execute(text(_MARKER))
        row = conn.execute(text("SELECT users, recipes, seed_version FROM bench_seed")).first()
    return None if row is None else (row[0], row[1], row[2])


def _generate(db_name: str, users: int, recipes: int, log: bool) -> None:
    conn = psycopg2.connect(database_url(db_name), connect_timeout=5)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit = off")
            cur.execute(f"TRUNCATE {', '.join(_APP_TABLES)} RESTART IDENTITY CASCADE")
            cur.execute("DELETE FROM bench_seed")
            cur.execute(_HELPERS)
            sizes = {"users": users, "recipes": recipes, "public_percent": PUBLIC_PERCENT,
                     "main_choices": MAIN_INGREDIENT_CHOICES,
                     **_vocab_literals(cur)}
            for label, sql in (("users", _USERS), ("recipes", _RECIPES),
                               ("ingredients", _INGREDIENTS), ("steps", _STEPS),
                               ("tags", _TAGS)):
                started = time.perf_counter()
                cur.execute(sql.format(**sizes))
                if log:
                    print(f"  {label:<12} {cur.rowcount:>10,} rows  "
                          f"{time.perf_counter() - started:6.1f}s", flush=True)
    finally:
        conn.close()


def _seed_collections(db_name: str, users: int, recipes: int, log: bool) -> None:
    """20 collections per user (half smart) with their members; skipped when present."""
    conn = psycopg2.connect(database_url(db_name), connect_timeout=5)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT EXISTS (SELECT 1 FROM collections)")
            if cur.fetchone()[0]:
                return
            cur.execute(_HELPERS)
            filters = cur.mogrify("%s::text[]", ([json.dumps(f) for f in SMART_FILTERS],))
            sizes = {"users": users, "recipes": recipes, "per_user": COLLECTIONS_PER_USER,
                     "filters": filters.decode(), "big": BIG_COLLECTION}
            for label, sql in (("collections", _COLLECTIONS), ("members", _OWN_MEMBERS),
                               ("members+", _PUBLIC_MEMBERS), ("big book", _BIG_COLLECTION)):
                started = time.perf_counter()
                cur.execute(sql.format(**sizes))
                if log:
                    print(f"  {label:<12} {cur.rowcount:>10,} rows  "
                          f"{time.perf_counter() - started:6.1f}s", flush=True)
    finally:
        conn.close()
    autocommit = psycopg2.connect(database_url(db_name), connect_timeout=5)
    autocommit.autocommit = True
    try:
        with autocommit.cursor() as cur:
            cur.execute("VACUUM (ANALYZE) collections, collection_recipes")
    finally:
        autocommit.close()


def _fill_search_vectors(engine: Engine, recipes: int, log: bool) -> None:
    started = time.perf_counter()
    for first in range(1, recipes + 1, SEARCH_BATCH):
        ids = [recipe_id(n) for n in range(first, min(first + SEARCH_BATCH, recipes + 1))]
        with Session(engine) as session:
            refresh_search_vectors(session, ids)
            session.commit()
    if log:
        print(f"  {'search':<12} {recipes:>10,} rows  {time.perf_counter() - started:6.1f}s",
              flush=True)


def _vacuum(db_name: str) -> None:
    # The search-vector UPDATE left one dead version of every recipe; a benchmark on a
    # bloated table would measure the bloat.
    conn = psycopg2.connect(database_url(db_name), connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE)")
    finally:
        conn.close()


def restore(engine: Engine) -> None:
    """Undo what benchmark runs add: created recipes, favourites, images, revocations."""
    with engine.begin() as conn:
        conn.execute(text(
            "DELETE FROM recipes WHERE created_at > (SELECT seeded_at FROM bench_seed)"))
        conn.execute(text(
            "DELETE FROM users WHERE created_at > (SELECT seeded_at FROM bench_seed)"))
        conn.execute(text("DELETE FROM favorites"))
        conn.execute(text("DELETE FROM media_images"))  # variants cascade
        conn.execute(text("DELETE FROM media_blobs"))
        conn.execute(text("UPDATE recipes SET image_sha256 = NULL WHERE image_sha256 IS NOT NULL"))
        conn.execute(text("DELETE FROM revoked_sessions"))


def ensure_seeded(
    db_name: str = BENCH_DB, *, users: int = DEFAULT_USERS, recipes: int = DEFAULT_RECIPES,
    force: bool = False, log: bool = True,
) -> SeedInfo:
    """The database at this size, seeded once and reused afterwards."""
    started = time.perf_counter()
    ensure_database(db_name)
    engine = bench_engine(db_name)
    try:
        if not force and _marker(engine) == (users, recipes, SEED_VERSION):
            restore(engine)
            _seed_collections(db_name, users, recipes, log)
            return SeedInfo(db_name, users, recipes, time.perf_counter() - started, reused=True)
        if log:
            print(f"Seeding {db_name}: {users:,} users, {recipes:,} recipes ...", flush=True)
        _marker(engine)  # creates the marker table
        _generate(db_name, users, recipes, log)
        _fill_search_vectors(engine, recipes, log)
        _seed_collections(db_name, users, recipes, log)
        _vacuum(db_name)
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO bench_seed VALUES (1, :u, :r, :v, now())"),
                {"u": users, "r": recipes, "v": SEED_VERSION},
            )
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    if log:
        print(f"Seeded {db_name} in {seconds:.1f}s", flush=True)
    return SeedInfo(db_name, users, recipes, seconds, reused=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=BENCH_DB)
    parser.add_argument("--users", type=int, default=DEFAULT_USERS)
    parser.add_argument("--recipes", type=int, default=DEFAULT_RECIPES)
    parser.add_argument("--force", action="store_true", help="reseed even if already seeded")
    args = parser.parse_args(argv)
    info = ensure_seeded(args.db, users=args.users, recipes=args.recipes, force=args.force)
    state = "reused (already seeded at this size)" if info.reused else "seeded"
    print(f"{info.db_name}: {info.users:,} users, {info.recipes:,} recipes, {state}, "
          f"{info.seconds:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
