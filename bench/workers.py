"""How requests spread over worker processes under keep-alive load (issue 20).

    .venv/bin/python bench/workers.py [--servers uvicorn,gunicorn,granian]
                                      [--connections 16,64] [--duration 5] [--workers 2]

Starts the API under each server with ``--workers 2`` (the same settings as load.py),
drives GET one recipe with wrk over N keep-alive connections, and counts the access
lines each worker pid wrote during the run (the access line carries the pid). A server
whose busiest worker takes more than 70% leaves the other core idle under load.

    uvicorn    uvicorn app.main:app --workers 2 (the documented shape)
    gunicorn   gunicorn app.main:app -k app.core.gunicorn_worker.Worker -w 2
    granian    granian --interface asgi --workers 2 app.main:app
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import workload
from bench.common import (
    RESULTS_DIR,
    Server,
    ServerConfig,
    _child_env,
    _wait_ready,
    bench_engine,
    free_port,
    machine_note,
    print_table,
    require_wrk,
    run_wrk,
)
from bench.seed import ensure_seeded

SHARE_LIMIT = 0.70


def _command(kind: str, port: int, workers: int) -> list[str]:
    bind = ["127.0.0.1", str(port)]
    if kind == "uvicorn":
        return [sys.executable, "-m", "uvicorn", "app.main:app", "--host", bind[0], "--port",
                bind[1], "--workers", str(workers), "--no-server-header", "--no-access-log"]
    if kind == "gunicorn":
        return [sys.executable, "-m", "gunicorn", "app.main:app", "-k",
                "app.core.gunicorn_worker.Worker", "-w", str(workers), "-b", ":".join(bind)]
    if kind == "granian":
        return [sys.executable, "-m", "granian", "--interface", "asgi", "--host", bind[0],
                "--port", bind[1], "--workers", str(workers), "--no-ws", "app.main:app"]
    raise ValueError(kind)


def start(kind: str, config: ServerConfig) -> Server:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = RESULTS_DIR / f"workers-{kind}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            _command(kind, port, config.workers), cwd=RESULTS_DIR,
            env=_child_env(config.env()), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    server = Server(f"workers-{kind}", port, config.workers, process, log_path)
    try:
        _wait_ready(server, "/ready", 90)
    except BaseException:
        server.stop()
        raise
    return server


def shares(log_path: Path, offset: int) -> collections.Counter[int]:
    """Access lines per pid written after ``offset``."""
    counts: collections.Counter[int] = collections.Counter()
    with open(log_path, "rb") as log:
        log.seek(offset)
        for line in log:
            if b'"http.access"' not in line:
                continue
            try:
                counts[json.loads(line)["pid"]] += 1
            except (ValueError, KeyError):
                continue
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default="uvicorn,gunicorn,granian")
    parser.add_argument("--connections", default="16,64")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool", type=int, default=20)
    args = parser.parse_args(argv)
    require_wrk()
    print(machine_note(), flush=True)
    seed = ensure_seeded()
    config = ServerConfig(workers=args.workers, pool_size=args.pool)
    engine = bench_engine(seed.db_name)
    try:
        requests = workload.get_one(workload.load_population(engine, config), reference=False)
    finally:
        engine.dispose()
    rows = []
    for kind in args.servers.split(","):
        with start(kind, config) as server:
            run_wrk(server, requests, connections=8, seconds=2)  # warm the validity caches
            for connections in (int(c) for c in args.connections.split(",")):
                offset = server.log_path.stat().st_size
                result = run_wrk(server, requests, connections=connections,
                                 seconds=args.duration)
                counts = shares(server.log_path, offset)
                total = sum(counts.values()) or 1
                split = sorted((n / total for n in counts.values()), reverse=True)
                busiest = split[0] if split else 0.0
                rows.append([kind, connections, result.rps, result.cpu_ms, result.failed,
                             " / ".join(f"{s:.0%}" for s in split), len(counts),
                             "OK" if busiest <= SHARE_LIMIT else "UNEVEN"])
                print(f"  {kind:<9} c={connections:<3} {result.rps:8.1f} req/s  "
                      f"shares {rows[-1][5]}", flush=True)
    print_table(
        f"Requests per worker ({args.workers} workers), GET one recipe, keep-alive connections",
        ["server", "conns", "req/s", "CPU ms", "errors", "share per worker", "pids", "<=70%"],
        rows,
        note="share = access lines per pid during the run; req/s is only comparable within "
             "one run on a shared machine.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
