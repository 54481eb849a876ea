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

READS = ("get", "list", "search", "get304")
ENDPOINTS = ("get", "list", "search", "create", "exchange", "own", "collections", "hand",
             "smart", "get304")
LABELS = {"get": "GET one recipe", "list": "list page (20)", "search": "search (20)",
          "get304": "GET one, 304",
          "create": "create (POST)", "exchange": "token exchange",
          "own": "list, own (default)", "collections": "GET /collections",
          "hand": "list ?collection=hand", "smart": "list ?collection=smart"}
#: Issue 20: every read against the bare reference and against the equal-duty one.
READ_TARGET = 0.6
DUTY_TARGET = 0.85
#: A revalidation (304) against the bare reference's full GET.
REVALIDATION_TARGET = 1.0
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
    duty: LoadResult | None = None


def _check(client: httpx.Client, server: Server, requests: list[Req], label: str) -> None:
    """One request of each kind must succeed before any is measured (a revalidation must
    answer 304, or the row would measure full GETs)."""
    r = requests[0]
    response = client.request(r.method, server.url + r.path, headers=r.headers, content=r.body)
    if response.status_code >= 400 or (
        "If-None-Match" in r.headers and response.status_code != 304
    ):
        raise SystemExit(f"{server.name} {label}: {response.status_code} {response.text[:300]}")


def measure(
    endpoints: list[str], concurrencies: list[int], seconds: float, warmup: float,
    servers: tuple[Server, Server, Server], sets: dict[str, Callable[[bool], list[Req]]],
    threads: int,
) -> list[Row]:
    """Each row: the API, then the bare reference, then the equal-duty one, back to back."""
    project, reference, duty = servers
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
            # The equal-duty reference takes the API's own requests (a 304 row compares
            # with full GETs: the reference has no ETags).
            duty_reqs = (sets["get" if endpoint == "get304" else endpoint](False)
                         if endpoint in READS else None)
            _check(client, project, project_reqs, endpoint)
            if reference_reqs and duty_reqs:
                _check(client, reference, reference_reqs, endpoint)
                _check(client, duty, duty_reqs, endpoint)
            # Warm all: caches, lazily imported code paths, pool connections.
            run_wrk(project, project_reqs, connections=8, seconds=warmup, threads=threads)
            if reference_reqs and duty_reqs:
                run_wrk(reference, reference_reqs, connections=8, seconds=warmup,
                        threads=threads)
                run_wrk(duty, duty_reqs, connections=8, seconds=warmup, threads=threads)
            for c in concurrencies:
                p = run_wrk(project, project_reqs, connections=c, seconds=seconds,
                            threads=threads)
                ref = dut = None
                if reference_reqs and duty_reqs:
                    ref = run_wrk(reference, reference_reqs, connections=c, seconds=seconds,
                                  threads=threads)
                    dut = run_wrk(duty, duty_reqs, connections=c, seconds=seconds,
                                  threads=threads)
                rows.append(Row(endpoint, c, p, ref, dut))
                print(f"  {LABELS[endpoint]:<16} c={c:<3} project {p.rps:8.1f} req/s"
                      + (f"  bare {ref.rps:8.1f}  equal-duty {dut.rps:8.1f} req/s"
                         if ref and dut else ""), flush=True)
    return rows


def report(rows: list[Row], workers: int) -> bool:
    table = []
    for row in rows:
        p, ref, dut = row.project, row.reference, row.duty
        table.append([
            LABELS[row.endpoint], row.concurrency, p.rps, p.p50_ms, p.p99_ms, p.cpu_ms,
            p.failed, ref.rps if ref else "-", ref.cpu_ms if ref else "-",
            dut.rps if dut else "-", dut.cpu_ms if dut else "-",
            ratio(p.rps, ref.rps) if ref else "-", ratio(p.rps, dut.rps) if dut else "-",
        ])
    print_table(
        f"Load: {workers} uvicorn worker(s) each; wrk from a separate process",
        ["endpoint", "conc", "API req/s", "p50 ms", "p99 ms", "CPU ms", "errors",
         "bare req/s", "bare CPU", "duty req/s", "duty CPU", "API/bare", "API/duty"],
        table,
        note="bare = bench/reference_app.py; duty = the equal-duty reference "
             "(bench/reference_duty.py); the 304 row's references answer the full GET.\n"
             "errors = socket errors + timeouts + HTTP status >= 400 (any is a failed run). "
             "CPU ms = server CPU time per request\n(all worker processes; PostgreSQL's own "
             "CPU not included), steadier than req/s on a shared machine.",
    )
    met = read_targets([r for r in rows if r.endpoint in READS and r.reference and r.duty])
    collections_targets(rows)
    failed = sum(r.project.failed + sum(x.failed for x in (r.reference, r.duty) if x)
                 for r in rows)
    if failed:
        print(f"WARNING: {fmt(failed)} failed requests; see bench/results/*.log")
    return met


def read_targets(reads: list[Row]) -> bool:
    """Issue 20's targets, each read at each concurrency."""
    met = True
    for r in reads:
        assert r.reference and r.duty
        bare = r.project.rps / r.reference.rps if r.reference.rps else 0.0
        duty = r.project.rps / r.duty.rps if r.duty.rps else 0.0
        if r.endpoint == "get304":
            ok = bare >= REVALIDATION_TARGET
            print(f"Target: {LABELS[r.endpoint]} c={r.concurrency} >= {REVALIDATION_TARGET}x "
                  f"bare full GET: {verdict(ok)} ({bare:.2f}x)")
        else:
            ok = bare >= READ_TARGET and duty >= DUTY_TARGET
            print(f"Target: {LABELS[r.endpoint]} c={r.concurrency} >= {DUTY_TARGET}x "
                  f"equal-duty, >= {READ_TARGET}x bare: {verdict(ok)} "
                  f"({duty:.2f}x, {bare:.2f}x)")
        met = met and ok
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
    parser.add_argument("--pool", type=int, default=10,
                        help="DB pool (and thread pool) per worker, the same for all three "
                             "servers; 3 servers x 2 workers x 10 fit PostgreSQL's 100")
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
            config = ServerConfig(workers=args.workers, pool_size=args.pool, extra={
                "CLERK_JWKS_URL": clerk.jwks_url, "CLERK_ISSUER": clerk.issuer,
                "CLERK_SECRET_KEY": clerk.secret_key or "", "CLERK_API_URL": clerk.api_url,
                "ALLOWED_ORIGINS": clerk.authorized_party,
            })
            pop = workload.load_population(engine, config)
            clerk_tokens = workload.mint_clerk_tokens(clerk, pop.clerk_ids)
            sets: dict[str, Callable[[bool], list[Req]]] = {
                "get": lambda ref: workload.get_one(pop, reference=ref),
                "get304": lambda ref: (workload.get_one(pop, reference=True) if ref
                                       else workload.revalidate_one(pop, engine)),
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
                               factory=True) as reference,
                  start_server("load-duty", "bench.reference_duty:create_app", config,
                               factory=True) as duty):
                rows = measure(endpoints, concurrencies, args.duration, args.warmup,
                               (project, reference, duty), sets, args.threads)
    finally:
        restore(engine)
        engine.dispose()
    report(rows, args.workers)
    print(f"\n(total {time.monotonic() - started:.0f}s; pool {config.pool_size}+"
          f"{config.max_overflow} per worker, rate limiting off, JSON access log on)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
