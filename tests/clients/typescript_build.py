"""Build the TypeScript client (clients/typescript) as a developer would: generate its types
from an OpenAPI schema with openapi-typescript, compile with tsc, run with node.

Each build happens in a private copy (a temporary folder, node_modules linked), so tests
never write into the checkout and two runs cannot step on each other. The npm packages
come from `npm ci` in clients/typescript, which .ci/run does. Without node or them, the
tests skip with the reason, and fail under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENT_DIR = REPO_ROOT / "clients" / "typescript"
NODE_MODULES = CLIENT_DIR / "node_modules"
# Bounds on waiting, not performance assertions; a healthy run takes a few seconds each.
STEP_TIMEOUT = 120


def require_toolchain() -> str:
    """The node binary; skips (or fails under CI=true) when the toolchain is missing."""
    node = shutil.which("node")
    problems = []
    if node is None:
        problems.append("node is not on PATH (Node.js 20+ is needed)")
    for tool in ("openapi-typescript", "tsc"):
        if not (NODE_MODULES / ".bin" / tool).exists():
            problems.append(f"clients/typescript/node_modules/.bin/{tool} is missing")
    if problems:
        reason = ("TypeScript client toolchain unavailable: " + "; ".join(problems)
                  + " (run `npm ci` in clients/typescript; .ci/run does)")
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    assert node is not None
    return node


class TypeScriptBuild:
    def __init__(self, node: str, workdir: Path) -> None:
        self.node = node
        self.root = workdir / "client"
        self.root.mkdir()
        shutil.copytree(CLIENT_DIR / "src", self.root / "src",
                        ignore=shutil.ignore_patterns("generated"))
        for name in ("package.json", "tsconfig.json"):
            shutil.copy2(CLIENT_DIR / name, self.root / name)
        (self.root / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)

    def _run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.node, *args], cwd=self.root, capture_output=True, text=True,
            timeout=STEP_TIMEOUT, env={"PATH": os.environ.get("PATH", ""), **(env or {})},
        )

    def generate(self, schema: dict[str, Any]) -> None:
        """src/generated/api.ts from the schema, with the flags of `npm run generate`."""
        (self.root / "openapi.json").write_text(json.dumps(schema))
        done = self._run("node_modules/openapi-typescript/bin/cli.js", "openapi.json",
                         "--default-non-nullable", "false", "--output", "src/generated/api.ts")
        assert done.returncode == 0, f"openapi-typescript failed:\n{done.stdout}{done.stderr}"

    def compile(self) -> subprocess.CompletedProcess[str]:
        return self._run("node_modules/typescript/bin/tsc", "-p", "tsconfig.json")

    def run_driver(self, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return self._run("dist/driver.js", env=env)
