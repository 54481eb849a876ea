"""Pricing a key that is made of words, however they are joined.

People who are asked for a long secret type a sentence: "my-super-secret-prod-key", or
the same words in CamelCase, or with digits glued on. Such a key is split into its words
at separators *and* at case and digit boundaries, and each word is priced by how early
a guesser would try it: log2 of its rank in zxcvbn's frequency lists (English Wikipedia,
TV and film subtitles, common passwords, names; about 90,000 ranked words, shipped with
the ``zxcvbn`` package). A word that is in none of them is priced as if drawn from a
Diceware-sized list (12.9 bits) when it has three letters or more, else letter by
letter.

Random keys are not hurt: their "words" are short and rarely in the lists, so this
price stays well above the threshold (tests/core/test_secret_key.py generates tens of
thousands), and the estimator takes the lowest of its models anyway.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

# A Diceware list (7776 words): the price of a word the frequency lists do not know.
BITS_PER_WORD = math.log2(7776)
_BITS_PER_LETTER = math.log2(26)
_BITS_PER_DIGIT = math.log2(10)
_BITS_PER_SYMBOL = math.log2(33)
# Years and other 4-digit decorations ("2024") are guessed from a short list.
_YEAR = re.compile(r"(19|20)\d\d")
_YEAR_BITS = math.log2(200)
_SEPARATORS = frozenset("-_. ")
# Words: an upper-case run before a capitalised word, a capitalised or lower-case word,
# an upper-case run; then digit groups and anything else, each its own chunk.
_CHUNK = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+|[^A-Za-z0-9]+")


@lru_cache(maxsize=1)
def word_ranks() -> dict[str, int]:
    """Each known word's best rank over zxcvbn's frequency lists (loaded once, lazily)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    ranks: dict[str, int] = {}
    for words in FREQUENCY_LISTS.values():
        for rank, word in enumerate(words, start=1):
            if rank < ranks.get(word, rank + 1):
                ranks[word] = rank
    return ranks


def split_words(text: str) -> list[str]:
    return _CHUNK.findall(text)


def _word_bits(word: str) -> float:
    spelled = len(word) * _BITS_PER_LETTER
    if len(word) < 3:
        return spelled
    rank = word_ranks().get(word.lower())
    if rank is not None:
        return min(spelled, math.log2(rank + 1))
    return min(spelled, BITS_PER_WORD)


def _chunk_bits(chunk: str) -> float:
    if chunk[0].isalpha():
        return _word_bits(chunk)
    if chunk[0].isdigit():
        return _YEAR_BITS if _YEAR.fullmatch(chunk) else len(chunk) * _BITS_PER_DIGIT
    if set(chunk) <= _SEPARATORS and len(set(chunk)) == 1:
        return 0.0  # the joiner: priced once, below
    return len(chunk) * _BITS_PER_SYMBOL


def passphrase_bits(text: str) -> float:
    """Bits of a key read as words; inf when it does not read as words: fewer than three
    known words, or known words (three letters or more) under half its characters, as
    in random base64, whose case changes chop it into short, mostly unknown pieces."""
    chunks = split_words(text)
    if sum(1 for c in chunks if c[0].isalpha() and len(c) >= 3) < 3:
        return math.inf  # without loading the lists
    ranks = word_ranks()
    known = [c for c in chunks if c[0].isalpha() and len(c) >= 3 and c.lower() in ranks]
    if len(known) < 3 or 2 * sum(map(len, known)) < len(text):
        return math.inf
    joiners = {chunk for chunk in chunks if set(chunk) <= _SEPARATORS}
    return sum(_chunk_bits(chunk) for chunk in chunks) + 2.0 * len(joiners)
