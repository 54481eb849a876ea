"""Scale curves: deep pages, search at 1k/10k/100k recipes, memory under image uploads.

    .venv/bin/python bench/scale.py [--samples 100] [--parts deep,search,upload]

1. List page 1 versus page 500 (20 per page, keyset cursors followed from page 1), for one
   seeded user who sees ~100 own and ~30,000 public recipes; sequential requests, p50.
   The reference pages the same way (its own keyset parameters). The deep page's SQL is
   captured in-process and shown with EXPLAIN (ANALYZE, BUFFERS).
2. Search latency on three separately seeded databases of 1,000, 10,000 and 100,000
   recipes (10, 100 and 1,000 users, the same generator), the same search terms on each,
   sequential requests, p50/p99, against the API and the reference; EXPLAIN of a common
   and a rarer term on 100,000 recipes.
3. Peak server memory while 20 uploads of maximum size (MAX_UPLOAD_BYTES, a 12 MP photo
   JPEG, then a noisy PNG) run at once against one fresh uvicorn process each: VmRSS polled
   every 5 ms from /proc, and VmHWM, compared with the idle process.
"""

from __future__ import annotations

import argparse
import io
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from app.main import create_app
from bench import workload
from bench.common import (
    API,
    BENCH_DB,
    Req,
    Server,
    ServerConfig,
    bench_engine,
    machine_note,
    percentile,
    print_table,
    ratio,
    read_status_kib,
    start_server,
    time_requests,
    verdict,
)
from bench.seed import ensure_seeded, restore

DEEP_PAGE = 500
DEEP_TARGET = 1.5
SEARCH_TARGET_MS = 20.0
UPLOAD_TARGET_MIB = 200
SEARCH_SIZES = (("homechef_bench_1k", 10, 1_000), ("homechef_bench_10k", 100, 10_000),
                (BENCH_DB, 1_000, 100_000))
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # the default; the servers run with it


# --- EXPLAIN of what a request really runs -----------------------------------------------------


def explain_request(config: ServerConfig, url: str, headers: dict[str, str]) -> str:
    """Run the request in-process, capture its page SELECT and EXPLAIN (ANALYZE, BUFFERS) it."""
    captured: list[tuple[str, Any]] = []
    # Quiet: the app's lifespan configures logging for this whole process, and INFO would
    # interleave the client's and the app's lines with the tables.
    app = create_app(config.settings().model_copy(update={"LOG_LEVEL": "WARNING"}))
    with TestClient(app) as client:
        engine: Engine = app.state.engine

        def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_a: Any) -> None:
            if "FROM recipes" in statement and "LIMIT" in statement:
                captured.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", capture)
        response = client.get(url, headers=headers)
        event.remove(engine, "before_cursor_execute", capture)
        if response.status_code != 200 or not captured:
            return f"(no plan: {response.status_code} {response.text[:200]})"
        statement, parameters = captured[0]
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            raw.rollback()
        finally:
            raw.close()
    return plan


def print_plan(title: str, plan: str) -> None:
    print(f"\n{title}")
    for line in plan.splitlines():
        print("    " + line)


# --- 1. deep pages ----------------------------------------------------------------------------


def _walk(client: httpx.Client, url: str, headers: dict[str, str], pages: int,
          cursor_of: Callable[[dict[str, Any]], str | None]) -> str:
    """The query string continuing to page ``pages`` (following cursors from page 1)."""
    suffix = ""
    for _ in range(pages - 1):
        response = client.get(url + suffix, headers=headers)
        response.raise_for_status()
        token = cursor_of(response.json())
        if token is None:
            raise SystemExit(f"only {_ + 1} pages exist; cannot reach page {pages}")
        suffix = token
    return suffix


