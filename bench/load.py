"""The load benchmark: the API next to the reference, same settings, same load, one run.

    .venv/bin/python bench/load.py [--workers 2] [--duration 10] [--concurrency 8,32,64]

Seeds (or reuses) homechef_bench, starts the API (``uvicorn app.main:app``) and the
reference (bench/reference_app.py) with the same uvicorn flags, worker count and pool
size, and drives each with wrk from a separate process: GET one recipe, a list page and a
search (against both), create and the token exchange (the API only; the exchange against
a loopback fake Clerk). Every request is authenticated with a real internal token of one
of the 1,000 seeded users, and ids vary request to request. The project and the reference
are measured back to back for each row, to share the machine's noise.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench import workload
from bench.common import (
    LoadResult,
    Req,
    Server,
    ServerConfig,
    bench_engine,
    fmt,
    machine_note,
    print_table,
    ratio,
    require_wrk,
    run_wrk,
    start_server,
    verdict,
)
from bench.seed import ensure_seeded, restore
from tests.fakes.clerk import FakeClerk

READS = ("get", "list", "search")
ENDPOINTS = ("get", "list", "search", "create", "exchange", "own", "collections", "hand",
             "smart")
LABELS = {"get": "GET one recipe", "list": "list page (20)", "search": "search (20)",
          "create": "create (POST)", "exchange": "token exchange",
          "own": "list, own (default)", "collections": "GET /collections",
          "hand": "list ?collection=hand", "smart": "list ?collection=smart"}
READ_TARGET = 0.7
#: The collections rows (issue 16): the collections list's p50 at c=8, and a collection's
#: page against the unfiltered (default) list's req/s at the same concurrency.
COLLECTIONS_P50_MS = 10.0
FILTERED_TARGET = 0.8


@dataclass(frozen=True)
class Row:
    endpoint: str
    concurrency: int
    project: LoadResult
    reference: LoadResult | None


def _check(client: httpx.Client, server: Server, requests: list[Req], label: str) -> None:
    """One request of each kind must succeed before any is measured."""
    r = requests[0]
    response = client.request(r.method, server.url + r.path, headers=r.headers, content=r.body)
    if response.status_code >= 400:
        raise SystemExit(f"{server.name} {label}: {response.status_code} {response.text[:300]}")


def measure(
    endpoints: list[str], concurrencies: list[int], seconds: float, warmup: float,
    project: Server, reference: Server, sets: dict[str, Callable[[bool], list[Req]]],
    threads: int,
) -> list[Row]:
    rows = []
    with httpx.Client(timeout=10) as client:
        # Steady state: each token checked once against the database, as a signed-in user's
        # first request does; afterwards the validity cache vouches for it (every
        # AUTH_CACHE_SECONDS it is checked again). Both workers see every token.
        run_wrk(project, sets["list"](False), connections=8, seconds=warmup * 4,
                threads=threads)
        for endpoint in endpoints:
            project_reqs = sets[endpoint](False)
            reference_reqs = sets[endpoint](True) if endpoint in READS else None
            _check(client, project, project_reqs, endpoint)
            if reference_reqs:
                _check(client, reference, reference_reqs, endpoint)
            # Warm both: caches, JIT-free but lazily imported code paths, pool connections.
            run_wrk(project, project_reqs, connections=8, seconds=warmup, threads=threads)
            if reference_reqs:
                run_wrk(reference, reference_reqs, connections=8, seconds=warmup,
                        threads=threads)
            for c in concurrencies:
                p = run_wrk(project, project_reqs, connections=c, seconds=seconds,
                            threads=threads)
                ref = (run_wrk(reference, reference_reqs, connections=c, seconds=seconds,
                               threads=threads) if reference_reqs else None)
                rows.append(Row(endpoint, c, p, ref))
                print(f"  {LABELS[endpoint]:<16} c={c:<3} project {p.rps:8.1f} req/s"
                      + (f"  reference {ref.rps:8.1f} req/s" if ref else ""), flush=True)
    return rows


def report(rows: list[Row], workers: int) -> bool:
    table = []
    for row in rows:
        p, ref = row.project, row.reference
        table.append([
            LABELS[row.endpoint], row.concurrency, p.rps, p.p50_ms, p.p99_ms, p.cpu_ms,
            p.failed, ref.rps if ref else "-", ref.p50_ms if ref else "-",
            ref.p99_ms if ref else "-", ref.cpu_ms if ref else "-",
            ratio(p.rps, ref.rps) if ref else "-",
        ])
    print_table(
        f"Load: {workers} uvicorn worker(s) each; wrk from a separate process",
        ["endpoint", "conc", "API req/s", "p50 ms", "p99 ms", "CPU ms", "errors",
         "ref req/s", "ref p50", "ref p99", "ref CPU", "API/ref"],
        table,
        note="errors = socket errors + timeouts + HTTP status >= 400 (any is a failed run). "
             "CPU ms = server CPU time per request\n(all worker processes; PostgreSQL's own "
             "CPU not included), steadier than req/s on a shared machine.",
    )
    reads = [r for r in rows if r.endpoint in READS and r.reference]
    worst = min(reads, key=lambda r: r.project.rps / r.reference.rps) if reads else None
    met = all(r.project.rps >= READ_TARGET * r.reference.rps for r in reads)
    if worst and worst.reference:
        print(f"\nTarget: authenticated reads >= {READ_TARGET}x the reference's req/s: "
              f"{verdict(met)} (lowest ratio {ratio(worst.project.rps, worst.reference.rps)}, "
              f"{LABELS[worst.endpoint]} at c={worst.concurrency})")
    collections_targets(rows)
    failed = sum(r.project.failed + (r.reference.failed if r.reference else 0) for r in rows)
    if failed:
        print(f"WARNING: {fmt(failed)} failed requests; see bench/results/*.log")
    return met


def collections_targets(rows: list[Row]) -> None:
    by = {(r.endpoint, r.concurrency): r.project for r in rows}
    if ("collections", 8) in by:
        p50 = by[("collections", 8)].p50_ms
        print(f"Target: GET /collections p50 <= {COLLECTIONS_P50_MS:g} ms at c=8: "
              f"{verdict(p50 <= COLLECTIONS_P50_MS)} ({p50:.1f} ms)")
    for endpoint in ("hand", "smart"):
        for (name, c), result in sorted(by.items()):
            own = by.get(("own", c))
            if name == endpoint and own is not None:
                met = result.rps >= FILTERED_TARGET * own.rps
                print(f"Target: {LABELS[endpoint]} >= {FILTERED_TARGET}x the unfiltered "
                      f"list's req/s at c={c}: {verdict(met)} ({ratio(result.rps, own.rps)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per endpoint")
    parser.add_argument("--concurrency", default="8,32,64")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS[:5]),
                        help=f"any of {','.join(ENDPOINTS)}")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    args = parser.parse_args(argv)
    require_wrk()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    endpoints = [e for e in args.endpoints.split(",") if e]
    unknown = set(endpoints) - set(ENDPOINTS)
    if unknown:
        parser.error(f"unknown endpoints {sorted(unknown)}; choose from {ENDPOINTS}")

    note = machine_note()
    seed = ensure_seeded()
    engine = bench_engine(seed.db_name)
    started = time.monotonic()
    try:
        with FakeClerk() as clerk:
            config = ServerConfig(workers=args.workers, extra={
                "CLERK_JWKS_URL": clerk.jwks_url, "CLERK_ISSUER": clerk.issuer,
                "CLERK_SECRET_KEY": clerk.secret_key or "", "CLERK_API_URL": clerk.api_url,
                "ALLOWED_ORIGINS": clerk.authorized_party,
            })
            pop = workload.load_population(engine, config)
            clerk_tokens = workload.mint_clerk_tokens(clerk, pop.clerk_ids)
            sets: dict[str, Callable[[bool], list[Req]]] = {
                "get": lambda ref: workload.get_one(pop, reference=ref),
                "list": lambda ref: workload.list_page(pop, reference=ref),
                "search": lambda ref: workload.search(pop, reference=ref),
                "create": lambda _ref: workload.create(pop),
                "exchange": lambda _ref: workload.exchange(clerk_tokens),
                "own": lambda _ref: workload.own_list_page(pop),
                "collections": lambda _ref: workload.collections_list(pop),
                "hand": lambda _ref: workload.collection_page(pop, smart=False),
                "smart": lambda _ref: workload.collection_page(pop, smart=True),
            }
            print(f"Seeded data: {seed.users:,} users, {seed.recipes:,} recipes "
                  f"({'reused' if seed.reused else 'seeded now'}). {note}", flush=True)
            with (start_server("load-project", "app.main:app", config) as project,
                  start_server("load-reference", "bench.reference_app:create_app", config,
                               factory=True) as reference):
                rows = measure(endpoints, concurrencies, args.duration, args.warmup, project,
                               reference, sets, args.threads)
    finally:
        restore(engine)
        engine.dispose()
    report(rows, args.workers)
    print(f"\n(total {time.monotonic() - started:.0f}s; pool {config.pool_size}+"
          f"{config.max_overflow} per worker, rate limiting off, JSON access log on)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
