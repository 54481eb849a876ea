"""How a SECRET_KEY is encoded, and which characters people type one after another.

Shared by the pattern detectors (``app.core.key_patterns``) and the entropy estimate
(``app.core.key_entropy``) behind ``app.core.secret_key``.
"""

from __future__ import annotations

import itertools
import string
from dataclasses import dataclass
from functools import lru_cache

_DIGITS = frozenset(string.digits)
_LOWER = frozenset(string.ascii_lowercase)
_UPPER = frozenset(string.ascii_uppercase)
_HEX_ALL = frozenset(string.hexdigits)
_HEX_LOWER_LETTERS = frozenset("abcdef")
_HEX_UPPER_LETTERS = frozenset("ABCDEF")
_B64_URL = _DIGITS | _LOWER | _UPPER | frozenset("-_")
_B64_STD = _DIGITS | _LOWER | _UPPER | frozenset("+/")
_SYMBOLS = frozenset(string.punctuation + " ")
# Credit given to characters outside ASCII: generous, since such keys are rare and
# the pattern checks still look at them.
_NON_ASCII_ALPHABET = 128

# Sequences people type when asked for something random: alphabet order and keyboard
# rows and columns. Adjacent characters in any of them (either direction, any case)
# form one "walk step".
_WALKS = (
    string.ascii_lowercase,
    "01234567890",
    "qwertyuiopasdfghjklzxcvbnm",
    "1234567890qwertyuiop",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
)


@dataclass(frozen=True, repr=False)
class KeyShape:
    """How a key is encoded. Internal to the key checks, and deliberately without a repr."""

    text: str  # the characters analysed (base64 padding removed)
    alphabet: frozenset[str]  # the ASCII character classes the key draws from
    size: int  # alphabet size, including credit for non-ASCII characters
    material_bytes: int


def _classes_present(chars: set[str]) -> frozenset[str]:
    alphabet: frozenset[str] = frozenset()
    for cls in (_DIGITS, _LOWER, _UPPER, _SYMBOLS):
        if chars & cls:
            alphabet |= cls
    return alphabet


def _strip_base64_padding(key: str) -> str:
    body = key.rstrip("=")
    padding = len(key) - len(body)
    if 0 < padding <= 2 and len(key) % 4 == 0:
        return body
    return key


def shape_of(key: str) -> KeyShape:
    chars = set(key)
    if chars <= _HEX_ALL:
        alphabet = _DIGITS
        for letters in (_HEX_LOWER_LETTERS, _HEX_UPPER_LETTERS):
            if chars & letters:
                alphabet |= letters
        return KeyShape(key, alphabet, len(alphabet), len(key) // 2)
    body = _strip_base64_padding(key)
    body_chars = set(body)
    if body_chars <= _B64_URL or body_chars <= _B64_STD:
        alphabet = _classes_present(body_chars) - _SYMBOLS
        for extras in ("-_", "+/"):
            if body_chars & set(extras):
                alphabet |= frozenset(extras)
        return KeyShape(body, alphabet, len(alphabet), len(body) * 6 // 8)
    ascii_chars = {c for c in chars if c.isascii()}
    alphabet = _classes_present(ascii_chars)
    non_ascii = len(chars) - len(ascii_chars)
    size = len(alphabet) + (max(_NON_ASCII_ALPHABET, non_ascii) if non_ascii else 0)
    return KeyShape(key, alphabet, max(size, 2), len(key.encode("utf-8")))


# --- walks -----------------------------------------------------------------------------


def _build_walk_tables() -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    neighbours: dict[str, set[str]] = {}
    triples: set[str] = set()
    for walk in _WALKS:
        for a, b in itertools.pairwise(walk):
            if a != b:
                neighbours.setdefault(a, set()).add(b)
                neighbours.setdefault(b, set()).add(a)
        for i in range(len(walk) - 2):
            triples.add(walk[i : i + 3])
            triples.add(walk[i : i + 3][::-1])
    return {c: frozenset(n) for c, n in neighbours.items()}, frozenset(triples)


SUCCESSORS, WALK_TRIPLES = _build_walk_tables()


def _is_step(a: str, b: str) -> bool:
    return b.lower() in SUCCESSORS.get(a.lower(), ())


@lru_cache(maxsize=64)
def successor_counts(alphabet: frozenset[str]) -> dict[str, int]:
    """For each character, how many walk steps lead from it inside this alphabet."""
    return {a: sum(1 for b in alphabet if _is_step(a, b)) for a in alphabet}
