"""Shopping lists: generating a list from a week's plan, syncing, bulk-ticking.

    .venv/bin/python bench/shopping.py [--samples 40] [--duration 4] [--rounds 3]
        [--concurrency 16] [--workers 2]

Its own small database (``homechef_bench_shopping``): one cook with 21 recipes of 6-9
ingredients (overlapping names and units, so they really merge) on a 7-day plan, a list of
500 items for syncing, one of 200 items for bulk ticks. One uvicorn server (2 workers).

1. List generation: ``POST /shopping-lists/{id}/meal-plan`` for the 7 days (21 recipes)
   into a fresh list, sequential, p50/p99; its SQL statement count in-process for plans of
   3, 7 and 21 recipes (target: constant).
2. Sync: ``GET /shopping-lists/{id}/items?changed_since=`` with 0, 10 and 500 changes since
   the token, under wrk, next to ``GET /recipes/{id}`` on the same server in the same run
   (target: no changes >= 0.8x the recipe GET's req/s).
3. Bulk: ``PATCH /shopping-lists/{id}/items`` checking / unchecking 200 items, p50/p99.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.main import create_app
from app.mealplans.models import MealPlan, MealPlanEntry
from app.recipes.models import Recipe, RecipeIngredient
from app.shopping.models import ShoppingList, ShoppingListItem
from app.shopping.sync_token import SyncPoint, encode_token, token_key
from app.users.models import User
from bench.common import (
    API,
    Req,
    ServerConfig,
    bench_engine,
    cpu_seconds,
    ensure_database,
    machine_note,
    mint_tokens,
    percentile,
    print_table,
    ratio,
    require_wrk,
    run_wrk,
    start_server,
    time_requests,
    verdict,
)
from tests.sql_counting import counting

DB = "homechef_bench_shopping"
CLERK_ID = "user_shopping_bench"
MONDAY = date(2026, 12, 7)
_PANTRY = [
    ("flour", "g", "250"), ("Flour", "kg", "0.5"), ("milk", "cup", "1"), ("milk", "ml", "200"),
    ("eggs", None, "2"), ("egg", None, "1"), ("butter", "tbsp", "2"), ("butter", "g", "50"),
    ("onions", None, "1"), ("garlic", "clove", "2"), ("salt", None, None),
    ("olive oil", "tbsp", "1"), ("tomatoes", "g", "400"), ("rice", "g", "150"),
    ("sugar", "tsp", "1"), ("pepper", None, None), ("lemon", None, "0.5"),
    ("basil", "handful", "1"),
]


@dataclass
class Fixture:
    user_id: uuid.UUID
    recipe_ids: list[uuid.UUID]
    plan_ids: dict[int, uuid.UUID]  # recipes in the plan -> plan id
    sync_list: uuid.UUID
    bulk_list: uuid.UUID
    bulk_ids: list[str]


def _recipes(db: Session, owner: uuid.UUID) -> list[Recipe]:
    recipes = []
    for n in range(21):
        picks = [_PANTRY[(n * 5 + k * 7) % len(_PANTRY)] for k in range(6 + n % 4)]
        recipe = Recipe(owner_id=owner, title=f"Dish {n}", servings=2 + n % 3, prep_minutes=10,
                        cook_minutes=20, total_minutes=30, visibility="private")
        recipe.ingredients = [
            RecipeIngredient(position=k, name=name, unit=unit,
                             quantity=None if quantity is None else Decimal(quantity))
            for k, (name, unit, quantity) in enumerate(dict.fromkeys(picks))
        ]
        recipes.append(recipe)
    db.add_all(recipes)
    db.flush()
    return recipes


def _plan(db: Session, owner: uuid.UUID, recipes: list[Recipe]) -> uuid.UUID:
    plan = MealPlan(owner_id=owner, name=f"{len(recipes)} recipes", start_date=MONDAY,
                    rotation_weeks=1, is_active=False)
    db.add(plan)
    db.flush()
    db.add_all([MealPlanEntry(plan_id=plan.id, position=n, week=1, day=n * 7 // len(recipes),
                              meal=("breakfast", "lunch", "dinner")[n % 3],
                              recipe_id=recipe.id, servings=4)
                for n, recipe in enumerate(recipes)])
    return plan.id


def _list_with(db: Session, owner: uuid.UUID, name: str, count: int) -> ShoppingList:
    shopping_list = ShoppingList(owner_id=owner, name=name, change_seq=count)
    db.add(shopping_list)
    db.flush()
    db.add_all([ShoppingListItem(list_id=shopping_list.id, position=n, name=f"item {n}",
                                 name_key=f"item {n}", quantity=Decimal(n % 7 + 1),
                                 unit="g", change_seq=n + 1) for n in range(count)])
    return shopping_list


def seed(engine) -> Fixture:
    with Session(engine, expire_on_commit=False) as db:
        db.execute(delete(User).where(User.clerk_user_id == CLERK_ID))  # earlier runs
        user = User(clerk_user_id=CLERK_ID, email="bench@example.com")
        db.add(user)
        db.flush()
        recipes = _recipes(db, user.id)
        plans = {size: _plan(db, user.id, recipes[:size]) for size in (3, 7, 21)}
        sync_list = _list_with(db, user.id, "sync", 500)
        bulk_list = _list_with(db, user.id, "bulk", 200)
        db.commit()
        bulk_ids = [str(i.id) for i in db.query(ShoppingListItem.id)
                    .filter(ShoppingListItem.list_id == bulk_list.id)]
        return Fixture(user.id, [r.id for r in recipes], plans, sync_list.id, bulk_list.id,
                       bulk_ids)


def statement_counts(config: ServerConfig, engine, fixture: Fixture, token: str) -> dict:
    """Statements of one meal-plan generation per plan size, in-process."""
    app = create_app(config.settings(), engine=engine)
    headers = {"Authorization": f"Bearer {token}"}
    counts = {}
    with TestClient(app) as client:
        for size, plan_id in fixture.plan_ids.items():
            list_id = client.post(f"{API}/shopping-lists", json={"name": "count"},
                                  headers=headers).json()["id"]
            body = {"plan_id": str(plan_id), "from": str(MONDAY), "days": 7}
            with counting(engine) as statements:
                assert client.post(f"{API}/shopping-lists/{list_id}/meal-plan", json=body,
                                   headers=headers).status_code == 200
            counts[size] = len(statements)
            client.delete(f"{API}/shopping-lists/{list_id}", headers=headers)
    return counts


def generation(server, headers: dict[str, str], plan_id: uuid.UUID,
               samples: int) -> tuple[list[float], float]:
    """Latencies of generating a fresh list from the 21-recipe week, and the server's CPU
    per generation (lists made before, dropped after, neither timed)."""
    body = json.dumps({"plan_id": str(plan_id), "from": str(MONDAY), "days": 7})
    samples = min(samples, 45)  # 50 lists per person
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        lists = [client.post(f"{API}/shopping-lists", json={"name": "week"}).json()["id"]
                 for _ in range(samples + 3)]
        latencies = []
        cpu_before = 0.0
        for n, list_id in enumerate(lists):
            if n == 3:  # the first ones warm the workers (pint's registry, caches)
                cpu_before = cpu_seconds(server.worker_pids())
            started = time.perf_counter()
            response = client.post(f"{API}/shopping-lists/{list_id}/meal-plan", content=body,
                                   headers={"Content-Type": "application/json"})
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
            assert len(response.json()["items"]) >= 10
        cpu_ms = (cpu_seconds(server.worker_pids()) - cpu_before) * 1000 / samples
        for list_id in lists:
            client.delete(f"{API}/shopping-lists/{list_id}")
    return latencies[3:], cpu_ms


def bulk_ticks(server, headers: dict[str, str], fixture: Fixture,
               samples: int) -> tuple[list[float], float]:
    url = f"{API}/shopping-lists/{fixture.bulk_list}/items"
    requests = [
        Req("PATCH", url, {**headers, "Content-Type": "application/json"},
            json.dumps({"action": action, "ids": fixture.bulk_ids}))
        for action in ("check", "uncheck")
    ]
    with httpx.Client(timeout=30) as client:
        time_requests(client, server.url, requests, 4)  # warm-up
        cpu_before = cpu_seconds(server.worker_pids())
        latencies, failures = time_requests(client, server.url, requests, samples)
        cpu_ms = (cpu_seconds(server.worker_pids()) - cpu_before) * 1000 / samples
    assert failures == 0
    return latencies, cpu_ms


def sync_load(server, config: ServerConfig, headers: dict[str, str], fixture: Fixture,
              seconds: float, connections: int, rounds: int) -> list[list[object]]:
    """Each case ``rounds`` times, the cases interleaved (so they share the machine's
    noise), reporting the median req/s and CPU per request."""
    key = token_key(config.secret_key)
    cases: dict[str, list[Req]] = {
        "GET /recipes/{id} (reference)":
            [Req("GET", f"{API}/recipes/{rid}", headers) for rid in fixture.recipe_ids],
    }
    for changes in (0, 10, 500):
        token = encode_token(key, fixture.sync_list,
                             SyncPoint(seq=500 - changes, issued_at=int(time.time())))
        url = f"{API}/shopping-lists/{fixture.sync_list}/items?changed_since={token}"
        cases[f"sync, {changes} changes"] = [Req("GET", url, headers)]
    results: dict[str, list] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, requests in cases.items():
            results[name].append(run_wrk(server, requests, connections=connections,
                                         seconds=seconds))
    rows: list[list[object]] = []
    reference = statistics.median(r.rps for r in results["GET /recipes/{id} (reference)"])
    for name, runs in results.items():
        rps = statistics.median(r.rps for r in runs)
        target = ""
        if name == "sync, 0 changes":
            target = ">= 0.80x: " + verdict(rps >= 0.8 * reference)
        rows.append([name, rps, statistics.median(r.p50_ms for r in runs),
                     statistics.median(r.cpu_ms for r in runs), ratio(rps, reference),
                     sum(r.failed for r in runs), target])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per wrk run")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved wrk rounds")
    args = parser.parse_args(argv)
    require_wrk()
    note = machine_note()
    ensure_database(DB)
    engine = bench_engine(DB)
    try:
        fixture = seed(engine)
        # A small pool: PostgreSQL's 100 connections are shared with everyone's tests here,
        # and a full server was turned away ("too many clients": 503s) at 2 x 20.
        config = ServerConfig(db_name=DB, workers=args.workers, pool_size=8)
        token = mint_tokens(config, [fixture.user_id])[fixture.user_id]
        headers = {"Authorization": f"Bearer {token}"}
        counts = statement_counts(config, engine, fixture, token)
        with start_server("shopping-api", "app.main:app", config) as server:
            generated, generation_cpu = generation(server, headers, fixture.plan_ids[21],
                                                   args.samples)
            ticks, ticks_cpu = bulk_ticks(server, headers, fixture, args.samples)
            sync_rows = sync_load(server, config, headers, fixture, args.duration,
                                  args.concurrency, args.rounds)
    finally:
        engine.dispose()
    p50 = percentile(generated, 50)
    print(note)
    print_table(
        "List generation from a 7-day plan (21 recipes), sequential",
        ["case", "p50 ms", "p99 ms", "CPU ms/req", "statements (3 / 7 / 21 recipes)",
         "target"],
        [["POST /meal-plan, 21 recipes", p50, percentile(generated, 99), generation_cpu,
          " / ".join(str(counts[size]) for size in (3, 7, 21)),
          f"p50 <= 100 ms: {verdict(p50 <= 100)}; constant: "
          f"{verdict(len(set(counts.values())) == 1)}"]],
    )
    print_table(f"Sync next to the recipe GET (wrk, {args.concurrency} connections, "
                f"{args.workers} workers; median of {args.rounds} interleaved rounds)",
                ["case", "req/s", "p50 ms", "CPU ms/req", "x GET", "failed", "target"],
                sync_rows)
    print_table("Bulk-ticking 200 items, sequential", ["case", "p50 ms", "p99 ms", "CPU ms/req"],
                [["PATCH /items, 200 ids", percentile(ticks, 50), percentile(ticks, 99),
                  ticks_cpu]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
