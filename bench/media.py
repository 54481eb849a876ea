"""Media: signed-link route throughput, list cost of links, upload memory per store.

    .venv/bin/python bench/media.py [--seconds 3] [--uploads 20] [--skip-s3]

In process (fastapi TestClient, one request after another, no network), on its own
database (homechef_bench_media), with the issue's targets next to each row:

- media route req/s for a cached thumbnail (If-None-Match -> 304) and a full thumbnail
  (200), next to GET /recipes/{id} measured in the same run;
- list page (20 per page) req/s where every row has a cover (join + 3 signed links per
  row) against the same list where no row has one (the join finds nothing, no link
  signed): target >= 0.95x;
- peak memory of ``--uploads`` concurrent 5 MiB JPEG uploads (POST .../images, one user
  each) for each store, growth of this process's peak RSS over its RSS before
  measured as bench/scale.py does: a fresh uvicorn server per store, its RSS polled
  every 5 ms, growth = peak - idle (decoding runs in worker processes under the decode
  budget): target < 200 MB.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database_url, ensure_database, machine_note, print_table

DB = "homechef_bench_media"
API = "/api/v1"


def _settings(**extra: Any) -> Any:
    from app.core.config import Settings
    from app.core.secret_key import generate_secret_key

    return Settings(_env_file=None, ENVIRONMENT="development", SECRET_KEY=generate_secret_key(),
                    DATABASE_URL=database_url(DB), RATE_LIMIT_ENABLED=False, LOG_LEVEL="WARNING",
                    DOCS_ENABLED=False, **extra)


def _client(settings: Any) -> Any:
    from fastapi.testclient import TestClient

    from app.main import create_app

    client = TestClient(create_app(settings))
    client.__enter__()
    return client


def _reset() -> None:
    from sqlalchemy import text

    from bench.common import bench_engine

    engine = bench_engine(DB)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE users, recipes, media_images, media_variants, media_blobs "
                          "RESTART IDENTITY CASCADE"))
    engine.dispose()


def _rate(client: Any, url: str, seconds: float, headers: dict[str, str]) -> float:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        response = client.get(url, headers=headers)
        assert response.status_code in (200, 304), response.status_code
        done += 1
    return done / (time.perf_counter() - started)


def _users(client: Any, count: int) -> list[dict[str, str]]:
    from sqlalchemy.orm import Session

    from bench.common import bench_engine
    from tests.factories import auth_headers, make_user

    engine = bench_engine(DB)
    with Session(engine, expire_on_commit=False) as db:
        users = [make_user(db) for _ in range(count)]
    engine.dispose()
    return [auth_headers(client.app, user) for user in users]


def _best_of(rounds: int, cases: dict[str, Any]) -> dict[str, float]:
    """Cases interleaved round by round (a shared machine's load drifts); the best round
    of each, the least disturbed."""
    best = dict.fromkeys(cases, 0.0)
    for _ in range(rounds):
        for name, measure in cases.items():
            best[name] = max(best[name], measure())
    return best


def routes(seconds: float, rounds: int = 4) -> list[list[Any]]:
    from tests.media.support import jpeg

    _reset()
    client = _client(_settings())
    with_photos, without = _users(client, 2)
    photo = jpeg((1600, 1200))
    ids = []
    for headers in (with_photos, without):
        for i in range(20):
            body = {"title": f"Soup {i}", "steps": [{"text": "Cook."}]}
            ids.append(client.post(f"{API}/recipes", json=body, headers=headers).json()["id"])
    for recipe_id in ids[:20]:
        answer = client.post(f"{API}/recipes/{recipe_id}/images", headers=with_photos,
                             files={"file": ("p.jpg", photo, "image/jpeg")})
        assert answer.status_code == 201, answer.text
    thumb = client.get(f"{API}/recipes/{ids[0]}", headers=with_photos).json()["images"][0][
        "thumb_url"]
    etag = client.get(thumb).headers["etag"]
    # The same query shape for both lists: each cook's own 20 (owner=me); only the covers
    # (a joined row and three signed links per card) differ.
    mine = f"{API}/recipes?limit=20&owner=me"
    share = seconds / rounds
    best = _best_of(rounds, {
        "get": lambda: _rate(client, f"{API}/recipes/{ids[0]}", share, with_photos),
        "cached": lambda: _rate(client, thumb, share, {"If-None-Match": etag}),
        "full": lambda: _rate(client, thumb, share, {}),
        "before": lambda: _rate(client, mine, share, without),
        "after": lambda: _rate(client, mine, share, with_photos),
    })
    client.__exit__(None, None, None)
    get_rate, ratio = best["get"], best["after"] / best["before"]
    return [
        ["GET /recipes/{id} (reference)", f"{get_rate:.0f}", "1.00", "-"],
        ["media thumbnail, cached (304)", f"{best['cached']:.0f}",
         f"{best['cached'] / get_rate:.2f}", "-"],
        ["media thumbnail (200, PostgreSQL)", f"{best['full']:.0f}",
         f"{best['full'] / get_rate:.2f}", "-"],
        ["list of 20, no covers (before links)", f"{best['before']:.0f}", "1.00", "-"],
        ["list of 20, 20 covers with links", f"{best['after']:.0f}", f"{ratio:.2f}",
         f">= 0.95x: {'met' if ratio >= 0.95 else 'NOT met'}"],
    ]


def _upload_targets(count: int, config: Any) -> list[tuple[Any, str]]:
    """One cook per upload (one decode per user at a time is the rule), each a recipe."""
    from sqlalchemy.orm import Session

    from bench.common import bench_engine, mint_tokens
    from tests.factories import make_user
    from tests.recipes.factories import make_recipe

    engine = bench_engine(DB)
    with Session(engine, expire_on_commit=False) as db:
        pairs = []
        for _ in range(count):
            user = make_user(db)
            pairs.append((make_recipe(db, user).id, user.id))
    engine.dispose()
    tokens = mint_tokens(config, [user_id for _, user_id in pairs])
    return [(recipe_id, tokens[user_id]) for recipe_id, user_id in pairs]


def uploads(count: int, skip_s3: bool) -> list[list[Any]]:
    """A fresh uvicorn process per store (bench/scale.py's method: RSS of the server
    polled every 5 ms; growth is the peak over the idle process)."""
    from bench.common import ServerConfig, start_server
    from bench.scale import _jpeg_photo, _upload_round
    from tests.media.s3_support import moto_server, new_bucket, s3_overrides

    photo = _jpeg_photo(5 * 1024 * 1024)
    rows = []
    for store in ["postgresql"] + ([] if skip_s3 else ["s3"]):
        _reset()
        server_ctx = moto_server() if store == "s3" else None
        endpoint = server_ctx.__enter__() if server_ctx is not None else None
        try:
            extra = {"MAX_UPLOAD_BYTES": str(6 * 1024 * 1024)}
            if endpoint is not None:
                overrides = s3_overrides(endpoint, f"bench-{int(time.time())}")
                new_bucket(_settings(**overrides))
                extra.update({k: str(v) for k, v in overrides.items()})
            config = ServerConfig(db_name=DB, workers=1, extra=extra)
            targets = _upload_targets(count, config)
            with start_server(f"media-upload-{store}", "app.main:app", config,
                              workers=1) as server:
                idle, peak, statuses, seconds = _upload_round(
                    server, targets, photo, "photo.jpg", "image/jpeg")
        finally:
            if server_ctx is not None:
                server_ctx.__exit__(None, None, None)
        ok = sum(1 for status in statuses if 200 <= status < 300)
        growth = (peak - idle) / 1024
        rows.append([f"{count} x {len(photo) / 1024 / 1024:.1f} MiB uploads, {store}",
                     f"{ok}/{count} in {seconds:.0f} s", f"{growth:.0f} MiB",
                     f"< 200 MB: {'met' if growth < 200 and ok == count else 'NOT met'}"])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument("--skip-uploads", action="store_true")
    args = parser.parse_args(argv)
    ensure_database(DB)
    print(machine_note())
    print_table("Media routes (in process, sequential)",
                ["case", "req/s", "ratio", "target"], routes(args.seconds))
    if not args.skip_uploads:
        print_table("Concurrent uploads: peak RSS growth of the API server process",
                    ["case", "result", "growth", "target"], uploads(args.uploads, args.skip_s3))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
