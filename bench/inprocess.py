"""CPU per request inside one process: the API and the reference, route by route.

    .venv/bin/python bench/inprocess.py [--rounds 4] [--cases get,ref_get,...]

No server, no load generator, no network between client and app: each ASGI app (with its
lifespan run) is called directly, one request after another, and the process's CPU time
(all threads: the event loop and the worker threads that run the endpoints) is divided by
the requests. PostgreSQL's CPU is not included. Far steadier than req/s on a shared
machine, so it is the tool for before/after comparisons of a change (run it on both
commits, interleaved); `load.py` stays the measure of the targets.

Cases (the same seeded users, tokens and recipes as load.py):

    ref_health / open / authed   a trivial route: the reference's, the API's without and
                                 with authentication (bench/probe_app.py)
    ref_get / get                GET one recipe
    ref_list / list              the home list (20 per page)
    ref_search / search          a search (20 terms rotated)
    duty_get / duty_list /       the same three with the equal-duty reference
    duty_search                  (bench/reference_duty.py): the API's own requests, token
                                 verified, validity cached, headers, access line
    get304                       GET one recipe with a matching If-None-Match (304)
    get_nometrics                GET one recipe with METRICS_ENABLED off (the cost of the
                                 Prometheus metrics is get - get_nometrics)
    get_traced                   GET one recipe with OpenTelemetry on (spans to a
                                 batch processor whose exporter drops them)
    own / collections /          the collections rows of load.py (issue 16): the default
    hand / smart                 list (own recipes), GET /collections with every count,
                                 a page of a hand-picked and of a smart collection

Each round runs every case once over its whole request set; the table shows the best
round (the least disturbed by other load) and the API/reference CPU ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import probe_app, reference_app, reference_duty, workload
from bench.common import Req, ServerConfig, bench_engine, machine_note
from bench.seed import ensure_seeded

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

#: case -> (app, what the API's counterpart is called, for the ratio)
PAIRS = {"open": "ref_health", "authed": "ref_health", "get": "ref_get", "list": "ref_list",
         "search": "ref_search", "get_nometrics": "ref_get", "get_traced": "ref_get",
         "get304": "ref_get", "duty_get": "ref_get", "duty_list": "ref_list",
         "duty_search": "ref_search"}
#: The API's case -> its equal-duty counterpart (issue 20).
DUTY_PAIRS = {"get": "duty_get", "list": "duty_list", "search": "duty_search",
              "get304": "duty_get"}
CASES = ["ref_health", "open", "authed", "ref_get", "duty_get", "get", "get304", "ref_list",
         "duty_list", "list", "ref_search", "duty_search", "search", "get_nometrics",
         "get_traced", "own", "collections", "hand", "smart"]


def _scope(req: Req) -> dict[str, Any]:
    path, _, query = req.path.partition("?")
    headers = [(k.lower().encode(), v.encode()) for k, v in (req.headers or {}).items()]
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": req.method, "scheme": "http", "path": path, "raw_path": path.encode(),
        "query_string": query.encode(), "root_path": "",
        "headers": [*headers, (b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000), "state": {},
    }


async def _call(app: App, req: Req) -> int:
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(_scope(req), receive, send)
    return statuses[0]


class _Lifespan:
    """Runs an app's lifespan: startup now, shutdown when the measuring is done."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def _step(self, kind: str) -> None:
        await self.inbox.put({"type": f"lifespan.{kind}"})
        message = await self.outbox.get()
        if message["type"] != f"lifespan.{kind}.complete":
            raise RuntimeError(f"{kind} failed: {message}")

    async def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.get_running_loop().create_task(
            self.app(scope, self.inbox.get, self.outbox.put))  # type: ignore[arg-type]
        await self._step("startup")

    async def stop(self) -> None:
        await self._step("shutdown")
        if self.task is not None:
            await self.task


def _requests(pop: workload.Population,
              revalidations: list[Req]) -> dict[str, tuple[str, list[Req]]]:
    tokens = [req.headers for req in workload.get_one(pop, reference=False)[:500]]
    return {
        "ref_health": ("ref", [Req("GET", "/health")] * 500),
        "open": ("api", [Req("GET", probe_app.OPEN)] * 500),
        "authed": ("api", [Req("GET", probe_app.AUTHED, h) for h in tokens]),
        "ref_get": ("ref", workload.get_one(pop, reference=True)[:500]),
        "get": ("api", workload.get_one(pop, reference=False)[:500]),
        "ref_list": ("ref", workload.list_page(pop, reference=True)[:500]),
        "list": ("api", workload.list_page(pop, reference=False)[:500]),
        "ref_search": ("ref", workload.search(pop, reference=True)[:500]),
        "search": ("api", workload.search(pop, reference=False)[:500]),
        "duty_get": ("duty", workload.get_one(pop, reference=False)[:500]),
        "duty_list": ("duty", workload.list_page(pop, reference=False)[:500]),
        "duty_search": ("duty", workload.search(pop, reference=False)[:500]),
        "get304": ("api", revalidations[:500]),
        "get_nometrics": ("api", workload.get_one(pop, reference=False)[:500]),
        "get_traced": ("traced", workload.get_one(pop, reference=False)[:500]),
        "own": ("api", workload.own_list_page(pop)[:500]),
        "collections": ("api", workload.collections_list(pop)[:500]),
        "hand": ("api", workload.collection_page(pop, smart=False)[:500]),
        "smart": ("api", workload.collection_page(pop, smart=True)[:500]),
    }


