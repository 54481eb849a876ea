"""Two cooks (the recipes tests' fixtures) and loopback servers for the import tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.imports.servers import LoopbackServer
from tests.recipes.conftest import alice, as_alice, as_bob, bob

__all__ = ["alice", "as_alice", "as_bob", "bob", "canary", "site"]


@pytest.fixture
def canary() -> Iterator[LoopbackServer]:
    server = LoopbackServer(ipv6=True)
    yield server
    server.close()


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    yield server
    server.close()
