"""Loopback servers for the import tests (the two cooks come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.imports.servers import LoopbackServer


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
