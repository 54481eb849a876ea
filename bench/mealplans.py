"""Meal plans under load: the week's schedule and the calendar feed, next to the recipe list.

    .venv/bin/python bench/mealplans.py [--workers 2] [--duration 5] [--concurrency 8,32]

Uses its own database (homechef_bench_mealplans: the standard seed of 1,000 users and
100,000 recipes) and adds 2 meal plans per user, 4 rotation weeks of 21 entries each (84
entries, every one pointing at one of the owner's recipes), the first plan active, and a
calendar feed token per user. Then, in one run, with the same servers and tokens:

- ``GET /api/v1/recipes`` (the list page) on the API and on the reference;
- ``GET /api/v1/meal-plans/active/schedule?from=...&days=7`` on the API;
- ``GET /api/v1/calendar/{token}.ics`` (8 weeks and a day: 57 all-day events) on the API.

Targets (issue 17): the 7-day schedule at >= 0.8x the API's recipe list req/s; the
schedule's statement count constant in days and entries (tests/mealplans/test_schedule.py
proves that; this prints the counts for 1 and 31 days on the seeded plans).
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import sys
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, text

from bench import workload
from bench.common import (
    API,
    LoadResult,
    Req,
    ServerConfig,
    bench_engine,
    machine_note,
    print_table,
    ratio,
    require_wrk,
    run_wrk,
    start_server,
    verdict,
)
from bench.seed import ensure_seeded, restore

DB = "homechef_bench_mealplans"
SCHEDULE_TARGET = 0.8
FROM = "2026-12-07"

_PLANS = """
INSERT INTO meal_plans (id, owner_id, name, start_date, rotation_weeks, is_active, version,
                        created_at, updated_at)
SELECT md5('plan' || u.id::text || p)::uuid, u.id, 'Four weeks ' || p, date '2026-11-30', 4,
       p = 1, 1, now(), now()
FROM users u CROSS JOIN generate_series(1, 2) AS p
WHERE u.deleted_at IS NULL AND EXISTS (SELECT 1 FROM recipes r WHERE r.owner_id = u.id)
"""
# 4 weeks x 7 days x (breakfast, lunch, dinner): 84 entries, each one of the owner's recipes.
_ENTRIES = """
WITH ranked AS (
    SELECT owner_id, id, row_number() OVER (PARTITION BY owner_id ORDER BY id) AS rn,
           count(*) OVER (PARTITION BY owner_id) AS n
    FROM recipes
)
INSERT INTO meal_plan_entries (plan_id, position, week, day, meal, recipe_id, servings)
SELECT mp.id, pos, pos / 21 + 1, (pos % 21) / 3,
       (ARRAY['breakfast', 'lunch', 'dinner'])[pos % 3 + 1], ranked.id, 2 + pos % 3
FROM meal_plans mp CROSS JOIN generate_series(0, 83) AS pos
JOIN ranked ON ranked.owner_id = mp.owner_id
           AND ranked.rn = 1 + (pos * 7 + abs(hashtext(mp.id::text))) % ranked.n
