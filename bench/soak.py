"""Soak: a mixed workload for a long while; errors and server memory at start and end.

    .venv/bin/python bench/soak.py [--duration 600] [--workers 2] [--concurrency 16]

Starts the API (uvicorn, like load.py) on the seeded homechef_bench and a loopback fake
Clerk, then runs ``--concurrency`` virtual cooks from this process (asyncio + httpx), each
a seeded user with a real token, doing what the app does: read recipes, list, search,
create, edit with If-Match, favourite and unfavourite, delete what they created, and
exchange a Clerk session token. Every response is checked against the status that
operation must answer; anything else, and any transport error, is an error. Every 30 s a
line reports throughput, errors and each worker's RSS (from /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench import workload
from bench.common import (
    API,
    Server,
    ServerConfig,
    bench_engine,
    machine_note,
    percentile,
    print_table,
    read_status_kib,
    start_server,
)
from bench.seed import ensure_seeded, restore
from tests.fakes.clerk import FakeClerk

#: operation -> weight in the mix
MIX = {"get": 34, "list": 18, "search": 14, "create": 8, "patch": 6, "favorite": 6,
       "unfavorite": 4, "delete": 4, "tags": 2, "exchange": 4}
REPORT_EVERY = 30.0


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0

    def record(self, op: str, ms: float, ok: bool, detail: str) -> None:
        self.requests += 1
        self.latencies[op].append(ms)
        if not ok:
            self.errors[f"{op}: {detail}"] += 1


@dataclass
class Cook:
    user: uuid.UUID
    headers: dict[str, str]
    clerk_token: str
    created: list[tuple[str, str]] = field(default_factory=list)  # (id, etag)


class Soak:
    def __init__(self, server: Server, pop: workload.Population, clerk_tokens: list[str],
                 seed: int) -> None:
        self.server = server
        self.pop = pop
        self.clerk_tokens = clerk_tokens
        self.rng = random.Random(seed)
        self.stats = Stats()
        self.readable = pop.readable
        self.public = [recipe for reader, recipe in pop.readable[1::2]]

    async def call(self, client: httpx.AsyncClient, op: str, method: str, path: str,
                   expect: tuple[int, ...], **kwargs: object) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await client.request(method, self.server.url + path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.stats.record(op, (time.perf_counter() - started) * 1000, False,
                              type(exc).__name__)
            return None
        ok = response.status_code in expect
        self.stats.record(op, (time.perf_counter() - started) * 1000, ok,
                          str(response.status_code))
        return response

    async def step(self, client: httpx.AsyncClient, cook: Cook, op: str, n: int) -> None:
        rng, auth = self.rng, cook.headers
        if op == "get":
            reader, recipe = self.readable[rng.randrange(len(self.readable))]
            await self.call(client, op, "GET", f"{API}/recipes/{recipe}",
                            (200,), headers=self.pop.bearer(reader))
        elif op == "list":
            await self.call(client, op, "GET", f"{API}/recipes", (200,), headers=auth)
        elif op == "search":
            q = workload.SEARCH_TERMS[rng.randrange(len(workload.SEARCH_TERMS))]
            await self.call(client, op, "GET", f"{API}/recipes", (200,), headers=auth,
                            params={"q": q})
        elif op == "create" or (op in ("patch", "delete") and not cook.created):
            response = await self.call(
                client, "create", "POST", f"{API}/recipes", (201,),
                content=workload.recipe_body(n),
                headers={**auth, "Content-Type": "application/json"})
            if response is not None and response.status_code == 201:
                cook.created.append((response.json()["id"], response.headers["etag"]))
        elif op == "patch":
            index = rng.randrange(len(cook.created))
            recipe, etag = cook.created[index]
            response = await self.call(
                client, op, "PATCH", f"{API}/recipes/{recipe}", (200,),
                content=f'{{"title": "Soak edit {n}", "servings": {1 + n % 8}}}',
                headers={**auth, "Content-Type": "application/json", "If-Match": etag})
            if response is not None and response.status_code == 200:
                cook.created[index] = (recipe, response.headers["etag"])
        elif op == "delete":
            recipe, etag = cook.created.pop(rng.randrange(len(cook.created)))
            await self.call(client, op, "DELETE", f"{API}/recipes/{recipe}", (204,),
                            headers={**auth, "If-Match": etag})
        elif op in ("favorite", "unfavorite"):
            recipe = self.public[rng.randrange(len(self.public))]
            await self.call(client, op, "PUT" if op == "favorite" else "DELETE",
                            f"{API}/recipes/{recipe}/favorite", (200,), headers=auth)
        elif op == "tags":
            await self.call(client, op, "GET", f"{API}/tags", (200,), headers=auth)
        elif op == "exchange":
            await self.call(client, op, "POST", f"{API}/auth/token", (200,),
                            headers={"Authorization": f"Bearer {cook.clerk_token}"})

    async def cook_loop(self, cook: Cook, deadline: float) -> None:
        ops, weights = list(MIX), list(MIX.values())
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            n = 0
            while time.monotonic() < deadline:
                n += 1
                op = self.rng.choices(ops, weights)[0]
                await self.step(client, cook, op, n)

    async def run(self, concurrency: int, seconds: float) -> list[list[object]]:
        cooks = []
        for i in range(concurrency):
            user = self.pop.user_ids[(i * 37) % len(self.pop.user_ids)]
            index = self.pop.user_ids.index(user)
            cooks.append(Cook(user, self.pop.bearer(user), self.clerk_tokens[index]))
        started = time.monotonic()
        deadline = started + seconds
        tasks = [asyncio.create_task(self.cook_loop(cook, deadline)) for cook in cooks]
        timeline = [self.sample(0.0, 0, 0)]
        last_requests, last_time = 0, started
        while not all(task.done() for task in tasks):
            remaining = max(0.1, deadline - time.monotonic())
            await asyncio.wait(tasks, timeout=min(REPORT_EVERY, remaining))
            now = time.monotonic()
            if now - last_time >= REPORT_EVERY or all(task.done() for task in tasks):
                rate = (self.stats.requests - last_requests) / max(now - last_time, 1e-9)
                timeline.append(self.sample(now - started, self.stats.requests, rate))
                print("  " + "  ".join(str(c) for c in timeline[-1]), flush=True)
                last_requests, last_time = self.stats.requests, now
        for task in tasks:
            task.result()  # a crash of the driver itself must not pass silently
        return timeline

    def sample(self, elapsed: float, requests: int, rate: float) -> list[object]:
        rss = [read_status_kib(pid, "VmRSS") // 1024 for pid in self.server.worker_pids()]
        return [f"{elapsed:6.0f}s", f"{requests:9,}", f"{rate:7.1f}/s",
                f"{sum(self.stats.errors.values()):5,} errors",
                "RSS MiB " + " ".join(str(r) for r in rss)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds (default 10 min)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16, help="virtual cooks")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    note = machine_note()
    seed = ensure_seeded()
    engine = bench_engine(seed.db_name)
    try:
        with FakeClerk() as clerk:
            config = ServerConfig(workers=args.workers, extra={
                "CLERK_JWKS_URL": clerk.jwks_url, "CLERK_ISSUER": clerk.issuer,
                "CLERK_SECRET_KEY": clerk.secret_key or "", "CLERK_API_URL": clerk.api_url,
                "ALLOWED_ORIGINS": clerk.authorized_party,
            })
            pop = workload.load_population(engine, config)
            clerk_tokens = workload.mint_clerk_tokens(clerk, pop.clerk_ids)
            print(f"Soak: {args.duration:.0f}s, {args.concurrency} virtual cooks, "
                  f"{args.workers} worker(s), {seed.recipes:,} recipes. {note}", flush=True)
            with start_server("soak", "app.main:app", config) as server:
                soak = Soak(server, pop, clerk_tokens, args.seed)
                start_rss = {pid: read_status_kib(pid, "VmRSS") for pid in server.worker_pids()}
                timeline = asyncio.run(soak.run(args.concurrency, args.duration))
                end_rss = {pid: read_status_kib(pid, "VmRSS") for pid in server.worker_pids()}
                peak_rss = {pid: read_status_kib(pid, "VmHWM") for pid in server.worker_pids()}
                alive = server.process.poll() is None
    finally:
        restore(engine)
        engine.dispose()
    report(soak.stats, timeline, start_rss, end_rss, peak_rss, alive, args.duration)
    return 1 if soak.stats.errors or not alive else 0


def report(stats: Stats, timeline: list[list[object]], start: dict[int, int],
           end: dict[int, int], peak: dict[int, int], alive: bool, seconds: float) -> None:
    rows = [[op, len(lat), percentile(lat, 50), percentile(lat, 99),
             sum(n for key, n in stats.errors.items() if key.startswith(f"{op}:"))]
            for op, lat in sorted(stats.latencies.items())]
    print_table(f"Soak: {stats.requests:,} requests in {seconds:.0f}s "
                f"({stats.requests / seconds:.1f} req/s, closed loop)",
                ["operation", "requests", "p50 ms", "p99 ms", "errors"], rows)
    if stats.errors:
        print("Errors by operation and status:")
        for key, n in stats.errors.most_common():
            print(f"  {key}: {n}")
    memory = [[pid, start.get(pid, 0) / 1024, end.get(pid, 0) / 1024,
               (end.get(pid, 0) - start.get(pid, 0)) / 1024, peak.get(pid, 0) / 1024]
              for pid in sorted(set(start) | set(end))]
    print_table("Server memory per worker process (MiB)",
                ["worker pid", "RSS at start", "RSS at end", "growth", "peak (VmHWM)"], memory,
                note=None if alive else "THE SERVER DIED DURING THE SOAK")
    total = sum(stats.errors.values())
    print(f"\nErrors: {total:,} of {stats.requests:,} requests; server "
          f"{'alive' if alive else 'DEAD'} at the end.")


if __name__ == "__main__":
    raise SystemExit(main())
