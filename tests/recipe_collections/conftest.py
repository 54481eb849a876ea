"""Two cooks, Alice and Bob, each with a token (shared with the recipes tests)."""

from tests.recipes.conftest import alice, as_alice, as_bob, bob

__all__ = ["alice", "as_alice", "as_bob", "bob"]
