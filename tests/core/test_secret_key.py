"""The key-strength assessor: weak keys are refused by name, random keys never are."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.secret_key import (
    KNOWN_WEAK_KEYS,
    MIN_KEY_BYTES,
    assess_secret_key,
    generate_secret_key,
    key_fingerprint,
)

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL_KEY = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7"

# Every way a random key reaches SECRET_KEY in practice.
ENCODINGS: dict[str, Callable[[bytes], str]] = {
    "hex": lambda raw: raw.hex(),
    "HEX": lambda raw: raw.hex().upper(),
    "urlsafe": lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("="),
    "urlsafe_padded": lambda raw: base64.urlsafe_b64encode(raw).decode(),
    "standard": lambda raw: base64.b64encode(raw).decode(),
    "standard_unpadded": lambda raw: base64.b64encode(raw).decode().rstrip("="),
}


def _leaks(key: str, text: str) -> bool:
    """True if text holds the key or any 8-character piece of it."""
    folded_key, folded_text = key.strip().lower(), text.lower()
    if not folded_key:
        return False
    if len(folded_key) < 8:
        return folded_key in folded_text
    return any(folded_key[i : i + 8] in folded_text for i in range(len(folded_key) - 7))


# --- random keys pass ---------------------------------------------------------------------


@settings(max_examples=300)
@given(st.binary(min_size=MIN_KEY_BYTES, max_size=128))
def test_random_bytes_pass_in_every_encoding(seed: bytes) -> None:
    # Hypothesis deliberately draws degenerate byte strings (all zeros, one byte
    # repeated), which are rightly refused as keys. Stretching its draw through SHAKE
    # gives bytes indistinguishable from random ones while keeping every example
    # reproducible and shrinkable, and hypothesis still steers the length.
    raw = hashlib.shake_256(seed).digest(len(seed))
    for name, encode in ENCODINGS.items():
        result = assess_secret_key(encode(raw))
        assert result.ok, (name, len(raw), result.codes, result.estimated_bits)


@pytest.mark.slow
def test_no_false_rejections_over_20000_generated_keys() -> None:
    generators: list[Callable[[int], str]] = [
        secrets.token_urlsafe,
        secrets.token_hex,
        lambda n: base64.urlsafe_b64encode(os.urandom(n)).decode(),
        lambda n: base64.b64encode(os.urandom(n)).decode(),
    ]
    rejected = []
    total = 20_000
    for i in range(total):
        nbytes = 32 + i % 97  # 32..128
        key = generators[i % len(generators)](nbytes)
        result = assess_secret_key(key)
        if not result.ok:
            rejected.append((i % len(generators), nbytes, result.codes))
    print(f"false-rejection rate: {len(rejected)}/{total}")
    assert rejected == []


def test_random_printable_passwords_pass() -> None:
    alphabet = "".join(chr(c) for c in range(33, 127))
    for length in range(32, 97):
        key = "".join(secrets.choice(alphabet) for _ in range(length))
        assert assess_secret_key(key).ok, length


@pytest.mark.parametrize("fragment", ["dead", "beef", "1234", "aaaa", "abcd", "0000", "cafe"])
def test_random_hex_with_a_suspicious_looking_fragment_passes(fragment: str) -> None:
    # The original project's substring blacklist refused ~6% of random hex keys this way.
    for _ in range(50):
        key = secrets.token_hex(32)
        at = secrets.randbelow(len(key) - len(fragment))
        key = key[:at] + fragment + key[at + len(fragment) :]
        assert assess_secret_key(key).ok


def test_plausible_runs_in_long_random_hex_pass() -> None:
    # 128 random bytes in hex can hold a run of 5 or 6; that is chance, not a pattern.
    for run in ("77777", "aaaaaa"):
        key = secrets.token_hex(128)
        key = key[:100] + run + key[100 + len(run) :]
        assert assess_secret_key(key).ok, run


def test_random_keys_estimate_well_above_the_threshold() -> None:
    for nbytes in (32, 64, 128):
        assert assess_secret_key(secrets.token_hex(nbytes)).estimated_bits >= 200
        assert assess_secret_key(secrets.token_urlsafe(nbytes)).estimated_bits >= 200


# --- weak keys are refused by name --------------------------------------------------------


def _few_symbols(length: int) -> str:
    rng = random.Random(1)  # reproducible: random over 4 symbols, so no long repeats
    return "".join(rng.choice("abcd") for _ in range(length))


WEAK_CASES: list[tuple[str, str]] = [
    ("changeme", "known_default"),
    ("CHANGEME", "known_default"),
    ("changethis", "known_default"),
    ("secret", "known_default"),
    ("your-secret-key", "known_default"),
    ("your-secret-key-here", "known_default"),
    ("supersecret", "known_default"),
    ("password", "known_default"),
    ("dev-specific-key-here", "known_default"),
    ("staging-specific-key-here", "known_default"),
    ("production-specific-key-here", "known_default"),
    ("replace-with-output-of-generate-secret-key", "known_default"),
    ("sk_test_replace-me", "known_default"),
    ("whsec_replace-me", "known_default"),
    (TUTORIAL_KEY, "known_default"),
    (TUTORIAL_KEY.upper(), "known_default"),
    (TUTORIAL_KEY + "0000000000", "known_default"),
    ("changeme" * 8, "known_default"),
    ("your-secret-key-" + "x" * 40, "known_default"),
    ("production-specific-key-here" * 3, "known_default"),
    ("a" * 64, "repeated_pattern"),
    ("abcd" * 16, "repeated_pattern"),
    ("ab" * 40, "repeated_pattern"),
    ("0123456789" * 7, "repeated_pattern"),
    ("Tr0ub4dor&3" * 4, "repeated_pattern"),
    ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "sequence"),
    ("qwertyuiopasdfghjklzxcvbnmQWERTYUIOPASDFGHJKLZXCVBNM", "sequence"),
    ("1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p1qaz2wsx3edc4rfv", "sequence"),
    (_few_symbols(64), "few_distinct_chars"),
    ("password" + "1" * 40, "padded_word"),
    ("secret" + "!" * 50, "padded_word"),
    ("=" * 30 + "hunter2" + "=" * 30, "padded_word"),
    ("correct-horse-battery-staple-purple-monkey-dishwasher", "low_entropy"),
    # Security review, finding 9: the same words in CamelCase passed with "321 bits".
    ("MySuperSecretKeyForHomeChefProductionEnvironment2024!", "low_entropy"),
    ("mySuperSecretKey2024ForTheHomeChefProductionEnvironment", "low_entropy"),
    ("MY_SUPER_SECRET_KEY_FOR_THE_HOMECHEF_PRODUCTION_SERVER_2024", "low_entropy"),
    ("TheQuickBrownFoxJumpsOverTheLazyDogInTheKitchen1999", "low_entropy"),
    ("CorrectHorseBatteryStapleKitchenWindowGardenPencilOrangeRiverMountainCandle",
     "low_entropy"),
    ("acegikmoqsuwyACEGIKMOQSUWY02468bdfhjlnprtvxz", "low_entropy"),
    (secrets.token_urlsafe(24), "too_short"),
    (secrets.token_hex(31), "too_short"),
    ("", "empty"),
    ("   ", "empty"),
]


@pytest.mark.parametrize(("key", "code"), WEAK_CASES, ids=lambda v: str(v)[:20])
def test_weak_key_is_refused_with_its_reason(key: str, code: str) -> None:
    result = assess_secret_key(key)
    assert not result.ok
    assert code in result.codes, result.codes


def test_none_is_empty() -> None:
    assert assess_secret_key(None).codes == ("empty",)


@pytest.mark.parametrize("weak", sorted(KNOWN_WEAK_KEYS))
def test_every_known_weak_key_is_refused_even_when_repeated(weak: str) -> None:
    for key in (weak, weak.upper(), weak * 6, weak + "x" * 48):
        assert "known_default" in assess_secret_key(key).codes, key


def _env_example_values() -> list[str]:
    values = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            value = line.split("=", 1)[1].strip()
            if value:
                values.append(value)
    return values


@pytest.mark.parametrize("value", sorted(set(_env_example_values())))
def test_every_env_example_value_is_refused(value: str) -> None:
    assert not assess_secret_key(value).ok


def test_a_strong_key_with_a_weak_word_in_it_passes() -> None:
    # The remainder carries the strength; refusing this would punish a harmless prefix.
    assert assess_secret_key("secret-" + secrets.token_urlsafe(48)).ok


def test_too_short_counts_decoded_bytes_not_characters() -> None:
    assert "too_short" in assess_secret_key(secrets.token_hex(24)).codes  # 48 chars, 24 bytes
    assert "too_short" in assess_secret_key(secrets.token_urlsafe(31)).codes
    assert assess_secret_key(secrets.token_urlsafe(32)).ok  # 43 chars, 32 bytes
    assert assess_secret_key(secrets.token_hex(32)).ok


# --- nothing leaks ----------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "code"), WEAK_CASES, ids=lambda v: str(v)[:20])
def test_problem_messages_never_contain_the_key(key: str, code: str) -> None:
    result = assess_secret_key(key)
    for problem in result.problems:
        assert not _leaks(key, problem.message), problem
    if key.strip():
        assert not _leaks(key, repr(result))


def test_every_problem_has_a_code_and_a_message() -> None:
    for key, _ in WEAK_CASES:
        for problem in assess_secret_key(key).problems:
            assert problem.code and problem.message


# --- generation and fingerprints --------------------------------------------------------------


def test_generated_key_defaults_to_64_bytes_urlsafe_without_padding() -> None:
    key = generate_secret_key()
    assert "=" not in key
    assert set(key) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))) == 64
    assert assess_secret_key(key).ok


@pytest.mark.parametrize("nbytes", [32, 33, 48, 64, 100, 128, 256])
@pytest.mark.parametrize("fmt", ["urlsafe", "hex"])
def test_generated_keys_pass(nbytes: int, fmt: str) -> None:
    for _ in range(20):
        key = generate_secret_key(nbytes, fmt)  # type: ignore[arg-type]
        assert assess_secret_key(key).ok
    if fmt == "hex":
        assert len(key) == 2 * nbytes and bytes.fromhex(key)


def test_generate_refuses_too_few_bytes_and_unknown_formats() -> None:
    with pytest.raises(ValueError):
        generate_secret_key(31)
    with pytest.raises(ValueError):
        generate_secret_key(64, "base32")  # type: ignore[arg-type]


def test_fingerprint_is_short_stable_and_not_a_plain_hash() -> None:
    key = generate_secret_key()
    fingerprint = key_fingerprint(key)
    assert fingerprint == key_fingerprint(key)
    assert len(fingerprint) == 16 and int(fingerprint, 16) >= 0
    assert fingerprint != key_fingerprint(generate_secret_key())
    assert fingerprint != hashlib.sha256(key.encode()).hexdigest()[:16]
    assert not _leaks(key, fingerprint)


def test_words_are_split_on_case_and_digit_boundaries_and_priced_by_rank() -> None:
    from app.core.key_words import passphrase_bits, split_words

    assert split_words("MySuperKEYFor2024HomeChef!") == [
        "My", "Super", "KEY", "For", "2024", "Home", "Chef", "!"]
    camel = passphrase_bits("MySuperSecretKeyForHomeChefProductionEnvironment2024!")
    dashed = passphrase_bits("my-super-secret-key-for-home-chef-production-environment-2024!")
    assert camel < 128 and dashed < 128
    assert abs(camel - dashed) < 5  # the joiner is not where the strength is


@pytest.mark.slow
def test_random_keys_never_read_as_passphrases() -> None:
    from app.core.key_words import passphrase_bits

    generators: list[Callable[[int], str]] = [
        secrets.token_urlsafe, secrets.token_hex,
        lambda n: base64.b64encode(os.urandom(n)).decode(),
    ]
    for i in range(30_000):
        key = generators[i % 3](32 + i % 33)
        assert passphrase_bits(key) > 128, key
