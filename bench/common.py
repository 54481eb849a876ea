"""Shared machinery of the benchmarks: databases, uvicorn servers, wrk, tokens, tables.

Everything runs on 127.0.0.1. Servers are uvicorn subprocesses (the way production runs
the app) on free loopback ports, each in its own process group so that stopping one never
touches anything else. Their logs go to bench/results/, which git ignores.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
import psycopg2  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from app.core.config import Settings, normalize_database_url  # noqa: E402
from app.core.secret_key import generate_secret_key  # noqa: E402
from app.core.tokens import KeyRing, issue_access_token  # noqa: E402
from app.db.engine import make_engine  # noqa: E402
from app.db.migrations import upgrade_to_head  # noqa: E402

RESULTS_DIR = REPO_ROOT / "bench" / "results"
PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
#: BENCH_DB=... runs on a database of its own (e.g. a branch whose migrations differ).
BENCH_DB = os.environ.get("BENCH_DB", "homechef_bench")
API = "/api/v1"
WRK_INSTALL_HINT = "apt-get update && apt-get install -y wrk"

# Defaults shared by the project and the reference, so both run with one pool shape.
# PostgreSQL here allows 100 connections, shared with whatever else runs on the machine:
# 2 servers x 2 workers x 20 stays inside that, and the thread pool is sized to match.
# No overflow: under a steady load above the pool size, SQLAlchemy's QueuePool closes
# each overflow connection as it is returned and opens another for the next request; with
# 10 + 10 at 32 connections, 3.5% (reference) to 5.5% (API) of requests opened a new
# PostgreSQL connection, which measured connection setup rather than the app.
DEFAULT_POOL_SIZE = 20
DEFAULT_MAX_OVERFLOW = 0


# --- databases ----------------------------------------------------------------------------


def database_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def ensure_database(name: str) -> None:
    """Create the database if missing and migrate it to the Alembic head."""
    conn = psycopg2.connect(PG_ADMIN_URL, connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    engine = bench_engine(name)
    try:
        upgrade_to_head(engine)
    finally:
        engine.dispose()


def bench_engine(name: str) -> Engine:
    settings = Settings(_env_file=None, DATABASE_URL=database_url(name), DB_POOL_SIZE=4,
                        DB_MAX_OVERFLOW=4, DB_STATEMENT_TIMEOUT_MS=0)
    return make_engine(settings, normalize_database_url(database_url(name)))


# --- settings and tokens ------------------------------------------------------------------


@dataclass(frozen=True)
class ServerConfig:
    """The settings both the project and the reference are started with."""

    db_name: str = BENCH_DB
    workers: int = 2
    pool_size: int = DEFAULT_POOL_SIZE
    max_overflow: int = DEFAULT_MAX_OVERFLOW
    secret_key: str = field(default_factory=generate_secret_key)
    log_level: str = "INFO"
    extra: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        values = {
            # Not production: that requires TLS to the database, which the reference lacks.
            "ENVIRONMENT": "development",
            "SECRET_KEY": self.secret_key,
            "DATABASE_URL": database_url(self.db_name),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": self.log_level,
            "DB_POOL_SIZE": str(self.pool_size),
            "DB_MAX_OVERFLOW": str(self.max_overflow),
            "WEB_CONCURRENCY": str(self.workers),
            # Per-user limits of 600 reads/minute would turn a load test into a 429 test.
            "RATE_LIMIT_ENABLED": "false",
            # Long enough for a soak run; minted once at the start.
            "ACCESS_TOKEN_EXPIRE_MINUTES": "240",
            "DOCS_ENABLED": "false",
        }
        values.update(self.extra)
        return values

    def settings(self) -> Settings:
        return Settings(_env_file=None, **self.env())  # type: ignore[arg-type]


def mint_tokens(config: ServerConfig, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Real internal access tokens, signed with the servers' SECRET_KEY."""
    ring = KeyRing(config.settings())
    return {
        uid: issue_access_token(ring, user_id=uid, sid=f"sess_bench_{uid.hex[:12]}",
                                version=0).token
        for uid in user_ids
    }


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child_env(values: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(values)
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@dataclass
class Server:
    name: str
    port: int
    workers: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        """The processes that serve requests (the main one when there is one worker)."""
        if self.workers == 1:
            return [self.process.pid]
        return [pid for pid in _children(self.process.pid) if _is_uvicorn_worker(pid)]

    def rss_kib(self) -> int:
        return sum(read_status_kib(pid, "VmRSS") for pid in self.worker_pids())

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(
    name: str,
    app_spec: str,
    config: ServerConfig,
    *,
    factory: bool = False,
    workers: int | None = None,
    ready_path: str = "/ready",
    timeout: float = 60.0,
    extra_args: Sequence[str] = (),
    prefix: Sequence[str] = (),
) -> Server:
    """``uvicorn app_spec`` with the production flags, ready when ``ready_path`` answers 200.

    ``prefix`` runs it under another command (``prlimit --nofile=N:N --``)."""
    workers = workers or config.workers
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = RESULTS_DIR / f"{name}.log"
    command = [
        *prefix, sys.executable, "-m", "uvicorn", app_spec, "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", str(workers), "--no-server-header",
        # The project replaces uvicorn's access log with its own; the reference keeps none.
        "--no-access-log", *extra_args,
    ]
    if factory:
        command.append("--factory")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=RESULTS_DIR, env=_child_env(config.env()), stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = Server(name, port, workers, process, log_path)
    try:
        _wait_ready(server, ready_path, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_ready(server: Server, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.name} exited:\n{server.log_tail()}")
            try:
                if client.get(server.url + path).status_code == 200 and (
                    len(server.worker_pids()) >= server.workers
                ):
                    # Every worker answers once before measuring, so none pays its startup.
                    for _ in range(server.workers * 4):
                        client.get(server.url + path)
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise RuntimeError(f"{server.name} not ready after {timeout:.0f}s:\n{server.log_tail()}")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: the ppid follows the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _is_uvicorn_worker(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return b"resource_tracker" not in cmdline


def read_status_kib(pid: int, key: str) -> int:
    """A /proc/<pid>/status memory line (VmRSS, VmHWM, ...) in KiB; 0 if the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


# --- wrk --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int  # socket errors and timeouts
    non_2xx: int  # wrk counts statuses >= 400
    p50_ms: float
    p99_ms: float
    #: Server CPU time (user + system, all worker processes) per request, in ms: robust
    #: against other load on a shared machine, unlike req/s.
    cpu_ms: float = float("nan")

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        return self.errors + self.non_2xx


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        sys.exit(
            "wrk (the load generator) is not installed. Install it with:\n"
            f"    {WRK_INSTALL_HINT}\n(see bench/README.md)"
        )
    return path


def _lua_string(value: str) -> str:
    out = []
    for byte in value.encode():
        char = chr(byte)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


_LUA_RUNTIME = r"""
local built = {}
local counter = 1
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("offset", threads * 7919)
end

function init(args)
  for i, s in ipairs(specs) do built[i] = wrk.format(s[1], s[2], s[3], s[4]) end
  counter = ((offset or 0) % #built) + 1
end

function request()
  local r = built[counter]
  counter = (counter % #built) + 1
  return r
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_script(requests: Sequence[Req]) -> str:
    lines = ["specs = {"]
    for r in requests:
        headers = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in r.headers.items())
        body = _lua_string(r.body) if r.body is not None else "nil"
        method, path = _lua_string(r.method), _lua_string(r.path)
        lines.append(f"  {{{method}, {path}, {{{headers}}}, {body}}},")
    lines.append("}")
    return "\n".join(lines) + _LUA_RUNTIME


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU time of these processes (all their threads), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def run_wrk(
    target: str | Server, requests: Sequence[Req], *, connections: int, seconds: float,
    threads: int = 2,
) -> LoadResult:
    """Drive the server with wrk, cycling through ``requests`` (each thread from its own
    offset), and return throughput, latency percentiles and the server's CPU per request."""
    wrk = require_wrk()
    server = target if isinstance(target, Server) else None
    base_url = server.url if server else str(target)
    pids = server.worker_pids() if server else []
    cpu_before = cpu_seconds(pids)
    threads = max(1, min(threads, connections))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", dir=RESULTS_DIR, delete=False) as f:
        f.write(_lua_script(requests))
        script = f.name
    try:
        completed = subprocess.run(
            [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
             "--timeout", "10s", "-s", script, base_url],
            capture_output=True, text=True, timeout=seconds + 60, check=False,
        )
    finally:
        os.unlink(script)
    cpu_ms = (cpu_seconds(pids) - cpu_before) * 1000
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line.removeprefix("BENCH_JSON "))
            return LoadResult(
                cpu_ms=cpu_ms / data["requests"] if pids and data["requests"] else float("nan"),
                requests=data["requests"], seconds=data["duration_us"] / 1e6,
                errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
                non_2xx=data["status"], p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
            )
    raise RuntimeError(f"wrk printed no result:\n{completed.stdout}\n{completed.stderr}")


# --- sequential timing ----------------------------------------------------------------------


def time_requests(
    client: httpx.Client, base_url: str, requests: Sequence[Req], count: int
) -> tuple[list[float], int]:
    """Latencies in ms of ``count`` requests sent one after another, and how many failed."""
    latencies: list[float] = []
    failures = 0
    for i in range(count):
        r = requests[i % len(requests)]
        started = time.perf_counter()
        response = client.request(r.method, base_url + r.path, headers=r.headers,
                                  content=r.body)
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code >= 400:
            failures += 1
    return latencies, failures


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks; ``p`` in 0..100."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- tables -------------------------------------------------------------------------------------


def ratio(project: float, reference: float) -> str:
    if not reference or reference != reference:
        return "n/a"
    return f"{project / reference:.2f}"


def fmt(value: Any, digits: int = 1) -> str:
    if isinstance(value, float):
        if value != value:
            return "n/a"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
                note: str | None = None) -> None:
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                    for i, (h, w) in enumerate(zip(headers, widths, strict=True))))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    if note:
        print(note)
    sys.stdout.flush()


def machine_note() -> str:
    load1, load5, _ = os.getloadavg()
    return (f"machine: {os.cpu_count()} CPUs, load average {load1:.2f} (1 min) / {load5:.2f} "
            "(5 min) before the run; the machine is shared, so expect run-to-run noise.")


def verdict(met: bool) -> str:
    return "MET" if met else "MISSED"