class _DroppingExporter:
    """An exporter that accepts spans and keeps nothing: the cost of tracing, not of I/O."""

    def export(self, spans: Any) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 0) -> bool:
        return True


def _variant(case: str, traced_span: Any) -> None:
    """Module switches the cases share a process with: metrics on/off, tracing's hook."""
    from app.core import metrics, tracing

    metrics.set_enabled(case != "get_nometrics")
    tracing._current_span = traced_span if case == "get_traced" else None


async def _measure(cases: list[str], rounds: int) -> dict[str, list[float]]:
    from app.main import create_app

    config = ServerConfig(workers=1, log_level="INFO")
    # Both apps read their settings from the environment, like under uvicorn.
    os.environ.update(config.env())
    engine = bench_engine(config.db_name)
    try:
        pop = workload.load_population(engine, config, pairs=1000)
        revalidations = workload.revalidate_one(pop, engine)
    finally:
        engine.dispose()
    # The API's access lines go to a file, as under load.py (not to this terminal).
    log = open(Path(__file__).parent / "results" / "inprocess.log", "w")  # noqa: SIM115
    apps: dict[str, App] = {"api": probe_app.add_probe_routes(create_app()),
                            "ref": reference_app.create_app(),
                            "duty": reference_duty.create_app()}
    traced_span = None
    if "get_traced" in cases:
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        from app.core import tracing

        apps["traced"] = create_app(span_processor=BatchSpanProcessor(_DroppingExporter()))
        traced_span = tracing._current_span
    lifespans = [_Lifespan(app) for app in apps.values()]
    for lifespan in lifespans:
        await lifespan.start()
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_homechef", False):
            handler.setStream(log)  # type: ignore[attr-defined]
    for handler in reference_duty.logger.handlers:  # the equal-duty reference's lines too
        handler.setStream(log)  # type: ignore[attr-defined]
    requests = _requests(pop, revalidations)
    results: dict[str, list[float]] = {case: [] for case in cases}
    for _ in range(rounds):
        for case in cases:
            kind, reqs = requests[case]
            app = apps[kind]
            _variant(case, traced_span)
            for req in reqs[:50]:  # warm: validity cache, statement caches, pool
                status = await _call(app, req)
                if status != (304 if case == "get304" else 200):
                    raise RuntimeError(f"{case}: {req.path} answered {status}")
            started = time.process_time()
            for req in reqs:
                await _call(app, req)
            results[case].append((time.process_time() - started) / len(reqs) * 1e6)
    for lifespan in lifespans:
        await lifespan.stop()
    log.close()
    return results


def _round_ratio(results: dict[str, list[float]], case: str, other: str | None) -> str:
    if other not in results:
        return ""
    pairs = zip(results[case], results[other], strict=True)
    return f"{statistics.median(a / b for a, b in pairs):.2f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args(argv)
    cases = [c for c in args.cases.split(",") if c]
    unknown = set(cases) - set(CASES)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; choose from {CASES}")
    print(machine_note())
    ensure_seeded()
    (Path(__file__).parent / "results").mkdir(exist_ok=True)
    results = asyncio.run(_measure(cases, args.rounds))
    best = {case: min(values) for case, values in results.items()}
    print(f"\nCPU per request in one process (µs; best of {args.rounds} rounds, all rounds shown)")
    print(f"{'case':<13} {'best':>6}  {'vs bare':>8}  {'vs duty':>8}  rounds")
    print(f"{'-' * 13} {'-' * 6}  {'-' * 8}  {'-' * 8}  {'-' * 30}")
    for case in cases:
        ref, duty = PAIRS.get(case), DUTY_PAIRS.get(case)
        ratio = _round_ratio(results, case, ref)
        vs_duty = _round_ratio(results, case, duty)
        rounds = " ".join(f"{v:.0f}" for v in results[case])
        print(f"{case:<13} {best[case]:>6.0f}  {ratio:>8}  {vs_duty:>8}  {rounds}")
    print("Ratios: the median over rounds of the two cases' CPU in the same round (a round "
          "runs every case back to back, so they share its load).")
    print("Ratios are CPU per request / the reference's for the same read (lower is better): "
          "0.6x bare req/s needs about 1.67x or less,\n0.85x equal-duty about 1.18x or less; "
          "get304 is compared with the references' full GET.")


if __name__ == "__main__":
    raise SystemExit(main())