ORDER BY mp.id, pos  -- as the API writes them: a plan's entries together
"""


def seed_plans(engine: Engine) -> dict[uuid.UUID, str]:
    """(Re)create the plans and one feed token per user; the tokens, by user id."""
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM calendar_feed_tokens"))
        conn.execute(text("DELETE FROM meal_plans"))
        conn.execute(text(_PLANS))
        conn.execute(text(_ENTRIES))
        users = conn.execute(text(
            "SELECT DISTINCT owner_id FROM meal_plans")).scalars().all()
        tokens = {user: secrets.token_urlsafe(32) for user in users}
        conn.execute(
            text("INSERT INTO calendar_feed_tokens (user_id, token_sha256, token_version, "
                 "created_at) VALUES (:u, :h, 0, now())"),
            [{"u": u, "h": hashlib.sha256(t.encode()).hexdigest()} for u, t in tokens.items()],
        )
        plans, entries = conn.execute(text(
            "SELECT (SELECT count(*) FROM meal_plans), (SELECT count(*) FROM meal_plan_entries)"
        )).one()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE meal_plans, meal_plan_entries, calendar_feed_tokens"))
    print(f"Plans: {plans:,} plans, {entries:,} entries, {len(tokens):,} feed tokens "
          f"({time.perf_counter() - started:.1f}s)", flush=True)
    return tokens


def statement_counts(config: ServerConfig, pop: workload.Population) -> dict[int, int]:
    """SQL statements of the schedule for 1 and 31 days, in-process (TestClient)."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.sql_counting import counting

    app = create_app(config.settings())
    user = pop.user_ids[0]
    counts = {}
    with TestClient(app) as client:
        for days in (1, 1, 31):  # the first call also checks the token (then cached)
            with counting(app.state.engine) as statements:
                response = client.get(f"{API}/meal-plans/active/schedule",
                                      params={"from": FROM, "days": days},
                                      headers=pop.bearer(user))
            assert response.status_code == 200, response.text
            counts[days] = len([s for s in statements if "revoked_sessions" not in s])
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.5)
    parser.add_argument("--concurrency", default="8,32")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    args = parser.parse_args(argv)
    require_wrk()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    note = machine_note()
    seed = ensure_seeded(DB)
    engine = bench_engine(DB)
    config = ServerConfig(db_name=DB, workers=args.workers)
    started = time.monotonic()
    rows: list[list[object]] = []
    results: dict[tuple[str, int], LoadResult] = {}
    try:
        feed_tokens = seed_plans(engine)
        pop = workload.load_population(engine, config)
        planners = [u for u in pop.user_ids if u in feed_tokens]
        sets = {
            "list (API)": workload.list_page(pop, reference=False),
            "list (reference)": workload.list_page(pop, reference=True),
            "schedule 7 days": [
                Req("GET", f"{API}/meal-plans/active/schedule?from={FROM}&days=7",
                    pop.bearer(u)) for u in planners],
            "feed .ics (57 days)": [
                Req("GET", f"{API}/calendar/{feed_tokens[u]}.ics") for u in planners],
        }
        counts = statement_counts(config, pop)
        print(f"Seeded data: {seed.users:,} users, {seed.recipes:,} recipes. {note}", flush=True)
        with (start_server("mealplans-project", "app.main:app", config) as project,
              start_server("mealplans-reference", "bench.reference_app:create_app", config,
                           factory=True) as reference):
            # Steady state: every token checked once (the validity cache), as load.py does.
            run_wrk(project, sets["list (API)"], connections=8, seconds=args.warmup * 3,
                    threads=args.threads)
            for label, requests in sets.items():
                server = reference if "reference" in label else project
                run_wrk(server, requests, connections=8, seconds=args.warmup,
                        threads=args.threads)
                for c in concurrencies:
                    result = run_wrk(server, requests, connections=c, seconds=args.duration,
                                     threads=args.threads)
                    results[(label, c)] = result
                    print(f"  {label:<20} c={c:<3} {result.rps:8.1f} req/s", flush=True)
    finally:
        restore(engine)
        engine.dispose()
    met = True
    for (label, c), r in results.items():
        api_list = results[("list (API)", c)].rps
        ref_list = results[("list (reference)", c)].rps
        target = "-"
        if label == "schedule 7 days":
            ok = r.rps >= SCHEDULE_TARGET * api_list
            met = met and ok
            target = f">= {SCHEDULE_TARGET}x list: {verdict(ok)}"
        rows.append([label, c, r.rps, r.p50_ms, r.p99_ms, r.cpu_ms, r.failed,
                     ratio(r.rps, api_list), ratio(r.rps, ref_list), target])
    print_table(
        f"Meal plans: {args.workers} uvicorn worker(s); wrk from a separate process",
        ["endpoint", "conc", "req/s", "p50 ms", "p99 ms", "CPU ms", "errors",
         "/API list", "/ref list", "target"],
        rows,
        note="CPU ms = server CPU per request (all workers). /API list and /ref list: req/s "
             "against the recipe list page measured in the same run.",
    )
    print(f"\nSchedule SQL statements (token check excluded: cached): 1 day "
          f"{counts[1]}, 31 days {counts[31]} -> constant: {verdict(counts[1] == counts[31])}")
    print(f"Target: schedule (7 days) >= {SCHEDULE_TARGET}x the recipe list's req/s: "
          f"{verdict(met)}")
    print(f"(total {time.monotonic() - started:.0f}s; pool {config.pool_size}+"
          f"{config.max_overflow} per worker, rate limiting off, JSON access log on)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
