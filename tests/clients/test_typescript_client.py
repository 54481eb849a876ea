"""The TypeScript client (clients/typescript) against the real API, as the PWA uses it.

The live server's /openapi.json becomes the client's types (openapi-typescript), tsc
compiles client and driver (so a schema change that breaks the client fails here), and
the driver runs with node against a real uvicorn on PostgreSQL, signing in through a
loopback Clerk. See docs/FRONTEND.md for the contract the driver checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from tests.clients.clerk_frontend import ClerkFrontend
from tests.clients.typescript_build import TypeScriptBuild, require_toolchain
from tests.conftest import make_test_settings
from tests.fakes.clerk import FakeClerk
from tests.hardening.support import UvicornProcess

# Low enough that exchanging on every call (about 25 calls) would be refused with 429.
AUTH_LIMIT = 6
REPLAY_STEP = "a retried create is replayed, not repeated"


@pytest.fixture
def build(tmp_path: Path) -> TypeScriptBuild:
    return TypeScriptBuild(require_toolchain(), tmp_path)


@pytest.fixture
def clerk() -> Iterator[tuple[FakeClerk, ClerkFrontend]]:
    with FakeClerk() as fake, ClerkFrontend(fake) as frontend:
        fake.register_user("user_ada", emails=["ada@example.com"])
        frontend.add_session("sess_phone", "user_ada")
        frontend.add_session("sess_laptop", "user_ada")
        frontend.add_session("sess_gone", "user_ada", ended=True)
        yield fake, frontend


def _server_env(pg_url: str, fake: FakeClerk) -> dict[str, str]:
    assert fake.secret_key is not None
    return {
        "DATABASE_URL": pg_url,
        "DOCS_ENABLED": "true",  # serves /openapi.json, which the types are made from
        "CLERK_JWKS_URL": fake.jwks_url,
        "CLERK_ISSUER": fake.issuer,
        "CLERK_SECRET_KEY": fake.secret_key,
        "CLERK_API_URL": fake.api_url,
        "ALLOWED_ORIGINS": fake.authorized_party,
        "RATE_LIMIT_ENABLED": "true",
        "RATE_LIMIT_AUTH": f"{AUTH_LIMIT}/minute",
    }


def _declares_idempotency_key(schema: dict[str, Any]) -> bool:
    parameters = schema["paths"]["/api/v1/recipes"]["post"].get("parameters", [])
    return any(p["in"] == "header" and p["name"].lower() == "idempotency-key"
               for p in parameters)


def _result(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, stdout
    return json.loads(lines[0].removeprefix("RESULT "))


def test_client_built_from_the_live_schema_signs_in_and_uses_the_api(
    build: TypeScriptBuild, clerk: tuple[FakeClerk, ClerkFrontend], pg_url: str,
    engine: Engine, tmp_path: Path,
) -> None:
    fake, frontend = clerk
    with UvicornProcess(_server_env(pg_url, fake), tmp_path) as server:
        schema = httpx.get(f"{server.base_url}/openapi.json", timeout=10).json()
        build.generate(schema)
        compiled = build.compile()
        assert compiled.returncode == 0, f"tsc failed:\n{compiled.stdout}{compiled.stderr}"
        idempotent = _declares_idempotency_key(schema)
        run = build.run_driver({
            "HOMECHEF_API_URL": server.base_url, "CLERK_FRONTEND_API_URL": frontend.url,
            "HOMECHEF_EXPECT_IDEMPOTENCY": "1" if idempotent else "0",
        })

    assert run.returncode == 0, f"driver failed:\n{run.stdout}{run.stderr}"
    result = _result(run.stdout)
    # The replay step runs wherever the server declares Idempotency-Key on creates (the
    # generic mechanism), and is reported as skipped, not passed, where it does not.
    expected_skips = [] if idempotent else [REPLAY_STEP]
    assert (result["steps"], result["skipped"]) == (13, expected_skips), run.stdout
    assert len(result["passed"]) == 13 - len(expected_skips), run.stdout
    # Phone: the first exchange, one ahead of expiry, one after the token died mid-session
    # (shared by three concurrent calls that each retried once).
    assert (result["phoneExchanges"], result["phoneRetries"]) == (3, 3)
    assert frontend.minted == {"sess_phone": 3, "sess_laptop": 1, "sess_gone": 1}
    # Many more calls than the exchange limit allows, and never a 429.
    assert result["exchanges"] == 5 < AUTH_LIMIT < result["requests"] - result["exchanges"]
    assert "429" not in result["byStatus"], result


def test_a_schema_change_that_breaks_the_client_fails_its_build(
    build: TypeScriptBuild, pg_url: str
) -> None:
    from app.main import create_app

    schema = create_app(make_test_settings(pg_url)).openapi()
    page = schema["components"]["schemas"]["RecipePage"]
    page["properties"]["cursor"] = page["properties"].pop("next_cursor")
    page["required"] = ["cursor" if name == "next_cursor" else name for name in page["required"]]
    build.generate(schema)

    compiled = build.compile()

    assert compiled.returncode != 0
    assert "next_cursor" in compiled.stdout, compiled.stdout
    assert not (build.root / "dist" / "driver.js").exists()  # noEmitOnError: nothing stale
