"""Deep pages of a 5,000-recipe hand-picked collection against its page 1 (issue 16).

    .venv/bin/python bench/collections_scale.py [--samples 100]

The first seeded user's "Collection 0" holds 5,000 recipes (their own and others' public
ones, bench/seed.py). Page 240 (20 per page) is reached by following real cursors from
page 1; both pages are then timed, interleaved in small batches so they share the
machine's load, and the deep page's statement is shown with EXPLAIN (ANALYZE, BUFFERS).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench import workload
from bench.common import (
    API,
    Req,
    ServerConfig,
    bench_engine,
    machine_note,
    percentile,
    print_table,
    ratio,
    start_server,
    time_requests,
    verdict,
)
from bench.scale import _walk, explain_request, print_plan
from bench.seed import BIG_COLLECTION, collection_id, ensure_seeded, restore

DEEP_PAGE = 240
DEEP_TARGET = 1.5


def deep_collection_pages(config: ServerConfig, samples: int) -> bool:
    engine = bench_engine(config.db_name)
    try:
        pop = workload.load_population(engine, config, pairs=20)
    finally:
        engine.dispose()
    headers = pop.bearer(pop.user_ids[0])  # user_bench_0000001, the big book's owner
    path = f"{API}/recipes?limit=20&collection={collection_id(1, 0)}"
    with (start_server("collections-scale", "app.main:app", config) as project,
          httpx.Client(timeout=30) as client):
        suffix = _walk(client, project.url + path, headers, DEEP_PAGE,
                       lambda b: f"&cursor={b['next_cursor']}" if b["next_cursor"] else None)
        requests = {1: Req("GET", path, headers), DEEP_PAGE: Req("GET", path + suffix, headers)}
        latencies: dict[int, list[float]] = {1: [], DEEP_PAGE: []}
        for _ in range(max(1, samples // 10)):
            for page, req in requests.items():
                lat, failed = time_requests(client, project.url, [req], 10)
                if failed:
                    raise SystemExit(f"page {page} failed")
                latencies[page].extend(lat)
    first = (percentile(latencies[1], 50), percentile(latencies[1], 90))
    deep = (percentile(latencies[DEEP_PAGE], 50), percentile(latencies[DEEP_PAGE], 90))
    print_table(
        f"A {BIG_COLLECTION:,}-recipe collection: page 1 vs page {DEEP_PAGE} (20 per page, "
        f"keyset cursors; {samples} sequential requests each)",
        ["page 1 p50 ms", "p90", f"page {DEEP_PAGE} p50 ms", "p90", "deep/first"],
        [[first[0], first[1], deep[0], deep[1], ratio(deep[0], first[0])]],
    )
    met = deep[0] <= DEEP_TARGET * first[0]
    print(f"Target: page {DEEP_PAGE} <= {DEEP_TARGET}x page 1 (p50): {verdict(met)}")
    print_plan(f"EXPLAIN (ANALYZE, BUFFERS) of the page-{DEEP_PAGE} statement:",
               explain_request(config, path + suffix, headers))
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args(argv)
    note = machine_note()
    seed = ensure_seeded()
    print(f"Seeded data: {seed.users:,} users, {seed.recipes:,} recipes. {note}")
    config = ServerConfig(workers=1)
    try:
        met = deep_collection_pages(config, args.samples)
    finally:
        engine = bench_engine(seed.db_name)
        restore(engine)
        engine.dispose()
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
