"""Judging and making SECRET_KEY values.

Used by startup validation, ``generate_secret_key.py`` and the tests. Pure functions:
no I/O, no logging, and no message ever quotes the key or any part of it.

Calibration. Every pattern check fires only when random data of the key's own alphabet
and length would show that pattern with probability below ``_CHANCE`` (a union bound
over positions, so the real rate is lower still). A naive substring blacklist ("1234",
"aaaa", "dead") refuses a few percent of random hex keys; these checks together refuse,
by that bound, a few random keys in 10^12, and the tests measure zero over tens of
thousands of generated keys. Weak keys that slip past the pattern checks are caught by
the entropy estimate, which random keys clear by a factor of about 1.7.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import secrets
import string
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

MIN_KEY_BYTES = 32
MAX_KEY_BYTES = 1024
MIN_ENTROPY_BITS = 128

KeyFormat = Literal["urlsafe", "hex"]

# Compared case-insensitively; also caught when padded or repeated out to length.
KNOWN_WEAK_KEYS: frozenset[str] = frozenset(
    {
        "changeme",
        "changethis",
        "changeit",
        "secret",
        "secretkey",
        "secret-key",
        "secret_key",
        "mysecretkey",
        "supersecret",
        "password",
        "your-secret-key",
        "your_secret_key",
        "your-secret-key-here",
        "your_secret_key_here",
        "dev-specific-key-here",
        "staging-specific-key-here",
        "production-specific-key-here",
        "replace-with-output-of-generate-secret-key",
        "sk_test_replace-me",
        "whsec_replace-me",
        "django-insecure",
        "insecure",
        "development",
        # The FastAPI tutorial's example key: published, so worthless as a secret.
        "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",
        # Other values shipped in .env.example, in case one is pasted into SECRET_KEY.
        "http://localhost:3000,http://localhost:5173",
        "https://api.clerk.com/v1",
        "memory://",
    }
)

# Shorter placeholders are only matched whole; searching for them inside a key would
# start to hit random keys (harmlessly, given the remainder test, but needlessly).
_MIN_EMBEDDED_WEAK_LEN = 6

# Probability bound under which a pattern is judged "not random".
_CHANCE = 1e-12

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


@dataclass(frozen=True)
class KeyProblem:
    code: str
    message: str


@dataclass(frozen=True)
class KeyAssessment:
    ok: bool
    problems: tuple[KeyProblem, ...]
    estimated_bits: float

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(problem.code for problem in self.problems)

    def describe(self) -> str:
        return "; ".join(problem.message for problem in self.problems)


@dataclass(frozen=True, repr=False)
class _Shape:
    """How a key is encoded. Internal only, and deliberately without a repr."""

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


def _shape(key: str) -> _Shape:
    chars = set(key)
    if chars <= _HEX_ALL:
        alphabet = _DIGITS
        for letters in (_HEX_LOWER_LETTERS, _HEX_UPPER_LETTERS):
            if chars & letters:
                alphabet |= letters
        return _Shape(key, alphabet, len(alphabet), len(key) // 2)
    body = _strip_base64_padding(key)
    body_chars = set(body)
    if body_chars <= _B64_URL or body_chars <= _B64_STD:
        alphabet = _classes_present(body_chars) - _SYMBOLS
        for extras in ("-_", "+/"):
            if body_chars & set(extras):
                alphabet |= frozenset(extras)
        return _Shape(body, alphabet, len(alphabet), len(body) * 6 // 8)
    ascii_chars = {c for c in chars if c.isascii()}
    alphabet = _classes_present(ascii_chars)
    non_ascii = len(chars) - len(ascii_chars)
    size = len(alphabet) + (max(_NON_ASCII_ALPHABET, non_ascii) if non_ascii else 0)
    return _Shape(key, alphabet, max(size, 2), len(key.encode("utf-8")))


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


_SUCCESSORS, _WALK_TRIPLES = _build_walk_tables()


def _is_step(a: str, b: str) -> bool:
    return b.lower() in _SUCCESSORS.get(a.lower(), ())


@lru_cache(maxsize=64)
def _successor_counts(alphabet: frozenset[str]) -> dict[str, int]:
    """For each character, how many walk steps lead from it inside this alphabet."""
    return {a: sum(1 for b in alphabet if _is_step(a, b)) for a in alphabet}


def _max_successors(alphabet: frozenset[str]) -> int:
    return max(_successor_counts(alphabet).values(), default=0)


# --- probability-calibrated thresholds ---------------------------------------------------


def _min_run(n: int, size: int) -> int:
    """Shortest run of one character that random data would show with p < _CHANCE."""
    # P(run of r somewhere) <= n * size^-(r-1)
    return math.floor(math.log(n / _CHANCE) / math.log(size)) + 2


def _min_repeat(n: int, size: int) -> int:
    """Shortest substring whose reappearance random data would show with p < _CHANCE."""
    # P(some m-gram appears twice) <= n^2/2 * size^-m
    return math.floor(math.log(n * n / 2 / _CHANCE) / math.log(size)) + 1


def _min_walk(n: int, size: int, alphabet: frozenset[str]) -> int | None:
    """Shortest walk random data would show with p < _CHANCE; None if walks can't exist."""
    steps = _max_successors(alphabet)
    if steps == 0:
        return None
    # P(walk of w chars somewhere) <= n * (steps/size)^(w-1)
    q = steps / size
    if q >= 1:
        return None
    return math.floor(math.log(n / _CHANCE) / -math.log(q)) + 2


