"""Pool sizing: does a worker at its thread limit open new database connections?

    .venv/bin/python bench/pool.py [--workers 2] [--duration 6] [--concurrency 24,48]

For each pool configuration the API serves GET one recipe under wrk at each concurrency;
``pg_stat_database.sessions`` of the bench database, read before and after, counts the
connections opened meanwhile (each one a TLS handshake and a login on Neon). Printed per
1,000 requests next to req/s, p99 and server CPU per request. "earlier" is the previous
default (10 pooled + 20 overflow); threads = pool + overflow throughout. Target (issue 14):
no new connection at a steady load at the thread limit.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, text

from bench import workload
from bench.common import (
    ServerConfig,
    bench_engine,
    machine_note,
    print_table,
    require_wrk,
    run_wrk,
    start_server,
    verdict,
)
from bench.seed import ensure_seeded, restore


@dataclass(frozen=True)
class PoolCase:
    label: str
    pool_size: int
    max_overflow: int


CASES = (
    PoolCase("earlier 10+20, 30 threads", 10, 20),
    PoolCase("default 20+0, 20 threads", 20, 0),
    PoolCase("10+5, 15 threads", 10, 5),
)


def live_connections(engine: Engine, db_name: str) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"),
                               {"d": db_name}))


def sessions(engine: Engine, db_name: str) -> int:
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        return int(conn.scalar(text("SELECT sessions FROM pg_stat_database WHERE datname = :d"),
                               {"d": db_name}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=6.0)
    parser.add_argument("--concurrency", default="24,48")
    args = parser.parse_args(argv)
    require_wrk()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    note = machine_note()
    seed = ensure_seeded()
    engine = bench_engine(seed.db_name)
    base = ServerConfig(workers=args.workers)
    pop = workload.load_population(engine, base)
    requests = workload.get_one(pop, reference=False)
    print(f"{note}\nGET one recipe, {args.workers} workers, {args.duration:.0f} s per row",
          flush=True)
    rows, met = [], True
    try:
        for case in CASES:
            config = replace(base, pool_size=case.pool_size, max_overflow=case.max_overflow)
            with start_server("pool", "app.main:app", config) as server:
                # Warm at the highest concurrency, as long as a row: every connection the
                # threads can use gets opened (filling the pool is not churn).
                run_wrk(server, requests, connections=max(concurrencies),
                        seconds=args.duration)
                for c in concurrencies:
                    before = sessions(engine, seed.db_name)
                    result = run_wrk(server, requests, connections=c, seconds=args.duration)
                    opened = sessions(engine, seed.db_name) - before
                    live = live_connections(engine, seed.db_name)
                    per_k = 1000 * opened / max(1, result.requests)
                    if case.label.startswith("default") and per_k > 2:
                        met = False
                    rows.append([case.label, c, result.rps, result.p99_ms, result.cpu_ms,
                                 result.failed, opened, per_k, live])
                    print(f"  {case.label:<28} c={c:<3} {result.rps:8.1f} req/s "
                          f"{opened} connections opened", flush=True)
    finally:
        restore(engine)
        engine.dispose()
    print_table(
        "Pool sizing: connections opened under steady load (pg_stat_database.sessions)",
        ["pool", "conc", "req/s", "p99 ms", "CPU ms", "errors", "opened", "per 1k req",
         "live after"],
        rows,
        note="opened: new sessions of the bench database during the row (anything else "
             "using that database\nmeanwhile included); live after: its connections at the "
             "end of the row, both workers and the bench's own.",
    )
    print(f"\nTarget: the default opens (almost) no connection under steady load (at most 2 "
          f"per 1,000 requests, against ~40-100 before): {verdict(met)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
