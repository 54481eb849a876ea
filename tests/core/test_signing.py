"""The one sealing scheme behind list cursors, shopping sync tokens and media links."""

from __future__ import annotations

import pytest

from app.core.cursors import cursor_key
from app.core.signing import b64decode, b64encode, derive_key, seal, unseal
from app.media.links import link_key
from app.shopping.sync_token import token_key

KEY = derive_key("s" * 40, b"homechef/test/v1")


def test_a_sealed_body_comes_back() -> None:
    token = seal(KEY, b'{"k":1}')
    assert unseal(KEY, token, max_chars=200) == b'{"k":1}'
    assert "=" not in token  # base64url without padding: safe in a query string


@pytest.mark.parametrize("token", [
    "", ".", "..", "abc", "a.b.c", "é.é", "!!!.???", seal(KEY, b"x") + "A",
    seal(KEY, b"x").replace(".", ".AA"),  # a MAC of the wrong length
    b64encode(b"y") + "." + seal(KEY, b"x").split(".")[1],  # another body, x's MAC
    seal(derive_key("t" * 40, b"homechef/test/v1"), b"x"),  # another secret
    seal(derive_key("s" * 40, b"homechef/other/v1"), b"x"),  # another purpose
])
def test_anything_not_sealed_with_this_key_is_none(token: str) -> None:
    assert unseal(KEY, token, max_chars=200) is None


def test_an_oversized_token_is_refused_before_any_decoding() -> None:
    token = seal(KEY, b"x" * 300)
    assert unseal(KEY, token, max_chars=len(token)) == b"x" * 300
    assert unseal(KEY, token, max_chars=len(token) - 1) is None


def test_garbage_base64_is_none_not_an_exception() -> None:
    assert b64decode("a") is None
    assert b64decode(b64encode(b"\x00\xff")) == b"\x00\xff"


def test_each_purpose_has_a_key_of_its_own() -> None:
    secret = "s" * 40
    keys = {cursor_key(secret), token_key(secret), link_key(secret)}
    assert len(keys) == 3