def _few_distinct(n: int, size: int, distinct: int) -> bool:
    """True when random data would use this few distinct characters with p < _CHANCE."""
    if distinct >= size:
        return False
    # P(all n chars fall in some d-subset) <= C(size, d) * (d/size)^n
    log_choose = (
        math.lgamma(size + 1) - math.lgamma(distinct + 1) - math.lgamma(size - distinct + 1)
    )
    log_p = log_choose + n * math.log(distinct / size)
    return log_p < math.log(_CHANCE)


# --- pattern scanning ----------------------------------------------------------------------


@dataclass
class _Patterns:
    longest_run: int = 0
    repeated: bool = False
    longest_walk: int = 0
    covered: list[bool] = field(default_factory=list)  # characters inside a flagged pattern


def _scan_patterns(shape: _Shape) -> _Patterns:
    found = _Patterns(covered=[False] * len(shape.text))
    _scan_runs(shape, found)
    _scan_repeats(shape, found)
    _scan_walks(shape, found)
    return found


def _scan_runs(shape: _Shape, found: _Patterns) -> None:
    text, n = shape.text, len(shape.text)
    floor = _min_run(n, shape.size)
    start = 0
    for i in range(1, n + 1):
        if i == n or text[i] != text[start]:
            if i - start >= floor:
                found.longest_run = max(found.longest_run, i - start)
                found.covered[start:i] = [True] * (i - start)
            start = i


def _scan_repeats(shape: _Shape, found: _Patterns) -> None:
    text, n = shape.text, len(shape.text)
    m = _min_repeat(n, shape.size)
    last_seen: dict[str, int] = {}
    for i in range(n - m + 1):
        gram = text[i : i + m]
        j = last_seen.get(gram)
        if j is not None:
            found.repeated = True
            found.covered[j : j + m] = [True] * m
            found.covered[i : i + m] = [True] * m
        last_seen[gram] = i


def _scan_walks(shape: _Shape, found: _Patterns) -> None:
    n = len(shape.text)
    floor = _min_walk(n, shape.size, shape.alphabet)
    if floor is None or floor > n:
        return
    folded = shape.text.lower()
    start = 0
    for i in range(1, n + 1):
        if i == n or folded[i] not in _SUCCESSORS.get(folded[i - 1], ()):
            if i - start >= floor:
                found.longest_walk = max(found.longest_walk, i - start)
                found.covered[start:i] = [True] * (i - start)
            start = i


def _is_padded_word(covered: list[bool]) -> bool:
    """Patterned filler around one short uncovered stretch: "password" + "1" * 40."""
    if not any(covered):
        return False
    uncovered = [i for i, flag in enumerate(covered) if not flag]
    if not 3 <= len(uncovered) <= 24:
        return False
    return uncovered[-1] - uncovered[0] + 1 == len(uncovered)


# --- entropy estimate ------------------------------------------------------------------------


def _estimate_bits(shape: _Shape) -> float:
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
    return min(bits, _passphrase_bits(shape.text), n * per_char, 8.0 * shape.material_bytes)


