"""Judging and making SECRET_KEY values.

Used by startup validation, ``generate_secret_key.py`` and the tests. Pure functions:
no I/O, no logging, and no message ever quotes the key or any part of it.

Calibration: the pattern checks (``app.core.key_patterns``) fire only on patterns that
random data of the key's own alphabet and length would show with probability below
10^-12, so generated keys are essentially never refused. Weak keys that slip past them
are caught by the entropy estimate (``app.core.key_entropy``), which random keys clear
by a factor of about 1.7.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from app.core.key_entropy import estimate_bits
from app.core.key_patterns import few_distinct, is_padded_word, scan_patterns
from app.core.key_shape import shape_of

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


# --- known defaults ---------------------------------------------------------------------------


def _is_known_default(key: str) -> bool:
    folded = key.strip().lower()
    if folded in KNOWN_WEAK_KEYS:
        return True
    for weak in KNOWN_WEAK_KEYS:
        if len(weak) >= _MIN_EMBEDDED_WEAK_LEN and weak in folded:
            rest = re.sub(re.escape(weak), "", key, flags=re.IGNORECASE)
            if not rest or estimate_bits(shape_of(rest)) < MIN_ENTROPY_BITS:
                return True
    return False


# --- public API -------------------------------------------------------------------------------


def assess_secret_key(key: str | None) -> KeyAssessment:
    """Judge a key; every problem found is reported, each with a stable code."""
    if key is None or not key.strip():
        return KeyAssessment(False, (KeyProblem("empty", "is empty or unset"),), 0.0)
    shape = shape_of(key)
    bits = round(estimate_bits(shape), 1)
    patterns = scan_patterns(shape)
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
    if is_padded_word(patterns.covered):
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
    if few_distinct(len(shape.text), shape.size, distinct):
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
