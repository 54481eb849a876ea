"""An estimate of how many bits of entropy a SECRET_KEY holds.

It catches the weak keys that slip past the pattern checks; random keys clear the
threshold by a factor of about 1.7.
"""

from __future__ import annotations

import math
import re

from app.core.key_shape import SUCCESSORS, WALK_TRIPLES, KeyShape, successor_counts
from app.core.key_words import passphrase_bits


def estimate_bits(shape: KeyShape) -> float:
    """Bits needed to describe the key under a small LZ77-plus-walks model.

    A character costs log2(alphabet) bits; a walk step from the previous character
    costs log2(its possible steps) + 1; carrying on the same walk or code-point stride
    costs 1 bit; a copy of earlier text costs its distance and length. Random keys
    come out within a few percent of their true entropy, while repeated or walked keys
    collapse. Never more than the nominal size of the key material.
    """
    text, n = shape.text, len(shape.text)
    if n == 0:
        return 0.0
    per_char = math.log2(shape.size)
    literal = _literal_bits(shape, per_char)
    length_bits = math.log2(n) + 1
    index: dict[str, list[int]] = {}
    bits = 0.0
    i = 0
    while i < n:
        gram = text[i : i + 3]
        candidates = index.get(gram)
        if candidates:
            best = _longest_copy(text, i, candidates)
            copy_bits = math.log2(max(i, 2)) + length_bits
            if best >= 3 and best * per_char > copy_bits:
                bits += copy_bits
                for k in range(i, min(i + best, n - 2)):
                    index.setdefault(text[k : k + 3], []).append(k)
                i += best
                continue
        bits += literal[i]
        if i < n - 2:
            index.setdefault(gram, []).append(i)
        i += 1
    return min(
        bits, _passphrase_bits(shape.text), passphrase_bits(shape.text), n * per_char,
        8.0 * shape.material_bytes,
    )


def _literal_bits(shape: KeyShape, per_char: float) -> list[float]:
    """Cost of each character when spelled out rather than copied."""
    text = shape.text
    folded = text.lower()
    codes = [ord(c) for c in text]
    counts = successor_counts(shape.alphabet)
    costs = [per_char] * len(text)
    for i in range(1, len(text)):
        if i >= 2 and (
            codes[i] - codes[i - 1] == codes[i - 1] - codes[i - 2]
            or folded[i - 2 : i + 1] in WALK_TRIPLES
        ):
            costs[i] = 1.0
        elif folded[i] in SUCCESSORS.get(folded[i - 1], ()):
            costs[i] = min(per_char, math.log2(max(counts.get(text[i - 1], 1), 1)) + 1)
    return costs


def _longest_copy(text: str, i: int, candidates: list[int]) -> int:
    best = 0
    # Only the most recent candidates: bounds the cost on pathological input.
    for j in candidates[-16:]:
        length = 0
        while i + length < len(text) and text[j + length] == text[i + length]:
            length += 1
        best = max(best, length)
    return best


_WORD_SEPARATORS = re.compile(r"[-_. ]+")
_WORD = re.compile(r"[a-z]{1,12}|[A-Z][a-z]{0,11}|[A-Z]{1,12}")
_DIGIT_GROUP = re.compile(r"[0-9]+")
# A word drawn at random from a Diceware-sized list (7776 words) carries 12.9 bits.
_BITS_PER_WORD = math.log2(7776)


def _passphrase_bits(text: str) -> float:
    """Words joined by separators ("my-super-secret-prod-key") are priced per word, as if
    drawn from a Diceware list, known words or not (``key_words`` prices words however
    they are joined, CamelCase included, by their frequency rank).

    Random base64 essentially never splits into three or more chunks that are each a
    single-case word, so generated keys are unaffected.
    """
    chunks = [chunk for chunk in _WORD_SEPARATORS.split(text) if chunk]
    if len(chunks) < 3:
        return math.inf
    bits = 0.0
    for chunk in chunks:
        if _WORD.fullmatch(chunk):
            bits += _BITS_PER_WORD
        elif _DIGIT_GROUP.fullmatch(chunk):
            bits += len(chunk) * math.log2(10)
        else:
            return math.inf
    return bits
