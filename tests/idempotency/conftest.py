"""Two cooks, each with a token for the test app (as in tests/recipes)."""

from tests.recipes.conftest import alice, as_alice, as_bob, bob

__all__ = ["alice", "as_alice", "as_bob", "bob"]
