"""Fault injection under mixed writes: workers killed, Redis stopped, slow clients, and
(only when told) PostgreSQL restarted. Run by hand, like soak.py:

    .venv/bin/python bench/faults.py [--phase-seconds 10] [--cooks 12] [--workers 2]
                                     [--slow-clients 300] [--restart-postgres]

Starts its own uvicorn (``--workers``, under ``prlimit --nofile=1024``) on a database of
its own (homechef_faults), its own redis-server on a free port for the shared rate
limits (fail open), and nginx with deploy/nginx/ in front when nginx is installed (the
supported shape; without it the slow clients hit uvicorn directly). ``--cooks`` threads,
each a user of its own, create (Idempotency-Key, retried until answered), edit
(If-Match) and delete recipes throughout. The phases run one after the other:

    baseline       nothing injected
    kill-workers   kill -9 one uvicorn worker every 2 s (uvicorn starts a new one)
    redis-down     the rate-limit Redis stopped for half the phase, then started again
    postgres       pg_ctlcluster restart (ONLY with --restart-postgres: it cuts every
                   other user of that server too)
    slow-clients   --slow-clients connections that stall mid-headers or mid-body

Then every acknowledged write is checked in the database, and two tables are printed:
answers and recovery per phase; acknowledged, lost, partial, duplicates, orphans.
Exit status 1 if anything acknowledged was lost or partial, or any answer was a 500.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from bench.common import (
    RESULTS_DIR,
    Server,
    ServerConfig,
    bench_engine,
    ensure_database,
    free_port,
    machine_note,
    mint_tokens,
    print_table,
    start_server,
)
from bench.faults_workload import Cook, Ledger, verify
from tests.deploy.nginx_support import Nginx, nginx_binary, start_nginx
from tests.deploy.slow_clients import SLOW_BODY, SLOW_HEADERS, Attack

DB_NAME = "homechef_faults"
APP_NOFILE = 1024  # the common default the issue measured the outage at


class Redis:
    def __init__(self, workdir: Path) -> None:
        self.port, self.workdir = free_port(), workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"],
                              capture_output=True).stdout.strip() == b"PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def make_cooks(count: int) -> list[uuid.UUID]:
    engine = bench_engine(DB_NAME)
    ids = [uuid.uuid4() for _ in range(count)]
    try:
        with engine.begin() as conn:
            # A previous run's cooks and their recipes (cascade), so the check sees only this run.
            conn.execute(text("DELETE FROM users WHERE clerk_user_id LIKE 'user_faults_%'"))
            for uid in ids:
                conn.execute(text(
                    "INSERT INTO users (id, clerk_user_id, email, dietary_tags, created_at, "
                    "updated_at) VALUES (:id, :clerk, :email, '[]', now(), now())"),
                    {"id": uid, "clerk": f"user_faults_{uid.hex[:12]}",
                     "email": f"faults-{uid.hex[:12]}@example.com"})
    finally:
        engine.dispose()
    return ids


# --- the phases -----------------------------------------------------------------------------


def ready_workers(server: Server) -> int:
    """Workers that finished starting, ever (uvicorn logs one line each)."""
    return server.log_path.read_text(errors="replace").count("Application startup complete.")


def kill_workers(server: Server, seconds: float, ledger: Ledger) -> dict[str, str]:
    """Kill -9 a serving worker, wait until its replacement serves, repeat (>= 2 s apart).

    Only a worker that finished starting is killed: killing replacements while they
    start measures how slowly Python imports on a loaded machine, not the app.
    """
    rng, recoveries, back_after = random.Random(7), [], []
    deadline = time.monotonic() + seconds
    started = ready_workers(server)
    while time.monotonic() < deadline:
        victim = rng.choice(server.worker_pids())
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        while ready_workers(server) <= started and time.monotonic() - killed_at < 60:
            time.sleep(0.05)
        started = ready_workers(server)
        back_after.append(time.monotonic() - killed_at)
        time.sleep(max(0.0, 2.0 - (time.monotonic() - killed_at)))
        first = ledger.first_success_after(killed_at)
        if first is not None:
            recoveries.append(first)
    return {"faults": f"{len(back_after)} kills",
            "first 2xx after": _worst(recoveries),
            "back to full strength": _worst(back_after)}


def redis_down(redis: Redis, seconds: float, ledger: Ledger) -> dict[str, str]:
    time.sleep(seconds / 4)
    redis.stop()
    stopped_at = time.monotonic()
    time.sleep(seconds / 2)
    redis.start()
    started_at = time.monotonic()
    time.sleep(seconds / 4)
    during = ledger.first_success_after(stopped_at)
    after = ledger.first_success_after(started_at)
    return {"faults": f"Redis down {started_at - stopped_at:.1f}s",
            "first 2xx after": f"{_fmt(during)} (down) / {_fmt(after)} (back)",
            "back to full strength": "-"}


def restart_postgres(seconds: float, ledger: Ledger) -> dict[str, str]:
    versions = os.listdir("/etc/postgresql")
    version = sorted(versions, key=lambda v: [int(x) for x in v.split(".")])[-1]
    time.sleep(seconds / 4)
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                   check=True, capture_output=True, timeout=120)
    back_at = time.monotonic()
    time.sleep(seconds / 2)
    return {"faults": "1 restart", "first 2xx after": _fmt(ledger.first_success_after(back_at)),
            "back to full strength": "-"}


def slow_clients(front: tuple[str, int], count: int, seconds: float) -> dict[str, str]:
    attack = Attack()
    headers_from = [f"127.0.1.{n}" for n in range(1, 1 + max(1, count * 3 // 4 // 25))]
    body_from = [f"127.0.2.{n}" for n in range(1, 1 + max(1, count // 4 // 25))]
    attack.open(front, headers_from, 25, SLOW_HEADERS)
    attack.open(front, body_from, 25, SLOW_BODY)
    opened = len(attack.sockets)
    cut_after = None
    deadline = attack.opened_at + max(seconds, 20.0)
    while time.monotonic() < deadline:
        if attack.still_open() == 0:
            cut_after = time.monotonic() - attack.opened_at
            break
        time.sleep(0.25)
    left = attack.still_open()
    attack.close()
    return {"faults": f"{opened} stalled ({attack.refused} refused)",
            "first 2xx after": "-",
            "back to full strength": (f"all cut after {cut_after:.1f}s" if cut_after
                                      else f"{left} still open")}


def _worst(values: list[float]) -> str:
    return f"max {max(values):.2f}s" if values else "-"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


# --- the run --------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phase-seconds", type=float, default=10.0)
    parser.add_argument("--cooks", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slow-clients", type=int, default=300)
    parser.add_argument("--restart-postgres", action="store_true",
                        help="restart the PostgreSQL cluster (affects everyone using it)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    print(machine_note())
    ensure_database(DB_NAME)
    workdir = Path(tempfile.mkdtemp(prefix="faults-", dir=RESULTS_DIR.parent))
    redis = Redis(workdir)
    redis.start()
    config = ServerConfig(db_name=DB_NAME, workers=args.workers, pool_size=5, extra={
        "RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_FAIL_OPEN": "true",
        "RATE_LIMIT_STORAGE_URL": f"redis://127.0.0.1:{redis.port}/0",
        "RATE_LIMIT_WRITE": "100000/minute", "RATE_LIMIT_READ": "100000/minute",
        "TRUSTED_PROXIES": "127.0.0.1", "DB_POOL_TIMEOUT": "5", "DB_CONNECT_TIMEOUT": "3",
    })
    server = start_server("faults", "app.main:app", config,
                          prefix=["prlimit", f"--nofile={APP_NOFILE}:{APP_NOFILE}", "--"],
                          extra_args=["--timeout-keep-alive", "75"])
    nginx: Nginx | None = None
    try:
        binary = nginx_binary()
        if binary:
            nginx = start_nginx(binary, workdir / "nginx", server.port)
        front = nginx.url if nginx else server.url
        return run(args, config, server, redis, front)
    finally:
        if nginx:
            nginx.stop()
        server.stop()
        redis.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, config: ServerConfig, server: Server, redis: Redis,
        front: str) -> int:
    tokens = mint_tokens(config, make_cooks(args.cooks))
    ledger, stop = Ledger(), threading.Event()
    cooks = [Cook(front, token, ledger, stop, seed=n) for n, token in enumerate(tokens.values())]
    host, port = front.removeprefix("http://").split(":")
    phases = [("baseline", lambda: (time.sleep(args.phase_seconds), {})[1]),
              ("kill-workers", lambda: kill_workers(server, args.phase_seconds, ledger)),
              ("redis-down", lambda: redis_down(redis, args.phase_seconds, ledger))]
    if args.restart_postgres:
        phases.append(("postgres", lambda: restart_postgres(args.phase_seconds, ledger)))
    phases.append(("slow-clients", lambda: slow_clients((host, int(port)), args.slow_clients,
                                                        args.phase_seconds)))
    print(f"front: {'nginx' if front != server.url else 'uvicorn (no nginx installed)'}, "
          f"{args.workers} workers under prlimit --nofile={APP_NOFILE}, {args.cooks} cooks")
    for cook in cooks:
        cook.start()
    notes: dict[str, dict[str, str]] = {}
    try:
        for name, inject in phases:
            ledger.phase = name
            print(f"phase {name} ...", flush=True)
            notes[name] = inject()
        ledger.phase = "settle"
    finally:
        stop.set()
        for cook in cooks:
            cook.join(timeout=60)
    return report(ledger, notes)


def report(ledger: Ledger, notes: dict[str, dict[str, str]]) -> int:
    counts = ledger.by_phase()
    rows = []
    for phase, note in notes.items():
        c = counts.get(phase, {})
        rows.append([phase, note.get("faults", "-"), c.get("requests", 0), c.get("2xx", 0),
                     c.get("4xx", 0), c.get("5xx", 0) + c.get("500", 0), c.get("500", 0),
                     c.get("transport", 0), note.get("first 2xx after", "-"),
                     note.get("back to full strength", "-")])
    print_table("Answers per phase", ["phase", "faults", "requests", "2xx", "4xx", "5xx",
                                      "of which 500", "transport errors", "first 2xx after",
                                      "recovered"], rows)
    engine = bench_engine(DB_NAME)
    try:
        tally = verify(engine, ledger.intents)
    finally:
        engine.dispose()
    names = ["acknowledged", "lost", "partial", "duplicates", "orphans", "deletes undone",
             "edits lost", "key missing", "unresolved", "unacknowledged but stored"]
    print_table("Acknowledged writes, checked in the database afterwards", names,
                [[tally.get(n, 0) for n in names]],
                note=f"creates answered by a replay (Idempotent-Replayed): {ledger.replays}; "
                f"DELETEs answered 404 (repeated by nginx after a worker died, so the "
                f"recipe was already gone): {ledger.deletes_found_gone}")
    failed = sum(tally.get(n, 0) for n in ("lost", "partial", "duplicates", "orphans",
                                           "deletes undone", "edits lost", "key missing"))
    five_hundreds = sum(c.get("500", 0) for c in counts.values())
    return 1 if failed or five_hundreds else 0


if __name__ == "__main__":
    raise SystemExit(main())