def _literal_bits(shape: _Shape, per_char: float) -> list[float]:
    """Cost of each character when spelled out rather than copied."""
    text = shape.text
    folded = text.lower()
    codes = [ord(c) for c in text]
    counts = _successor_counts(shape.alphabet)
    costs = [per_char] * len(text)
    for i in range(1, len(text)):
        if i >= 2 and (
            codes[i] - codes[i - 1] == codes[i - 1] - codes[i - 2]
            or folded[i - 2 : i + 1] in _WALK_TRIPLES
        ):
            costs[i] = 1.0
        elif folded[i] in _SUCCESSORS.get(folded[i - 1], ()):
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
    """Words joined by separators ("my-super-secret-prod-key") are priced per word.

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


# --- known defaults ---------------------------------------------------------------------------


def _is_known_default(key: str) -> bool:
    folded = key.strip().lower()
    if folded in KNOWN_WEAK_KEYS:
        return True
    for weak in KNOWN_WEAK_KEYS:
        if len(weak) >= _MIN_EMBEDDED_WEAK_LEN and weak in folded:
            rest = re.sub(re.escape(weak), "", key, flags=re.IGNORECASE)
            if not rest or _estimate_bits(_shape(rest)) < MIN_ENTROPY_BITS:
                return True
    return False


# --- public API -------------------------------------------------------------------------------


def assess_secret_key(key: str | None) -> KeyAssessment:
    """Judge a key; every problem found is reported, each with a stable code."""
    if key is None or not key.strip():
        return KeyAssessment(False, (KeyProblem("empty", "is empty or unset"),), 0.0)
    shape = _shape(key)
    bits = round(_estimate_bits(shape), 1)
    patterns = _scan_patterns(shape)
    problems: list[KeyProblem] = []

    def add(code: str, message: str) -> None:
        problems.append(KeyProblem(code, message))

    if shape.material_bytes < MIN_KEY_BYTES:
        add(
            "too_short",
            f"has {shape.material_bytes} bytes of key material; "
            f"at least {MIN_KEY_BYTES} are required",
        )
    if _is_known_default(key):
        add("known_default", "is a published default or placeholder value, possibly padded")
    if _is_padded_word(patterns.covered):
        add("padded_word", "is a short word padded out to length with a pattern")
    if patterns.longest_run:
        add("repeated_pattern", f"contains a run of {patterns.longest_run} identical characters")
    elif patterns.repeated:
        add("repeated_pattern", "repeats a sequence of characters")
    if patterns.longest_walk:
        add(
            "sequence",
            f"contains an alphabet or keyboard walk of {patterns.longest_walk} characters",
        )
    distinct = len(set(shape.text))
    if _few_distinct(len(shape.text), shape.size, distinct):
        add("few_distinct_chars", f"uses only {distinct} distinct characters")
    if bits < MIN_ENTROPY_BITS:
        add(
            "low_entropy",
            f"has an estimated {bits:.0f} bits of entropy; "
            f"at least {MIN_ENTROPY_BITS} are required",
        )
    return KeyAssessment(not problems, tuple(problems), bits)


def generate_secret_key(nbytes: int = 64, fmt: KeyFormat = "urlsafe") -> str:
    """A fresh key: ``nbytes`` from the OS CSPRNG, URL-safe base64 (no padding) or hex."""
    if not MIN_KEY_BYTES <= nbytes <= MAX_KEY_BYTES:
        raise ValueError(f"nbytes must be between {MIN_KEY_BYTES} and {MAX_KEY_BYTES}")
    if fmt not in ("urlsafe", "hex"):
        raise ValueError("fmt must be 'urlsafe' or 'hex'")
    # The assessor's false-rejection bound is ~1e-12, so this loop runs once; it exists
    # so that the promise "every generated key passes" holds unconditionally.
    for _ in range(8):
        key = secrets.token_hex(nbytes) if fmt == "hex" else secrets.token_urlsafe(nbytes)
        if assess_secret_key(key).ok:
            return key
    raise RuntimeError("could not generate a key that passes the strength check")


_FINGERPRINT_DOMAIN = b"homechef-api/secret-key-fingerprint/v1\x00"


def key_fingerprint(key: str) -> str:
    """A short public identifier for a key (used as the JWT ``kid``).

    Domain-separated so that the value can never equal any other hash of the key.
    """
    return hashlib.sha256(_FINGERPRINT_DOMAIN + key.encode("utf-8")).hexdigest()[:16]