def deep_pages(config: ServerConfig, engine: Engine, samples: int) -> bool:
    pop = workload.load_population(engine, config, pairs=20)
    user = pop.user_ids[0]
    headers = pop.bearer(user)
    results = {}
    with (start_server("scale-project", "app.main:app", config) as project,
          start_server("scale-reference", "bench.reference_app:create_app", config,
                       factory=True) as reference,
          httpx.Client(timeout=30) as client):
        api_url = f"{project.url}{API}/recipes?limit=20&scope=all"
        deep_suffix = _walk(client, api_url, headers, DEEP_PAGE,
                            lambda b: f"&cursor={b['next_cursor']}" if b["next_cursor"] else None)
        ref_url = f"{reference.url}/recipes?as_user={user}&limit=20"
        ref_suffix = _walk(
            client, ref_url, {}, DEEP_PAGE,
            lambda b: (f"&after_created={quote(b['next']['created_at'])}"
                       f"&after_id={b['next']['id']}") if b["next"] else None)
        requests = {
            ("API", 1): Req("GET", f"{API}/recipes?limit=20&scope=all", headers),
            ("API", DEEP_PAGE): Req("GET", f"{API}/recipes?limit=20&scope=all{deep_suffix}",
                                    headers),
            ("reference", 1): Req("GET", f"/recipes?as_user={user}&limit=20"),
            ("reference", DEEP_PAGE): Req("GET", f"/recipes?as_user={user}&limit=20{ref_suffix}"),
        }
        servers = {"API": project, "reference": reference}
        latencies: dict[tuple[str, int], list[float]] = {key: [] for key in requests}
        # Interleaved in small batches so both pages see the same machine load.
        for _ in range(max(1, samples // 10)):
            for (who, page), req in requests.items():
                lat, failed = time_requests(client, servers[who].url, [req], 10)
                if failed:
                    raise SystemExit(f"{who} page {page} failed")
                latencies[(who, page)].extend(lat)
        for key, lat in latencies.items():
            results[key] = (percentile(lat, 50), percentile(lat, 90))
    rows = []
    met = True
    for who in ("API", "reference"):
        p1, deep = results[(who, 1)], results[(who, DEEP_PAGE)]
        rows.append([who, p1[0], p1[1], deep[0], deep[1], ratio(deep[0], p1[0])])
        if who == "API":
            met = deep[0] <= DEEP_TARGET * p1[0]
    print_table(
        f"List page 1 vs page {DEEP_PAGE} (20 per page, keyset cursors, one user seeing "
        f"~30,100 recipes; {samples} sequential requests each)",
        ["server", "page 1 p50 ms", "p90", f"page {DEEP_PAGE} p50 ms", "p90", "deep/first"],
        rows,
    )
    print(f"Target: page {DEEP_PAGE} <= {DEEP_TARGET}x page 1 (p50): {verdict(met)}")
    plan = explain_request(config, f"{API}/recipes?limit=20&scope=all{deep_suffix}", headers)
    print_plan(f"EXPLAIN (ANALYZE, BUFFERS) of the API's page-{DEEP_PAGE} statement:", plan)
    return met


# --- 2. search at three sizes ----------------------------------------------------------------


@dataclass(frozen=True)
class SearchPoint:
    recipes: int
    order: str
    api_p50: float
    api_p99: float
    ref_p50: float
    ref_p99: float


SEARCH_ORDERS = (("newest", None), ("relevance", "relevance"))
#: (label, query string): a common word and a rare pair under the default order, and the
#: common word ranked by relevance, where every match must be found through the index.
PLAN_QUERIES = (("q=chicken (newest first)", "q=chicken"),
                ("q=halloumi gnocchi (newest first)", "q=halloumi%20gnocchi"),
                ("q=chicken&sort=relevance", "q=chicken&sort=relevance"))


def _search_latencies(client: httpx.Client, server: Server, requests: list[Req],
                      samples: int) -> list[float]:
    latencies: list[float] = []
    for batch in range(max(1, samples // 20)):
        offset = batch * 20
        lat, failed = time_requests(client, server.url, requests[offset:] + requests[:offset],
                                    20)
        if failed:
            raise SystemExit(f"search failed on {server.name}")
        latencies += lat
    return latencies


def search_scale(secret_key: str, samples: int) -> bool:
    points = []
    plans: list[tuple[str, str]] = []
    for db_name, users, recipes in SEARCH_SIZES:
        ensure_seeded(db_name, users=users, recipes=recipes)
        config = ServerConfig(db_name=db_name, workers=1, secret_key=secret_key)
        engine = bench_engine(db_name)
        try:
            pop = workload.load_population(engine, config, pairs=20)
        finally:
            engine.dispose()
        with (start_server(f"scale-search-{recipes}", "app.main:app", config) as project,
              start_server(f"scale-search-ref-{recipes}", "bench.reference_app:create_app",
                           config, factory=True) as reference,
              httpx.Client(timeout=30) as client):
            for order, sort in SEARCH_ORDERS:
                api = workload.search(pop, reference=False, sort=sort)
                ref = workload.search(pop, reference=True, sort=sort)
                time_requests(client, project.url, api, 40)  # warm caches and connections
                time_requests(client, reference.url, ref, 40)
                # Alternating batches of 20, so both servers see the same machine load.
                api_lat: list[float] = []
                ref_lat: list[float] = []
                for _ in range(max(1, samples // 20)):
                    api_lat += _search_latencies(client, project, api, 20)
                    ref_lat += _search_latencies(client, reference, ref, 20)
                points.append(SearchPoint(
                    recipes, order, percentile(api_lat, 50), percentile(api_lat, 99),
                    percentile(ref_lat, 50), percentile(ref_lat, 99)))
        if recipes == SEARCH_SIZES[-1][2]:
            headers = pop.bearer(pop.user_ids[0])
            for label, query in PLAN_QUERIES:
                plans.append((label, explain_request(config, f"{API}/recipes?{query}", headers)))
    rows = [[p.recipes, p.order, p.api_p50, p.api_p99, p.ref_p50, p.ref_p99,
             ratio(p.api_p50, p.ref_p50)] for p in points]
    print_table(
        f"Search latency by data size ({len(workload.SEARCH_TERMS)} terms rotated over users, "
        f"{samples} sequential requests per point and server, 1 worker)",
        ["recipes", "order", "API p50 ms", "API p99 ms", "ref p50 ms", "ref p99 ms",
         "API/ref p50"], rows,
    )
    largest = [p for p in points if p.recipes == SEARCH_SIZES[-1][2]]
    met = all(p.api_p50 <= SEARCH_TARGET_MS for p in largest)
    print(f"Target: search p50 <= {SEARCH_TARGET_MS:g} ms on {largest[0].recipes:,} recipes: "
          f"{verdict(met)} (" + ", ".join(f"{p.order} {p.api_p50:.1f} ms" for p in largest)
          + ")")
    for label, plan in plans:
        uses_gin = "ix_recipes_search_vector" in plan
        print_plan(f"EXPLAIN (ANALYZE, BUFFERS) of {label} on {largest[0].recipes:,} recipes "
                   f"(GIN index used: {'yes' if uses_gin else 'no'}):", plan)
    print("With newest-first order PostgreSQL may walk the created_at index and filter when "
          "that is cheaper than the GIN index (common words); rare words and ranked search "
          "go through the GIN index.")
    return met


# --- 3. memory under concurrent uploads --------------------------------------------------------


def _jpeg_photo(max_bytes: int) -> bytes:
    """A 12 MP photo-like JPEG (colour gradients plus sensor-like noise), as large as fits
    under max_bytes."""
    from PIL import Image

    size = (4000, 3000)
    gradient = Image.merge("RGB", (
        Image.linear_gradient("L").resize(size),
        Image.linear_gradient("L").rotate(90).resize(size),
        Image.radial_gradient("L").resize(size),
    ))
    noise = Image.merge("RGB", [Image.effect_noise(size, sigma) for sigma in (60, 70, 80)])
    picture = Image.blend(gradient, noise, 0.7)
    for quality in range(97, 29, -2):
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=quality)
        if len(out.getvalue()) <= max_bytes:
            return out.getvalue()
    raise RuntimeError("could not make a JPEG under the upload limit")


def _png_noise(max_bytes: int) -> bytes:
    """A noisy RGB PNG as large as fits under max_bytes (the most pixels a byte buys)."""
    import os

    from PIL import Image

    side = int((max_bytes / 3) ** 0.5)
    while True:
        image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        out = io.BytesIO()
        image.save(out, format="PNG", compress_level=1)
        if len(out.getvalue()) <= max_bytes:
            return out.getvalue()
        side = int(side * 0.99)


def _poll_rss(pid: int, stop: threading.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], read_status_kib(pid, "VmRSS"))
        time.sleep(0.005)


def _upload_round(server: Server, targets: list[tuple[uuid.UUID, str]], image: bytes,
                  name: str, mime: str) -> tuple[int, int, list[int], float]:
    pid = server.process.pid
    stop, peak = threading.Event(), [read_status_kib(pid, "VmRSS")]
    poller = threading.Thread(target=_poll_rss, args=(pid, stop, peak), daemon=True)
    before = read_status_kib(pid, "VmRSS")
    poller.start()

    def upload(target: tuple[uuid.UUID, str]) -> int:
        recipe, token = target
        with httpx.Client(timeout=120) as client:
            response = client.put(
                f"{server.url}{API}/recipes/{recipe}/image",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": (name, image, mime)},
            )
            return response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        statuses = list(pool.map(upload, targets))
    seconds = time.perf_counter() - started
    stop.set()
    poller.join()
    return before, peak[0], statuses, seconds


def upload_memory(config: ServerConfig, engine: Engine, count: int) -> bool:
    """Each image kind against a fresh server process, so one round's freed-but-kept heap
    does not count against the next: growth is peak RSS minus the idle process's RSS."""
    pop = workload.load_population(engine, config, pairs=20)
    with engine.connect() as conn:
        owned = conn.execute(
            text("SELECT id, owner_id FROM recipes ORDER BY md5(id::text || 'img') LIMIT :n"),
            {"n": count},
        ).all()
    targets = [(rid, pop.tokens[owner]) for rid, owner in owned]
    images = [("12 MP photo JPEG", _jpeg_photo(MAX_UPLOAD_BYTES), "photo.jpg", "image/jpeg"),
              ("noisy PNG", _png_noise(MAX_UPLOAD_BYTES), "noise.png", "image/png")]
    rows = []
    met = True
    for label, data, name, mime in images:
        with start_server("scale-upload", "app.main:app", config, workers=1) as server:
            idle, peak, statuses, seconds = _upload_round(server, targets, data, name, mime)
            hwm = read_status_kib(server.process.pid, "VmHWM")
            after = read_status_kib(server.process.pid, "VmRSS")
        ok = sum(200 <= s < 300 for s in statuses)
        growth = (peak - idle) / 1024
        met &= growth < UPLOAD_TARGET_MIB and ok == count
        rows.append([label, f"{len(data) / 1024 / 1024:.2f}", f"{ok}/{count}", seconds,
                     idle / 1024, peak / 1024, hwm / 1024, after / 1024, growth])
    print_table(
        f"Server memory during {count} concurrent maximum-size uploads (a fresh uvicorn "
        "process per image kind; RSS polled every 5 ms)",
        ["image", "MiB", "ok", "seconds", "idle RSS MiB", "peak RSS MiB", "VmHWM MiB",
         "RSS after MiB", "growth MiB"], rows,
    )
    print(f"Target: upload memory growth < {UPLOAD_TARGET_MIB} MiB (peak vs idle): "
          f"{verdict(met)}")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100,
                        help="sequential requests per measured point")
    parser.add_argument("--parts", default="deep,search,upload")
    parser.add_argument("--uploads", type=int, default=20)
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    note = machine_note()
    seed = ensure_seeded()
    engine = bench_engine(seed.db_name)
    config = ServerConfig(workers=1)
    print(f"Seeded data: {seed.users:,} users, {seed.recipes:,} recipes. {note}")
    try:
        if "deep" in parts:
            deep_pages(config, engine, args.samples)
        if "search" in parts:
            search_scale(config.secret_key, args.samples)
        if "upload" in parts:
            upload_memory(config, engine, args.uploads)
    finally:
        restore(engine)
        engine.dispose()
        for db_name, _users, _recipes in SEARCH_SIZES[:-1]:
            if "search" in parts:
                small = bench_engine(db_name)
                restore(small)
                small.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
