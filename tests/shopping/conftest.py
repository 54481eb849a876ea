"""Two cooks, Alice and Bob, each with a token for the test app (the recipes' fixtures)."""

from __future__ import annotations

from tests.recipes.conftest import alice, as_alice, as_bob, bob

__all__ = ["alice", "as_alice", "as_bob", "bob"]
